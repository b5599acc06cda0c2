"""The validator's and the services' messages in the page's language. They are written in English once (the API,
the CLI and the logs use them as they are); a page in Vietnamese shows the Vietnamese of every message it knows,
matched by pattern, and the English of one it does not (never nothing)."""

from __future__ import annotations

import re

# (pattern of the English message, its Vietnamese with the same named groups)
VIETNAMESE: list[tuple[re.Pattern, str]] = [
    (re.compile(p), vi)
    for p, vi in [
        (r"^is missing$", "chưa có ranh giới"),
        (r"^is empty$", "ranh giới trống"),
        (r"^is required but empty$", "bắt buộc, chưa nhập"),
        (r"^required column is missing$", "thiếu cột bắt buộc"),
        (r"^is a (?P<t>\w+); layer \S+ needs (?P<n>.+)$", "là {t}; cần {n}"),
        (r"^has NaN or infinite coordinates$", "có tọa độ không hợp lệ (NaN hoặc vô hạn)"),
        (
            r"^has (?P<n>[\d,]+) vertices; at most (?P<m>[\d,]+) are allowed in one geometry$",
            "có {n} đỉnh; tối đa {m} đỉnh cho một ranh giới",
        ),
        (r"^is not valid: (?P<why>.+)$", "không hợp lệ (tự cắt hoặc sai cấu trúc): {why}"),
        (r"^overlaps existing parcel (?P<o>.+) by (?P<a>.+)$", "chồng lấn khu đất {o} ({a})"),
        (r"^overlaps row (?P<r>\d+) \((?P<o>.*)\) by (?P<a>.+)$", "chồng lấn dòng {r} ({o}): {a}"),
        (
            r"^(?P<w>extends beyond|lies outside) (?P<b>the boundary|the bounding box) of province (?P<p>.+)$",
            "{w} ranh giới tỉnh {p}",
        ),
        (r"^unknown administrative unit (?P<u>.+)$", "đơn vị hành chính không tồn tại: {u}"),
        (
            r"^(?P<u>.+) does not hold this parcel; by its location it is in (?P<h>.+)$",
            "{u} không chứa khu đất này; theo vị trí, khu đất thuộc {h}",
        ),
        (
            r"^(?P<u>.+) does not hold this parcel; it lies outside every unit$",
            "{u} không chứa khu đất này; khu đất nằm ngoài mọi đơn vị hành chính",
        ),
        (r"^is (?P<n>\d+) characters long; at most (?P<m>\d+) are allowed$", "dài {n} ký tự; tối đa {m} ký tự"),
        (r"^(?P<v>.+) is not one of: (?P<k>.+)$", "{v} không thuộc các giá trị: {k}"),
        (r"^(?P<v>.+) is not a number$", "{v} không phải là số"),
        (r"^(?P<v>.+) is not a whole number$", "{v} không phải là số nguyên"),
        (r"^(?P<v>.+) is not true/false \(có/không\)$", "{v} không phải có/không"),
        (r"^(?P<v>.+) is not a date \(use YYYY-MM-DD or DD/MM/YYYY\)$", "{v} không phải ngày (dd/mm/yyyy)"),
        (r"^(?P<k>\S+) (?P<c>.+) already exists in the database$", "{k} {c} đã có trong cơ sở dữ liệu"),
        (
            r"^duplicate (?P<k>\S+) (?P<c>.+): already used by row (?P<r>\d+) of this input$",
            "{k} {c} trùng với dòng {r} của tệp",
        ),
        (r"^reason: say why the parcel changes status$", "cần ghi lý do chuyển giai đoạn"),
        (r"^entering (?P<s>\S+) needs the decision: .*$", "giai đoạn này cần số và ngày quyết định"),
        (r"^a parcel cannot go from (?P<a>\S+) to (?P<b>\S+);.*$", "không thể chuyển từ {a} sang {b}"),
        (
            r"^the parcel lies outside your administrative unit (?P<u>\S+): (?P<a>.+) of it is in other units.*$",
            "khu đất nằm ngoài đơn vị hành chính của bạn ({u}): {a} thuộc đơn vị khác",
        ),
        (
            r"^(?:feature|parcel) \d+ lies outside your administrative unit (?P<u>\S+)$",
            "khu đất nằm ngoài đơn vị hành chính của bạn ({u})",
        ),
        (r"^the document is empty$", "tệp đính kèm trống"),
        (r"^the document is larger than (?P<n>[\d,]+) bytes$", "tệp đính kèm lớn hơn {n} byte"),
        (r"^the document must be a PDF, a PNG or a JPEG$", "tệp đính kèm phải là PDF, PNG hoặc JPEG"),
        (r"^the input has no rows$", "tệp không có dòng dữ liệu nào"),
    ]
]
WORDS_VI = {"extends beyond": "vượt ra ngoài", "lies outside": "nằm ngoài", "code": "mã"}
AMOUNTS = {"a", "n", "m"}  # groups holding amounts (formatted the Vietnamese way); the others are names and values
ENGLISH_NUMBER = re.compile(r"\b\d{1,3}(?:,\d{3})+(?:\.\d+)?\b|\b\d+\.\d+\b")


def _vi_number(m: re.Match) -> str:
    return m.group(0).replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def translated(message: str, lang: str) -> str:
    """`message` in `lang`: Vietnamese when a pattern knows it, else as written."""
    if lang != "vi":
        return message
    for pattern, vi in VIETNAMESE:
        m = pattern.match(message)
        if m:
            groups = {
                k: WORDS_VI.get(v, ENGLISH_NUMBER.sub(_vi_number, v) if k in AMOUNTS else v)
                for k, v in m.groupdict().items()
            }
            text = vi.format(**groups)
            return text[:1].upper() + text[1:]
    return message

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
            r"^the file has no CRS\. Say which one its coordinates are in, for example --crs (?P<c>\S+) for "
            r"(?P<n>.+) cadastral files, or --crs EPSG:4326 for longitude/latitude\.$",
            "tệp không ghi hệ tọa độ: hãy ghi vào ô Hệ tọa độ, ví dụ {c} cho tệp địa chính {n}, "
            "hoặc EPSG:4326 cho kinh độ/vĩ độ",
        ),
        (
            r"^the file's CRS \((?P<f>.+)\) says WGS 84 but its grid is VN-2000 / TM-3's \((?P<z>[^)]+)\): .*"
            r"import with --crs (?P<c>EPSG:\d+)\. .*$",
            "tệp ghi hệ tọa độ {f} là WGS 84 nhưng tọa độ nằm trên lưới VN-2000 / TM-3 ({z}): đọc theo WGS 84, "
            "mọi điểm sẽ lệch khoảng 220 m. Tệp địa chính trên lưới này là VN-2000: hãy ghi {c} vào ô Hệ tọa độ",
        ),
        (r"^unknown former commune (?P<u>\S+) .*$", "không có xã cũ (trước 01/7/2025) mã {u}"),
        (
            r"^former commune (?P<f>\S+) \((?P<fn>[^)]*)\) became (?P<s>\S+) \((?P<sn>[^)]*)\), which does not hold this "
            r"parcel; by its location it is in (?P<h>.+)$",
            "xã cũ {f} ({fn}) đã sáp nhập vào {s} ({sn}), nhưng khu đất không thuộc {s}; theo vị trí, khu đất thuộc {h}",
        ),
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
            r"^entering \S+ needs the approved plan's number of units .*$",
            "giai đoạn này cần số căn hộ và diện tích sàn nhà ở theo quy hoạch chi tiết 1/500 đã duyệt",
        ),
        (
            r"^entering \S+ needs the investor .*$",
            "giai đoạn này cần tên chủ đầu tư và hình thức lựa chọn chủ đầu tư",
        ),
        (
            r"^land is allocated or leased only once site clearance is complete; (?P<c>\S+) still needs: (?P<g>.+) "
            r"\(clearance is .*$",
            "chỉ giao đất, cho thuê đất khi đã hoàn thành giải phóng mặt bằng; khu đất {c} còn thiếu: {g} "
            "(cập nhật tại “Sửa”)",
        ),
        (
            r"^entering \S+ needs the tenure: .*$",
            "giai đoạn này cần hình thức bàn giao: bán, cho thuê hoặc cho thuê mua",
        ),
        (r"^entering \S+ needs the sum paid instead .*$", "giai đoạn này cần số tiền nộp thay quỹ đất 20 %"),
        (r"^entering \S+ needs the code of the parcel that replaces .*$", "cần mã khu đất bố trí thay quỹ đất 20 %"),
        (
            r"^reserve_replaced_by: no other parcel (?P<c>.+) in the land fund$",
            "không có khu đất {c} khác trong quỹ đất",
        ),
        (
            r"^selection_method: commercial_developer .*$",
            "hình thức “chủ đầu tư dự án nhà ở thương mại” chỉ áp dụng cho quỹ đất 20 % của dự án đó",
        ),
        (
            r"^the 20 % reserve of a commercial housing or urban-area project applies only in urban areas of class III "
            r"or above \(in (?P<p>[^:]+): (?P<u>[^)]*)\); this parcel lies in (?P<h>.+)$",
            "quỹ đất 20 % trong dự án nhà ở thương mại, khu đô thị chỉ áp dụng tại đô thị từ loại III trở lên "
            "(tỉnh {p}: {u}); khu đất này thuộc {h}",
        ),
        (
            r"^FAR (?P<f>\S+) cannot be reached with (?P<d>\S+) % building density and (?P<n>\S+) floors "
            r"\(at most (?P<m>\S+)\); correct one of the three$",
            "hệ số sử dụng đất {f} không thể đạt với mật độ xây dựng {d} % và {n} tầng (tối đa {m}); "
            "cần sửa một trong ba chỉ tiêu",
        ),
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
# what a gate says is missing (group g), in words
GAPS_VI = {
    "clearance_status cleared": "giải phóng mặt bằng hoàn thành",
    "clearance_households": "số hộ bị thu hồi đất",
    "clearance_cost_vnd": "chi phí bồi thường, hỗ trợ, tái định cư",
}
AMOUNTS = {
    "a",
    "n",
    "m",
    "f",
    "d",
}  # groups holding amounts (formatted the Vietnamese way); the others are names and values
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
            if "g" in groups:
                groups["g"] = ", ".join(GAPS_VI.get(x, x) for x in groups["g"].split(", "))
            text = vi.format(**groups)
            return text[:1].upper() + text[1:]
    return message

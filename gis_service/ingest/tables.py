"""Tables for people's spreadsheets: CSV that Excel opens correctly with Vietnamese or English settings, and XLSX
with typed cells (openpyxl).

CSV layout (no `sep=` line): UTF-8 with a byte-order mark, and the separators of the language's Excel: in
Vietnamese a semicolon between fields and a decimal comma (Excel with Vietnamese regional settings splits on
';' and reads 2,5 as a number), in English a comma and a decimal point. Dates are dd/mm/yyyy in Vietnamese and
yyyy-mm-dd in English, which each Excel reads as a date."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..core.vocabulary import LANGS

CSV_SEPARATOR = {"vi": ";", "en": ","}


@dataclass
class Column:
    key: str
    title: str
    kind: str = "text"  # text | integer | number | date | boolean
    decimals: int = 2
    width: int = 14


@dataclass
class Sheet:
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run such a cell as a formula


def _text(v: str) -> str:
    """Text as a spreadsheet shows it, never as a formula it runs (OWASP CSV injection): a leading '."""
    return "'" + v if v.startswith(FORMULA_START) else v


def _csv_value(v: Any, col: Column, lang: str) -> str:
    if v is None:
        return ""
    if isinstance(v, Decimal):  # numeric columns of the database
        v = float(v)
    if isinstance(v, bool):
        return ("có" if v else "không") if lang == "vi" else ("yes" if v else "no")
    if isinstance(v, (int, float)) and col.kind in ("integer", "number"):
        text = (
            str(int(v))
            if col.kind == "integer" or (float(v).is_integer() and col.decimals == 0)
            else f"{float(v):.{col.decimals}f}".rstrip("0").rstrip(".")
        )
        return text.replace(".", ",") if lang == "vi" else text
    if isinstance(v, (date, datetime)):
        d = v.date() if isinstance(v, datetime) else v
        return d.strftime("%d/%m/%Y") if lang == "vi" else d.isoformat()
    return _text(str(v))


def csv_bytes(columns: list[Column], rows: list[dict[str, Any]], lang: str) -> bytes:
    lang = lang if lang in LANGS else LANGS[0]
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf, delimiter=CSV_SEPARATOR[lang], lineterminator="\r\n")
    writer.writerow([c.title for c in columns])
    for r in rows:
        writer.writerow([_csv_value(r.get(c.key), c, lang) for c in columns])
    return buf.getvalue().encode("utf-8")


def xlsx_bytes(sheets: list[Sheet], about: list[tuple[str, str]], about_title: str = "Nguồn") -> bytes:
    """A workbook: one sheet per table (bold, frozen header row, typed cells and number formats), and a sheet naming
    the source, the date and the filters (`about`: label, value)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    head = Font(bold=True)
    fill = PatternFill("solid", fgColor="E8EEF4")
    for sheet in sheets:
        ws = wb.create_sheet(sheet.title[:31])
        ws.append([c.title for c in sheet.columns])
        for cell in ws[1]:
            cell.font, cell.fill = head, fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for r in sheet.rows:
            ws.append([float(v) if isinstance(v := r.get(c.key), Decimal) else v for c in sheet.columns])
            for cell in ws[ws.max_row]:
                if cell.data_type == "f":  # text that starts with '=' is kept as text, never made a formula
                    cell.data_type = "s"
        for i, col in enumerate(sheet.columns, start=1):
            letter = get_column_letter(i)
            ws.column_dimensions[letter].width = col.width
            fmt = {
                "integer": "#,##0",
                "number": "#,##0." + "0" * col.decimals if col.decimals else "#,##0",
                "date": "dd/mm/yyyy",
            }.get(col.kind)
            if fmt:
                for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                    cell.number_format = fmt
        ws.freeze_panes = "A2"
        for note in sheet.notes:
            ws.append([])
            ws.append([note])
    info = wb.create_sheet(about_title[:31])
    for label, value in about:
        info.append([label, value])
    for cell in info["A"]:
        cell.font = head
    info.column_dimensions["A"].width, info.column_dimensions["B"].width = 28, 80
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()

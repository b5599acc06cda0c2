"""Attribute checks, driven by the catalogue: types, required fields, defaults, value lists and code lists.

Values arrive as whatever the file or the JSON body held (strings from CSV, numbers from GeoPackage,
dates, booleans). Each column is coerced to its catalogue type in vectorised steps; the few values that
do not parse on the fast path get a second, forgiving look (Vietnamese decimal commas, dd/mm/yyyy dates,
value labels such as "Đề xuất" for `proposed`) before they are reported.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime

import numpy as np
import pandas as pd

from ..catalogue import Attribute, Catalogue, LayerDef, fold
from .report import Report

TRUE = {"true", "t", "yes", "y", "1", "co", "x", "dung"}
FALSE = {"false", "f", "no", "n", "0", "khong", "sai"}


def _is_missing(series: pd.Series) -> np.ndarray:
    """None, NaN, NaT and blank strings are 'no value'."""
    miss = series.isna().to_numpy(dtype=bool)
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        try:
            blank = series.str.strip().eq("").to_numpy(dtype=bool, na_value=False)
        except AttributeError:  # no strings at all in the column
            return miss
        miss = miss | blank
    return miss


def _number(value) -> float | None:
    """Parse one number, accepting '2,5' and '1.234,5' as well as '1,234.5'."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    s = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if "," in s and "." in s:
        s = s.replace(".", "").replace(",", ".") if s.rfind(",") > s.rfind(".") else s.replace(",", "")
    elif "," in s:
        s = s.replace(",", ".") if s.count(",") == 1 else s.replace(",", "")
    try:
        return float(s)
    except ValueError:
        return None


def _date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    s = str(value).strip()
    for pattern, order in (
        (r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T ]00:00(?::00(?:\.0+)?)?(?:Z|[+-]00:?00)?)?", "ymd"),
        (r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", "dmy"),
    ):
        m = re.fullmatch(pattern, s)
        if m:
            a, b, c = (int(g) for g in m.groups())
            y, mo, d = (a, b, c) if order == "ymd" else (c, b, a)
            try:
                return date(y, mo, d)
            except ValueError:
                return None
    return None


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a sheet number read as 12.0 is "12"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value).strip()


class _Column:
    """Coerces one column; collects (position, message) for values it cannot accept."""

    def __init__(self, attr: Attribute, catalogue: Catalogue):
        self.attr = attr
        self.catalogue = catalogue
        self.bad: list[tuple[int, str]] = []

    def run(self, series: pd.Series) -> list:
        a = self.attr
        missing = _is_missing(series)
        out = np.full(len(series), None, dtype=object)
        values, ok = self._fast(series)  # the common case, a whole column at a time
        ok = ok & ~missing
        out[ok] = values[ok]
        slow = np.flatnonzero(~missing & ~ok)
        if len(slow):  # the rest, one by one, with the forgiving parsers and a message for each failure
            raw = series.to_numpy(dtype=object)
            convert = getattr(self, f"_to_{a.type}")
            for i in slow:
                value, message = convert(raw[i])
                if message:
                    self.bad.append((int(i), message))
                else:
                    out[i] = value
        if a.default is not None:
            out[missing] = a.default
        elif a.required:
            for i in np.flatnonzero(missing):
                self.bad.append((int(i), "is required but empty"))
        return out.tolist()

    # -- whole columns: (values, accepted) for the values that need no second look ---------------------
    def _fast(self, series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        n = len(series)
        none = (np.full(n, None, dtype=object), np.zeros(n, dtype=bool))
        kind = self.attr.type
        if kind == "string":
            return (
                self._fast_string(series)
                if series.dtype == object or pd.api.types.is_string_dtype(series.dtype)
                else none
            )
        if kind in ("number", "integer"):
            if pd.api.types.is_bool_dtype(series.dtype) or not pd.api.types.is_numeric_dtype(series.dtype):
                return none  # text numbers may carry decimal commas: the forgiving parser reads those
            x = series.to_numpy(dtype=float, na_value=np.nan)
            ok = np.isfinite(x)
            if kind == "integer":
                ok &= np.floor(np.where(ok, x, 0)) == np.where(ok, x, 0)
            if self.attr.minimum is not None:
                ok &= ~(x < self.attr.minimum)
            if self.attr.maximum is not None:
                ok &= ~(x > self.attr.maximum)
            values = np.array((np.where(ok, x, 0).astype(np.int64) if kind == "integer" else x).tolist(), dtype=object)
            return values, ok
        if kind == "boolean" and pd.api.types.is_bool_dtype(series.dtype):
            return np.array(series.astype(bool).tolist(), dtype=object), np.ones(n, dtype=bool)
        if kind == "date" and pd.api.types.is_datetime64_any_dtype(series.dtype):
            stamps = series.dt.tz_localize(None) if getattr(series.dt, "tz", None) else series
            midnight = (stamps == stamps.dt.normalize()).to_numpy(dtype=bool, na_value=False)
            return stamps.dt.date.to_numpy(dtype=object, na_value=None), midnight
        return none

    def _fast_string(self, series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        a = self.attr
        if pd.api.types.is_string_dtype(series.dtype) and series.dtype != object:  # pandas' own strings: fast
            is_str = series.notna().to_numpy(dtype=bool)
            text = series.fillna("").str.strip()
        else:
            raw = series.to_numpy(dtype=object)
            is_str = np.fromiter((type(v) is str for v in raw), dtype=bool, count=len(raw))
            text = pd.Series(np.where(is_str, raw, ""), dtype=object).str.strip()
        if a.values is not None:
            ok = is_str & text.isin(list(a.values)).to_numpy()
        elif a.codelist:
            text = text.str.upper()
            ok = is_str & text.isin(list(self.catalogue.codes(a.codelist))).to_numpy()
        else:
            ok = is_str & (text.str.len() <= a.max_length).to_numpy() if a.max_length is not None else is_str
        return text.to_numpy(dtype=object, na_value=None), np.asarray(ok, dtype=bool)

    # -- one value each; return (value, None) or (None, message) ---------------------------------
    def _to_string(self, v):
        a = self.attr
        s = _text(v)
        if a.values is not None:
            return self._choice(s)
        if a.codelist:
            code = s.upper()
            codes = self.catalogue.codes(a.codelist)
            if code not in codes:
                known = ", ".join(sorted(codes))
                return None, f"unknown {self.catalogue.codelists[a.codelist].title.en.lower()} {s!r} (known: {known})"
            return code, None
        if a.max_length is not None and len(s) > a.max_length:
            return None, f"is {len(s)} characters long; at most {a.max_length} are allowed"
        return s, None

    def _choice(self, s: str):
        values = self.attr.values or {}
        if s in values:
            return s, None
        folded = fold(s)
        for key, val in values.items():
            if folded in (fold(key), fold(val.vi), fold(val.en)):
                return key, None
        return None, f"{s!r} is not one of: {', '.join(values)}"

    def _range(self, x: float):
        a = self.attr
        if a.minimum is not None and x < a.minimum:
            return f"{x:g} is below the minimum {a.minimum:g}"
        if a.maximum is not None and x > a.maximum:
            return f"{x:g} is above the maximum {a.maximum:g}"
        return None

    def _to_number(self, v):
        x = _number(v)
        if x is None or not math.isfinite(x):
            return None, f"{v!r} is not a number"
        msg = self._range(x)
        return (None, msg) if msg else (x, None)

    def _to_integer(self, v):
        x = _number(v)
        if x is None or not math.isfinite(x):
            return None, f"{v!r} is not a whole number"
        if not float(x).is_integer():
            return None, f"{v!r} is not a whole number"
        msg = self._range(x)
        return (None, msg) if msg else (int(x), None)

    def _to_boolean(self, v):
        if isinstance(v, (bool, np.bool_)):
            return bool(v), None
        if isinstance(v, (int, float, np.integer, np.floating)) and v in (0, 1):
            return bool(v), None
        f = fold(str(v))
        if f in TRUE:
            return True, None
        if f in FALSE:
            return False, None
        return None, f"{v!r} is not true/false (có/không)"

    def _to_date(self, v):
        d = _date(v)
        if d is None:
            return None, f"{v!r} is not a date (use YYYY-MM-DD or DD/MM/YYYY)"
        return d, None


def coerce_attributes(
    frame: pd.DataFrame,
    layer: LayerDef,
    catalogue: Catalogue,
    report: Report,
    rows: np.ndarray,
    codes: list[str | None],
) -> pd.DataFrame:
    """Typed copy of `frame`'s input attributes (Python values, None for empty); problems go to `report`.

    `rows` are the 1-based row numbers to report; `codes` the rows' codes, to help find them."""
    typed: dict[str, list] = {}
    n = len(frame)
    for attr in layer.input_attributes:
        if attr.name in frame.columns:
            series = frame[attr.name]
        else:
            series = pd.Series([None] * n, index=frame.index, dtype=object)
            if attr.required:
                report.add(None, attr.name, "required column is missing", kind="missing_column")
                typed[attr.name] = [None] * n
                continue
        col = _Column(attr, catalogue)
        typed[attr.name] = col.run(series)
        for i, message in col.bad:
            report.add(int(rows[i]), attr.name, message, codes[i])
    return pd.DataFrame(typed, index=frame.index, dtype=object)


def coerce_value(attr: Attribute, catalogue: Catalogue, raw) -> tuple[object, str | None]:
    """One value through the same rules as a file column: (value, None) or (None, message)."""
    return getattr(_Column(attr, catalogue), f"_to_{attr.type}")(raw)

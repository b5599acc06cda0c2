"""The reports as tables people open in a spreadsheet (CSV for Excel in Vietnamese or English, XLSX) or read on a
page: coverage, bottlenecks, suitability and the dashboard's figures. One definition per table: its columns, their
titles in both languages and their kinds, and how a report's rows become its rows."""

from __future__ import annotations

from dataclasses import dataclass

from ..ingest.tables import Column, Sheet

T = dict[str, tuple[str, str]]
TITLES: T = {  # key: (Vietnamese, English)
    "code": ("Mã", "Code"),
    "name": ("Tên", "Name"),
    "level": ("Cấp", "Level"),
    "parcels": ("Số khu đất", "Parcels"),
    "area_ha": ("Diện tích (ha)", "Area (ha)"),
    "est_units": ("Số căn hộ ước tính", "Estimated dwellings"),
    "households": ("Số hộ có nhu cầu", "Households in need"),
    "demand_year": ("Năm số liệu nhu cầu", "Demand year"),
    "coverage_ratio": ("Tỷ lệ đáp ứng", "Coverage ratio"),
    "short_of_land": ("Thiếu quỹ đất", "Short of land"),
    "shortfall_units": ("Số căn còn thiếu", "Dwellings short"),
    "programme_households": ("Số hộ được hỗ trợ", "Households supported"),
    "programme_funding_vnd": ("Kinh phí hỗ trợ (đồng)", "Support funding (VND)"),
    "programme_year": ("Năm hỗ trợ", "Support year"),
    "kind": ("Vấn đề", "Finding"),
    "status": ("Giai đoạn", "Stage"),
    "clearance_status": ("Giải phóng mặt bằng", "Clearance"),
    "responsible_level": ("Cấp chịu trách nhiệm", "Responsible level"),
    "responsible_agency": ("Cơ quan chịu trách nhiệm", "Responsible agency"),
    "admin_unit_code": ("Đơn vị hành chính", "Administrative unit"),
    "in_stage_since": ("Vào giai đoạn từ", "In the stage since"),
    "days_in_stage": ("Số ngày", "Days"),
    "limit_days": ("Giới hạn (ngày)", "Limit (days)"),
    "findings": ("Số vấn đề", "Findings"),
    "rank": ("Hạng", "Rank"),
    "score": ("Mức độ phù hợp", "Suitability"),
    "road_m": ("Đến đường (m)", "To a road (m)"),
    "town_m": ("Đến trung tâm hành chính (m)", "To the centre (m)"),
    "school_m": ("Đến trường học (m)", "To a school (m)"),
    "health_m": ("Đến cơ sở y tế (m)", "To a health station (m)"),
    "hazards": ("Vùng nguy cơ thiên tai", "Hazard zones"),
    "hazard_penalty": ("Trừ điểm thiên tai", "Hazard penalty"),
    "stage": ("Giai đoạn", "Stage"),
    "quarter": ("Quý", "Quarter"),
    "year": ("Năm", "Year"),
    "funding_vnd": ("Kinh phí (đồng)", "Funding (VND)"),
    "cumulative_ha": ("Lũy kế (ha)", "Cumulative (ha)"),
    "stage_overdue": ("Quá hạn ở giai đoạn", "Overdue in the stage"),
    "clearance_not_started": ("Chưa GPMB sau phê duyệt", "Clearance not started"),
    "district_responsibility": ("Còn giao cấp huyện", "Still with a district"),
}
KINDS = {
    "code": "text",
    "parcels": "integer",
    "area_ha": "number",
    "est_units": "integer",
    "households": "integer",
    "demand_year": "integer",
    "coverage_ratio": "number",
    "short_of_land": "boolean",
    "shortfall_units": "integer",
    "programme_households": "integer",
    "programme_funding_vnd": "integer",
    "programme_year": "integer",
    "in_stage_since": "date",
    "days_in_stage": "integer",
    "limit_days": "integer",
    "findings": "integer",
    "rank": "integer",
    "score": "number",
    "road_m": "integer",
    "town_m": "integer",
    "school_m": "integer",
    "health_m": "integer",
    "hazard_penalty": "number",
    "year": "integer",
    "funding_vnd": "integer",
    "cumulative_ha": "number",
    "stage_overdue": "integer",
    "clearance_not_started": "integer",
    "district_responsibility": "integer",
}
DECIMALS = {"area_ha": 2, "coverage_ratio": 2, "score": 3, "hazard_penalty": 3, "cumulative_ha": 2}


def title(key: str, lang: str) -> str:
    vi, en = TITLES.get(key, (key, key))
    return en if lang == "en" else vi


def columns(keys: list[str], lang: str) -> list[Column]:
    return [
        Column(
            k,
            title(k, lang),
            KINDS.get(k, "text"),
            DECIMALS.get(k, 0 if KINDS.get(k) == "integer" else 2),
            width=max(10, min(44, len(title(k, lang)) + 3)),
        )
        for k in keys
    ]


@dataclass
class Labels:
    """How values are named in a table: stage and code-list labels, unit names, the findings' kinds."""

    values: dict[str, dict[str, str]]
    units: dict[str, str]
    lang: str

    def row(self, r: dict) -> dict:
        out = dict(r)
        for k, names in self.values.items():
            if out.get(k) in names:
                out[k] = names[out[k]]
        if out.get("admin_unit_code") in self.units:
            out["admin_unit_code"] = f"{self.units[out['admin_unit_code']]} ({out['admin_unit_code']})"
        if "kind" in out and out["kind"] in TITLES:
            out["kind"] = title(out["kind"], self.lang)
        return out


COVERAGE = [
    "code",
    "name",
    "parcels",
    "area_ha",
    "est_units",
    "households",
    "demand_year",
    "coverage_ratio",
    "short_of_land",
    "shortfall_units",
    "programme_households",
    "programme_funding_vnd",
    "programme_year",
]
# the dashboard's table beside its coverage chart
COVERAGE_BRIEF = [*COVERAGE[:5], "households", "coverage_ratio", "short_of_land", "shortfall_units"]
FINDINGS = [
    "kind",
    "code",
    "name",
    "status",
    "clearance_status",
    "responsible_level",
    "responsible_agency",
    "admin_unit_code",
    "in_stage_since",
    "days_in_stage",
    "limit_days",
]
GROUPS = [
    "responsible_level",
    "responsible_agency",
    "findings",
    "parcels",
    "stage_overdue",
    "clearance_not_started",
    "district_responsibility",
]
SITES = [
    "rank",
    "code",
    "name",
    "admin_unit_code",
    "area_ha",
    "est_units",
    "score",
    "road_m",
    "town_m",
    "school_m",
    "health_m",
    "clearance_status",
    "hazards",
    "hazard_penalty",
]


def coverage_sheets(report: dict, labels: Labels, sheet_title: str) -> list[Sheet]:
    rows = [labels.row(u) for u in report["units"]]
    return [Sheet(sheet_title, columns(COVERAGE, labels.lang), rows)]


def bottleneck_sheets(report: dict, labels: Labels, titles: tuple[str, str]) -> list[Sheet]:
    groups = [
        labels.row(
            {
                **{k: g[k] for k in ("responsible_level", "responsible_agency", "findings")},
                "parcels": len(g["parcels"]),
                **g["by_kind"],
            }
        )
        for g in report["groups"]
    ]
    findings = [labels.row(f) for f in report["findings"]]
    return [
        Sheet(titles[0], columns(GROUPS, labels.lang), groups),
        Sheet(titles[1], columns(FINDINGS, labels.lang), findings),
    ]


def site_rows(ranked: list[dict], labels: Labels) -> list[dict]:
    """A ranking's sites as flat rows (distances in metres, hazards named with their severity)."""
    out = []
    for r in ranked:
        row = {
            k: r[k]
            for k in ("rank", "code", "name", "admin_unit_code", "area_ha", "est_units", "score", "hazard_penalty")
        }
        for k in ("road", "town", "school", "health"):
            d = r["criteria"][k]["distance_m"]
            row[f"{k}_m"] = None if d is None else round(d)
        row["clearance_status"] = r["criteria"]["clearance"]["value"]
        row["hazards"] = "; ".join(f"{h.get('name') or h['hazard']} ({h['severity']})" for h in r["hazards"])
        out.append(labels.row(row))
    return out


def suitability_sheets(ranked: list[dict], labels: Labels, sheet_title: str) -> list[Sheet]:
    return [Sheet(sheet_title, columns(SITES, labels.lang), site_rows(ranked, labels))]

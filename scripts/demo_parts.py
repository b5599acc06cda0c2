"""Feature builders for scripts/generate_demo.py: units, roads, facilities, hazards, parcels, tables."""

from __future__ import annotations

import csv
import itertools
import math
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import shapely
import shapely.affinity
from demo_geo import (
    COMMUNES,
    DISTRICTS,
    HAZARDS,
    ROADS,
    SCHEMATIC,
    TO_LL,
    allocate,
    feature,
    lloyd,
    multi,
    power_cells,
    pt_m,
    spread_points,
    to_ll,
)
from shapely.geometry import LineString, Point, Polygon
from shapely.ops import nearest_points, unary_union

from gis_service.core.vocabulary import load_workflow

REFORM = date(2025, 7, 1)
FAMILY = ["Lò", "Quàng", "Lường", "Cà", "Tòng", "Vừ", "Giàng", "Sùng", "Mùa", "Nguyễn", "Trần", "Hoàng"]
GIVEN_M = ["Văn Pâng", "Văn Ún", "Văn Khăm", "A Páo", "A Sình", "Văn Tiến", "Văn Hùng"]
GIVEN_F = ["Thị Xuân", "Thị Ỏn", "Thị Mai", "Thị Pọm", "Thị Lả", "Thị Hoa"]


def admin_features(prov, district_cells, rng) -> list[dict]:
    units = [
        {
            "code": "11",
            "name": "Điện Biên",
            "level": "province",
            "geom": prov,
            "props": {
                "unit_type": "tỉnh",
                "parent_code": None,
                "valid_from": "2004-01-01",
                "valid_to": None,
                "official_area_km2": 9539.93,
                "population": 635921,
                "population_year": 2022,
            },
        }
    ]
    for d, cell in zip(DISTRICTS, district_cells):
        code, name, kind, area, pop, pop_year, seat, verified = d
        note = SCHEMATIC + ("" if verified else "; seat position not verified")
        units.append(
            {
                "code": code,
                "name": name,
                "level": "district",
                "geom": cell,
                "seat": pt_m(*seat),
                "urban": kind != "huyện",
                "props": {
                    "unit_type": kind,
                    "parent_code": "11",
                    "valid_from": "1900-01-01",
                    "valid_to": "2025-06-30",
                    "official_area_km2": area,
                    "population": pop,
                    "population_year": pop_year,
                    "boundary_note": note,
                },
            }
        )
        members = COMMUNES[code]
        seeds = spread_points(cell, pt_m(*seat), len(members), rng)
        seeds = lloyd(cell, seeds) if len(members) > 1 else seeds
        cells = power_cells(seeds, np.zeros(len(seeds)), cell) if len(members) > 1 else [cell]
        for k, ((ccode, cname, ckind), ccell, cseed) in enumerate(zip(members, cells, seeds)):
            units.append(
                {
                    "code": ccode,
                    "name": cname,
                    "level": "commune",
                    "geom": ccell,
                    "seat": cseed,
                    "district": code,
                    "urban": ckind == "phường" or k == 0,
                    "kind": ckind,
                    "props": {
                        "unit_type": ckind,
                        "parent_code": "11",
                        "valid_from": "2025-07-01",
                        "valid_to": None,
                        "official_area_km2": None,
                        "population": None,
                        "population_year": None,
                        "boundary_note": SCHEMATIC + f"; drawn inside former district {code} {name}",
                    },
                }
            )
    for u in units:
        u["geom"] = multi(u["geom"])
        u["feature"] = feature(
            to_ll(u["geom"]),
            {"code": u["code"], "name": u["name"], "level": u["level"], "boundary_note": SCHEMATIC, **u["props"]},
        )
    return units


def _wiggle(points_m: list[np.ndarray], rng, amplitude: float = 900.0) -> LineString:
    out = [points_m[0]]
    for a, b in itertools.pairwise(points_m):
        seg = b - a
        normal = np.array([-seg[1], seg[0]]) / (np.linalg.norm(seg) or 1)
        phase = rng.uniform(0, math.pi)
        for t in np.linspace(0, 1, 8)[1:-1]:
            out.append(a + seg * t + normal * amplitude * math.sin(math.pi * t * 2 + phase) * math.sin(math.pi * t))
        out.append(b)
    return LineString(out)


def roads(units: list[dict], prov, rng) -> tuple[list[dict], list[LineString]]:
    """Schematic main roads (the stretches inside the province), plus a local road from every commune centre far
    from them."""
    feats, lines = [], []
    for name, ref, klass, pts in ROADS:
        line = _wiggle([pt_m(lat, lon) for lon, lat in pts], rng).intersection(prov)
        lines.append(line)
        feats.append(feature(to_ll(line), {"name": name, "ref": ref, "road_class": klass}))
    more_feats, more_lines = local_roads(units, lines, rng)
    return feats + more_feats, lines + more_lines


def local_roads(units, lines, rng) -> tuple[list[dict], list[LineString]]:
    network = unary_union(lines)
    feats, new = [], []
    for u in units:
        if u["level"] != "commune":
            continue
        seat = Point(u["seat"])
        if network.distance(seat) < 1500:
            continue
        target = nearest_points(network, seat)[0]
        line = _wiggle([np.array(seat.coords[0]), np.array(target.coords[0])], rng, amplitude=400)
        new.append(line)
        feats.append(
            feature(
                to_ll(line),
                {"name": f"Đường đến trung tâm {u['kind']} {u['name']}", "ref": None, "road_class": "local"},
            )
        )
    return feats, new


def _inside(poly, centre: np.ndarray, spread: float, rng) -> Point:
    for _ in range(200):
        p = Point(centre + rng.normal(0, spread, 2))
        if poly.contains(p):
            return p
    return poly.representative_point()


def facilities(communes: list[dict], rng) -> list[dict]:
    feats = []
    for u in communes:
        geom, seat, name, kind = u["geom"], u["seat"], u["name"], u["kind"]

        def add(p, n, k, code=u["code"]):
            feats.append(feature(to_ll(p), {"name": n, "kind": k, "admin_unit_code": code}))

        add(_inside(geom, seat, 50, rng), f"UBND {kind} {name}", "admin_centre")
        add(_inside(geom, seat, 500, rng), f"Trạm y tế {kind} {name}", "health")
        add(_inside(geom, seat, 800, rng), f"Trường Tiểu học {name}", "school")
        add(_inside(geom, seat, 1500, rng), f"Trường THCS {name}", "school")
        if u["urban"]:
            add(_inside(geom, seat, 700, rng), f"Trường THPT {name}", "school")
            add(_inside(geom, seat, 400, rng), f"Chợ {name}", "market")
    mt = next(u for u in communes if u["code"] == "03334")
    feats.append(
        feature(
            to_ll(_inside(mt["geom"], mt["seat"], 600, rng)),
            {"name": "Bệnh viện Đa khoa tỉnh Điện Biên", "kind": "health", "admin_unit_code": "03334"},
        )
    )
    return feats


def hazards(prov) -> tuple[list[dict], list]:
    feats, polys = [], []
    for hazard, severity, name, (lon, lat), (ra, rb), angle in HAZARDS:
        c = pt_m(lat, lon)
        t = np.linspace(0, 2 * math.pi, 48, endpoint=False)
        r = 1 + 0.12 * np.sin(3 * t) + 0.07 * np.cos(5 * t)
        a = math.radians(angle)
        x, y = ra * 1000 * r * np.cos(t), rb * 1000 * r * np.sin(t)
        pts = np.column_stack([c[0] + x * math.cos(a) - y * math.sin(a), c[1] + x * math.sin(a) + y * math.cos(a)])
        poly = multi(Polygon(pts).intersection(prov))
        polys.append(poly)
        feats.append(feature(to_ll(poly), {"name": name, "hazard": hazard, "severity": severity}))
    return feats, polys


def _shape(centre: np.ndarray, area: float, angle: float, rng) -> Polygon:
    aspect = rng.uniform(1.0, 2.4)
    w = math.sqrt(area / aspect)
    h = w * aspect
    corners = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    corners += rng.uniform(-0.08, 0.08, corners.shape) * [w, h]
    if rng.random() < 0.35:  # cut a corner: a pentagon
        k = rng.integers(4)
        a, b, c = corners[k - 1], corners[k], corners[(k + 1) % 4]
        corners = np.insert(np.delete(corners, k, axis=0), k, [b + (a - b) * 0.3, b + (c - b) * 0.3], axis=0)
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    poly = Polygon(corners @ rot.T + centre)
    return shapely.affinity.scale(poly, math.sqrt(area / poly.area), math.sqrt(area / poly.area))


# The province's social-housing programme as the Department of Construction reported it: about 12 sites (13 here), mainly
# urban, of nearly 30 ha for about 3,890 units; three projects (in Thanh Nưa and Điện Biên Phủ ward) starting in
# Q2 2026. Each site: (commune, hectares, stage, fund source, approved units or None when no 1/500 plan yet, tenure).
PROGRAMME = [
    ("03334", 1.9, "completed", "standalone_site", 248, "mixed"),
    ("03127", 3.6, "under_construction", "standalone_site", 480, None),
    ("03127", 2.8, "under_construction", "standalone_site", 372, None),
    ("03328", 3.3, "under_construction", "public_land", 440, None),
    ("03334", 2.2, "land_allocated", "standalone_site", 290, None),
    ("03151", 1.8, "clearance", "public_land", 215, None),
    ("03253", 3.0, "investor_selected", "standalone_site", 400, None),
    ("03127", 2.8, "call_published", "standalone_site", 395, None),
    ("03334", 2.3, "call_published", "standalone_site", 330, None),
    ("03334", 1.2, "plan_approved", "commercial_reserve", 160, None),
    ("03217", 1.9, "call_published", "public_land", 250, None),
    ("03256", 1.6, "call_published", "public_land", 210, None),
    ("03172", 2.2, "programmed", "public_land", None, None),
]
# What communes proposed to add since the reform (small sites near the former district towns), and what left the fund.
ADDITIONS = [
    ("03127", 0.5, "proposed", "standalone_site"),
    ("03334", 0.4, "proposed", "public_land"),
    ("03328", 0.6, "proposed", "public_land"),
    ("03352", 0.5, "proposed", "public_land"),
    ("03253", 0.45, "proposed", "public_land"),
    ("03256", 0.4, "proposed", "standalone_site"),
    ("03160", 0.35, "proposed", "public_land"),
    ("03203", 0.4, "proposed", "public_land"),
    ("03169", 0.3, "proposed", "public_land"),
    ("03151", 0.5, "proposed", "standalone_site"),
    ("03217", 0.8, "withdrawn", "public_land"),
    ("03253", 1.1, "withdrawn", "standalone_site"),
    ("03127", 0.9, "reserve_paid", "commercial_reserve"),
]
# Sites decided before the reform whose responsibility still names the abolished district (the bottleneck report's
# finding): in Na Sang (the former Mường Chà township) and Mường Nhé.
STILL_DISTRICT = ("03172", "03160")
# the communes before the reform, by the unit each became: a parcel's cadastral map is its former commune's
FORMER: dict[str, list[str]] = {}
with open(
    Path(__file__).resolve().parent.parent / "layers" / "units" / "dien_bien_2025_merger.csv", encoding="utf-8"
) as _fh:
    for _row in csv.DictReader(_fh):
        FORMER.setdefault(_row["successor_code"], []).append(_row["former_code"])
ORDER = load_workflow(Path(__file__).resolve().parent.parent / "layers").main_line()
INVESTORS = [
    ("Công ty Cổ phần Đầu tư Xây dựng Điện Biên", "bidding"),
    ("Công ty TNHH Phát triển Nhà Tây Bắc", "assignment"),
    ("Ban Quản lý dự án đầu tư xây dựng tỉnh Điện Biên", "project_board"),
    ("Liên danh Nhà ở Mường Thanh", "bidding"),
]
ISSUERS = {
    "programmed": "HĐND tỉnh Điện Biên",
    "plan_approved": "UBND tỉnh Điện Biên",
    "call_published": "Sở Xây dựng tỉnh Điện Biên",
    "investor_selected": "UBND tỉnh Điện Biên",
    "clearance": "UBND tỉnh Điện Biên",
    "land_allocated": "UBND tỉnh Điện Biên",
    "under_construction": "Sở Xây dựng tỉnh Điện Biên",
    "completed": "Sở Xây dựng tỉnh Điện Biên",
}


def _site(u: dict, status: str, fund: str, area: float, seq: int, units: int | None, tenure, rng) -> dict:
    """A parcel's attributes, consistent with its stage: the plan's figures from plan_approved on, the investor from
    investor_selected on, a cleared site with its households and cost from land_allocated on."""
    urban = u["urban"]
    at = ORDER.index(status) if status in ORDER else (2 if status == "reserve_paid" else 0)
    floors = int(rng.integers(5, 10) if urban else rng.integers(3, 6))
    density = float(rng.choice([35, 37.5, 40, 45, 50]))
    # a FAR the density and floors can reach (rounded down, never up past density × floors)
    far = (
        math.floor(10 * min(density / 100 * floors, float(rng.uniform(1.4, 2.6) if urban else rng.uniform(0.9, 1.4))))
        / 10
    )
    decided = status not in ("proposed", "withdrawn") or rng.random() < 0.5 or u["code"] in STILL_DISTRICT
    ddate = date(2022, 3, 1) + timedelta(days=int(rng.integers(0, (date(2026, 9, 30) - date(2022, 3, 1)).days)))
    if u["code"] in STILL_DISTRICT:
        ddate = date(2024, 5, 1) + timedelta(days=int(rng.integers(0, 300)))
    if status in ("under_construction", "completed"):
        started = date(2026, 4, 1) + timedelta(days=int(rng.integers(0, 60)))  # Q2 2026, as the province hoped
        ddate = started if status == "under_construction" else date(2025, 11, 20)
    if ddate < REFORM and (status == "withdrawn" or u["code"] in STILL_DISTRICT):
        district = next(d for d in DISTRICTS if d[0] == u["district"])
        level, agency = "district", f"UBND {district[2]} {district[1]}"
    elif u["code"] in ("03127", "03334", "03151") or fund == "commercial_reserve":
        level, agency = "province", "Sở Xây dựng tỉnh Điện Biên"
    elif status == "proposed":
        level, agency = "commune", f"UBND {u['kind']} {u['name']}"
    else:
        level, agency = "province", "Sở Xây dựng tỉnh Điện Biên"
    clearance = (
        "cleared"
        if at >= ORDER.index("land_allocated")
        else "in_progress"
        if status == "clearance"
        else ("in_progress" if at >= ORDER.index("investor_selected") else "not_started")
    )
    props = {
        "code": f"NOXH-{u['code']}-{seq:02d}",
        "name": f"Khu nhà ở xã hội {u['kind']} {u['name']}" + (f" ({seq})" if seq > 1 else ""),
        "former_commune_code": str(rng.choice(sorted(FORMER[u["code"]]))),
        "map_sheet_no": str(int(rng.integers(1, 80))),
        "parcel_no": str(int(rng.integers(1, 650))),
        "land_use_code": "ODT" if urban else "ONT",
        "status": status,
        "fund_source": fund,
        "responsible_level": level,
        "responsible_agency": agency,
        "clearance_status": clearance,
        "max_far": far,
        "max_density": density,
        "max_floors": floors,
        "decision_no": f"{int(rng.integers(100, 3000))}/QĐ-UBND" if decided else None,
        "decision_date": ddate.isoformat() if decided else None,
        "approved_units": units if at >= ORDER.index("plan_approved") else None,
        "approved_floor_m2": round(units * float(rng.uniform(48, 56)), -1) if units and at >= 2 else None,
        "investor_name": None,
        "selection_method": None,
        "clearance_households": None,
        "clearance_cost_vnd": None,
        "tenure": tenure,
        "reserve_payment_vnd": 18_600_000_000 if status == "reserve_paid" else None,
        "reserve_replaced_by": None,
        "legal_area_m2": round(area * float(rng.uniform(0.995, 1.005)), 1) if decided else None,
        "published": status not in ("proposed", "withdrawn"),
        "internal_notes": None,
    }
    if at >= ORDER.index("investor_selected") and status != "reserve_paid":
        # state-funded sites on public land go to the province's project board; the others to investors
        name, method = INVESTORS[2] if fund == "public_land" else INVESTORS[(seq + int(u["code"])) % 2]
        props["investor_name"], props["selection_method"] = name, method
    if at >= ORDER.index("clearance") and status != "reserve_paid":
        hh = int(rng.integers(0, 25))
        props["clearance_households"] = hh
        props["clearance_cost_vnd"] = hh * int(rng.integers(450, 900)) * 1_000_000
    if status == "clearance" or (status == "proposed" and rng.random() < 0.5):
        who = f"{'ông' if rng.random() < 0.5 else 'bà'} {rng.choice(FAMILY)} " + (
            rng.choice(GIVEN_M) if rng.random() < 0.5 else rng.choice(GIVEN_F)
        )
        props["internal_notes"] = (
            f"Hộ {who} chưa đồng ý phương án bồi thường."
            if status == "clearance"
            else "Cần rà soát lại ranh giới với đất rừng sản xuất."
        )
    return props


def _place(u: dict, area_m2: float, roads_buf, placed: list, rng) -> Polygon:
    """A site of `area_m2` near the unit's seat, inside the unit, off the roads, apart from the other sites."""
    spread = 700.0
    for attempt in range(4000):
        centre = u["seat"] + rng.normal(0, spread, 2)
        poly = _shape(centre, area_m2, rng.uniform(0, math.pi), rng)
        if attempt % 200 == 199:
            spread *= 1.4
        if not poly.is_valid or not u["geom"].contains(poly) or poly.intersects(roads_buf):
            continue
        if any(poly.distance(other) < 30 for other in placed):
            continue
        return poly
    raise RuntimeError(f"no room for a {area_m2:.0f} m² site in {u['code']}")


def parcels(n: int, prov, units: list[dict], lines: list[LineString], hazard_polys: list, rng) -> list[dict]:
    """The programme's sites, the communes' proposed additions and what left the fund (`n` is ignored: the demo
    follows the province's published programme)."""
    communes = {u["code"]: u for u in units if u["level"] == "commune"}
    roads_buf = unary_union([ln.buffer(15) for ln in lines])
    placed: list[Polygon] = []
    feats, seqs = [], {}
    sites = [(c, ha, st, fund, units_, tenure) for c, ha, st, fund, units_, tenure in PROGRAMME]
    sites += [(c, ha, st, fund, None, None) for c, ha, st, fund in ADDITIONS]
    for code, ha, status, fund, approved, tenure in sites:
        u = communes[code]
        poly = _place(u, ha * 10_000, roads_buf, placed, rng)
        placed.append(poly)
        seqs[code] = seqs.get(code, 0) + 1
        feats.append(feature(to_ll(poly), _site(u, status, fund, poly.area, seqs[code], approved, tenure, rng)))
    feats.sort(key=lambda f: f["properties"]["code"])
    return feats


# Households eligible for social housing by the Housing Law 2023's groups (art. 76), mainly urban: poor rural
# households are helped to build or repair their own homes (the programmes below) and are not buyers of
# social-housing apartments; with no industrial park planned, few workers. Illustrative province totals for 2026.
GROUPS = {
    "civil_servants": 1400,
    "armed_forces": 900,
    "low_income_urban": 1500,
    "urban_poor": 350,
    "workers": 250,
    "revolutionary_merit": 150,
    "land_recovered": 200,
}
# where that demand lives: the wards, Thanh Nưa beside the city, and the communes that hold a former district town
DEMAND_SHARE = {"03127": 0.27, "03334": 0.25, "03151": 0.06, "03328": 0.07}
TOWN_SHARE = 0.35  # split among the former district towns


def tables(out: Path, units: list[dict]) -> None:
    note = "Illustrative split for the demo, not official figures"
    towns = [u["code"] for u in units if u["level"] == "commune" and u["urban"] and u["code"] not in DEMAND_SHARE]
    shares = {**DEMAND_SHARE, **{c: TOWN_SHARE / len(towns) for c in towns}}
    district_of = {u["code"]: u["district"] for u in units if u["level"] == "commune"}
    with open(out / "demand.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["admin_unit_code", "year", "eligible_group", "households", "note"])
        for year, growth in ((2023, 0.90), (2024, 0.94)):  # before the reform: by district
            for group, total in GROUPS.items():
                by_district: dict[str, float] = {}
                for c, share in shares.items():
                    by_district[district_of[c]] = by_district.get(district_of[c], 0.0) + share
                codes = sorted(by_district)
                for d, n in zip(codes, allocate(round(total * growth), [by_district[d] for d in codes])):
                    w.writerow([d, year, group, n, note])
        for year, growth in ((2025, 0.97), (2026, 1.0)):  # after: by commune and ward
            for group, total in GROUPS.items():
                codes = sorted(shares)
                for c, n in zip(codes, allocate(round(total * growth), [shares[c] for c in codes])):
                    w.writerow([c, year, group, n, note])
    weights = {"094": 0.1, "095": 0.5, "096": 1.6, "103": 1.6}
    shares = [(d[4] or d[3] * 50) * weights.get(d[0], 1.0) for d in DISTRICTS]
    households = allocate(1647, shares)
    funding_m = allocate(82735, households)  # million VND, so the parts add up to 82.735 billion exactly
    programme = "Chương trình MTQG Giảm nghèo bền vững 2021–2025"
    with open(out / "programmes.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "admin_unit_code",
                "year",
                "period_start",
                "programme",
                "households",
                "households_new",
                "households_repaired",
                "funding_vnd",
                "note",
            ]
        )
        w.writerow(
            [
                "11",
                2024,
                2018,
                "Hỗ trợ xây mới, sửa chữa nhà ở cho hộ nghèo, cận nghèo, gia đình chính sách (lũy kế)",
                12000,
                "",
                "",
                "",
                "Reported: more than 12,000 households since 2018 (cumulative; source report)",
            ]
        )
        w.writerow(
            [
                "11",
                2024,
                "",
                "Hỗ trợ nhà ở cho người có công với cách mạng",
                572,
                "",
                "",
                21_000_000_000,
                "Reported: 572 houses, about 21 billion VND (source report)",
            ]
        )
        w.writerow(
            [
                "11",
                2024,
                "",
                "Quỹ Vì người nghèo (Ủy ban MTTQ Việt Nam tỉnh)",
                315,
                "",
                "",
                15_750_000_000,
                "Reported: 311 + 4 households, 15.75 billion VND (source report)",
            ]
        )
        for d, h, f in zip(DISTRICTS, households, funding_m):
            w.writerow(
                [
                    d[0],
                    2024,
                    "",
                    programme,
                    h,
                    "",
                    "",
                    f * 1_000_000,
                    "District split illustrative; province total reported: 1,647 households, 82.735 billion VND",
                ]
            )


MERGER = Path(__file__).resolve().parent.parent / "layers" / "units" / "dien_bien_2025_merger.csv"
COS = math.cos(
    math.radians(21.7)
)  # the province's middle latitude: a degree of longitude is this much of one of latitude
PREFIX = {"phường": "Phường ", "thị trấn": "Thị trấn ", "xã": "Xã "}


def _seeds(cell, fixed: list[np.ndarray], n: int, rng) -> np.ndarray:
    """The `fixed` points and n − len(fixed) more spread over `cell` (farthest-point sampling), then made compact
    (Lloyd) with the fixed ones kept in place."""
    margin = min(1500.0, 0.1 * math.sqrt(cell.area))
    inner = cell.buffer(-margin)
    inner = inner if not inner.is_empty else cell
    minx, miny, maxx, maxy = inner.bounds
    cand: list[np.ndarray] = []
    while len(cand) < 300:
        xy = rng.uniform([minx, miny], [maxx, maxy], size=(300, 2))
        cand.extend(xy[shapely.contains_xy(inner, xy[:, 0], xy[:, 1])])
    pts = np.array(cand)
    chosen = list(fixed)
    for _ in range(n - len(fixed)):
        d = np.min(np.linalg.norm(pts[:, None, :] - np.array(chosen)[None, :, :], axis=2), axis=1)
        chosen.append(pts[int(np.argmax(d))])
    return lloyd(cell, np.array(chosen), fixed=len(fixed))


def _towards(cell, other, margin: float = 2000.0) -> np.ndarray:
    """A point of `cell` a little inside its edge nearest to `other` (a former commune of a neighbouring former
    district is drawn on that side, so it stays joined to its own district)."""
    edge = nearest_points(cell.boundary, other)[0]
    inner = cell.buffer(-min(margin, 0.15 * math.sqrt(cell.area)))
    return np.array(nearest_points(inner if not inner.is_empty else cell, edge)[0].coords[0])


def former_communes(units: list[dict], seed: int) -> list[dict]:
    """The 129 communes, wards and townships before 1 July 2025 (valid until 30 June 2025), each drawn inside the
    commune or ward it became (layers/units/dien_bien_2025_merger.csv), so that the merge holds on the map; the former
    districts are then redrawn as the union of their former communes, so that each lies in its own district. Its own
    random stream: nothing else in the demo moves."""
    rng = np.random.default_rng(seed)
    with open(MERGER, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    new = {u["code"]: u for u in units if u["level"] == "commune"}
    district = {u["code"]: u["geom"] for u in units if u["level"] == "district"}  # as fitted, before the redrawing
    out: list[dict] = []
    for code in sorted({r["successor_code"] for r in rows}):
        u = new[code]
        # the former unit at the new one's seat: of the district the new unit is drawn in, a town before a commune
        members = sorted(
            (r for r in rows if r["successor_code"] == code),
            key=lambda r: (
                r["former_district_code"] != u["district"],
                r["former_type"] == "xã",
                r["former_code"] != code,
                r["former_code"],
            ),
        )
        # drawn in longitude/latitude (scaled by cos φ, an affine map that keeps edges straight) inside the successor
        # as the file holds it: the former communes then cover it exactly and never cross its edge
        successor = shapely.geometry.shape(u["feature"]["geometry"])
        cells = [successor]
        if len(members) > 1:
            away = [r for r in members[1:] if r["former_district_code"] != u["district"]]
            members = [members[0], *away, *(r for r in members[1:] if r not in away)]
            fixed = [u["seat"], *(_towards(u["geom"], district[r["former_district_code"]]) for r in away)]
            seeds = _seeds(u["geom"], fixed, len(members), rng)
            plane = np.column_stack(TO_LL.transform(seeds[:, 0], seeds[:, 1])) * [COS, 1.0]
            frame = shapely.affinity.scale(successor, COS, 1.0, origin=(0, 0))
            cells = [
                shapely.affinity.scale(c, 1 / COS, 1.0, origin=(0, 0))
                for c in power_cells(plane, np.zeros(len(members)), frame)
            ]
        for r, cell in zip(members, cells):
            name = r["former_name"].removeprefix(PREFIX[r["former_type"]])
            out.append(
                {
                    "code": r["former_code"],
                    "district": r["former_district_code"],
                    "feature": feature(
                        cell,
                        {
                            "code": r["former_code"],
                            "name": name,
                            "level": "commune",
                            "boundary_note": SCHEMATIC + f"; drawn inside {u['code']} {u['name']}, the unit it became",
                            "unit_type": r["former_type"],
                            "parent_code": r["former_district_code"],
                            "valid_from": "1900-01-01",
                            "valid_to": r["valid_to"],
                            "official_area_km2": None,
                            "population": None,
                            "population_year": None,
                        },
                    ),
                }
            )
    for d in (u for u in units if u["level"] == "district"):
        parts = [shapely.geometry.shape(f["feature"]["geometry"]) for f in out if f["district"] == d["code"]]
        d["feature"] = feature(shapely.union_all(parts, grid_size=1e-7), d["feature"]["properties"])
    return out


def place_in_former_communes(parcel_feats: list[dict], formers: list[dict]) -> None:
    """Each parcel's former commune is the one that holds it (its cadastral map sheet was that commune's)."""
    shapes = [(f["code"], shapely.geometry.shape(f["feature"]["geometry"])) for f in formers]
    for p in parcel_feats:
        inner = shapely.geometry.shape(p["geometry"]).representative_point()
        p["properties"]["former_commune_code"] = next(code for code, g in shapes if g.contains(inner))

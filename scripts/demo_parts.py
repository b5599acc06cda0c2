"""Feature builders for scripts/generate_demo.py: units, roads, facilities, hazards, parcels, tables."""

from __future__ import annotations

import csv
import itertools
import math
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import shapely
from demo_geo import (
    COMMUNES,
    DISTRICTS,
    HAZARDS,
    ROADS,
    SCHEMATIC,
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


def roads(units: list[dict], rng) -> tuple[list[dict], list[LineString]]:
    """Schematic main roads, plus a local road from every commune centre far from them."""
    feats, lines = [], []
    for name, ref, klass, pts in ROADS:
        line = _wiggle([pt_m(lat, lon) for lon, lat in pts], rng)
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


STATUS_P = {
    "proposed": 0.28,
    "approved": 0.2,
    "open_for_investment": 0.2,
    "assigned": 0.1,
    "under_construction": 0.08,
    "completed": 0.08,
    "withdrawn": 0.06,
}


def _attributes(u: dict, status: str, area: float, seq: int, rng) -> dict:
    urban = u["urban"]
    codes, p = (
        (["ODT", "TMD", "SKC", "BHK", "CLN"], [0.62, 0.1, 0.06, 0.14, 0.08])
        if urban
        else (["ONT", "BHK", "CLN", "LUK", "NHK", "RSX"], [0.55, 0.15, 0.15, 0.05, 0.05, 0.05])
    )
    clearance = {
        "proposed": ["not_started"],
        "approved": ["not_started", "in_progress"],
        "open_for_investment": ["in_progress", "cleared"],
        "withdrawn": ["not_started", "in_progress"],
    }.get(status, ["cleared"])
    decided = status not in ("proposed",)
    ddate = date(2022, 1, 1) + timedelta(days=int(rng.integers(0, (date(2026, 10, 31) - date(2022, 1, 1)).days)))
    district = next(d for d in DISTRICTS if d[0] == u["district"])
    big_town = u["district"] in ("094", "095", "099")
    fund = rng.choice(
        ["standalone_site", "commercial_reserve", "public_land"], p=[0.45, 0.35, 0.2] if big_town else [0.7, 0.05, 0.25]
    )
    if decided and ddate < REFORM and rng.random() < 0.45:
        level, agency = "district", f"UBND {district[2]} {district[1]}"
    elif big_town or fund == "commercial_reserve" or rng.random() < 0.3:
        level, agency = (
            "province",
            rng.choice(["Sở Xây dựng tỉnh Điện Biên", "Sở Nông nghiệp và Môi trường tỉnh Điện Biên"]),
        )
    else:
        level, agency = "commune", f"UBND {u['kind']} {u['name']}"
    note = None
    if rng.random() < 0.3:
        who = f"{'ông' if rng.random() < 0.5 else 'bà'} {rng.choice(FAMILY)} " + (
            rng.choice(GIVEN_M) if rng.random() < 0.5 else rng.choice(GIVEN_F)
        )
        note = rng.choice(
            [
                f"Hộ {who} chưa đồng ý phương án bồi thường.",
                "Chờ ý kiến về chuyển mục đích sử dụng đất.",
                f"Đã làm việc với hộ {who} về tái định cư tại chỗ.",
                "Cần rà soát lại ranh giới với đất rừng sản xuất.",
            ]
        )
    return {
        "code": f"NOXH-{u['district']}-{seq:03d}",
        "name": f"Khu nhà ở xã hội {u['kind']} {u['name']} số {seq}",
        "map_sheet_no": str(int(rng.integers(1, 80))),
        "parcel_no": str(int(rng.integers(1, 650))),
        "land_use_code": str(rng.choice(codes, p=p)),
        "status": status,
        "fund_source": str(fund),
        "responsible_level": level,
        "responsible_agency": str(agency),
        "clearance_status": str(rng.choice(clearance)),
        "max_far": round(float(rng.uniform(1.5, 3.0) if urban else rng.uniform(0.6, 1.2)), 1),
        "max_density": float(rng.choice([40, 45, 50, 55, 60, 70])),
        "max_floors": int(rng.integers(5, 10) if urban else rng.integers(2, 5)),
        "decision_no": f"{int(rng.integers(100, 3000))}/QĐ-UBND" if decided else None,
        "decision_date": ddate.isoformat() if decided else None,
        "legal_area_m2": round(area * float(rng.uniform(0.985, 1.015)), 1) if rng.random() < 0.75 else None,
        "published": bool(
            status in ("open_for_investment", "assigned", "under_construction", "completed")
            or (status == "approved" and rng.random() < 0.5)
        ),
        "internal_notes": note,
    }


def parcels(n: int, prov, units: list[dict], lines: list[LineString], hazard_polys: list, rng) -> list[dict]:
    communes = [u for u in units if u["level"] == "commune"]
    towns = [u for u in communes if u["urban"]]
    town_w = np.array([5.0 if u["district"] == "094" else 1.5 if u["kind"] == "phường" else 1.0 for u in towns])
    roads_buf = unary_union([ln.buffer(15) for ln in lines])
    placed: list[Polygon] = []
    feats, seqs = [], {}
    statuses = list(STATUS_P)
    while len(feats) < n:
        mode = rng.random()
        if mode < 0.55:
            u = towns[rng.choice(len(towns), p=town_w / town_w.sum())]
            centre, angle = u["seat"] + rng.normal(0, 1800, 2), rng.uniform(0, math.pi)
        else:
            line = lines[rng.integers(len(lines))] if mode < 0.9 else None
            if line is not None:
                d = rng.uniform(0, line.length)
                p, q = line.interpolate(d), line.interpolate(min(d + 10, line.length))
                angle = math.atan2(q.y - p.y, q.x - p.x)
                side = rng.choice([-1, 1]) * rng.uniform(80, 400)
                centre = np.array([p.x - math.sin(angle) * side, p.y + math.cos(angle) * side])
            else:
                u = communes[rng.integers(len(communes))]
                centre, angle = u["seat"] + rng.normal(0, 2500, 2), rng.uniform(0, math.pi)
        area = math.exp(rng.uniform(math.log(3000), math.log(50000)))
        poly = _shape(centre, area, angle, rng)
        home = next((u for u in communes if u["geom"].contains(poly)), None)
        if home is None or not poly.is_valid or poly.intersects(roads_buf):
            continue
        if any(poly.distance(other) < 8 for other in placed if other.bounds[0] < poly.bounds[2] + 50):
            continue
        placed.append(poly)
        seqs[home["district"]] = seqs.get(home["district"], 0) + 1
        status = statuses[rng.choice(len(statuses), p=list(STATUS_P.values()))]
        props = _attributes(home, status, poly.area, seqs[home["district"]], rng)
        feats.append(feature(to_ll(poly), props))
    feats.sort(key=lambda f: f["properties"]["code"])
    return feats


def _demand_base(d) -> float:
    _code, _, kind, area, pop, *_ = d
    pop = pop or area * 635921 / 9539.93 * 0.8
    share = 0.10 if kind != "huyện" else 0.06
    return pop / 4.3 * share


def tables(out: Path, units: list[dict]) -> None:
    note = "Illustrative split for the demo, not official figures"
    with open(out / "demand.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["admin_unit_code", "year", "households", "note"])
        for d in DISTRICTS:
            for k, year in enumerate((2023, 2024, 2025)):
                w.writerow([d[0], year, round(_demand_base(d) * 1.03**k), note])
        for d in DISTRICTS:
            members = [u for u in units if u["level"] == "commune" and u["district"] == d[0]]
            shares = [0.4] + [0.6 / (len(members) - 1)] * (len(members) - 1) if len(members) > 1 else [1.0]
            for k, year in enumerate((2025, 2026)):
                total = round(_demand_base(d) * 1.03 ** (k + 2))
                for u, n in zip(members, allocate(total, shares)):
                    w.writerow([u["code"], year, n, note])
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

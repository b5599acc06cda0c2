"""The benchmark report as markdown: measurements, ratios against the anchors, and the targets met or not."""

from __future__ import annotations


def _ratio(a, b) -> str:
    return f"{a / b:.2f}×" if a and b else "–"


def _cell(s: dict) -> str:
    if not s or not s.get("n"):
        return "–"
    err = f", {s['errors']} errors" if s.get("errors") else ""
    return f"{s['p50_ms']} / {s['p95_ms']} ms, {s['rps']}/s{err}"


def _mb(b) -> str:
    return f"{b / 1e6:.2f} MB" if b else "–"


def markdown(report: dict) -> str:
    m = report["machine"]
    out = [
        f"Measured {m['date']} on {m['cpu']} ({m['cores']} cores, {m['ram_gb']} GB RAM); PostgreSQL {m['postgresql']}, "
        f"PostGIS {m['postgis']}, Python {m['python']}, {m['gdal']}, tipg {m['tipg']}. One uvicorn worker each; "
        f"clients, servers and PostgreSQL share the machine. Each cell pools {report['settings']['rounds']} rounds "
        f"of {report['settings']['seconds']:g} s per contender, run A B C then C B A.",
        "",
    ]
    targets: list[tuple[str, str, str, bool | None]] = []

    out += [
        "**Feature pages** (`bbox`, `limit=1000`; p50 / p95 latency, requests per second)",
        "",
        "| parcels | clients | landfund | tipg | raw SQL | landfund ÷ tipg | landfund ÷ raw SQL |",
        "|---:|---:|---|---|---|---:|---:|",
    ]
    for n, e in report["sizes"].items():
        for c, row in (e.get("pages") or {}).items():
            lf, tg, raw = row["landfund"], row["tipg"], row["raw SQL"]
            out.append(
                f"| {int(n):,} | {c} | {_cell(lf)} | {_cell(tg)} | {_cell(raw)} | "
                f"{_ratio(lf.get('p50_ms'), tg.get('p50_ms'))} | {_ratio(lf.get('p50_ms'), raw.get('p50_ms'))} |"
            )
            if lf.get("p50_ms") and tg.get("p50_ms") and raw.get("p50_ms"):
                targets.append(
                    (
                        f"pages p50, {int(n):,} parcels, {c} clients",
                        "≤ 1.0× tipg, ≤ 1.5× raw SQL",
                        f"{lf['p50_ms'] / tg['p50_ms']:.2f}× tipg, {lf['p50_ms'] / raw['p50_ms']:.2f}× raw",
                        lf["p50_ms"] <= tg["p50_ms"] and lf["p50_ms"] <= 1.5 * raw["p50_ms"],
                    )
                )
    same = [(n, e["same_page"]) for n, e in report["sizes"].items() if e.get("same_page")]
    if same:
        out += [
            "",
            "Same page from all three: "
            + "; ".join(
                f"{int(n):,}: {s['features'][0]} features, identical ids {'yes' if s['identical'] else 'NO'}"
                for n, s in same
            ),
        ]

    out += [
        "",
        "**Vector tiles** (p50 / p95 latency, tiles per second)",
        "",
        "| parcels | zoom | clients | landfund | tipg | raw `ST_AsMVT` | landfund ÷ tipg | landfund ÷ raw |",
        "|---:|---:|---:|---|---|---|---:|---:|",
    ]
    for n, e in report["sizes"].items():
        for z, levels in (e.get("tiles") or {}).items():
            for c, row in levels.items():
                lf, tg, raw = row["landfund"], row["tipg"], row["raw SQL"]
                out.append(
                    f"| {int(n):,} | {z} | {c} | {_cell(lf)} | {_cell(tg)} | {_cell(raw)} | "
                    f"{_ratio(lf.get('p50_ms'), tg.get('p50_ms'))} | {_ratio(lf.get('p50_ms'), raw.get('p50_ms'))} |"
                )
                if lf.get("p50_ms") and tg.get("p50_ms"):
                    targets.append(
                        (
                            f"tiles z{z} p50, {int(n):,} parcels, {c} clients",
                            "≤ 1.0× tipg",
                            f"{lf['p50_ms'] / tg['p50_ms']:.2f}×",
                            lf["p50_ms"] <= tg["p50_ms"],
                        )
                    )

    out += [
        "",
        "**Maps and suitability** (median of 3 requests)",
        "",
        "| parcels | planner map (API) | its HTML | naive `folium.GeoJson` | its HTML | investor map | its HTML "
        "| suitability ranking |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, e in report["sizes"].items():
        naive = e.get("naive_map") or {}
        naive_s = f"{naive['seconds']:.2f} s" if naive.get("seconds") else naive.get("note", "–")
        out.append(
            f"| {int(n):,} | {e.get('planner_map_s', 0):.3f} s | {_mb(e.get('planner_map_bytes'))} | {naive_s} | "
            f"{_mb(naive.get('bytes'))} | {e.get('investor_map_s', 0):.3f} s | {_mb(e.get('investor_map_bytes'))} | "
            f"{e.get('suitability_s', 0):.3f} s |"
        )
        if int(n) == 100_000 and e.get("planner_map_s"):
            targets.append(
                (
                    "planner map at 100k",
                    "< 1 MB, < 1 s",
                    f"{_mb(e['planner_map_bytes'])}, {e['planner_map_s']:.2f} s",
                    e["planner_map_bytes"] < 1_000_000 and e["planner_map_s"] < 1,
                )
            )
            targets.append(("suitability at 100k", "< 1 s", f"{e['suitability_s']:.2f} s", e["suitability_s"] < 1))

    imp = report.get("import")
    if imp:
        lf, og = imp["landfund import"], imp["ogr2ogr"]
        out += [
            "",
            f"**Import** of {imp['size']:,} parcels from GeoPackage (EPSG:9205 → 4326; best of the rounds)",
            "",
            "| | time | peak memory |",
            "|---|---:|---:|",
            f"| `landfund import` (validate, assign units, history, indexes) | {lf['seconds']} s | {lf['peak_mb']} MB |",
            f"| `ogr2ogr -f PostgreSQL` (a bare new table) | {og['seconds']} s | {og['peak_mb']} MB |",
            f"| ratio | {_ratio(lf['seconds'], og['seconds'])} | {_ratio(lf['peak_mb'], og['peak_mb'])} |",
        ]
        targets.append(
            (
                "import time",
                "≤ 1.5× ogr2ogr",
                _ratio(lf["seconds"], og["seconds"]),
                lf["seconds"] <= 1.5 * og["seconds"],
            )
        )

    out += ["", "**Targets**", "", "| measure | target | measured | met |", "|---|---|---|---|"]
    out += [f"| {a} | {b} | {c} | {'yes' if ok else 'no'} |" for a, b, c, ok in targets]
    return "\n".join(out) + "\n"

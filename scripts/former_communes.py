#!/usr/bin/env python3
"""Write layers/units/dien_bien_2025_merger.csv: Điện Biên's 129 communes, wards and townships before 1 July 2025
(GSO codes and names, with their district) and the commune or ward each became (Resolution 1661/NQ-UBTVQH15).

Source: the PyPI package `vietnamadminunits` (MIT licence, © 2025 Tran Ngoc Minh Hieu), its
`data/dataset.db` (table admin_units_legacy: names and GSO codes, from danhmuchanhchinh.gso.gov.vn) and
`data/converter_2025.json` (the 2025 merge table). Only names, codes and the merge are taken: the package's
points were partly geocoded with Google's Geocoding API, whose terms forbid storing and redistributing the
results, so none is shipped.

Usage: pip install vietnamadminunits==1.0.4 && python scripts/former_communes.py [--out FILE]
"""

from __future__ import annotations

import argparse
import csv
import json
import sqlite3
from importlib import resources
from pathlib import Path

PROVINCE_CODE, PROVINCE_KEY = "11", "tinhdienbien"
VALID_TO = "2025-06-30"


def rows() -> list[dict]:
    data = resources.files("vietnamadminunits") / "data"
    with sqlite3.connect(str(data / "dataset.db")) as db:
        legacy = db.execute(
            "SELECT wardKey, districtKey, ward, wardType, wardCode, district, districtCode FROM admin_units_legacy "
            "WHERE provinceCode = ?",
            [PROVINCE_CODE],
        ).fetchall()
        new = dict(db.execute("SELECT wardKey, wardCode FROM admin_units WHERE provinceCode = ?", [PROVINCE_CODE]))
        new_names = dict(db.execute("SELECT wardCode, ward FROM admin_units WHERE provinceCode = ?", [PROVINCE_CODE]))
    merge = json.loads((data / "converter_2025.json").read_text(encoding="utf-8"))
    if merge["DICT_PROVINCE_WARD_DIVIDED"].get(PROVINCE_KEY):
        raise SystemExit("a former unit of Điện Biên was divided between new ones: the table needs a share column")
    successor = {
        old: new[new_key]
        for new_key, olds in merge["DICT_PROVINCE_WARD_NO_DIVIDED"][PROVINCE_KEY].items()
        for old in olds
    }
    out = []
    for ward_key, district_key, name, kind, code, district, district_code in legacy:
        after = successor[f"{PROVINCE_KEY}_{district_key}_{ward_key}"]
        out.append(
            {
                "former_code": code,
                "former_name": name,
                "former_type": kind.lower(),
                "former_district_code": district_code,
                "former_district_name": district,
                "successor_code": after,
                "successor_name": new_names[after],
                "valid_to": VALID_TO,
            }
        )
    return sorted(out, key=lambda r: r["former_code"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = Path(__file__).resolve().parent.parent / "layers" / "units" / "dien_bien_2025_merger.csv"
    ap.add_argument("--out", type=Path, default=default)
    out = ap.parse_args().out
    table = rows()
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(table[0]))
        w.writeheader()
        w.writerows(table)
    print(f"wrote {len(table)} former units to {out}")


if __name__ == "__main__":
    main()

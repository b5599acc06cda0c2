"""A validation report of a file with very many bad rows keeps the first problems in full and counts the rest, with
every total exact (pure: no database)."""

from __future__ import annotations

import random

from gis_service.validation.report import Report


def test_a_report_keeps_the_first_problems_and_counts_the_others():
    report = Report(rows=30_000, keep=100)
    order = list(range(1, 30_001))
    random.Random(7).shuffle(order)  # the checks find problems out of row order (batches, then the staging table)
    for row in order:
        report.add(row, "code", f"code 'P-{row}' already exists in the database", f"P-{row}")
        if row % 3 == 0:
            report.add(row, "geometry", f"overlaps existing parcel P-{row} by 10 m²", f"P-{row}", kind="overlap")
    report.add(None, "status", "required column is missing", kind="missing_column")
    report.add(None, "status", "required column is missing", kind="missing_column")  # seen again: counted once
    total = 30_000 + 10_000 + 1
    assert report.total == total and not report.ok
    assert report.bad_row_count() == 30_000
    assert report.summary() == f"{total} problem(s) in 30000 of 30000 row(s) and in the input as a whole"

    kept = report.sorted_problems()
    assert len(kept) == 100 and len(report.problems) == 100  # memory holds the kept ones only
    assert kept[0].row is None  # the input's own problem first, then rows in order
    rows = sorted([(r, "code") for r in range(1, 100)] + [(r, "geometry") for r in range(3, 100, 3)])
    expected = [(None, "status"), *rows]
    assert [(p.row, p.field) for p in kept] == expected[:100]

    omitted = {(o.field, o.kind): o for o in report.omitted_problems()}
    kept_codes = sum(1 for p in kept if p.field == "code")
    kept_overlaps = sum(1 for p in kept if p.field == "geometry")
    assert omitted[("code", None)].count == 30_000 - kept_codes
    assert omitted[("geometry", "overlap")].count == 10_000 - kept_overlaps
    assert omitted[("code", None)].example.row == kept_codes + 1  # the first omitted, in row order
    assert [o.field for o in report.omitted_problems()] == ["code", "geometry"]  # the most frequent first

    text = report.text(limit=10)
    listed = kept[:10]
    more_codes = 30_000 - sum(p.field == "code" for p in listed)
    more_overlaps = 10_000 - sum(p.field == "geometry" for p in listed)
    assert (
        text.splitlines()[-1] == f"… and {total - 10:,} more problems ({more_codes:,} code, {more_overlaps:,} geometry)"
    )
    d = report.as_dict()
    assert len(d["problems"]) == 100 and d["problems_total"] == total
    assert [(o["field"], o["count"]) for o in d["problems_omitted"]] == [
        ("code", 30_000 - kept_codes),
        ("geometry", 10_000 - kept_overlaps),
    ]


def test_a_small_report_is_listed_whole():
    report = Report(rows=3)
    report.add(3, "status", "'x' is not a status")
    report.add(1, "code", "is required but empty")
    assert report.total == 2 and report.bad_row_count() == 2
    assert [p.row for p in report.sorted_problems()] == [1, 3]
    assert "problems_omitted" not in report.as_dict() and "more problems" not in report.text()

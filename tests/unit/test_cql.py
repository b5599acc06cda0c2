"""The CQL2 compiler without a database: what SQL a filter becomes, and what it refuses."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Column, Date, Float, MetaData, String, Table
from sqlalchemy.dialects import postgresql

from gis_service.query import cql

T = Table("t", MetaData(), Column("code", String), Column("max_far", Float), Column("decision_date", Date))
TARGET = cql.Target(
    {
        "code": cql.Field(T.c.code, "string"),
        "max_far": cql.Field(T.c.max_far, "number"),
        "decision_date": cql.Field(T.c.decision_date, "date"),
    },
    None,
)


def sql_of(text: str, lang: str | None = None) -> tuple[str, dict]:
    expr = cql.to_sql(cql.parse(text, lang), TARGET, cql.geojson_literal(4326, False))
    compiled = expr.compile(dialect=postgresql.psycopg.dialect())
    return str(compiled), compiled.params


def test_comparisons_become_bound_parameters():
    text, params = sql_of("code = 'NOXH-094-001' AND max_far >= 2.5")
    assert "t.code = %(cql_1)s" in text and "t.max_far >= %(cql_2)s" in text
    assert params == {"cql_1": "NOXH-094-001", "cql_2": 2.5}  # never inlined


def test_like_in_between_casei_and_dates():
    text, params = sql_of(
        "CASEI(code) LIKE CASEI('%noxh%') OR code IN ('a', 'b') OR max_far BETWEEN 1 AND 2 "
        "OR decision_date > DATE('2024-01-31')"
    )
    assert "lower(t.code) LIKE lower(%(cql_1)s::VARCHAR)" in text and "t.code IN" in text and "BETWEEN" in text
    assert str(params["cql_6"]) == "2024-01-31"


def test_a_chain_of_or_compiles_flat():
    text, _ = sql_of(" OR ".join(f"code = 'c{i}'" for i in range(120)))
    assert text.count(" OR ") == 119 and "((" not in text


def test_cql2_json():
    text, params = sql_of(json.dumps({"op": "=", "args": [{"property": "code"}, "x"]}), "cql2-json")
    assert text == "t.code = %(cql_1)s::VARCHAR" and params == {"cql_1": "x"}


@pytest.mark.parametrize(
    "text,message",
    [
        ("internal_notes = 'x'", "unknown property 'internal_notes'"),
        ("max_far = 'high'", "cannot compare a number property"),
        ("code = 'x'; DROP TABLE parcels", "malformed cql2-text"),
        (" OR ".join(f"code = 'c{i}'" for i in range(300)), "the limit is 256"),
        ("code = '" + "x" * 20_001 + "'", "limit of 20,000"),
        ("S_INTERSECTS(geometry, POINT(103 21))", "this collection has no geometry"),
        ("max_far + 1 > 2", "arithmetic is not supported"),
    ],
)
def test_what_a_filter_may_not_do(text, message):
    with pytest.raises(cql.FilterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        sql_of(text)


def test_deep_json_nesting_is_refused_before_the_parser_recurses():
    doc = '{"op":"not","args":[' * 40 + '{"op":"=","args":[{"property":"code"},"x"]}' + "]}" * 40
    with pytest.raises(cql.FilterError, match="limit is 32"):
        sql_of(doc, "cql2-json")

"""Small pure pieces: the OpenAPI 3.0 downgrade, the lifecycle from layers/workflow.yaml, the JSON document a map
carries, redaction of secrets in logs, validation reports with the command line's hints."""

from __future__ import annotations

import pytest

from gis_service.api.logs import redact
from gis_service.api.openapi import _downgrade
from gis_service.catalogue import get_catalogue
from gis_service.maps.assets import json_island
from gis_service.validation.report import Report


def test_openapi_31_becomes_30():
    node = {"anyOf": [{"type": "string"}, {"type": "null"}], "examples": ["a"], "exclusiveMinimum": 0, "const": 1}
    assert _downgrade(node) == {
        "type": "string",
        "nullable": True,
        "example": "a",
        "minimum": 0,
        "exclusiveMinimum": True,
        "enum": [1],
    }
    assert _downgrade({"type": ["integer", "null"]}) == {"type": "integer", "nullable": True}


def test_the_lifecycle_comes_from_the_workflow_file():
    w = get_catalogue().workflow
    assert w.allowed("proposed") == ["programmed", "withdrawn"] and w.allowed("completed") == []
    assert ("plan_approved", "call_published") in w.transitions() and ("proposed", "completed") not in w.transitions()
    status = get_catalogue().layer("parcels").attribute("status")
    assert list(status.values) == w.order and status.default == w.initial  # the catalogue reads it too


def test_json_island_cannot_end_its_script_or_become_markup():
    text = str(json_island({"name": "</script><script>alert(1)</script> {{ 7*7 }} & ' \u2028"}))
    assert "<" not in text and ">" not in text and "&" not in text and "'" not in text and "\u2028" not in text
    assert "{{ 7*7 }}" in text  # data stays data (it is never compiled)


@pytest.mark.parametrize(
    "url,clean",
    [
        ("/collections?access_token=lf_abcdefghijklmnopqrstu&limit=1", "/collections?access_token=***&limit=1"),
        ("/x?password=hunter2", "/x?password=***"),
        ("/x?code=lf_abcdefghijklmnopqrstuvw", "/x?code=lf_***"),
    ],
)
def test_secrets_never_reach_the_log(url, clean):
    assert redact(url) == clean


def test_the_cli_adds_its_own_advice_to_a_report():
    from gis_service.cli.common import CLI_HINTS

    report = Report(rows=2)
    report.add(2, "geometry", "overlaps existing parcel A by 12 m²", "B", kind="overlap")
    assert report.text() == "row 2, code B: geometry: overlaps existing parcel A by 12 m²"
    assert report.text(hints=CLI_HINTS).endswith("(use --allow-overlap to accept)")


# Who may import whom: each package only from those below it (a package may always import itself).
LAYERS = [
    {"core"},
    {"models", "catalogue", "crs"},
    {"i18n"},
    {"stores"},
    {"security", "query", "schema"},
    {"validation", "analytics"},
    {"ingest"},
    {"services", "maps"},
    {"api"},
    {"pages"},
    {"cli"},
]
# The application factory puts the packages together (the API, then the pages on top of it): it may import any.
COMPOSITION = {"api/app.py"}


def test_packages_import_only_from_below_them():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "gis_service"
    level = {pkg: i for i, group in enumerate(LAYERS) for pkg in group}
    wrong = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root)
        here = rel.parts[0].removesuffix(".py")
        if here not in level or rel.as_posix() in COMPOSITION:
            continue
        pkg = ["gis_service", *rel.with_suffix("").parts]
        if pkg[-1] == "__init__":
            pkg = pkg[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = pkg[: len(pkg) - node.level + (1 if path.name == "__init__.py" else 0)]
                target = [*base, *(node.module.split(".") if node.module else [])]
                there = target[1] if len(target) > 1 else None
                if there in level and there != here and level[there] > level[here]:
                    wrong.append(f"{rel}: imports {'.'.join(target)}")
    assert wrong == []

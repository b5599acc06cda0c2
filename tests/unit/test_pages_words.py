"""The pages' words (pure: no database): every key a template asks for exists in both languages, no key is
defined twice, and the validator's messages read in Vietnamese on Vietnamese pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from gis_service.pages.messages import translated

PAGES = Path(__file__).resolve().parents[2] / "gis_service" / "pages"
TEMPLATES = [*PAGES.glob("templates/*.html"), *(PAGES.parent / "api" / "templates").glob("*.html")]


def test_every_word_a_template_asks_for_exists_in_both_languages():
    words = yaml.safe_load((PAGES / "words.yaml").read_text(encoding="utf-8"))
    asked = set()
    for path in TEMPLATES:
        asked |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_]+)["']\s*[,)]""", path.read_text(encoding="utf-8")))
    for path in PAGES.glob("*.py"):
        asked |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_]+)["']\s*[,)]""", path.read_text(encoding="utf-8")))
    asked.discard("key")  # Words' own docstring: t('key', n=3)
    assert len(asked) > 60
    assert sorted(asked - set(words)) == []
    assert all(set(v) == {"vi", "en"} and v["vi"] and v["en"] for v in words.values())


def test_no_word_is_defined_twice():
    keys = re.findall(r"^([a-z0-9_]+):", (PAGES / "words.yaml").read_text(encoding="utf-8"), re.M)
    assert sorted(k for k in set(keys) if keys.count(k) > 1) == []


@pytest.mark.parametrize(
    ("english", "vietnamese"),
    [
        ("is missing", "Chưa có ranh giới"),
        ("overlaps existing parcel NOXH-1.2 by 1,234.5 m²", "Chồng lấn khu đất NOXH-1.2 (1.234,5 m²)"),
        ("'nhiều' is not a whole number", "'nhiều' không phải là số nguyên"),
        ("has 100,001 vertices; at most 50,000 are allowed in one geometry", "Có 100.001 đỉnh; tối đa 50.000 đỉnh"),
        ("parcel 7 lies outside your administrative unit 03127", "Khu đất nằm ngoài đơn vị hành chính của bạn (03127)"),
        ("the document must be a PDF, a PNG or a JPEG", "Tệp đính kèm phải là PDF, PNG hoặc JPEG"),
    ],
)
def test_messages_read_in_vietnamese(english, vietnamese):
    assert translated(english, "vi").startswith(vietnamese)
    assert translated(english, "en") == english


def test_an_unknown_message_is_shown_as_written():
    assert translated("something new went wrong", "vi") == "something new went wrong"

"""Values as people write them (Vietnamese decimal commas, dd/mm/yyyy, có/không, value labels), and as landfund
writes them back, without a database."""

from __future__ import annotations

from datetime import date

import pytest

from gis_service.catalogue import get_catalogue
from gis_service.i18n import day, number, shown
from gis_service.validation.fields import coerce_value

CAT = get_catalogue()
PARCELS = CAT.layer("parcels")


@pytest.mark.parametrize(
    "field,raw,value",
    [
        ("max_far", "2,5", 2.5),
        ("max_far", "1.234,5", None),
        ("legal_area_m2", "1.234,5", 1234.5),
        ("legal_area_m2", "1,234.5", 1234.5),
        ("max_floors", "9", 9),
        ("decision_date", "15/03/2024", date(2024, 3, 15)),
        ("decision_date", "2024-03-15", date(2024, 3, 15)),
        ("published", "có", True),
        ("published", "Không", False),
        ("status", "Đề xuất", "proposed"),
        ("status", "call for investors published", "call_published"),
        ("status", "Đã duyệt quy hoạch 1/500", "plan_approved"),
        ("land_use_code", "odt", "ODT"),
    ],
)
def test_coerce(field, raw, value):
    got, message = coerce_value(PARCELS.attribute(field), CAT, raw)
    if value is None:
        assert got is None and message  # 1.234,5 is above the FAR maximum of 20
    else:
        assert (got, message) == (value, None)


@pytest.mark.parametrize(
    "field,raw,message",
    [
        ("max_floors", "2.5", "is not a whole number"),
        ("decision_date", "31/02/2024", "is not a date"),
        ("published", "perhaps", "is not true/false"),
        ("land_use_code", "XYZ", "unknown land-use code"),
        ("status", "sold", "is not one of"),
    ],
)
def test_refused_values_say_why(field, raw, message):
    got, msg = coerce_value(PARCELS.attribute(field), CAT, raw)
    assert got is None and message in msg


def test_numbers_and_dates_by_language():
    assert number(1234.5, "vi", 1) == "1.234,5" and number(1234.5, "en", 1) == "1,234.5"
    assert number(82_735_000_000 / 1e9, "vi", 3) == "82,735" and number(None, "vi") == "—"
    assert day(date(2024, 3, 15), "vi") == "15/03/2024" and day(date(2024, 3, 15), "en") == "2024-03-15"
    values = {"status": {"approved": "Đã phê duyệt"}}
    assert shown("status", "approved", "vi", values) == "Đã phê duyệt"
    assert shown("admin_unit_code", "03127", "vi", units={"03127": "Điện Biên Phủ"}) == "Điện Biên Phủ (03127)"
    assert shown("published", True, "vi") == "✓" and shown("name", "", "vi") == "—"

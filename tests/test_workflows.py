"""Status lifecycle, history and investors' expressions of interest, end to end over the API."""

from __future__ import annotations

import psycopg
import pytest
from conftest import token_for
from helpers import CHECK_E
from test_api_write import GEOJSON, auth, feature

from gis_service.catalogue import get_catalogue
from gis_service.core.db import libpq_dsn

JSON = {"Content-Type": "application/json"}
# what entering each stage records besides its decision (layers/workflow.yaml `requires`)
STAGE_FACTS = {
    "plan_approved": {"approved_units": 240, "approved_floor_m2": 12000},
    "investor_selected": {"investor_name": "Công ty CP Đầu tư Nhà Tây Bắc", "selection_method": "bidding"},
    "completed": {"tenure": "mixed"},
}

MERGE = {"Content-Type": "application/merge-patch+json"}
LIFE = get_catalogue().workflow.main_line()[1:]  # the eight stages after the proposal, in order
DECIDED = set(LIFE)  # every stage after the proposal is entered by a decision of its own


def sql(url, q, params=None):
    with psycopg.connect(libpq_dsn(url)) as c:
        return c.execute(q, params).fetchall()


@pytest.fixture
def admin(api_rw):
    return token_for(api_rw.db, "admin")


def new_parcel(api_rw, token, code="WF-1", dx=3000.0, **props) -> tuple[str, str]:
    r = api_rw.post(
        "/collections/parcels/items", json=feature(code, e=CHECK_E + dx, **props), headers=auth(token, **GEOJSON)
    )
    assert r.status_code == 201, r.text
    return r.headers["location"].replace("http://testserver", ""), r.headers["etag"]


def move(api_rw, token, loc, tag, to, reason="theo kế hoạch", **more):
    """One transition, giving what the target stage requires (layers/workflow.yaml) unless the test gives it; the
    site is cleared (by an edit, as a planner records it) before land is allocated."""
    for name, value in STAGE_FACTS.get(to, {}).items():
        more.setdefault(name, value)
    if to in DECIDED:
        more.setdefault("decision_no", "1/QĐ-UBND")
        more.setdefault("decision_date", "2026-01-15")
    if to == "land_allocated" and more.pop("clear", True):
        r = api_rw.patch(
            loc,
            json={"properties": {"clearance_status": "cleared", "clearance_households": 7, "clearance_cost_vnd": 5e9}},
            headers=auth(token, **MERGE, **{"If-Match": tag}),
        )
        assert r.status_code in (200, 204), r.text
        tag = r.headers["etag"]
    return api_rw.post(
        f"{loc}/transitions",
        json={"to": to, "reason": reason, **more},
        headers=auth(token, **JSON, **{"If-Match": tag}),
    )


def test_the_whole_lifecycle_is_recorded(api_rw, admin):
    loc, tag = new_parcel(api_rw, admin)
    for i, to in enumerate(LIFE):
        r = move(
            api_rw,
            admin,
            loc,
            tag,
            to,
            reason=f"bước {i + 1}",
            decision_no=f"{100 + i}/QĐ-UBND",
            decision_date=f"2026-0{i + 1}-15",
            issuing_body="UBND tỉnh Điện Biên",
        )
        assert r.status_code == 204, r.text
        tag = r.headers["etag"]
        assert api_rw.get(loc, headers=auth(admin)).json()["properties"]["status"] == to
    history = api_rw.get(f"{loc}/history", headers=auth(admin)).json()["entries"]
    transitions = [h for h in history if h["action"] == "transition"]
    assert [(h["old_status"], h["new_status"]) for h in transitions] == list(zip(["proposed", *LIFE[:-1]], LIFE))
    assert [h["reason"] for h in transitions] == [f"bước {i + 1}" for i in range(len(LIFE))]
    assert transitions[2]["decision_no"] == "102/QĐ-UBND" and transitions[2]["decision_date"] == "2026-03-15"
    # each stage keeps its own decision (none overwrites the one before), tied to its history entry
    fid = int(loc.rsplit("/", 1)[1])
    decisions = sql(
        api_rw.db,
        "SELECT d.stage, d.number, d.decided_on::text, d.issuing_body, h.new_status FROM decisions d "
        "JOIN parcel_history h ON h.id = d.history_id WHERE d.parcel_id = %s ORDER BY d.id",
        [fid],
    )
    assert [(d[0], d[1], d[2]) for d in decisions] == [
        (to, f"{100 + i}/QĐ-UBND", f"2026-0{i + 1}-15") for i, to in enumerate(LIFE)
    ]
    assert all(d[0] == d[4] and d[3] == "UBND tỉnh Điện Biên" for d in decisions)
    # what the stages recorded is on the parcel: the plan's figures (its units replace the estimate), the investor,
    # the clearance, the tenure
    props = api_rw.get(loc, headers=auth(admin)).json()["properties"]
    assert props["approved_units"] == 240 and props["approved_floor_m2"] == 12000 and props["est_units"] == 240
    assert props["investor_name"] == "Công ty CP Đầu tư Nhà Tây Bắc" and props["selection_method"] == "bidding"
    assert props["clearance_status"] == "cleared" and props["clearance_households"] == 7 and props["tenure"] == "mixed"
    assert all(h["actor"].startswith("admin-") for h in transitions)
    assert history[0]["action"] == "insert" and history[0]["changes"]["code"] == [None, "WF-1"]


@pytest.mark.parametrize(
    "path,to,allowed",
    [
        ([], "call_published", "programmed, withdrawn"),  # skipping a stage
        ([], "completed", "programmed, withdrawn"),
        (LIFE, "withdrawn", "none: it is final"),  # completed is final
        (["withdrawn"], "programmed", "none: it is final"),
        (["programmed"], "proposed", "plan_approved, withdrawn"),  # no going back
        # land is not allocated before clearance: from clearance, only allocation (once cleared) or withdrawal
        (LIFE[:5], "under_construction", "land_allocated, withdrawn"),
    ],
)
def test_illegal_transitions_are_409_naming_the_allowed_ones(api_rw, admin, path, to, allowed):
    loc, tag = new_parcel(api_rw, admin)
    for step in path:
        tag = move(api_rw, admin, loc, tag, step).headers["etag"]
    r = move(api_rw, admin, loc, tag, to)
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"].endswith(f"may go to: {allowed}")


def test_withdrawal_from_any_stage_before_completion(api_rw, admin):
    for n, stop in enumerate(LIFE[:-1]):
        loc, tag = new_parcel(api_rw, admin, code=f"WD-{n}", dx=3000.0 + 200 * n)
        for step in LIFE[: LIFE.index(stop) + 1]:
            tag = move(api_rw, admin, loc, tag, step).headers["etag"]
        assert move(api_rw, admin, loc, tag, "withdrawn", reason="không còn phù hợp quy hoạch").status_code == 204


def test_transition_rules_and_guards(api_rw, admin):
    loc, tag = new_parcel(api_rw, admin)
    assert (
        api_rw.post(f"{loc}/transitions", json={"to": "programmed", "reason": "ok ok"}, headers=JSON).status_code == 401
    )
    investor = token_for(api_rw.db, "investor")
    assert move(api_rw, investor, loc, tag, "programmed").status_code == 403
    r = api_rw.post(f"{loc}/transitions", json={"to": "programmed", "reason": "ok ok"}, headers=auth(admin, **JSON))
    assert r.status_code == 428
    assert move(api_rw, admin, loc, 'W/"v99"', "programmed").status_code == 412
    r = move(api_rw, admin, loc, tag, "programmed", reason="")
    assert r.status_code == 400 and "reason" in r.json()["detail"]
    r = move(api_rw, admin, loc, tag, "sold")
    assert r.status_code == 400 and "unknown status 'sold'" in r.json()["detail"]
    # the database itself refuses a skipped stage, whoever writes
    fid = int(loc.rsplit("/", 1)[1])
    with pytest.raises(psycopg.errors.CheckViolation, match="illegal status transition proposed -> completed"):
        sql(api_rw.db, "UPDATE parcels SET status = 'completed' WHERE id = %s", [fid])


def test_history_is_complete_and_append_only(api_rw, admin):
    loc, tag = new_parcel(api_rw, admin, internal_notes="Hộ ông Lò Văn A chưa đồng ý")
    fid = int(loc.rsplit("/", 1)[1])
    r = api_rw.patch(
        loc,
        json={"properties": {"name": "Tên mới", "internal_notes": "Đã thống nhất"}},
        headers=auth(admin, **MERGE, **{"If-Match": tag}),
    )
    tag = r.headers["etag"]
    moved = feature("WF-1", e=CHECK_E + 3100)["geometry"]
    tag = api_rw.patch(loc, json={"geometry": moved}, headers=auth(admin, **MERGE, **{"If-Match": tag})).headers["etag"]
    tag = move(api_rw, admin, loc, tag, "programmed", decision_no="9/QĐ-UBND").headers["etag"]
    history = api_rw.get(f"{loc}/history", headers=auth(admin)).json()["entries"]
    assert [h["action"] for h in history] == ["insert", "update", "update", "transition"]
    assert history[1]["changes"] == {
        "name": [None, "Tên mới"],
        "internal_notes": ["Hộ ông Lò Văn A chưa đồng ý", "Đã thống nhất"],
    }
    assert history[2]["geometry_changed"] and "admin_unit_code" not in history[1]["changes"]
    # the public sees the published parcel's history without internal notes or who did it
    public = api_rw.get(f"{loc}/history").json()["entries"]
    assert all("internal_notes" not in h["changes"] and "actor" not in h for h in public)
    # nothing rewrites history: no API verb, and the database refuses
    assert api_rw.delete(f"{loc}/history", headers=auth(admin)).status_code == 405
    assert api_rw.put(f"{loc}/history", json={}, headers=auth(admin, **JSON)).status_code == 405
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        sql(api_rw.db, "UPDATE parcel_history SET reason = 'rewritten' WHERE parcel_id = %s", [fid])
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        sql(api_rw.db, "DELETE FROM parcel_history WHERE parcel_id = %s", [fid])
    # a deleted parcel keeps its history for planners
    assert api_rw.delete(loc, headers=auth(admin, **{"If-Match": tag})).status_code == 204
    after = api_rw.get(f"{loc}/history", headers=auth(admin)).json()["entries"]
    assert [h["action"] for h in after][-1] == "delete" and len(after) == 5
    assert api_rw.get(f"{loc}/history").status_code == 404


def test_site_sheet_shows_the_previous_geometry(api_rw, admin):
    loc, tag = new_parcel(api_rw, admin)
    sheet = api_rw.get(f"/maps/parcels/{loc.rsplit('/', 1)[1]}", headers=auth(admin)).text
    assert "Ranh giới trước khi chỉnh sửa" not in sheet
    moved = feature("WF-1", e=CHECK_E + 3050)["geometry"]
    api_rw.patch(loc, json={"geometry": moved}, headers=auth(admin, **MERGE, **{"If-Match": tag}))
    sheet = api_rw.get(f"/maps/parcels/{loc.rsplit('/', 1)[1]}", headers=auth(admin)).text
    assert "Ranh giới trước khi chỉnh sửa" in sheet and '"kind":"previous"' in sheet  # drawn dashed by maps.js


# -- expressions of interest -------------------------------------------------------------------------


def offer(code: str = "INV", units: int = 120, **more) -> dict:
    return {
        "company": f"Công ty CP Đầu tư {code}",
        "tax_code": "0101234567",
        "contact_name": "Nguyễn Văn B",
        "contact_email": "lienhe@example.vn",
        "contact_phone": "0912 345 678",
        "proposed_units": units,
        "message": "Quan tâm đầu tư nhà ở xã hội",
        **more,
    }


@pytest.fixture
def open_parcel(api_rw, admin):
    loc, tag = new_parcel(api_rw, admin, code="OPEN-1")
    for step in ("programmed", "plan_approved", "call_published"):
        tag = move(api_rw, admin, loc, tag, step).headers["etag"]
    return int(loc.rsplit("/", 1)[1])


def test_interest_workflow_end_to_end(api_rw, admin, open_parcel):
    a, b = token_for(api_rw.db, "investor"), token_for(api_rw.db, "investor")
    r = api_rw.post("/interests", json={"parcel_id": open_parcel, **offer("A")}, headers=auth(a, **JSON))
    assert r.status_code == 201, r.text
    ia = r.json()["id"]
    assert r.headers["location"].endswith(f"/interests/{ia}") and r.json()["status"] == "submitted"
    ib = api_rw.post("/interests", json={"parcel_id": open_parcel, **offer("B", 90)}, headers=auth(b, **JSON)).json()[
        "id"
    ]
    # investors only ever see their own
    assert [i["id"] for i in api_rw.get("/interests", headers=auth(a)).json()["interests"]] == [ia]
    assert api_rw.get(f"/interests/{ib}", headers=auth(a)).status_code == 404
    assert api_rw.get(f"/interests/{ia}", headers=auth(a)).json()["company"] == "Công ty CP Đầu tư A"
    # planners see all, and accept one: the parcel is assigned to that investor, the other is declined
    planner = token_for(api_rw.db, "planner", "11")
    assert {
        i["id"] for i in api_rw.get(f"/interests?parcel={open_parcel}", headers=auth(planner)).json()["interests"]
    } == {ia, ib}
    # an investor may not accept, even with a valid body (the rule is checked before the body is read)
    r = api_rw.post(f"/interests/{ia}/accept", json={"reason": "Năng lực tài chính tốt"}, headers=auth(a, **JSON))
    assert r.status_code == 403 and "for planners and admins" in r.json()["detail"]
    assert api_rw.post(f"/interests/{ia}/accept", json={"reason": "x"}, headers=auth(a, **JSON)).status_code == 403
    # selecting the investor is a decision, and says how it was selected; without them nothing is written
    r = api_rw.post(
        f"/interests/{ia}/accept",
        json={"reason": "Năng lực tài chính tốt", "decision_no": "77/QĐ-UBND"},
        headers=auth(planner, **JSON),
    )
    assert r.status_code == 400 and "decision_date" in r.json()["detail"], r.text
    assert api_rw.get(f"/interests/{ia}", headers=auth(a)).json()["status"] == "submitted"
    r = api_rw.post(
        f"/interests/{ia}/accept",
        json={"reason": "Năng lực tài chính tốt", "decision_no": "77/QĐ-UBND", "decision_date": "2026-06-01"},
        headers=auth(planner, **JSON),
    )
    assert r.status_code == 400 and "selection_method" in r.json()["detail"], r.text
    r = api_rw.post(
        f"/interests/{ia}/accept",
        json={
            "reason": "Năng lực tài chính tốt",
            "decision_no": "77/QĐ-UBND",
            "decision_date": "2026-06-01",
            "selection_method": "assignment",
        },
        headers=auth(planner, **JSON),
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted" and r.json()["decided_by"].startswith("planner-")
    row = sql(
        api_rw.db,
        "SELECT status, investor_interest_id, decision_no, investor_name, selection_method FROM parcels WHERE id = %s",
        [open_parcel],
    )[0]
    assert row == ("investor_selected", ia, "77/QĐ-UBND", "Công ty CP Đầu tư A", "assignment")
    assert sql(api_rw.db, "SELECT stage, number FROM decisions WHERE parcel_id = %s ORDER BY id DESC", [open_parcel])[
        0
    ] == ("investor_selected", "77/QĐ-UBND")
    other = api_rw.get(f"/interests/{ib}", headers=auth(b)).json()
    assert other["status"] == "declined" and "another investor" in other["decision_reason"]
    assert (
        api_rw.post(f"/interests/{ia}/decline", json={"reason": "đổi ý"}, headers=auth(planner, **JSON)).status_code
        == 409
    )
    last = sql(
        api_rw.db,
        "SELECT action, new_status, reason FROM parcel_history WHERE parcel_id = %s ORDER BY id DESC LIMIT 1",
        [open_parcel],
    )[0]
    assert last[:2] == ("transition", "investor_selected") and "Công ty CP Đầu tư A" in last[2]
    # a parcel no longer open takes no more interest
    r = api_rw.post("/interests", json={"parcel_id": open_parcel, **offer("C")}, headers=auth(b, **JSON))
    assert r.status_code == 409 and "not open for investment" in r.json()["detail"]


def test_decline_and_validation(api_rw, admin, open_parcel):
    inv = token_for(api_rw.db, "investor")
    assert api_rw.post("/interests", json={"parcel_id": open_parcel, **offer()}, headers=JSON).status_code == 401
    r = api_rw.post("/interests", json={"parcel_id": open_parcel, **offer(tax_code="12AB")}, headers=auth(inv, **JSON))
    assert r.status_code == 400 and "mã số thuế" in r.json()["detail"]
    r = api_rw.post("/interests", json={"parcel_id": open_parcel, **offer(units=0)}, headers=auth(inv, **JSON))
    assert r.status_code == 400 and "proposed_units" in r.json()["detail"]
    r = api_rw.post("/interests", json={"parcel_id": open_parcel, **offer(), "secret": 1}, headers=auth(inv, **JSON))
    assert r.status_code == 400
    planner = token_for(api_rw.db, "planner", "11")
    assert (
        api_rw.post("/interests", json={"parcel_id": open_parcel, **offer()}, headers=auth(planner, **JSON)).status_code
        == 403
    )
    iid = api_rw.post("/interests", json={"parcel_id": open_parcel, **offer()}, headers=auth(inv, **JSON)).json()["id"]
    r = api_rw.post(f"/interests/{iid}/decline", json={"reason": "Chưa đủ năng lực"}, headers=auth(planner, **JSON))
    assert r.json()["status"] == "declined" and r.json()["decision_reason"] == "Chưa đủ năng lực"
    assert sql(api_rw.db, "SELECT status FROM parcels WHERE id = %s", [open_parcel])[0][0] == "call_published"


def test_interest_form_page(api_rw, open_parcel):
    """The form is public to read; sending it needs an investor's sign-in (test_workspace.py sends one)."""
    r = api_rw.get(f"/interests/new?parcel={open_parcel}")
    assert r.status_code == 200 and "Đăng ký quan tâm đầu tư khu đất: OPEN-1" in r.text
    assert "Đăng nhập bằng tài khoản nhà đầu tư" in r.text and "/login?next=" in r.text
    assert "Express interest in: OPEN-1" in api_rw.get(f"/interests/new?parcel={open_parcel}&lang=en").text

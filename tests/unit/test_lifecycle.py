"""The procedure's gates (services.lifecycle.check), pure: each refuses a transition without what it needs and
accepts it with it; the 20 % reserve's own path; the former statuses' labels."""

from __future__ import annotations

from datetime import date

import pytest

from gis_service.catalogue import get_catalogue
from gis_service.core.errors import Conflict, LandfundError
from gis_service.services.lifecycle import Facts, Parcel, check

W = get_catalogue().workflow
DECIDED = {"decision_no": "12/QĐ-UBND", "decision_date": date(2026, 3, 2)}


def parcel(status: str, fund: str = "standalone_site", clearance: str = "not_started", hh=None, cost=None) -> Parcel:
    return Parcel(status, fund, clearance, hh, cost, "NOXH-T-1")


def test_the_eight_stages_in_order_and_nothing_skips_one():
    assert W.order[:9] == [
        "proposed",
        "programmed",
        "plan_approved",
        "call_published",
        "investor_selected",
        "clearance",
        "land_allocated",
        "under_construction",
        "completed",
    ]
    for a, b in [("proposed", "plan_approved"), ("programmed", "call_published"), ("investor_selected", "completed")]:
        with pytest.raises(Conflict, match=f"cannot go from {a} to {b}"):
            check(W, parcel(a), b, **DECIDED)


@pytest.mark.parametrize("target", ["programmed", "call_published", "clearance", "under_construction"])
def test_every_stage_after_the_proposal_needs_its_own_decision(target):
    before = W.order[W.order.index(target) - 1]
    with pytest.raises(LandfundError, match="needs the decision"):
        check(W, parcel(before), target, decision_no="12/QĐ-UBND")  # no date
    check(W, parcel(before), target, **DECIDED)


def test_the_plan_gives_its_units_and_floor_area():
    with pytest.raises(LandfundError, match=r"approved_units.*approved_floor_m2"):
        check(W, parcel("programmed"), "plan_approved", **DECIDED, facts=Facts(approved_units=120))
    check(W, parcel("programmed"), "plan_approved", **DECIDED, facts=Facts(approved_units=120, approved_floor_m2=6000))


def test_the_investor_is_recorded_with_how_it_was_selected():
    with pytest.raises(LandfundError, match=r"investor_name.*selection_method"):
        check(W, parcel("call_published"), "investor_selected", **DECIDED, facts=Facts(investor_name="Công ty A"))
    facts = Facts(investor_name="Công ty A", selection_method="assignment")
    check(W, parcel("call_published"), "investor_selected", **DECIDED, facts=facts)
    # the commercial project's own developer is the 20 % reserve's way, and only its
    dev = Facts(investor_name="Công ty A", selection_method="commercial_developer")
    with pytest.raises(LandfundError, match="only to a 20 % reserve"):
        check(W, parcel("call_published"), "investor_selected", **DECIDED, facts=dev)


@pytest.mark.parametrize(
    "clearance,hh,cost,missing",
    [
        ("not_started", None, None, "clearance_status cleared, clearance_households, clearance_cost_vnd"),
        ("in_progress", 12, 9_000_000_000, "clearance_status cleared"),
        ("cleared", None, 9_000_000_000, "clearance_households"),
        ("cleared", 12, None, "clearance_cost_vnd"),
    ],
)
def test_land_is_allocated_only_once_the_site_is_clear(clearance, hh, cost, missing):
    with pytest.raises(Conflict, match=f"still needs: {missing} "):
        check(W, parcel("clearance", clearance=clearance, hh=hh, cost=cost), "land_allocated", **DECIDED)


def test_a_cleared_site_with_no_household_affected_is_allocated():
    check(W, parcel("clearance", clearance="cleared", hh=0, cost=0), "land_allocated", **DECIDED)


def test_the_handover_states_its_tenure():
    with pytest.raises(LandfundError, match="tenure"):
        check(W, parcel("under_construction"), "completed", **DECIDED)
    with pytest.raises(LandfundError, match="tenure: one of"):
        check(W, parcel("under_construction"), "completed", **DECIDED, facts=Facts(tenure="gift"))
    check(W, parcel("under_construction"), "completed", **DECIDED, facts=Facts(tenure="lease_purchase"))


def test_withdrawal_stays_possible_before_completion_only():
    for stage in W.order:
        if W.stages[stage].final:
            assert W.allowed(stage) == []
        else:
            assert "withdrawn" in W.allowed(stage, "standalone_site")
            check(W, parcel(stage), "withdrawn")  # no decision is needed to withdraw


def test_the_20_percent_reserve_follows_its_own_path():
    reserve = "commercial_reserve"
    assert W.allowed("plan_approved", reserve) == [
        "investor_selected",
        "reserve_elsewhere",
        "reserve_paid",
        "withdrawn",
    ]
    assert "reserve_paid" not in W.allowed("plan_approved", "standalone_site")
    with pytest.raises(Conflict):  # no call for investors: the developer builds and hands over
        check(W, parcel("plan_approved", reserve), "call_published", **DECIDED)
    with pytest.raises(LandfundError, match="reserve_payment_vnd"):
        check(W, parcel("plan_approved", reserve), "reserve_paid", **DECIDED)
    check(
        W, parcel("plan_approved", reserve), "reserve_paid", **DECIDED, facts=Facts(reserve_payment_vnd=18_600_000_000)
    )
    with pytest.raises(LandfundError, match="no other parcel"):
        check(
            W,
            parcel("plan_approved", reserve),
            "reserve_elsewhere",
            **DECIDED,
            facts=Facts(reserve_replaced_by="NOXH-X"),
            replacement_exists=False,
        )
    dev = Facts(investor_name="Công ty TNHH Đô thị Mường Thanh", selection_method="commercial_developer")
    check(W, parcel("plan_approved", reserve), "investor_selected", **DECIDED, facts=dev)
    with pytest.raises(LandfundError, match="commercial project's own developer"):
        check(
            W,
            parcel("plan_approved", reserve),
            "investor_selected",
            **DECIDED,
            facts=Facts(investor_name="x", selection_method="bidding"),
        )


def test_a_paid_or_replaced_reserve_and_a_withdrawal_leave_the_fund_but_a_handover_does_not():
    assert set(W.gone()) == {"withdrawn", "reserve_elsewhere", "reserve_paid"}


def test_former_statuses_are_shown_as_the_stage_they_became():
    assert W.label("open_for_investment", "vi") == "Đã công bố mời gọi đầu tư"
    assert W.label("assigned", "en") == "Investor selected"
    assert W.label("approved", "en") == "In the housing programme and land-use plan"

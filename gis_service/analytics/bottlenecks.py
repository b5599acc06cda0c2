"""Bottleneck report: parcels that have sat in a stage too long, clearance not started long after approval,
and responsibility still with the abolished district level; grouped by who holds them (level and agency),
so the province can see who holds what."""

from __future__ import annotations

from datetime import date

from ..catalogue import load_catalogue
from ..core.vocabulary import load_workflow
from ..stores.analytics import AnalyticsStore

KINDS = {
    "stage_overdue": "in its stage longer than the limit for that stage",
    "clearance_not_started": "site clearance not started long after approval",
    "district_responsibility": "responsibility still with a district, a level abolished on 1 July 2025",
}


def report(
    conn,
    settings,
    as_of: date,
    reform: date,
    unit: str | None = None,
    fund_source: str | None = None,
    province: str | None = None,
) -> dict:
    """The findings on `as_of` over the parcels then in the land fund (inside `unit`, of `fund_source`)."""
    limits = settings.stage_limit_days
    workflow = load_workflow(settings.layers_dir)
    order = workflow.order
    final = [s for s, st in workflow.stages.items() if st.final]
    # stages from the plan's approval up to and including land recovery: clearance should be under way
    clearing = order[order.index(workflow.roles.approved) : order.index(workflow.roles.clearance) + 1]
    findings = []
    province = province or load_catalogue(settings.layers_dir).province.code  # asked for, else the deployment's
    rows = AnalyticsStore(conn).stages(final, workflow.roles.approved, as_of, unit, fund_source, province=province)
    for pid, code, name, status, clearance, level, agency, unit, since, approved_at, decision_date in rows:
        days = (as_of - since).days
        base = {
            "id": pid,
            "code": code,
            "name": name,
            "status": status,
            "clearance_status": clearance,
            "responsible_level": level,
            "responsible_agency": agency,
            "admin_unit_code": unit,
            "in_stage_since": since.isoformat(),
            "days_in_stage": days,
        }
        if status in limits and days > limits[status]:
            findings.append({**base, "kind": "stage_overdue", "limit_days": limits[status]})
        approved = approved_at or (decision_date if status != workflow.initial else None)
        if clearance == "not_started" and approved is not None and status in clearing:
            waited = (as_of - approved).days
            if waited > settings.clearance_limit_days:
                findings.append(
                    {
                        **base,
                        "kind": "clearance_not_started",
                        "days_since_approval": waited,
                        "limit_days": settings.clearance_limit_days,
                    }
                )
        if level == "district" and as_of >= reform:
            findings.append({**base, "kind": "district_responsibility"})
    groups: dict[tuple, dict] = {}
    for f in findings:
        key = (f["responsible_level"] or "", f["responsible_agency"] or "")
        g = groups.setdefault(
            key,
            {
                "responsible_level": f["responsible_level"],
                "responsible_agency": f["responsible_agency"],
                "findings": 0,
                "parcels": set(),
                "by_kind": {},
                "by_stage": {},
            },
        )
        g["findings"] += 1
        g["parcels"].add(f["code"])
        g["by_kind"][f["kind"]] = g["by_kind"].get(f["kind"], 0) + 1
        g["by_stage"][f["status"]] = g["by_stage"].get(f["status"], 0) + 1
    ordered = sorted(
        groups.values(), key=lambda g: (-g["findings"], g["responsible_level"] or "", g["responsible_agency"] or "")
    )
    for g in ordered:
        g["parcels"] = sorted(g["parcels"])
    return {
        "as_of": as_of.isoformat(),
        "limits_days": {**limits, "clearance_after_approval": settings.clearance_limit_days},
        "kinds": KINDS,
        "totals": {k: sum(1 for f in findings if f["kind"] == k) for k in KINDS},
        "groups": ordered,
        "findings": findings,
    }

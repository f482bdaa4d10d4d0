"""Fact templates: a derivation made on one day, rendered on a later day it covers, gives
exactly the facts a fresh derivation on that later day gives."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supervision.checks.facts import derive, derive_facts
from supervision.checks.templates import FactTemplate, facts_key, row_dates
from supervision.reference.workdays import WorkCalendar, default_calendar

D = dt.date
USCC = "91110000100000000A"
FIRST, LAST = D(2023, 1, 1), D(2026, 12, 31)  # years the packaged calendar knows

days = st.integers(0, (LAST - FIRST).days).map(lambda n: FIRST + dt.timedelta(days=n))
maybe_day = st.none() | days
# Immediate information's 20-working-day deadline must stay in a year the calendar knows.
info_days = st.integers(0, (D(2026, 11, 20) - FIRST).days).map(
    lambda n: FIRST + dt.timedelta(days=n)
)


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


@st.composite
def records(draw: st.DrawFn) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(draw(st.integers(0, 8))):
        kind = draw(
            st.sampled_from(
                [
                    "annual_report",
                    "immediate_info",
                    "licence",
                    "complaint",
                    "inspection_result",
                    "rectification_order",
                    "address_check",
                    "info_check",
                ]
            )
        )
        event = draw(info_days if kind == "immediate_info" else days)
        payload: dict[str, Any]
        if kind == "annual_report":
            payload = {"year": draw(st.integers(2022, 2025)), "filed_on": _iso(draw(maybe_day))}
        elif kind == "immediate_info":
            payload = {"info_type": "股权变更 100%", "published_on": _iso(draw(maybe_day))}
        elif kind == "licence":
            payload = {
                "licence_no": f"JY{i}",
                "valid_to": _iso(draw(maybe_day)),
                "business_active": draw(st.booleans()),
            }
        elif kind == "complaint":
            payload = {"received_on": event.isoformat(), "summary": "价格 %s 欺诈"}
        elif kind == "inspection_result":
            payload = {"task_code": "T1", "result_code": "3", "inspectors": ["A1", "A2"]}
        elif kind == "rectification_order":
            payload = {
                "order_no": f"R{i}",
                "due_on": _iso(draw(days)),
                "rectified_on": _iso(draw(maybe_day)),
            }
        elif kind == "address_check":
            payload = {"reachable": draw(st.booleans())}
        else:
            payload = {"false_info": draw(st.booleans()), "detail": '注册资本 "虚报"'}
        out.append(
            {"record_id": i, "uscc": USCC, "kind": kind, "event_date": event, "payload": payload}
        )
    return out


@st.composite
def entities(draw: st.DrawFn) -> dict[str, Any]:
    abnormal = draw(st.booleans())
    return {
        "uscc": USCC,
        "entity_type": "企业",
        "industry_code": "I6510",
        "region_code": "110105",
        "status": draw(st.sampled_from(["存续", "注销"])),
        "risk_class": "B",
        "abnormal": abnormal,
        "abnormal_since": draw(days) if abnormal else None,
        "established_on": D(2021, 3, 1),
    }


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entities(), records(), days, st.integers(0, 400))
def test_a_template_renders_what_deriving_on_that_day_gives(
    entity: dict[str, Any], rows: list[dict[str, Any]], as_of: dt.date, ahead: int
) -> None:
    calendar = default_calendar()
    derivation = derive(entity, rows, as_of, calendar=calendar)
    template = FactTemplate.build(derivation, facts_key(calendar), row_dates(entity, rows))
    assert template is not None
    later = min(as_of + dt.timedelta(days=ahead), LAST)
    if derivation.valid_until is not None and later >= derivation.valid_until:
        later = derivation.valid_until - dt.timedelta(days=1)
    assert template.covers(later) and derivation.covers(later)
    fresh = derive_facts(entity, rows, later, calendar=calendar)
    assert json.loads(template.render(later, "s1", calendar)) == [
        {**fact, "sid": "s1"} for fact in fresh
    ]
    assert derivation.on(later) == fresh
    assert template.count == len(fresh)


@settings(max_examples=100, deadline=None)
@given(entities(), records(), days)
def test_the_validity_ends_on_a_day_something_else_changes(
    entity: dict[str, Any], rows: list[dict[str, Any]], as_of: dt.date
) -> None:
    """valid_until is never later than a change of anything but the counters: the new
    report year at the latest, and every date that becomes visible after as_of."""
    derivation = derive(entity, rows, as_of)
    assert derivation.valid_until is not None
    assert as_of < derivation.valid_until <= D(as_of.year + 1, 1, 1)
    future = [d for d in map(D.fromisoformat, row_dates(entity, rows)) if d > as_of]
    for day in future:
        if any(r["event_date"] == day for r in rows):
            assert derivation.valid_until <= day


@pytest.mark.parametrize("detail", ["\0c\0", "\0a\0", "x\0", 2**70, -(2**64)])
def test_values_a_template_cannot_hold_are_not_templated(detail: str | int) -> None:
    # The slot marker (which no real record holds), and integers beyond 64 bits: orjson,
    # which writes templates, refuses them, while json.dumps (the plain path) writes them.
    entity = {"uscc": USCC, "status": "存续", "established_on": D(2024, 1, 1)}
    rows = [
        {
            "record_id": 1,
            "kind": "info_check",
            "event_date": D(2025, 1, 1),
            "payload": {"false_info": True, "detail": detail, "note": "100% 完成"},
        }
    ]
    derivation = derive(entity, rows, D(2025, 6, 1))
    assert FactTemplate.build(derivation, "k", []) is None
    # The check still evaluates such an entity, from its plain facts.
    assert json.loads(json.dumps(derivation.on()))[-1]["detail"] == detail


def test_a_value_that_is_no_fact_value_is_refused_as_before() -> None:
    derivation = derive({"uscc": USCC, "status": "存续"}, [], D(2025, 6, 1))
    derivation.facts[0]["odd"] = D(2025, 1, 1)  # a date object: facts hold ISO text
    with pytest.raises(TypeError, match="date is not a fact value"):
        FactTemplate.build(derivation, "k", [])


def test_the_key_follows_the_calendar() -> None:
    plain = facts_key(WorkCalendar())
    assert plain == facts_key(WorkCalendar())
    assert plain != facts_key(WorkCalendar(holidays=[D(2026, 12, 31)]))


def test_due_days_and_next_due() -> None:
    entity = {"uscc": USCC, "status": "存续", "established_on": D(2022, 5, 10)}
    rows = [
        {
            "record_id": 1,
            "kind": "rectification_order",
            "event_date": D(2025, 3, 1),
            "payload": {"ordered_on": "2025-03-01", "due_on": "2025-09-30"},
        }
    ]
    derivation = derive(entity, rows, D(2025, 7, 10))
    template = FactTemplate.build(derivation, "k", row_dates(entity, rows))
    assert template is not None
    assert template.next_due(D(2025, 7, 10)) == D(2025, 10, 1)
    assert template.next_due(D(2025, 10, 1)) == D(2026, 7, 1)

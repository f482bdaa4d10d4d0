"""Facts derived from an entity and its compliance records as of a day."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from supervision.checks.entity import check_entity
from supervision.checks.facts import derive_facts, next_due_from_facts
from supervision.reference.workdays import CalendarYearUnknown
from supervision.rules.engine import RuleEngine
from supervision.rules.pack import load_pack

D = dt.date
USCC = "91110000100000000A"


def entity(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "uscc": USCC,
        "name": "北京某某科技有限公司",
        "entity_type": "企业",
        "industry_code": "I6510",
        "region_code": "110105",
        "status": "存续",
        "risk_class": "B",
        "abnormal": False,
        "abnormal_since": None,
        "established_on": D(2022, 5, 10),
    }
    base.update(overrides)
    return base


def record(record_id: int, kind: str, event_date: Any, **payload: Any) -> dict[str, Any]:
    return {
        "record_id": record_id,
        "uscc": USCC,
        "kind": kind,
        "event_date": event_date,
        "due_date": None,
        "payload": payload,
    }


def by_id(facts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f["id"]: f for f in facts}


def test_every_fact_has_unique_id_type_and_json_values() -> None:
    records = [
        record(1, "annual_report", "2023-05-01", year=2022, filed_on="2023-05-01"),
        record(2, "complaint", "2025-06-01", received_on="2025-06-01", summary="虚假宣传"),
        record(
            3,
            "licence",
            "2020-01-01",
            licence_no="JY1",
            licence_type="食品经营许可证",
            valid_to="2025-06-30",
            business_active=True,
        ),
        record(
            4,
            "inspection_result",
            "2025-03-01",
            task_code="T1",
            item_code="I1",
            result_code=1,
            inspected_on="2025-03-01",
            inspectors=["11000001", "11000002"],
        ),
    ]
    facts = derive_facts(entity(), records, D(2025, 7, 10))
    ids = [f["id"] for f in facts]
    assert len(ids) == len(set(ids))
    for fact in facts:
        assert "t" in fact and fact["uscc"] == USCC
        assert None not in fact.values()  # durable-rules has no null
    json.dumps(facts)  # dates are ISO strings
    facts_by_id = by_id(facts)
    assert facts_by_id[f"{USCC}:3:licence"]["days_since_expiry"] == 10
    assert facts_by_id[f"{USCC}:4:inspection_result"]["result_code"] == "1"
    assert facts_by_id[f"{USCC}:entity"]["active"] is True


def test_annual_reports_missing_late_and_replayed() -> None:
    records = [
        record(1, "annual_report", "2023-05-01", year=2022, filed_on="2023-05-01"),
        # 2023: no record at all = not filed
        record(3, "annual_report", "2025-07-15", year=2024, filed_on=D(2025, 7, 15)),
    ]
    facts = by_id(derive_facts(entity(), records, "2025-07-10"))
    assert [k for k in facts if ":annual_report:" in k] == [
        f"{USCC}:annual_report:{y}" for y in (2022, 2023, 2024)
    ]
    assert facts[f"{USCC}:annual_report:2022"]["filed"] is True
    missing = facts[f"{USCC}:annual_report:2023"]
    assert missing["filed"] is False
    assert missing["days_overdue"] == (D(2025, 7, 10) - D(2024, 6, 30)).days
    # Filed on 15 July: replayed on 10 July it is not filed yet, 10 days overdue.
    assert facts[f"{USCC}:annual_report:2024"]["filed"] is False
    assert facts[f"{USCC}:annual_report:2024"]["days_overdue"] == 10
    later = by_id(derive_facts(entity(), records, "2025-07-20"))[f"{USCC}:annual_report:2024"]
    assert later["filed"] is True and later["filed_late"] is True and later["days_overdue"] == 0
    # On 30 June the report is due but not overdue.
    on_due = by_id(derive_facts(entity(), records, "2025-06-30"))
    assert on_due[f"{USCC}:annual_report:2024"]["days_overdue"] == 0


def test_immediate_info_uses_official_working_days() -> None:
    # Arose Sat 20 Sep 2025: 20 working days end Thu 23 Oct 2025 (see test_workdays).
    records = [
        record(
            7,
            "immediate_info",
            "2025-09-20",
            info_type="股权变更",
            arose_on="2025-09-20",
            published_on=None,
        )
    ]
    on_deadline = by_id(derive_facts(entity(), records, D(2025, 10, 23)))[
        f"{USCC}:7:immediate_info"
    ]
    assert on_deadline["deadline_on"] == "2025-10-23"
    assert on_deadline["working_days_open"] == 20
    assert on_deadline["working_days_overdue"] == 0
    late = by_id(derive_facts(entity(), records, D(2025, 10, 27)))[f"{USCC}:7:immediate_info"]
    assert late["working_days_overdue"] == 2  # Fri 24, Mon 27
    assert late["published"] is False


def test_immediate_info_in_an_unknown_year_raises() -> None:
    records = [
        record(7, "immediate_info", "2003-03-02", info_type="股权变更", arose_on="2003-03-02")
    ]  # before the calendar package's first year (later years are provisional)
    with pytest.raises(CalendarYearUnknown):
        derive_facts(entity(), records, D(2003, 5, 1))


def test_replay_ignores_later_records_and_flags_latest_check() -> None:
    records = [
        record(1, "address_check", "2025-03-01", checked_on="2025-03-01", reachable=False),
        record(2, "address_check", "2025-09-01", checked_on="2025-09-01", reachable=True),
        record(3, "complaint", "2025-08-01", received_on="2025-08-01", summary="x"),
        record(
            4,
            "rectification_order",
            "2025-05-01",
            order_no="责改1",
            ordered_on="2025-05-01",
            due_on="2025-06-01",
            rectified_on="2025-08-01",
        ),
    ]
    facts = by_id(derive_facts(entity(), records, "2025-07-01"))
    assert f"{USCC}:2:address_check" not in facts and f"{USCC}:3:complaint" not in facts
    assert facts[f"{USCC}:1:address_check"]["latest"] is True
    order = facts[f"{USCC}:4:rectification_order"]
    assert order["rectified"] is False and order["days_overdue"] == 30
    now = by_id(derive_facts(entity(), records, "2025-10-01"))
    assert now[f"{USCC}:1:address_check"]["latest"] is False
    assert now[f"{USCC}:2:address_check"]["latest"] is True
    assert now[f"{USCC}:3:complaint"]["age_days"] == 61
    assert now[f"{USCC}:4:rectification_order"]["rectified_late"] is True


def test_abnormal_list_countdown() -> None:
    e = entity(abnormal=True, abnormal_since="2022-09-01")
    fact = by_id(derive_facts(e, [], "2025-07-03"))[f"{USCC}:entity"]
    assert fact["serious_list_due_on"] == "2025-09-01"
    assert fact["days_to_serious_list"] == 60
    assert fact["days_on_abnormal"] == (D(2025, 7, 3) - D(2022, 9, 1)).days
    # Listed after the replayed day: not abnormal then.
    assert by_id(derive_facts(e, [], "2022-08-01"))[f"{USCC}:entity"]["abnormal"] is False


def test_next_due_from_facts() -> None:
    def due(e: dict[str, Any], records: list[dict[str, Any]], day: str) -> D | None:
        return next_due_from_facts(derive_facts(e, records, day), day)

    records = [
        record(1, "annual_report", "2025-05-01", year=2024, filed_on="2025-05-01"),
        record(
            2,
            "licence",
            "2024-01-01",
            licence_no="L",
            licence_type="x",
            valid_to="2025-09-30",
            business_active=True,
        ),
        record(3, "immediate_info", "2025-09-20", info_type="x", arose_on="2025-09-20"),
    ]
    # Established 2024-03-01: 2024 report filed; next deadlines: immediate info
    # (deadline 23 Oct → 24 Oct), licence (30 Sep → 1 Oct), the 2025 report (1 Jul 2026).
    e = entity(established_on="2024-03-01")
    assert due(e, records, "2025-09-25") == D(2025, 10, 1)
    assert due(e, records, "2025-10-01") == D(2025, 10, 24)
    assert due(e, records, "2025-10-24") == D(2026, 7, 1)
    abnormal = entity(established_on="2024-03-01", abnormal=True, abnormal_since="2023-01-10")
    # 3 years complete 10 Jan 2026; the notice is due 60 days before: 11 Nov 2025.
    assert due(abnormal, [], "2025-10-24") == D(2025, 11, 11)
    assert due(abnormal, [], "2025-11-11") == D(2026, 1, 10)


def test_derived_facts_drive_the_shipped_rules() -> None:
    records = [
        record(
            1,
            "licence",
            "2020-01-01",
            licence_no="JY1",
            licence_type="食品经营许可证",
            valid_to="2025-06-30",
            business_active=True,
        ),
        record(2, "address_check", "2025-07-01", checked_on="2025-07-01", reachable=False),
        record(3, "info_check", "2025-07-02", checked_on="2025-07-02", false_info=True, detail="x"),
        record(
            4,
            "rectification_order",
            "2025-05-01",
            order_no="责改1",
            ordered_on="2025-05-01",
            due_on="2025-06-01",
        ),
        record(5, "immediate_info", "2025-05-06", info_type="行政许可", arose_on="2025-05-06"),
    ] + [
        record(10 + i, "complaint", "2025-07-01", received_on=f"2025-07-0{i + 1}", summary="x")
        for i in range(4)
    ]
    e = entity(established_on="2022-05-10", abnormal=True, abnormal_since="2022-08-20")
    facts = derive_facts(e, records, "2025-07-10")
    engine = RuleEngine(load_pack())
    try:
        outcome = engine.evaluate(USCC, facts, as_of=D(2025, 7, 10))
    finally:
        engine.close()
    assert outcome.errors == []
    fired = sorted({f.rule_id for f in outcome.findings})
    assert fired == [
        "samr.abnormal-three-years-notice",  # 3 years complete 20 Aug 2025: 41 days left
        "samr.annual-report-not-filed",
        "samr.false-information-published",
        "samr.frequent-complaints",
        "samr.immediate-info-not-published",
        "samr.licence-expired-still-operating",
        "samr.rectification-overdue",
        "samr.unreachable-at-registered-address",
    ]
    reports = [f for f in outcome.findings if f.rule_id == "samr.annual-report-not-filed"]
    assert len(reports) == 3  # 2022, 2023, 2024 all missing
    complaints = [f for f in outcome.findings if f.rule_id == "samr.frequent-complaints"]
    assert len(complaints) == 1  # one finding per entity for a count rule
    # Findings carry what the regulator needs: rule version, code, severity, fact values.
    licence = next(
        f for f in outcome.findings if f.rule_id == "samr.licence-expired-still-operating"
    )
    assert licence.result_code == "D" and licence.severity == "high" and licence.rule_version == 1
    assert {m.id for m in licence.matched} == {f"{USCC}:entity", f"{USCC}:1:licence"}
    assert next(m for m in licence.matched if m.t == "licence").values["days_since_expiry"] == 10


def test_check_entity_reports_underivable_facts_and_goes_on() -> None:
    engine = RuleEngine(load_pack())
    try:
        bad = [record(7, "immediate_info", "2003-03-02", info_type="x", arose_on="2003-03-02")]
        outcome = check_entity(engine, entity(), bad, D(2003, 5, 1))
        (error,) = outcome.errors
        assert "2003" in error.zh and "chinesecalendar" in error.en
        ok = check_entity(engine, entity(established_on="2023-01-01"), [], D(2025, 7, 10))
        assert ok.errors == []
        assert {f.rule_id for f in ok.findings} == {"samr.annual-report-not-filed"}
    finally:
        engine.close()

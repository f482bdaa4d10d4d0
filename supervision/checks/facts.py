"""Facts: what the rules engine sees about one entity on one day.

Every deadline and every "how late" number is computed here, in Python, by the
official calendar, *before* durable-rules sees anything: rules only compare
numbers and flags. The as-of date is an input, so any day can be replayed:
records and payload dates after ``as_of`` are treated as not (yet) existing.

Fact schema (all facts carry ``id`` — unique, stable — ``t`` — the fact type — and
``uscc``; dates are ISO strings; keys whose value would be ``None`` are left out,
because durable-rules has no null):

- ``entity``: entity_type, industry_code, region_code, status, active (status is 存续),
  risk_class, abnormal, abnormal_since, days_on_abnormal, serious_list_due_on (the day
  three years on the abnormal list complete), days_to_serious_list (≤ 0 once reached),
  established_on, as_of.
- ``annual_report`` (one per report year since establishment, from 2013, the first
  year of the annual-report regime, up to last year): year, due_on (Y+1-06-30),
  filed, filed_on, days_overdue (as_of − due_on; ≤ 0 before the deadline), record_id.
- ``immediate_info``: info_type, arose_on, deadline_on (20 working days), published,
  published_on, working_days_open (to publication or as_of), working_days_overdue.
- ``licence``: licence_no, licence_type, valid_to, business_active, days_since_expiry.
- ``complaint``: received_on, age_days (one fact per complaint: ``count`` rules).
- ``inspection_result``: task_code, item_code, result_code (the effective code: the sub-code
  of an A result, e.g. 6 or C), main_code, sub_code, follow_up, follow_up_status,
  follow_up_due, inspected_on, age_days, inspectors, latest (the most recent result up to
  as_of). Approved results are written as such records (``results.service``).
- ``rectification_order``: order_no, ordered_on, due_on, rectified, rectified_on,
  days_overdue (as_of − due_on while outstanding, else 0), rectified_late.
- ``address_check`` / ``info_check``: checked_on, reachable / false_info (+ detail),
  age_days, latest (the most recent check up to as_of).

``derive`` returns a ``Derivation`` (``supervision.checks.derivation``): the facts with
their day counters kept as ``Since`` and the as-of field as ``AS_OF``, valid but for the
counters until ``valid_until``. Every comparison of a date with the as-of day goes
through ``AsOfClock.reached``, which is what keeps ``valid_until`` true.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from supervision.checks.derivation import AS_OF, AsOfClock, Derivation, Fact, Since
from supervision.reference.regions import region_name
from supervision.reference.workdays import WorkCalendar, default_calendar, to_date
from supervision.settings import settings

__all__ = [
    "ANNUAL_REPORT_DUE",
    "ANNUAL_REPORT_FIRST_YEAR",
    "AS_OF",
    "FACTS_VERSION",
    "FACT_TYPE_LABELS",
    "FIELD_LABELS",
    "IMMEDIATE_INFO_WORKING_DAYS",
    "SERIOUS_LIST_NOTICE_DAYS",
    "SERIOUS_LIST_YEARS",
    "Derivation",
    "Since",
    "annual_report_first_year",
    "derive",
    "derive_facts",
    "due_candidates",
    "labelled_fact",
    "next_due_from_facts",
]

#: 企业信息公示暂行条例 第八条: the annual report for year Y is filed 1 Jan–30 Jun of Y+1.
ANNUAL_REPORT_DUE = (6, 30)
#: The annual-report regime replaced annual inspection in 2014 (reports for 2013 on): the
#: default of $SUPERVISION_ANNUAL_REPORT_FIRST_YEAR.
ANNUAL_REPORT_FIRST_YEAR = 2013


def annual_report_first_year() -> int:
    """The first report year checked: $SUPERVISION_ANNUAL_REPORT_FIRST_YEAR (a bureau that
    imports only recent reports moves it later), else 2013. A check reads it once per run
    and hands it to ``derive``."""
    return settings().annual_report_first_year


#: 企业信息公示暂行条例 第十条: immediate information within 20 working days.
IMMEDIATE_INFO_WORKING_DAYS = 20
#: 严重违法失信名单管理办法: three years on the abnormal list; notice 60 days before.
SERIOUS_LIST_YEARS = 3
SERIOUS_LIST_NOTICE_DAYS = 60
#: How a person reads each fact type and field (zh, en): the review pages and
#: ``review show`` label matched facts with these instead of showing their keys.
FACT_TYPE_LABELS: dict[str, tuple[str, str]] = {
    "entity": ("主体", "Entity"),
    "annual_report": ("年度报告", "Annual report"),
    "immediate_info": ("即时信息", "Immediate information"),
    "licence": ("许可证", "Licence"),
    "complaint": ("投诉举报", "Complaint"),
    "inspection_result": ("检查结果", "Inspection result"),
    "rectification_order": ("责令整改", "Rectification order"),
    "address_check": ("住所核查", "Address check"),
    "info_check": ("公示信息核查", "Information check"),
}
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "uscc": ("统一社会信用代码", "USCC"),
    "entity_type": ("主体类型", "Entity type"),
    "industry_code": ("行业代码", "Industry code"),
    "region_code": ("行政区划", "Region"),
    "status": ("登记状态", "Status"),
    "active": ("存续", "Active"),
    "risk_class": ("信用风险分类", "Risk class"),
    "abnormal": ("在经营异常名录", "On the abnormal list"),
    "abnormal_since": ("列入经营异常名录日期", "On the abnormal list since"),
    "days_on_abnormal": ("在名录天数", "Days on the abnormal list"),
    "serious_list_due_on": ("届满 3 年日期", "Three years complete on"),
    "days_to_serious_list": ("距届满天数", "Days until three years"),
    "established_on": ("成立日期", "Established on"),
    "as_of": ("核查基准日", "As of"),
    "year": ("年度", "Year"),
    "due_on": ("截止日期", "Due on"),
    "filed": ("已报送", "Filed"),
    "filed_on": ("报送日期", "Filed on"),
    "days_overdue": ("逾期天数", "Days overdue"),
    "record_id": ("记录编号", "Record id"),
    "info_type": ("信息类型", "Information type"),
    "arose_on": ("形成日期", "Arose on"),
    "deadline_on": ("公示期限", "Deadline"),
    "published": ("已公示", "Published"),
    "published_on": ("公示日期", "Published on"),
    "working_days_open": ("已过工作日", "Working days open"),
    "working_days_overdue": ("超期工作日", "Working days overdue"),
    "licence_no": ("许可证编号", "Licence number"),
    "licence_type": ("许可证类型", "Licence type"),
    "valid_to": ("有效期至", "Valid to"),
    "business_active": ("仍在经营", "Still operating"),
    "days_since_expiry": ("过期天数", "Days since expiry"),
    "received_on": ("收到日期", "Received on"),
    "age_days": ("距今天数", "Days ago"),
    "task_code": ("任务编号", "Task code"),
    "item_code": ("检查事项", "Inspection item"),
    "result_code": ("结果代码", "Result code"),
    "inspected_on": ("检查日期", "Inspected on"),
    "inspectors": ("检查人员", "Inspectors"),
    "order_no": ("责令整改文号", "Order number"),
    "ordered_on": ("责令日期", "Ordered on"),
    "rectified": ("已改正", "Rectified"),
    "rectified_on": ("改正日期", "Rectified on"),
    "rectified_late": ("逾期改正", "Rectified late"),
    "checked_on": ("核查日期", "Checked on"),
    "reachable": ("能够联系", "Reachable"),
    "false_info": ("信息不实", "False information"),
    "detail": ("情况说明", "Detail"),
    "latest": ("最近一次", "Latest"),
}


def labelled_fact(fact: Mapping[str, Any]) -> dict[str, Any]:
    """A matched fact as stored (``{alias, id, t, values}``) as a person reads it: its
    type's label and one ``{key, zh, en, value}`` per field (yes/no for flags, — for an
    empty value, a region's name with its code; a field without a label keeps its key)."""
    t = str(fact.get("t", ""))
    type_zh, type_en = FACT_TYPE_LABELS.get(t, (t, t))
    values = fact.get("values")
    if not isinstance(values, Mapping):  # a fact written flat: its own keys
        values = {k: v for k, v in fact.items() if k not in ("alias", "id", "t")}
    fields = []
    for key, value in values.items():
        if key == "uscc":
            continue
        zh, en = FIELD_LABELS.get(key, (key, key))
        if value is None or value == "":
            value = "—"
        elif key == "region_code":
            value = f"{region_name(str(value))} {value}"
        elif isinstance(value, bool):
            value = "是 yes" if value else "否 no"
        elif isinstance(value, list):
            value = "、".join(str(v) for v in value)
        fields.append({"key": key, "zh": zh, "en": en, "value": value})
    return {"id": fact.get("id"), "t": t, "zh": type_zh, "en": type_en, "fields": fields}


#: Bump whenever ``derive`` would give other facts for the same rows: stored fact
#: templates of another version are derived again.
FACTS_VERSION = 2


def _opt_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    # Fast paths for what the database layer gives (a date, ISO text); anything else,
    # and a bad value, goes through ``to_date``, which raises the bilingual error.
    kind = type(value)
    if kind is dt.date:
        return value  # type: ignore[no-any-return]
    if kind is str:
        try:
            return _from_iso(value[:10])
        except ValueError:
            pass
    return to_date(value)


_from_iso = dt.date.fromisoformat


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _clean(fact: Fact) -> Fact:
    """Drop ``None`` values (durable-rules has no null) and make dates ISO strings."""
    date = dt.date
    return {
        key: value.isoformat() if isinstance(value, date) else value
        for key, value in fact.items()
        if value is not None
    }


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February → 28 February
        return day.replace(year=day.year + years, day=28)


def serious_list_due_on(abnormal_since: dt.date) -> dt.date:
    """The day three years on the abnormal list are complete (届满三年)."""
    return _add_years(abnormal_since, SERIOUS_LIST_YEARS)


def _payload(record: Mapping[str, Any]) -> Mapping[str, Any]:
    payload = record.get("payload") or {}
    return payload if isinstance(payload, Mapping) else {}


def _visible(records: Iterable[Mapping[str, Any]], clock: AsOfClock) -> list[Mapping[str, Any]]:
    """Records that existed on ``as_of`` (replay: later records are ignored)."""
    out = []
    for record in records:
        event = _opt_date(record.get("event_date"))
        if event is None or clock.reached(event):
            out.append(record)
    return out


def _fact_id(uscc: str, record: Mapping[str, Any], kind: str) -> str:
    return f"{uscc}:{record.get('record_id')}:{kind}"


def _entity_fact(entity: Mapping[str, Any], clock: AsOfClock) -> Fact:
    uscc = str(entity["uscc"])
    since = _opt_date(entity.get("abnormal_since"))
    abnormal = bool(entity.get("abnormal")) and (since is None or clock.reached(since))
    fact: Fact = {
        "id": f"{uscc}:entity",
        "t": "entity",
        "uscc": uscc,
        "entity_type": entity.get("entity_type"),
        "industry_code": entity.get("industry_code"),
        "region_code": entity.get("region_code"),
        "status": entity.get("status"),
        "active": entity.get("status") == "存续",
        "risk_class": entity.get("risk_class"),
        "abnormal": abnormal,
        "established_on": _opt_date(entity.get("established_on")),
        "as_of": AS_OF,
    }
    if abnormal and since is not None:
        due = serious_list_due_on(since)
        fact["abnormal_since"] = since
        fact["days_on_abnormal"] = Since("d", since)
        fact["serious_list_due_on"] = due
        fact["days_to_serious_list"] = Since("d", due, -1)
    return fact


def _annual_report_facts(
    uscc: str,
    entity: Mapping[str, Any],
    records: list[Mapping[str, Any]],
    clock: AsOfClock,
    first_year: int,
) -> list[Fact]:
    as_of = clock.day
    filed: dict[int, tuple[dt.date | None, Any]] = {}
    for record in records:
        payload = _payload(record)
        try:
            year = int(payload["year"])
        except (KeyError, TypeError, ValueError):
            continue
        filed_on = _opt_date(payload.get("filed_on"))
        if filed_on is not None and not clock.reached(filed_on):
            filed_on = None  # replay: not filed yet on as_of
        previous = filed.get(year)
        if previous is None or (
            filed_on is not None and (previous[0] is None or filed_on < previous[0])
        ):
            filed[year] = (filed_on, record.get("record_id"))
    established = _opt_date(entity.get("established_on"))
    first = max(first_year, established.year if established else as_of.year)
    facts = []
    clock.flips_on(dt.date(as_of.year + 1, 1, 1))  # another report year is added
    # Built clean (no None, dates as ISO text: what ``_clean`` would make of them), in
    # the key order of the other facts' kind: most facts of most entities are these.
    for year in range(first, as_of.year):
        due = dt.date(year + 1, *ANNUAL_REPORT_DUE)
        filed_on, record_id = filed.get(year, (None, None))
        fact: Fact = {
            "id": f"{uscc}:annual_report:{year}",
            "t": "annual_report",
            "uscc": uscc,
            "year": year,
            "due_on": _due_iso(year),
        }
        if filed_on is None:
            fact["filed"] = False
            fact["days_overdue"] = Since("d", due)
            fact["filed_late"] = False
        else:
            fact["filed"] = True
            fact["filed_on"] = filed_on.isoformat()
            fact["days_overdue"] = 0
            fact["filed_late"] = filed_on > due
        if record_id is not None:
            fact["record_id"] = (
                record_id.isoformat() if isinstance(record_id, dt.date) else record_id
            )
        facts.append(fact)
    return facts


def _due_iso(year: int) -> str:
    """The annual report's due day for ``year``, as ISO text."""
    text = _DUE_ISO.get(year)
    if text is None:
        text = _DUE_ISO[year] = dt.date(year + 1, *ANNUAL_REPORT_DUE).isoformat()
    return text


_DUE_ISO: dict[int, str] = {}


def _immediate_info_fact(
    uscc: str, record: Mapping[str, Any], clock: AsOfClock, calendar: WorkCalendar
) -> Fact | None:
    payload = _payload(record)
    arose = _opt_date(payload.get("arose_on")) or _opt_date(record.get("event_date"))
    if arose is None or not clock.reached(arose):
        return None
    published_on = _opt_date(payload.get("published_on"))
    if published_on is not None and not clock.reached(published_on):
        published_on = None
    deadline = calendar.add_workdays(arose, IMMEDIATE_INFO_WORKING_DAYS)
    open_days: int | Since
    overdue: int | Since
    if published_on is not None:
        open_days = calendar.workdays_between(arose, published_on)
        overdue = max(0, calendar.workdays_between(deadline, published_on))
    else:
        # Not published: both counters run with the as-of day (overdue from the deadline).
        open_days = Since("w", arose)
        overdue = Since("w", deadline) if clock.reached(deadline) else 0
    return {
        "id": _fact_id(uscc, record, "immediate_info"),
        "t": "immediate_info",
        "uscc": uscc,
        "info_type": payload.get("info_type"),
        "arose_on": arose,
        "deadline_on": deadline,
        "published": published_on is not None,
        "published_on": published_on,
        "working_days_open": open_days,
        "working_days_overdue": overdue,
    }


def _latest_flags(facts: list[Fact], key: str) -> None:
    if not facts:
        return
    latest = max(facts, key=lambda f: (f[key], f["id"]))
    for fact in facts:
        fact["latest"] = fact is latest


def _licence_fact(uscc: str, record: Mapping[str, Any]) -> Fact:
    p = _payload(record)
    valid_to = _opt_date(p.get("valid_to"))
    return {
        "id": _fact_id(uscc, record, "licence"),
        "t": "licence",
        "uscc": uscc,
        "licence_no": p.get("licence_no"),
        "licence_type": p.get("licence_type"),
        "valid_to": valid_to,
        "business_active": bool(p.get("business_active")),
        "days_since_expiry": Since("d", valid_to) if valid_to else None,
    }


def _complaint_fact(uscc: str, record: Mapping[str, Any], clock: AsOfClock) -> Fact | None:
    p = _payload(record)
    received = _opt_date(p.get("received_on")) or _opt_date(record.get("event_date"))
    if received is None or not clock.reached(received):
        return None
    return {
        "id": _fact_id(uscc, record, "complaint"),
        "t": "complaint",
        "uscc": uscc,
        "received_on": received,
        "age_days": Since("d", received),
    }


def _inspection_fact(uscc: str, record: Mapping[str, Any], clock: AsOfClock) -> Fact | None:
    p = _payload(record)
    inspected = _opt_date(p.get("inspected_on")) or _opt_date(record.get("event_date"))
    if inspected is None or not clock.reached(inspected):
        return None
    return {
        "id": _fact_id(uscc, record, "inspection_result"),
        "t": "inspection_result",
        "uscc": uscc,
        "task_code": p.get("task_code"),
        "item_code": p.get("item_code"),
        "result_code": None if p.get("result_code") is None else str(p["result_code"]),
        "inspected_on": inspected,
        "age_days": Since("d", inspected),
        "inspectors": [str(x) for x in p.get("inspectors") or []],
        "main_code": p.get("main_code"),
        "sub_code": p.get("sub_code"),
        "follow_up": p.get("follow_up"),
        "follow_up_status": p.get("follow_up_status"),
        "follow_up_due": _opt_date(p.get("follow_up_due")),
    }


def _rectification_fact(uscc: str, record: Mapping[str, Any], clock: AsOfClock) -> Fact | None:
    p = _payload(record)
    ordered = _opt_date(p.get("ordered_on")) or _opt_date(record.get("event_date"))
    due = _opt_date(p.get("due_on"))
    if ordered is None or not clock.reached(ordered) or due is None:
        return None
    rectified_on = _opt_date(p.get("rectified_on"))
    if rectified_on is not None and not clock.reached(rectified_on):
        rectified_on = None
    return {
        "id": _fact_id(uscc, record, "rectification_order"),
        "t": "rectification_order",
        "uscc": uscc,
        "order_no": p.get("order_no"),
        "ordered_on": ordered,
        "due_on": due,
        "rectified": rectified_on is not None,
        "rectified_on": rectified_on,
        "days_overdue": Since("d", due) if rectified_on is None else 0,
        "rectified_late": rectified_on is not None and rectified_on > due,
    }


#: Record kinds with one fact per record visible on the as-of day, in the order of ``derive``.
_DATED_KINDS: tuple[tuple[str, Callable[[str, Mapping[str, Any], AsOfClock], Fact | None]], ...] = (
    ("complaint", _complaint_fact),
    ("inspection_result", _inspection_fact),
    ("rectification_order", _rectification_fact),
)


def _check_facts(
    uscc: str, kind: str, flag: str, records: list[Mapping[str, Any]], clock: AsOfClock
) -> list[Fact]:
    """Address or information checks (``flag``: reachable / false_info), the latest flagged."""
    checks: list[Fact] = []
    for record in records:
        p = _payload(record)
        checked = _opt_date(p.get("checked_on")) or _opt_date(record.get("event_date"))
        if checked is None or not clock.reached(checked):
            continue
        check: Fact = {
            "id": _fact_id(uscc, record, kind),
            "t": kind,
            "uscc": uscc,
            "checked_on": checked,
            flag: bool(p.get(flag)),
            "age_days": Since("d", checked),
        }
        if kind == "info_check":
            check["detail"] = p.get("detail")
        checks.append(check)
    _latest_flags(checks, "checked_on")
    return checks


def derive(
    entity: Mapping[str, Any],
    records: Iterable[Mapping[str, Any]],
    as_of: dt.date | str,
    *,
    calendar: WorkCalendar | None = None,
    first_year: int | None = None,
) -> Derivation:
    """Derive the facts of one entity as of a day (see ``Derivation``).

    ``entity`` and ``records`` are plain dicts as the database layer gives them (see
    the module docstring). Records dated after ``as_of`` are ignored so that any day
    can be replayed. Raises ``CalendarYearUnknown`` when a working-day deadline falls
    in a year the official calendar does not cover. ``first_year``: the first report
    year checked (default: the setting, read now).
    """
    day = to_date(as_of)
    clock = AsOfClock(day)
    cal = calendar or default_calendar()
    uscc = str(entity["uscc"])
    visible = _visible(records, clock)
    by_kind: dict[str, list[Mapping[str, Any]]] = {}
    for r in visible:
        by_kind.setdefault(str(r.get("kind")), []).append(r)

    first = annual_report_first_year() if first_year is None else first_year
    reports = _annual_report_facts(uscc, entity, by_kind.get("annual_report", []), clock, first)
    facts: list[Fact] = [_entity_fact(entity, clock)]
    for record in by_kind.get("immediate_info", []):
        fact = _immediate_info_fact(uscc, record, clock, cal)
        if fact is not None:
            facts.append(fact)
    facts += [_licence_fact(uscc, record) for record in by_kind.get("licence", [])]
    for kind, make in _DATED_KINDS:
        made = [make(uscc, record, clock) for record in by_kind.get(kind, [])]
        dated = [fact for fact in made if fact is not None]
        if kind == "inspection_result":
            _latest_flags(dated, "inspected_on")
        facts += dated
    for kind, flag in (("address_check", "reachable"), ("info_check", "false_info")):
        facts += _check_facts(uscc, kind, flag, by_kind.get(kind, []), clock)

    clean = [_clean(f) for f in facts]
    clean[1:1] = reports  # already clean; after the entity fact, as always
    return Derivation(uscc, day, clock.until, clean, cal)


def derive_facts(
    entity: Mapping[str, Any],
    records: Iterable[Mapping[str, Any]],
    as_of: dt.date | str,
    *,
    calendar: WorkCalendar | None = None,
    first_year: int | None = None,
) -> list[Fact]:
    """The plain facts of one entity as of a day, ready to assert (``derive(...).on()``)."""
    return derive(entity, records, as_of, calendar=calendar, first_year=first_year).on()


def due_candidates(
    facts: Iterable[Mapping[str, Any]],
    as_of: dt.date | str,
    *,
    notice_days: int = SERIOUS_LIST_NOTICE_DAYS,
) -> list[dt.date]:
    """Every day on which a statutory deadline of these facts falls due, sorted (see
    ``next_due_from_facts``; days up to ``as_of`` included). Reads no counter, so a
    ``Derivation``'s facts give the same days on every day it covers."""
    day = to_date(as_of)
    one = dt.timedelta(days=1)
    # The current year's report falls due next year whatever the records say.
    candidates: list[dt.date] = [dt.date(day.year + 1, *ANNUAL_REPORT_DUE) + one]
    for fact in facts:
        kind = fact["t"]
        if kind == "annual_report":
            if not fact["filed"]:
                candidates.append(dt.date.fromisoformat(fact["due_on"]) + one)
        elif kind == "immediate_info":
            if not fact["published"]:
                candidates.append(dt.date.fromisoformat(fact["deadline_on"]) + one)
        elif kind == "licence":
            if "valid_to" in fact:
                candidates.append(dt.date.fromisoformat(fact["valid_to"]) + one)
        elif kind == "rectification_order":
            if not fact["rectified"]:
                candidates.append(dt.date.fromisoformat(fact["due_on"]) + one)
        elif kind == "entity" and "serious_list_due_on" in fact:
            due = dt.date.fromisoformat(fact["serious_list_due_on"])
            candidates += [due - dt.timedelta(days=notice_days), due]
    return sorted(set(candidates))


def next_due_from_facts(
    facts: Iterable[Mapping[str, Any]],
    as_of: dt.date | str,
    *,
    notice_days: int = SERIOUS_LIST_NOTICE_DAYS,
) -> dt.date | None:
    """The next day after ``as_of`` on which a statutory deadline of these facts falls due.

    ``facts`` are ``derive_facts``'s for the same ``as_of``. Used by incremental checks:
    an entity whose records did not change need not be re-evaluated before this day.
    The answer may be early (a re-check that finds nothing new is cheap), never late, for
    the deadlines of this module; ``notice_days`` must match the serious-list notice
    rule's parameter. Dates that only become visible later (a record or an
    ``abnormal_since`` after ``as_of``) are not in the facts: the caller adds them
    (``Evaluator.next_check_on`` scans every date an entity's rows hold).
    """
    day = to_date(as_of)
    future = [c for c in due_candidates(facts, day, notice_days=notice_days) if c > day]
    return future[0] if future else None

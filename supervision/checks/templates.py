"""Fact templates: an entity's derived facts kept as ready-to-assert JSON between runs.

Deriving facts (``supervision.checks.facts.derive``) reads an entity's row and every record
and costs as much as evaluating them. But a ``Derivation`` stays the same from its
as-of day up to its ``valid_until`` except for its day counters, so a check stores it
once as a *template*: the JSON the engine is given, with ``%(name)s`` slots for the
session id, the as-of day and each counter. A later run whose as-of day the template
covers renders it (``render``: one ``%`` formatting of the UTF-8 bytes, no deriving,
no ``json.dumps``) instead of reading the records again. ``supervision.checks.evaluate``
decides when a template may be used (same facts version and calendar, records unchanged
since it was made: ``supervision.checks.selection``) and ``supervision.checks.run``
keeps the stored ones up to date.

Pure: no database here; the stored rows are ``models.findings.EntityFacts``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from supervision.checks.derivation import AS_OF, Derivation, Since
from supervision.checks.facts import FACTS_VERSION, annual_report_first_year, due_candidates
from supervision.reference.workdays import WorkCalendar

__all__ = ["FactTemplate", "facts_key", "row_dates"]

_MARK = b"\\u0000"  # how orjson (and json.dumps) write the NUL that brackets a slot's name
#: Dates and dataclasses go to ``slot`` (which refuses them), as with ``json.dumps``.
_STRICT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


#: Bump whenever the stored form of a template changes (slots, columns, JSON spelling).
#: 3: compact JSON written by orjson.
TEMPLATE_FORMAT = 3


def facts_key(calendar: WorkCalendar, first_year: int | None = None) -> str:
    """What a template depends on besides the rows: the derivation's version, the
    template format, the first annual-report year (default: the setting) and the
    working-day calendar."""
    year = annual_report_first_year() if first_year is None else first_year
    return f"{FACTS_VERSION}.{TEMPLATE_FORMAT}.y{year}:{calendar.fingerprint}"


def _iso(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value if isinstance(value, str) else ""


def row_dates(entity: Mapping[str, Any], records: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every date the entity's rows hold, as sorted ISO text (which sorts like dates):
    the entity's dates, each record's event date and every ISO date in a payload."""
    days = {_iso(entity.get("abnormal_since")), _iso(entity.get("established_on"))}
    add, date = days.add, dt.date
    for record in records:
        event = record.get("event_date")
        add(event.isoformat() if type(event) is date else _iso(event))
        payload = record.get("payload")
        if isinstance(payload, dict):
            for value in payload.values():
                if type(value) is str and len(value) == 10 and value[4] == "-":
                    add(value)
    days.discard("")
    return sorted(days)


@dataclass(slots=True)
class FactTemplate:
    """A stored ``Derivation``: see the module docstring. Treat it as immutable (not
    ``frozen``: a frozen dataclass costs a second per million stored templates read).

    ``counters`` are the slots ``c0``, ``c1``… in order, each ``kind sign anchor`` as
    ``d+739000`` (calendar days since the anchor's ordinal) or ``w-…`` (working days);
    ``due`` the statutory due days after ``valid_from`` and ``dates`` the rows' dates,
    both ISO text joined by commas (``Evaluator.next_check_on`` uses them for the next due
    day).
    ``text`` is UTF-8: bytes ``%`` formatting is several times faster than that of a
    ``str`` holding Chinese, and a stored template is read as bytes (``db.utf8_bytes``).
    """

    key: str
    valid_from: dt.date
    valid_until: dt.date | None
    text: bytes
    counters: str
    due: str
    dates: str
    count: int

    @classmethod
    def build(cls, derivation: Derivation, key: str, dates: list[str]) -> FactTemplate | None:
        """The template of a derivation; None when it cannot be one: a value holding
        a NUL character (the slot marker, which no real record should hold), a fact
        not starting with its ``id``, or two facts with one id."""
        facts = derivation.facts
        if len({f.get("id") for f in facts}) != len(facts):
            return None
        counters: list[str] = []
        as_of_slots = 0

        def slot(value: Any) -> str:  # orjson asks only for what it cannot write
            nonlocal as_of_slots
            if type(value) is Since:
                sign = "+" if value.sign >= 0 else "-"
                counters.append(f"{value.kind}{sign}{value.anchor.toordinal()}")
                return "\0c\0"
            if value is AS_OF:
                as_of_slots += 1
                return "\0a\0"
            raise TypeError(f"{type(value).__name__} is not a fact value")

        # orjson writes compact UTF-8 bytes at a third of ``json.dumps``'s cost (the
        # largest part of building a template); every pass below works on those bytes.
        try:
            text = orjson.dumps(facts, default=slot, option=_STRICT)
        except orjson.JSONEncodeError as exc:
            if isinstance(exc.__cause__, TypeError):
                raise exc.__cause__ from None  # a value that is no fact value
            return None  # a value orjson cannot write (an integer beyond 64 bits)
        if text.count(_MARK) != 2 * (len(counters) + as_of_slots):
            return None  # a value of the rows holds the marker
        # Every fact opens with its id (derive builds them so): the session id goes first.
        if not text.startswith(b'[{"id":') or text.count(b'{"id":') != len(facts):
            return None
        text = text.replace(b"%", b"%%").replace(b'{"id":', b'{"sid":"%(s)s","id":')
        text = text.replace(b'"' + _MARK + b"a" + _MARK + b'"', b'"%(a)s"')
        parts = text.split(b'"' + _MARK + b"c" + _MARK + b'"')
        text = b"".join(
            part if i == 0 else b"%%(c%d)s" % (i - 1) + part for i, part in enumerate(parts)
        )
        day = derivation.as_of
        due = [d.isoformat() for d in due_candidates(derivation.facts, day) if d > day]
        return cls(
            key=key,
            valid_from=day,
            valid_until=derivation.valid_until,
            text=text,
            counters=" ".join(counters),
            due=",".join(due),
            dates=",".join(dates),
            count=len(facts),
        )

    def covers(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day < self.valid_until)

    def render(self, day: dt.date, sid: str, calendar: WorkCalendar) -> str:
        """The JSON array of facts for ``day`` (which the template must cover), each
        with ``"sid": sid``. Raises ``CalendarYearUnknown`` like deriving would.
        (Every slot costs: the entity's code, in every fact, is kept as text.)"""
        values: dict[bytes, bytes] = {b"s": sid.encode(), b"a": day.isoformat().encode()}
        if self.counters:
            ordinal = day.toordinal()
            for i, token in enumerate(self.counters.split(" ")):
                anchor = int(token[2:])
                if token[0] == "w":
                    n = calendar.workdays_between(dt.date.fromordinal(anchor), day)
                else:
                    n = ordinal - anchor
                values[b"c%d" % i] = b"%d" % (n if token[1] == "+" else -n)
        return (self.text % values).decode()

    def next_due(self, day: dt.date) -> dt.date | None:
        """The first statutory due day after ``day``."""
        if not self.due:
            return None
        iso = day.isoformat()
        for candidate in self.due.split(","):
            if candidate > iso:
                return dt.date.fromisoformat(candidate)
        return None

"""Derivations: an entity's facts as of one day, valid until a later one but for their
day counters.

``supervision.checks.facts.derive`` gives a ``Derivation``: the facts with every day
counter kept as a ``Since`` (a number that grows with the as-of day) and the as-of field
as ``AS_OF``, plus ``valid_until``, the first day after ``as_of`` on which anything else
in the facts could change (a record or a date becoming visible, a deadline passing, a new
report year). On every day from ``as_of`` up to ``valid_until`` the facts are the same
but for their counters, so they can be rendered for any of those days without deriving
again (``Derivation.on``; ``supervision.checks.templates`` keeps them between runs).
Every comparison of a date with the as-of day goes through ``AsOfClock.reached``, which
is what keeps ``valid_until`` true.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from supervision.reference.workdays import WorkCalendar, to_date

__all__ = ["AS_OF", "AsOfClock", "Derivation", "Fact", "Since"]

Fact = dict[str, Any]


class Since:
    """A day counter: ``sign × (as_of − anchor)`` in calendar days (``kind`` "d") or in
    official working days (``kind`` "w", i.e. ``workdays_between(anchor, as_of)``)."""

    __slots__ = ("anchor", "kind", "sign")

    def __init__(self, kind: str, anchor: dt.date, sign: int = 1) -> None:
        self.kind = kind
        self.anchor = anchor
        self.sign = sign

    def value(self, day: dt.date, calendar: WorkCalendar) -> int:
        if self.kind == "w":
            return self.sign * calendar.workdays_between(self.anchor, day)
        return self.sign * (day.toordinal() - self.anchor.toordinal())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Since) and (self.kind, self.anchor, self.sign) == (
            other.kind,
            other.anchor,
            other.sign,
        )

    def __hash__(self) -> int:
        return hash((self.kind, self.anchor, self.sign))

    def __repr__(self) -> str:
        return f"Since({self.kind!r}, {self.anchor!r}, {self.sign})"


class _AsOf:
    """Marker for the ``as_of`` field of the entity fact (the day, as ISO text)."""

    def __repr__(self) -> str:
        return "AS_OF"


AS_OF: Any = _AsOf()


class AsOfClock:
    """The as-of day; remembers the first later day on which a comparison flips."""

    __slots__ = ("day", "until")

    def __init__(self, day: dt.date) -> None:
        self.day = day
        self.until: dt.date | None = None

    def reached(self, d: dt.date) -> bool:
        """``d <= as_of``; true from day ``d`` on."""
        if d <= self.day:
            return True
        self.flips_on(d)
        return False

    def flips_on(self, d: dt.date) -> None:
        if self.until is None or d < self.until:
            self.until = d


@dataclass(frozen=True)
class Derivation:
    """An entity's facts as of ``as_of``, valid (but for counters) until ``valid_until``.

    ``facts`` hold ``Since`` counters and the ``AS_OF`` marker where a value moves with
    the day; ``on(day)`` gives plain facts for any day in ``[as_of, valid_until)``.
    ``valid_until`` is None when nothing but the counters can ever change.
    """

    uscc: str
    as_of: dt.date
    valid_until: dt.date | None
    facts: list[Fact]
    calendar: WorkCalendar

    def covers(self, day: dt.date) -> bool:
        return self.as_of <= day and (self.valid_until is None or day < self.valid_until)

    def on(self, day: dt.date | str | None = None) -> list[Fact]:
        """Plain facts (ready to assert) for ``day`` (default: ``as_of``)."""
        d = self.as_of if day is None else to_date(day)
        if not self.covers(d):
            raise ValueError(f"{d} is outside [{self.as_of}, {self.valid_until})")
        iso = d.isoformat()
        out = []
        for fact in self.facts:
            plain: Fact = {}
            for key, value in fact.items():
                if type(value) is Since:
                    value = value.value(d, self.calendar)
                elif value is AS_OF:
                    value = iso
                plain[key] = value
            out.append(plain)
        return out

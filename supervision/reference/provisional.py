"""The early bound for provisional years (暂定日历): statutory holidays and make-up windows.

A year after the last one the chinesecalendar package knows, and not declared in the
extra-days file, is *provisional*: the State Council has not announced its 调休
arrangement yet (from about December every year until the notice is out and packaged).
Its statutory holidays are fixed by 《全国年节及纪念日放假办法》, and the ``holidays``
package computes them (lunar festivals included, with the law's make-up rest day for a
festival on a weekend). Only the 调休 is unknown: some weekdays next to a festival become
rest days ("bridges") and as many weekend days become make-up working days.

A provisional due date must err *early* (alerts and the deadline watch may fire too
soon, never too late). ``WorkCalendar.add_workdays`` gives the earliest date the real
arrangement could give, by this argument. Let O be the official working days once
announced and count_O(s, t] the official working days in (s, t]. Every statutory day is
a rest day (the law), so O ⊆ {weekdays that are not statutory} ∪ M, where M is the set of
make-up working weekends. From the notices of 2011–2026 (checked against chinesecalendar
in the tests): every make-up working day lies within ``MAKEUP_WINDOW`` (10) days of a
statutory day, and each cluster of consecutive statutory days has at most
``MAKEUP_PER_CLUSTER`` (2) of them. Hence count_O(s, t] ≤ base(s, t] + Σ over groups
min(budget, candidate weekends of the group in (s, t]), where base counts the
non-statutory weekdays, a candidate is a non-statutory weekend day within the window of
a cluster, and a group is the clusters whose windows overlap (budget 2 per cluster).
The right-hand side is exactly the count of a walk from ``s`` that takes every
candidate weekend as a working day until its group's budget is spent; its n-th working
day is therefore never later than the official n-th working day. Bridges only delay
the official answer further. A weekend late in December of the last announced year counts
as a candidate too (next year's notice may make it a make-up day for 元旦, as the 2019
notice did with 2018-12-29). Tested over every start day of 2024, 2025 and 2026 with
n ∈ {5, 10, 20}: never later, on average within 2 days.

This module knows the law and the windows only; which years are provisional, and the
walk itself, belong to ``supervision.reference.workdays.WorkCalendar``.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from holidays.countries.china import China

__all__ = [
    "MAKEUP_PER_CLUSTER",
    "MAKEUP_WINDOW",
    "makeup_group",
    "makeup_groups",
    "statutory_holidays",
]

#: Days either side of a statutory holiday within which a make-up working weekend may fall.
MAKEUP_WINDOW = 10
#: Most make-up working days the notices have ever attached to one cluster of holidays.
MAKEUP_PER_CLUSTER = 2


@lru_cache(maxsize=64)
def statutory_holidays(year: int) -> frozenset[dt.date]:
    """Rest days of ``year`` fixed by law alone (《全国年节及纪念日放假办法》), from the
    ``holidays`` package: the festivals and the law's make-up rest day for a festival on a
    weekend, without any 调休 of a notice (its "Day off (substituted …)" entries)."""
    table = China(years=year, language="en_US")  # type: ignore[no-untyped-call]
    return frozenset(
        d for d, name in table.items() if d.year == year and not name.startswith("Day off")
    )


@lru_cache(maxsize=16)
def makeup_groups(year: int) -> tuple[tuple[dt.date, dt.date, int], ...]:
    """(first, last, budget) windows where make-up working weekends of ``year`` may fall:
    each cluster of consecutive statutory days widened by MAKEUP_WINDOW days, overlapping
    windows merged with their budgets added (see the module docstring)."""
    days = sorted(
        statutory_holidays(year - 1) | statutory_holidays(year) | statutory_holidays(year + 1)
    )
    clusters: list[list[dt.date]] = []
    for d in days:
        if clusters and (d - clusters[-1][-1]).days <= 1:
            clusters[-1].append(d)
        else:
            clusters.append([d])
    window = dt.timedelta(days=MAKEUP_WINDOW)
    groups: list[list[Any]] = []
    for c in clusters:
        lo, hi = c[0] - window, c[-1] + window
        if groups and lo <= groups[-1][1]:
            groups[-1][1] = hi
            groups[-1][2] += MAKEUP_PER_CLUSTER
        else:
            groups.append([lo, hi, MAKEUP_PER_CLUSTER])
    return tuple((g[0], g[1], g[2]) for g in groups)


def makeup_group(d: dt.date, year: int) -> tuple[dt.date, int] | None:
    """The make-up group (key, budget) of ``year``'s arrangement whose window holds the
    day ``d``, or None: ``d`` is a statutory holiday, or outside every window."""
    if d in statutory_holidays(d.year):
        return None
    for lo, hi, budget in makeup_groups(year):
        if lo <= d <= hi:
            return lo, budget
    return None

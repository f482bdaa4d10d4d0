"""Official working days (工作日) of the People's Republic of China.

Deadlines such as "publish within 20 working days" follow the State Council's
holiday calendar, including adjusted working weekends (调休). The calendar comes
from the ``chinesecalendar`` package, which carries it year by year. A year the
package does not know yet is an error, never a guess: upgrade ``chinesecalendar``
or supply an *extra-days file* declaring that year.

Extra-days file (YAML or JSON), given with ``--calendar FILE`` or for every command
through ``$SUPERVISION_CALENDAR_FILE`` (``calendar_from``, ``default_calendar``)::

    # Days listed here override the package; a year listed under ``years`` is
    # fully defined by this file (weekends are rest days unless listed as workdays).
    years: [2027]
    holidays: [2027-01-01, 2027-02-05]     # rest days (法定节假日及调休休息日)
    workdays: [2027-02-13]                 # adjusted working weekends (调休上班)

Conventions: ``add_workdays(start, n)`` is the n-th working day *after* ``start``
(the start day itself is not counted, as in 行政许可法 style "自…之日起 N 个工作日"
counting from the next day); ``workdays_between(start, end)`` counts working days in
``(start, end]``, so ``workdays_between(d, add_workdays(d, n)) == n``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import chinese_calendar
import yaml

from supervision import yamlsafe
from supervision.errors import SupervisionError
from supervision.settings import settings

__all__ = [
    "CALENDAR_ENV",
    "CalendarError",
    "CalendarYearUnknown",
    "WorkCalendar",
    "add_workdays",
    "calendar_from",
    "default_calendar",
    "is_workday",
    "set_default_calendar",
    "to_date",
    "workdays_between",
]


#: An extra-days file for every command of this process (and the processes it starts).
CALENDAR_ENV = "SUPERVISION_CALENDAR_FILE"


class CalendarError(SupervisionError):
    """A working-day calendar that cannot answer: a bad file, a bad date, a year it lacks."""


class CalendarYearUnknown(CalendarError):
    """The official calendar of a year is not known (package too old, no extra file)."""

    def __init__(self, year: int) -> None:
        super().__init__(
            f"工作日历缺少 {year} 年的数据：请升级 chinesecalendar 包，"
            f"或提供包含 {year} 年节假日和调休工作日的补充文件（YAML/JSON）",
            f"the official working-day calendar has no data for {year}: upgrade the "
            f"chinesecalendar package, or supply an extra-days file (YAML/JSON) with "
            f"the holidays and adjusted working days of {year}",
        )
        self.year = year
        self.details = [f"year={year}"]


def to_date(value: dt.date | str) -> dt.date:
    """Accept a ``date`` (or ``datetime``) or an ISO ``YYYY-MM-DD`` string."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            pass
    raise CalendarError(f"无法识别的日期：{value!r}", f"not a date: {value!r}")


class WorkCalendar:
    """The official calendar, optionally extended or corrected by extra days."""

    def __init__(
        self,
        *,
        holidays: Iterable[dt.date | str] = (),
        workdays: Iterable[dt.date | str] = (),
        years: Iterable[int] = (),
    ) -> None:
        self.holidays = frozenset(to_date(d) for d in holidays)
        self.workdays = frozenset(to_date(d) for d in workdays)
        self.years = frozenset(int(y) for y in years)
        clash = self.holidays & self.workdays
        if clash:
            day = min(clash).isoformat()
            raise CalendarError(
                f"补充日历文件把 {day} 同时列为节假日和工作日",
                f"the extra-days file lists {day} both as a holiday and as a working day",
            )
        self._cache: dict[dt.date, bool] = {}
        self._years: dict[int, list[int]] = {}

    @classmethod
    def from_file(cls, path: str | Path) -> WorkCalendar:
        """Load an extra-days file (YAML or JSON, see the module docstring)."""
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
            data: Any = json.loads(text) if p.suffix == ".json" else yamlsafe.load(text)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            raise CalendarError(
                f"无法读取补充日历文件 {p}：{exc}",
                f"cannot read the extra-days file {p}: {exc}",
            ) from exc
        if data is None:
            data = {}
        if not isinstance(data, dict) or set(data) - {"years", "holidays", "workdays"}:
            raise CalendarError(
                f"补充日历文件 {p} 只能包含 years、holidays、workdays 三个键",
                f"the extra-days file {p} may only hold the keys years, holidays, workdays",
            )
        return cls(
            holidays=data.get("holidays") or (),
            workdays=data.get("workdays") or (),
            years=data.get("years") or (),
        )

    @property
    def fingerprint(self) -> str:
        """Short digest of what decides a working day here: the chinesecalendar release
        and the extra days (stored derived facts of another calendar are not reused)."""
        parts = [
            getattr(chinese_calendar, "__version__", "?"),
            ",".join(sorted(d.isoformat() for d in self.holidays)),
            ",".join(sorted(d.isoformat() for d in self.workdays)),
            ",".join(str(y) for y in sorted(self.years)),
        ]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]

    def is_workday(self, day: dt.date | str) -> bool:
        """True when ``day`` is an official working day."""
        return self._workday(to_date(day))

    def _workday(self, d: dt.date) -> bool:
        cached = self._cache.get(d)
        if cached is not None:
            return cached
        if d in self.workdays:
            result = True
        elif d in self.holidays:
            result = False
        elif d.year in self.years:
            result = d.weekday() < 5
        else:
            try:
                result = bool(chinese_calendar.is_workday(d))
            except NotImplementedError as exc:
                raise CalendarYearUnknown(d.year) from exc
        self._cache[d] = result
        return result

    def add_workdays(self, start: dt.date | str, n: int) -> dt.date:
        """The ``n``-th working day after ``start`` (``n`` ≥ 0; 0 returns ``start``)."""
        if n < 0:
            raise CalendarError(
                "工作日数不能为负数", "the number of working days cannot be negative"
            )
        d = to_date(start)
        one = dt.timedelta(days=1)
        while n > 0:
            d += one
            if self._workday(d):
                n -= 1
        return d

    def workdays_between(self, start: dt.date | str, end: dt.date | str) -> int:
        """Working days in ``(start, end]``; negative when ``end`` is before ``start``."""
        a, b = to_date(start), to_date(end)
        if b < a:
            return -self.workdays_between(b, a)
        if a.year == b.year:
            return self._cumulative(b) - self._cumulative(a)
        count = self._year_total(a.year) - self._cumulative(a)
        for year in range(a.year + 1, b.year):
            count += self._year_total(year)
        return count + self._cumulative(b)

    def _year_counts(self, year: int) -> list[int]:
        # counts[i] = working days from 1 January to day-of-year i+1 inclusive; cached
        # per year so that spans of many years cost one lookup per year.
        counts = self._years.get(year)
        if counts is None:
            counts = []
            total = 0
            d = dt.date(year, 1, 1)
            while d.year == year:
                total += self._workday(d)
                counts.append(total)
                d += dt.timedelta(days=1)
            self._years[year] = counts
        return counts

    def _cumulative(self, d: dt.date) -> int:
        return self._year_counts(d.year)[d.timetuple().tm_yday - 1]

    def _year_total(self, year: int) -> int:
        return self._year_counts(year)[-1]


@lru_cache(maxsize=1)
def _package_calendar() -> WorkCalendar:
    return WorkCalendar()


@lru_cache(maxsize=4)
def _file_calendar(path: str, _version: tuple[int, int]) -> WorkCalendar:
    return WorkCalendar.from_file(path)


def _version(path: str) -> tuple[int, int]:
    """(mtime, size) of a file, so that a long-running process (the scheduler) reads
    an edited extra-days file again; (0, 0) when it cannot be read (``from_file`` says
    why)."""
    try:
        st = os.stat(path)
    except OSError:
        return (0, 0)
    return (st.st_mtime_ns, st.st_size)


_default: WorkCalendar | None = None


def default_calendar() -> WorkCalendar:
    """The process-wide calendar: the one set (``set_default_calendar``), else the
    extra-days file named by ``$SUPERVISION_CALENDAR_FILE``, else the package's."""
    if _default is not None:
        return _default
    path = settings().calendar_file
    return _file_calendar(path, _version(path)) if path else _package_calendar()


def calendar_from(path: str | Path | None = None) -> WorkCalendar:
    """The calendar a command was given: its extra-days file (``--calendar FILE``),
    else ``default_calendar()``. A file that cannot be read is a ``CalendarError``."""
    return WorkCalendar.from_file(path) if path else default_calendar()


def set_default_calendar(calendar: WorkCalendar | None) -> None:
    """Install a calendar built from an extra-days file for the whole process."""
    global _default
    _default = calendar


def is_workday(day: dt.date | str) -> bool:
    """True when ``day`` is an official working day (default calendar)."""
    return default_calendar().is_workday(day)


def add_workdays(start: dt.date | str, n: int) -> dt.date:
    """The ``n``-th official working day after ``start`` (default calendar)."""
    return default_calendar().add_workdays(start, n)


def workdays_between(start: dt.date | str, end: dt.date | str) -> int:
    """Official working days in ``(start, end]`` (default calendar)."""
    return default_calendar().workdays_between(start, end)

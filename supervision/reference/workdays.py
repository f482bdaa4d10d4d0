"""Official working days (工作日) of the People's Republic of China.

Deadlines such as "publish within 20 working days" follow the State Council's
holiday calendar, including adjusted working weekends (调休). The calendar comes
from the ``chinesecalendar`` package, which carries it year by year, corrected or
extended by an optional *extra-days file*.

Provisional years (暂定日历)
-----------------------------
A year after the last one the package knows, and not declared in the extra-days file,
is *provisional*: its 调休 arrangement is not announced yet. Its statutory holidays rest,
and ``add_workdays`` gives the earliest date the real arrangement could give
(``supervision.reference.provisional`` holds the statutory holidays, the windows where
make-up working weekends may fall, and the argument for that early bound).

``workdays_between`` in a provisional year counts the statutory holidays only (no
bridges, no make-up days): a provisional estimate of days left or over. Deadlines
computed through a provisional year are marked provisional wherever they are shown
(``provisional_years``); the marks vanish, and stored deadlines are recomputed, as soon
as the year is known (package upgrade or extra-days file): the calendar's
``fingerprint`` changes.

Extra-days file (YAML or JSON), given with ``--calendar FILE`` or for every command
through ``$SUPERVISION_CALENDAR_FILE`` (``calendar_from``, ``default_calendar``); also
written by ``supervision calendar import NOTICE.txt``::

    # Days listed here override the package; a year listed under ``years`` is
    # fully defined by this file (weekends are rest days unless listed as workdays).
    years: [2027]
    holidays: [2027-01-01, 2027-02-05]     # rest days (法定节假日及调休休息日)
    workdays: [2027-02-20]                 # adjusted working weekends (调休上班)

Rules (``calendar check FILE`` applies them): only these three keys; each a list;
dates as YYYY-MM-DD; when ``years`` is given every date lies in one of those years; no
day both a holiday and a workday; a workday must be a Saturday or Sunday.

Conventions: ``add_workdays(start, n)`` is the n-th working day *after* ``start``
(the start day itself is not counted, as in 行政许可法 style "自…之日起 N 个工作日"
counting from the next day); ``workdays_between(start, end)`` counts working days in
``(start, end]``, so ``workdays_between(d, add_workdays(d, n)) == n`` outside
provisional years.
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
import holidays as holidays_package
import yaml

from supervision import yamlsafe
from supervision.errors import SupervisionError
from supervision.reference.provisional import (
    MAKEUP_WINDOW,
    makeup_group,
    makeup_groups,
    statutory_holidays,
)
from supervision.settings import settings

__all__ = [
    "CALENDAR_ENV",
    "FILE_FORMAT_HELP",
    "CalendarError",
    "CalendarYearUnknown",
    "WorkCalendar",
    "add_workdays",
    "calendar_from",
    "default_calendar",
    "is_workday",
    "package_last_year",
    "set_default_calendar",
    "to_date",
    "workdays_between",
]


#: An extra-days file for every command of this process (and the processes it starts).
CALENDAR_ENV = "SUPERVISION_CALENDAR_FILE"

#: The extra-days file format, for --help texts (README carries the same); "\b" keeps click
#: from rewrapping the example.
FILE_FORMAT_HELP = """\b
补充日历文件 / extra-days file (YAML or JSON):
  years: [2027]                       # 这些年份完全由本文件决定 / years fully defined here
  holidays: [2027-01-01, 2027-02-05]  # 休息日 / days off
  workdays: [2027-02-20]              # 调休上班的周末 / weekends worked in lieu

\b
规则：只能有这三个键，每个都是列表；日期 YYYY-MM-DD；给出 years 时日期须在其中；
同一天不能既休又班；workdays 只能是周六或周日。
Rules: only these three keys, each a list; dates YYYY-MM-DD; with years, every date lies
in one of them; no day both a holiday and a workday; workdays only Saturdays or Sundays.
"""

_KEYS = ("years", "holidays", "workdays")


class CalendarError(SupervisionError):
    """A working-day calendar that cannot answer: a bad file, a bad date, a year it lacks."""


class CalendarYearUnknown(CalendarError):
    """The calendar of a year is not known (before the package's first year, no extra file)."""

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


def _package_years() -> tuple[int, int]:
    known = chinese_calendar.constants.holidays
    return min(known).year, max(known).year


def package_last_year() -> int:
    """The last year whose official arrangement the chinesecalendar package carries."""
    return _package_years()[1]


class WorkCalendar:
    """The official calendar, optionally extended or corrected by extra days; years after
    ``announced_until`` (default: the package's last year) not declared under ``years``
    are provisional (module docstring)."""

    def __init__(
        self,
        *,
        holidays: Iterable[dt.date | str] = (),
        workdays: Iterable[dt.date | str] = (),
        years: Iterable[int] = (),
        announced_until: int | None = None,
        source: str | None = None,
    ) -> None:
        self.holidays = frozenset(to_date(d) for d in holidays)
        self.workdays = frozenset(to_date(d) for d in workdays)
        self.years = frozenset(int(y) for y in years)
        self.source = source
        first, last = _package_years()
        self.first_year = first
        self.announced_until = last if announced_until is None else announced_until
        clash = self.holidays & self.workdays
        if clash:
            day = min(clash).isoformat()
            where = f" {source}" if source else ""
            raise CalendarError(
                f"补充日历文件{where}把 {day} 同时列为节假日（holidays）和工作日（workdays）",
                f"the extra-days file{where} lists {day} both under holidays and under workdays",
            )
        self._cache: dict[dt.date, bool] = {}
        self._years: dict[int, list[int]] = {}

    @classmethod
    def from_file(cls, path: str | Path, *, announced_until: int | None = None) -> WorkCalendar:
        """Load an extra-days file (YAML or JSON, see the module docstring); every rule
        broken is a ``CalendarError`` naming the file, key and value."""
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
            data: Any = (
                json.loads(text) if p.suffix == ".json" else yamlsafe.load(text, loader=_Loader)
            )
        except (OSError, ValueError, yaml.YAMLError) as exc:
            raise CalendarError(
                f"无法读取补充日历文件 {p}：{exc}",
                f"cannot read the extra-days file {p}: {exc}",
            ) from exc
        return cls.from_data(data, source=str(p), announced_until=announced_until)

    @classmethod
    def from_data(
        cls, data: Any, *, source: str, announced_until: int | None = None
    ) -> WorkCalendar:
        """Validate the parsed content of an extra-days file (``source`` names it)."""
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise _file_error(
                source,
                None,
                data,
                "应为映射（years/holidays/workdays）",
                "must be a mapping (years/holidays/workdays)",
            )
        unknown = [k for k in data if k not in _KEYS]
        if unknown:
            raise _file_error(
                source,
                str(unknown[0]),
                data[unknown[0]],
                "是未知的键；只能包含 years、holidays、workdays",
                "is not a known key; only years, holidays, workdays are allowed",
            )
        lists: dict[str, list[Any]] = {}
        for key in _KEYS:
            value = data.get(key)
            if value is None:
                lists[key] = []
            elif isinstance(value, list):
                lists[key] = value
            else:
                example = "[2027]" if key == "years" else "[2027-01-01]"
                raise _file_error(
                    source, key, value, f"应为列表，如 {example}", f"must be a list, e.g. {example}"
                )
        years: list[int] = []
        for value in lists["years"]:
            if isinstance(value, bool) or not isinstance(value, int) or not 1900 <= value <= 2200:
                raise _file_error(source, "years", value, "不是年份", "is not a year")
            years.append(value)
        days: dict[str, list[dt.date]] = {"holidays": [], "workdays": []}
        for key in ("holidays", "workdays"):
            for value in lists[key]:
                try:
                    day = to_date(value)
                except CalendarError:
                    raise _file_error(
                        source, key, value, "不是 YYYY-MM-DD 日期", "is not a YYYY-MM-DD date"
                    ) from None
                if years and day.year not in years:
                    raise _file_error(
                        source,
                        key,
                        value,
                        f"不在声明的年份 {sorted(years)} 之内",
                        f"is outside the declared years {sorted(years)}",
                    )
                if key == "workdays" and day.weekday() < 5:
                    raise _file_error(
                        source,
                        key,
                        value,
                        "是周一至周五，本来就是工作日；workdays 只列调休上班的周六周日",
                        "is a Monday–Friday, a working day anyway; workdays lists only "
                        "Saturdays and Sundays worked in lieu",
                    )
                days[key].append(day)
        return cls(
            holidays=days["holidays"],
            workdays=days["workdays"],
            years=years,
            announced_until=announced_until,
            source=source,
        )

    @property
    def fingerprint(self) -> str:
        """Short digest of what decides a working day here: the chinesecalendar and holidays
        releases, the last announced year and the extra days (stored derived facts of
        another calendar are not reused; a year that stops being provisional changes it)."""
        parts = [
            getattr(chinese_calendar, "__version__", "?"),
            getattr(holidays_package, "__version__", "?"),
            str(self.announced_until),
            ",".join(sorted(d.isoformat() for d in self.holidays)),
            ",".join(sorted(d.isoformat() for d in self.workdays)),
            ",".join(str(y) for y in sorted(self.years)),
        ]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]

    def is_provisional(self, year: int) -> bool:
        """True when ``year``'s 调休 arrangement is not known here (module docstring)."""
        return year > self.announced_until and year not in self.years

    def provisional_years(self, *spans: tuple[dt.date | str, dt.date | str]) -> list[int]:
        """The provisional years touched by the given (start, end) spans, sorted."""
        found: set[int] = set()
        for a, b in spans:
            first, last = sorted((to_date(a), to_date(b)))
            found.update(y for y in range(first.year, last.year + 1) if self.is_provisional(y))
            # Late December may still change with next year's notice (``_makeup_candidate``).
            late = dt.date(last.year, 12, 31) - dt.timedelta(days=MAKEUP_WINDOW)
            if last >= late and last.year not in self.years and self.is_provisional(last.year + 1):
                found.add(last.year + 1)
        return sorted(found)

    def source_of(self, day: dt.date | str) -> str:
        """Where the answer for ``day`` comes from: "file", "package" or "provisional"."""
        d = to_date(day)
        if d in self.workdays or d in self.holidays or d.year in self.years:
            return "file"
        return "provisional" if self.is_provisional(d.year) else "package"

    def year_days(self, year: int) -> list[dict[str, Any]]:
        """The days of ``year`` that differ from an ordinary week (rest days on Monday–Friday,
        days worked on a weekend, and declared or statutory holidays), each with its kind
        ("holiday"/"workday") and its source ("package", "file", "provisional")."""
        days: list[dict[str, Any]] = []
        statutory = statutory_holidays(year) if self.is_provisional(year) else frozenset()
        d = dt.date(year, 1, 1)
        while d.year == year:
            work = self._workday(d)
            weekend = d.weekday() >= 5
            listed = d in self.holidays or d in statutory
            if (work and weekend) or (not work and (not weekend or listed)):
                days.append(
                    {
                        "date": d.isoformat(),
                        "weekday": d.isoweekday(),
                        "kind": "workday" if work else "holiday",
                        "source": self.source_of(d),
                    }
                )
            d += dt.timedelta(days=1)
        return days

    def makeup_windows(self, year: int) -> list[tuple[dt.date, dt.date]]:
        """For a provisional year: the windows whose weekends may yet become make-up working
        days (the early bound counts them, at most 2 per festival cluster)."""
        if not self.is_provisional(year):
            return []
        return [(lo, hi) for lo, hi, _ in makeup_groups(year) if lo.year <= year <= hi.year]

    def is_workday(self, day: dt.date | str) -> bool:
        """True when ``day`` is an official working day (a provisional year: statutory
        holidays and weekends rest, no 调休)."""
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
        elif self.is_provisional(d.year):
            result = d.weekday() < 5 and d not in statutory_holidays(d.year)
        else:
            try:
                result = bool(chinese_calendar.is_workday(d))
            except NotImplementedError as exc:
                raise CalendarYearUnknown(d.year) from exc
        self._cache[d] = result
        return result

    def _makeup_candidate(self, d: dt.date) -> tuple[dt.date, int] | None:
        """The make-up group (key, budget) of a provisional weekend day that could be worked."""
        if d.weekday() < 5 or d in self.holidays or d in self.workdays:
            return None
        if self.is_provisional(d.year):
            year = d.year
        elif d.month == 12 and d.year not in self.years and self.is_provisional(d.year + 1):
            # Next year's notice may put a make-up day for 元旦 into late December (the
            # 2019 notice made Saturday 2018-12-29 a working day).
            year = d.year + 1
        else:
            return None
        return makeup_group(d, year)

    def add_workdays(self, start: dt.date | str, n: int) -> dt.date:
        """The ``n``-th working day after ``start`` (``n`` ≥ 0; 0 returns ``start``); in a
        provisional year the earliest the real arrangement could give."""
        if n < 0:
            raise CalendarError(
                "工作日数不能为负数", "the number of working days cannot be negative"
            )
        d = to_date(start)
        one = dt.timedelta(days=1)
        used: dict[dt.date, int] = {}
        while n > 0:
            d += one
            if self._workday(d):
                n -= 1
                continue
            group = self._makeup_candidate(d)
            if group is not None and used.get(group[0], 0) < group[1]:
                used[group[0]] = used.get(group[0], 0) + 1
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


class _Loader(yaml.SafeLoader):
    """YAML without its timestamp type: a date stays text until ``to_date`` reads it, so a
    wrong one (2027-13-01) is reported with its key, not as a parser failure."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _show(value: Any) -> str:
    """A value of the file as its author wrote it: 2027-01-01, [2027], holiday."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    return str(value)


def _file_error(source: str, key: str | None, value: Any, zh: str, en: str) -> CalendarError:
    """A bad extra-days file, naming the file, the key and the value."""
    shown = _show(value)
    if key is None:
        return CalendarError(
            f"补充日历文件 {source} 的内容 {shown} {zh}",
            f"the extra-days file {source}: its content {shown} {en}",
            details=[f"file={source}"],
        )
    return CalendarError(
        f"补充日历文件 {source}：键 {key} 的值 {shown} {zh}",
        f"the extra-days file {source}: key {key}, value {shown} {en}",
        details=[f"file={source}", f"key={key}", f"value={shown}"],
    )

"""Deadline arithmetic by the official calendar, checked against dates counted by hand."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from supervision.reference.workdays import (
    CALENDAR_ENV,
    CalendarYearUnknown,
    WorkCalendar,
    calendar_from,
    default_calendar,
)
from supervision.results.deadlines import publication_due, standing


def test_national_day_2025() -> None:
    # Inspection ended Fri 2025-09-26. Counting working days from the next day:
    #  Sun 09-28 (调休 working Sunday) 1, Mon 09-29 2, Tue 09-30 3,
    #  10-01 … 10-08 holiday (国庆节、中秋节),
    #  Thu 10-09 4, Fri 10-10 5, Sat 10-11 (调休 working Saturday) 6,
    #  10-13 … 10-17 7–11, 10-20 … 10-24 12–16, Mon 10-27 17, 10-28 18, 10-29 19,
    #  Thu 10-30 20.
    assert publication_due(date(2025, 9, 26)) == date(2025, 10, 30)


def test_spring_festival_2025() -> None:
    # Ended Fri 2025-01-24: Sun 01-26 (调休) 1, Mon 01-27 2, 01-28 … 02-04 holiday,
    #  Wed 02-05 3, 02-06 4, 02-07 5, Sat 02-08 (调休) 6, 02-10 … 02-14 7–11,
    #  02-17 … 02-21 12–16, 02-24 17, 02-25 18, 02-26 19, Thu 02-27 20.
    assert publication_due(date(2025, 1, 24)) == date(2025, 2, 27)


def test_spring_festival_2026() -> None:
    # Ended Fri 2026-02-13: Sat 02-14 (调休) 1, 02-15 … 02-23 holiday,
    #  Tue 02-24 2, 02-25 3, 02-26 4, 02-27 5, Sat 02-28 (调休) 6,
    #  03-02 … 03-06 7–11, 03-09 … 03-13 12–16, 03-16 17, 03-17 18, 03-18 19,
    #  Thu 03-19 20.
    assert publication_due(date(2026, 2, 13)) == date(2026, 3, 19)


def test_national_day_2026() -> None:
    # Ended Fri 2026-09-25: Mon 09-28 1, 09-29 2, 09-30 3, 10-01 … 10-07 holiday,
    #  Thu 10-08 4, Fri 10-09 5, Sat 10-10 (调休) 6, 10-12 … 10-16 7–11,
    #  10-19 … 10-23 12–16, 10-26 17, 10-27 18, 10-28 19, Thu 10-29 20.
    assert publication_due(date(2026, 9, 25)) == date(2026, 10, 29)


def test_standing_left_and_over() -> None:
    due = date(2025, 10, 30)
    # From Thu 10-09: 10-10, 10-11 (调休), 10-13…10-17 (5), 10-20…10-24 (5), 10-27…10-30 (4)
    # = 2 + 5 + 5 + 4 = 16 working days left.
    s = standing(due, date(2025, 10, 9))
    assert (s.overdue, s.days_left, s.days_over) == (False, 16, 0)
    assert standing(due, due).days_left == 0 and not standing(due, due).overdue
    # Over on Mon 11-03: 10-31 (Fri) and 11-03 (Mon) → 2 working days over.
    s = standing(due, date(2025, 11, 3))
    assert (s.overdue, s.days_left, s.days_over) == (True, 0, 2)


def test_a_year_outside_the_calendar_says_how_to_fix_it() -> None:
    with pytest.raises(CalendarYearUnknown) as error:
        publication_due(date(2003, 12, 20))  # before the package's first year
    text = str(error.value) + "\n".join(error.value.details)
    assert "2003" in error.value.zh and "chinesecalendar" in error.value.zh
    assert "pip install -U chinesecalendar" in text
    assert "--calendar" in text and "SUPERVISION_CALENDAR_FILE" in text


def test_an_extra_days_file_supplies_the_year(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = tmp_path / "2031.yaml"
    extra.write_text("years: [2031]\nholidays: [2031-12-25]\nworkdays: [2031-12-27]\n")
    cal = WorkCalendar.from_file(extra)
    # Ended Fri 2031-12-19: 12-22 … 12-24 1–3, Thu 12-25 declared holiday, Fri 12-26 4,
    #  Sat 12-27 declared working day 5, 12-29 6, 12-30 7, 12-31 8; 2032 needs the
    #  package or the file → unknown; so ask only for 8 days' worth via standing().
    assert standing(date(2031, 12, 31), date(2031, 12, 19), cal).days_left == 8
    monkeypatch.setenv("SUPERVISION_CALENDAR_FILE", str(extra))
    assert calendar_from().is_workday(date(2031, 12, 27))
    assert not calendar_from(None).is_workday(date(2031, 12, 25))


def test_the_environments_calendar_file_is_read_again_once_edited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long-running process (the scheduler) sees a corrected extra-days file."""
    extra = tmp_path / "extra.yaml"
    extra.write_text("years: [2031]\n")
    monkeypatch.setenv(CALENDAR_ENV, str(extra))
    assert default_calendar().is_workday(date(2031, 12, 25))
    extra.write_text("years: [2031]\nholidays: [2031-12-25]\n")
    assert not default_calendar().is_workday(date(2031, 12, 25))
    assert not calendar_from().is_workday(date(2031, 12, 25))

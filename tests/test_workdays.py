"""Official working days, checked against dates worked out by hand."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from supervision.errors import SupervisionError
from supervision.reference.workdays import (
    CalendarYearUnknown,
    WorkCalendar,
    add_workdays,
    is_workday,
    to_date,
    workdays_between,
)

D = dt.date


def test_national_day_2025_and_adjusted_weekends() -> None:
    # 2025 National Day + Mid-Autumn: rest Wed 1 Oct – Wed 8 Oct; 调休 working days
    # Sun 28 Sep and Sat 11 Oct.
    assert is_workday(D(2025, 9, 28))  # Sunday, worked
    assert is_workday(D(2025, 10, 11))  # Saturday, worked
    assert not is_workday(D(2025, 10, 1))
    assert not is_workday(D(2025, 10, 8))  # Wednesday, holiday
    assert not is_workday(D(2025, 9, 27))  # ordinary Saturday
    # Fri 26 Sep + 1 → Sat 27 rest, Sun 28 worked → 28 Sep.
    assert add_workdays(D(2025, 9, 26), 1) == D(2025, 9, 28)
    # Tue 30 Sep + 1 → 1–8 Oct holidays → Thu 9 Oct; +3 → Sat 11 Oct (调休);
    # +4 → Sun 12 rest → Mon 13 Oct.
    assert add_workdays(D(2025, 9, 30), 1) == D(2025, 10, 9)
    assert add_workdays(D(2025, 9, 30), 3) == D(2025, 10, 11)
    assert add_workdays(D(2025, 9, 30), 4) == D(2025, 10, 13)
    # 20 working days from Sat 20 Sep 2025, by hand:
    # 22,23,24,25,26 Sep (5), Sun 28 (6), 29, 30 (8), 9, 10 Oct (10), Sat 11 (11),
    # 13,14,15,16,17 (16), 20,21,22,23 (20) → Thu 23 Oct 2025.
    assert add_workdays(D(2025, 9, 20), 20) == D(2025, 10, 23)
    # (26 Sep, 13 Oct]: 28, 29, 30 Sep, 9, 10, 11, 13 Oct → 7.
    assert workdays_between(D(2025, 9, 26), D(2025, 10, 13)) == 7


def test_spring_festival_2026() -> None:
    # 2026 Spring Festival: rest Sun 15 Feb – Mon 23 Feb; 调休 working Sat 14 Feb and Sat 28 Feb.
    assert is_workday(D(2026, 2, 14)) and is_workday(D(2026, 2, 28))
    assert not any(is_workday(D(2026, 2, d)) for d in range(15, 24))
    # 20 working days from Tue 10 Feb 2026, by hand:
    # 11, 12, 13 (3), Sat 14 (4), [15–23 holiday], 24, 25, 26, 27 (8), Sat 28 (9),
    # 2–6 Mar (14), 9–13 Mar (19), Mon 16 Mar (20) → 16 Mar 2026.
    assert add_workdays(D(2026, 2, 10), 20) == D(2026, 3, 16)
    assert workdays_between(D(2026, 2, 10), D(2026, 3, 16)) == 20
    # Across the year end: (31 Dec 2025, 5 Jan 2026]: 1–3 Jan holiday, Sun 4 Jan worked, Mon 5 → 2.
    assert workdays_between(D(2025, 12, 31), D(2026, 1, 5)) == 2


def test_between_is_inverse_of_add_and_antisymmetric() -> None:
    start = D(2025, 1, 20)
    for n in (0, 1, 7, 20, 250, 400):
        end = add_workdays(start, n)
        assert workdays_between(start, end) == n
        assert workdays_between(end, start) == -n


def test_unknown_year_gives_a_clear_bilingual_error() -> None:
    # Years after the package's last one are provisional; one before its first is unknown.
    with pytest.raises(CalendarYearUnknown) as info:
        add_workdays(D(2003, 1, 2), 5)
    error = info.value
    assert isinstance(error, SupervisionError)
    assert error.year == 2003
    assert "2003" in error.zh and "chinesecalendar" in error.zh and "补充文件" in error.zh
    assert "upgrade the chinesecalendar package" in error.en and "extra-days file" in error.en
    assert str(error).index("工作日历") < str(error).index("working-day")  # Chinese first


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_extra_days_file(tmp_path: Path, suffix: str) -> None:
    data = {
        "years": [2099],
        "holidays": ["2099-01-01", "2099-01-02"],  # Thu, Fri
        "workdays": ["2099-01-03"],  # Sat, 调休
    }
    path = tmp_path / f"extra{suffix}"
    path.write_text(json.dumps(data), encoding="utf-8")  # JSON is valid YAML too
    cal = WorkCalendar.from_file(path)
    assert not cal.is_workday(D(2099, 1, 1))
    assert cal.is_workday(D(2099, 1, 3))
    assert not cal.is_workday(D(2099, 1, 4))  # ordinary Sunday of a declared year
    # From Thu 1 Jan 2099: Fri 2 holiday, Sat 3 worked (1), Sun 4 rest, Mon 5 (2), Tue 6 (3).
    assert cal.add_workdays(D(2099, 1, 1), 3) == D(2099, 1, 6)
    # Days of known years can be corrected too: make a known working day a holiday.
    fix = tmp_path / "fix.yaml"
    fix.write_text("holidays: [2025-10-09]\n", encoding="utf-8")
    assert WorkCalendar.from_file(fix).add_workdays(D(2025, 9, 30), 1) == D(2025, 10, 10)
    # A year neither the package nor the file covers is provisional, or fails clearly.
    assert cal.is_provisional(2098) and not cal.is_provisional(2099)
    with pytest.raises(CalendarYearUnknown):
        cal.is_workday(D(2003, 6, 1))


def test_bad_extra_days_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("holiday: [2099-01-01]\n", encoding="utf-8")
    with pytest.raises(SupervisionError, match="holiday"):
        WorkCalendar.from_file(bad)
    clash = tmp_path / "clash.yaml"
    clash.write_text("holidays: [2099-01-01]\nworkdays: [2099-01-01]\n", encoding="utf-8")
    with pytest.raises(SupervisionError, match="2099-01-01"):
        WorkCalendar.from_file(clash)


def test_to_date_accepts_iso_strings_and_rejects_garbage() -> None:
    assert to_date("2025-10-01") == D(2025, 10, 1)
    assert to_date(dt.datetime(2025, 10, 1, 8, 0)) == D(2025, 10, 1)
    with pytest.raises(SupervisionError):
        to_date("yesterday")

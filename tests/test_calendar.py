"""The calendar of a year not yet announced, the State Council's notice as input, and
extra-days files that are wrong: early bounds against real years, the parser against
ten real notices, every bad file a clear error."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import chinese_calendar
import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from supervision.cli import main
from supervision.errors import SupervisionError
from supervision.reference.notice import merge_notice, parse_notice
from supervision.reference.provisional import statutory_holidays
from supervision.reference.workdays import CalendarError, WorkCalendar, default_calendar

D = dt.date
NOTICES = Path(__file__).parent / "fixtures" / "notices"
OFFICIAL = WorkCalendar()


def run(*args: str, expect: int = 0) -> Result:
    result = CliRunner().invoke(main, [*map(str, args)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == expect, result.output
    return result


# ---------------------------------------------------------------- provisional years


def _official_add(start: D, n: int) -> D | None:
    try:
        return OFFICIAL.add_workdays(start, n)
    except SupervisionError:
        return None  # beyond the package (2027): no official answer to compare with


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_early_bound_is_never_later_and_close_on_average(year: int) -> None:
    """Pretend the package stopped at 2023: 2024–2026 become provisional; for every start
    day and n in {5, 10, 20} the early bound is never later than the real answer, and
    within 2 days of it on average."""
    early = WorkCalendar(announced_until=2023)
    assert early.is_provisional(year)
    gaps = []
    day = D(year, 1, 1)
    while day.year == year:
        for n in (5, 10, 20):
            official = _official_add(day, n)
            if official is None:
                continue
            bound = early.add_workdays(day, n)
            assert bound <= official, (day, n, bound, official)
            gaps.append((official - bound).days)
        day += dt.timedelta(days=1)
    assert sum(gaps) / len(gaps) <= 2.0


def test_the_bounds_premises_hold_for_2011_to_2026() -> None:
    """Statutory days (holidays package) are always rest days; each make-up working
    weekend lies within 10 days of one (module docstring of workdays)."""
    for year in range(2011, 2027):
        statutory = statutory_holidays(year)
        assert not any(chinese_calendar.is_workday(d) for d in statutory), year
        near = statutory | statutory_holidays(year - 1) | statutory_holidays(year + 1)
        for d in (d for d in chinese_calendar.workdays if d.year == year):
            assert min(abs((d - s).days) for s in near) <= 10, d


@settings(max_examples=200, deadline=None)
@given(start=st.dates(D(2027, 1, 1), D(2028, 12, 31)), n=st.integers(0, 60))
def test_provisional_arithmetic_is_monotonic(start: D, n: int) -> None:
    cal = default_calendar()
    assert cal.is_provisional(2027)
    due = cal.add_workdays(start, n)
    assert due >= start and cal.add_workdays(start, n + 1) > due
    years = cal.provisional_years((start, due))
    assert {start.year, due.year} <= set(years) <= {start.year, due.year, due.year + 1}


def test_2027_is_provisional_and_a_file_makes_it_official(tmp_path: Path) -> None:
    cal = default_calendar()
    # Spring festival 2027 (holidays package): 5–10 Feb rest (eve, festival, law's make-up
    # rest days for the weekend); the early bound may count weekends near it as worked.
    assert not cal.is_workday(D(2027, 2, 5)) and not cal.is_workday(D(2027, 2, 9))
    assert cal.source_of(D(2027, 2, 5)) == "provisional"
    # Fri 29 Jan 2027 + 5: the weekends 30/31 Jan count (budget 2), 1–4 Feb → 3 Feb.
    assert cal.add_workdays(D(2027, 1, 29), 5) == D(2027, 2, 3)
    extra = tmp_path / "2027.yaml"
    extra.write_text("years: [2027]\nholidays: [2027-02-05, 2027-02-08]\n", encoding="utf-8")
    announced = WorkCalendar.from_file(extra)
    assert (
        not announced.is_provisional(2027)
        and announced.provisional_years((D(2026, 12, 1), D(2027, 3, 1))) == []
    )
    assert announced.add_workdays(D(2027, 1, 29), 5) == D(2027, 2, 9)
    assert announced.fingerprint != cal.fingerprint


# ---------------------------------------------------------------- the notice


@pytest.mark.parametrize("year", range(2017, 2027))
def test_the_real_notices_agree_with_chinesecalendar_day_by_day(year: int) -> None:
    notice = parse_notice((NOTICES / f"{year}.txt").read_text(encoding="utf-8"))
    assert notice.year == year
    rest, work = set(notice.holidays), set(notice.workdays)
    # 元旦 of the next year sometimes begins in this one (2019's notice: 2018-12-29…31).
    nxt = NOTICES / f"{year + 1}.txt"
    if nxt.exists():
        following = parse_notice(nxt.read_text(encoding="utf-8"))
        rest |= {d for d in following.holidays if d.year == year}
        work |= {d for d in following.workdays if d.year == year}
    day = D(year, 1, 1)
    while day.year == year:
        ours = day in work or (day.weekday() < 5 and day not in rest)
        assert ours == chinese_calendar.is_workday(day), day
        day += dt.timedelta(days=1)
    # And the file written from it gives the same calendar.
    data, _ = merge_notice(None, notice)
    from_file = WorkCalendar.from_data(yaml.safe_load(yaml.safe_dump(data)), source="x")
    assert all(
        from_file.is_workday(d) == chinese_calendar.is_workday(d)
        for d in (D(year, 1, 1) + dt.timedelta(days=k) for k in range(365))
        if d.year == year and d.month < 12
    )


@pytest.mark.parametrize(
    ("line", "names"),
    [
        ("三、清明节：4月4日至6日放假调休，共4天。", "共4天"),
        ("三、清明节：4月4日（周一）至6日放假。", "周一"),
        ("三、清明节：4月4日至6日放个长假。", "放个长假"),
        ("三、清明节：4月31日放假。", "4月31日"),
    ],
)
def test_a_sentence_that_does_not_parse_is_refused_with_its_line(line: str, names: str) -> None:
    text = "国务院办公厅关于2026年部分节假日安排的通知\n\n一、元旦：1月1日（周四）放假。\n" + line
    with pytest.raises(CalendarError) as info:
        parse_notice(text, source="n.txt")
    error = info.value
    assert "n.txt 第 4 行" in error.zh and "line 4" in error.en
    assert names in error.zh + "".join(error.details)


def test_calendar_import_writes_the_file_and_refuses_without_touching_it(tmp_path: Path) -> None:
    out = tmp_path / "extra.yaml"
    result = run("calendar", "import", NOTICES / "2026.txt", "--output", out)
    assert "2026-02-15–02-23" in result.output and "2026-09-20" in result.output
    cal = WorkCalendar.from_file(out)
    assert cal.years == {2026} and cal.is_workday(D(2026, 2, 28))
    # Importing 2019's notice adds that year; its days in 2018 are named, not written.
    result = run("calendar", "import", NOTICES / "2019.txt", "--output", out)
    assert "2018-12-31" in result.output
    assert WorkCalendar.from_file(out).years == {2019, 2026}
    before = out.read_bytes()
    bad = tmp_path / "bad.txt"
    bad.write_text(
        "国务院办公厅关于2027年部分节假日安排的通知\n一、元旦：1月1日（周五）放假，共2天。\n",
        encoding="utf-8",
    )
    result = run("calendar", "import", bad, "--output", out, expect=1)
    assert "第 2 行" in result.output and "Traceback" not in result.output
    assert out.read_bytes() == before


def test_calendar_show_names_the_source(tmp_path: Path) -> None:
    result = run("calendar", "show", "2027", "--json")

    data = json.loads(result.output)
    assert data["provisional"] is True
    assert {d["source"] for d in data["days"]} == {"provisional"}
    assert "2027-02-05" in {d["date"] for d in data["days"]}
    assert data["makeup_windows"]
    text = run("calendar", "show", "2027").output
    assert "provisional" in text and "2027-01-26" in text
    official = json.loads(run("calendar", "show", "2026", "--json").output)
    assert official["provisional"] is False
    assert {"date": "2026-02-28", "weekday": 6, "kind": "workday", "source": "package"} in (
        official["days"]
    )
    out = tmp_path / "2027.yaml"
    out.write_text("years: [2027]\nholidays: [2027-02-08]\nworkdays: [2027-02-20]\n")
    mine = json.loads(run("calendar", "show", "2027", "--calendar", out, "--json").output)
    assert mine["provisional"] is False
    assert {d["source"] for d in mine["days"]} == {"file"}


# ---------------------------------------------------------------- bad files

BAD_FILES = [
    ("years: 2027\n", "years", "2027"),
    ("years: [2027]\nholidays: 2027-01-01\n", "holidays", "2027-01-01"),
    ("years: [2027]\nholiday: [2027-01-01]\n", "holiday", "2027-01-01"),
    ("years: [2027]\nholidays: [2026-12-31]\n", "holidays", "2026-12-31"),
    ("years: [2027]\nholidays: [2027-01-02]\nworkdays: [2027-01-02]\n", "workdays", "2027-01-02"),
    ("years: [2027]\nworkdays: [2027-01-04]\n", "workdays", "2027-01-04"),
    ("years: [2027]\nholidays: [2027-13-01]\n", "holidays", "2027-13-01"),
    ("- 2027-01-01\n", None, "2027-01-01"),
]


@pytest.mark.parametrize(("content", "key", "value"), BAD_FILES)
def test_each_bad_file_is_a_clear_error(
    tmp_path: Path, content: str, key: str | None, value: str
) -> None:
    path = tmp_path / "extra.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CalendarError) as info:
        WorkCalendar.from_file(path)
    error = info.value
    assert str(path) in error.zh and str(path) in error.en
    if key is not None:
        assert key in error.zh and key in error.en
    assert value in error.zh and value in error.en
    # The same through the command line: the message, no traceback, exit 1.
    result = run("calendar", "check", path, expect=1)
    assert result.output.index("错误") < result.output.index("Error")
    assert str(path) in result.output and value in result.output
    assert "Traceback" not in result.output


def test_a_good_file_passes_check(tmp_path: Path) -> None:
    path = tmp_path / "extra.yaml"
    path.write_text("years: [2027]\nholidays: [2027-02-05]\nworkdays: [2027-02-20]\n")
    assert "文件有效" in run("calendar", "check", path).output


def test_late_december_of_the_last_announced_year_may_still_change() -> None:
    """2027's notice may make a weekend of late December 2026 a make-up day for 元旦 (as the
    2019 notice did with 2018-12-29): the early bound counts it, and the deadline is marked."""
    cal = default_calendar()
    assert not cal.is_workday(D(2026, 12, 26))  # an ordinary Saturday in the package
    # Thu 24 Dec + 2: Fri 25 (1), Sat 26 possibly worked (2).
    assert cal.add_workdays(D(2026, 12, 24), 2) == D(2026, 12, 26)
    assert cal.provisional_years((D(2026, 12, 1), D(2026, 12, 28))) == [2027]
    assert cal.provisional_years((D(2026, 11, 2), D(2026, 11, 30))) == []


def test_calendar_import_writes_the_environments_file_or_asks_for_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SUPERVISION_CALENDAR_FILE", raising=False)
    result = run("calendar", "import", NOTICES / "2025.txt", expect=1)
    assert "--output" in result.output and "SUPERVISION_CALENDAR_FILE" in result.output
    target = tmp_path / "env.yaml"
    target.write_text("years: 2025\n", encoding="utf-8")  # a bad file is not overwritten
    monkeypatch.setenv("SUPERVISION_CALENDAR_FILE", str(target))
    result = run("calendar", "import", NOTICES / "2025.txt", expect=1)
    assert str(target) in result.output and target.read_text("utf-8") == "years: 2025\n"
    target.unlink()
    run("calendar", "import", NOTICES / "2025.txt")
    assert WorkCalendar.from_file(target).years == {2025}

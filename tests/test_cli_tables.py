"""Tables for people: identifiers (USCCs, task and item codes) are never cut or wrapped."""

from __future__ import annotations

import re
import sys

import pytest
from rich.cells import cell_len

from supervision.cli.context import emit_table

USCC = "91150502MA0N1XYZ3K"
TASK = "蒙市监抽查〔2026〕3号"
COLUMNS = ["编号 / id", "严重 / severity", "问题 / finding", "统一社会信用代码 / USCC",
           "名称 / name", "任务 / task"]  # fmt: skip
ROW = ("12345", "严重 critical", "2021—2025 年度年报均未报送；2022-07-11 列入经营异常名录，已满 3 年",
       USCC, "内蒙古某某某某某某科技有限公司 [bold]x[/bold]", TASK)  # fmt: skip


def test_piped_tables_are_tab_separated_and_whole(capsys: pytest.CaptureFixture[str]) -> None:
    emit_table("标题 / title", COLUMNS, [ROW])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "标题 / title"
    assert lines[1].split("\t") == COLUMNS
    assert lines[2].split("\t") == list(ROW)


@pytest.mark.parametrize("width", [80, 120, 200])
def test_on_a_terminal_identifiers_stay_whole(
    width: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setenv("COLUMNS", str(width))
    monkeypatch.delenv("NO_COLOR", raising=False)
    emit_table("标题 / title", COLUMNS, [ROW, ROW])
    out = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)
    lines = out.splitlines()
    # Never wider than the terminal (a CJK character takes two cells).
    assert all(cell_len(line) <= width for line in lines), out
    for identifier in (USCC, TASK, "12345"):
        assert any(identifier in line for line in lines), (identifier, out)
    assert "[bold]" in out  # values are text, not rich markup


def test_times_are_shown_in_beijing_time_in_one_format() -> None:
    from datetime import UTC, datetime

    from supervision import clock
    from supervision.console.pages import local_time

    moment = datetime(2026, 7, 2, 18, 30, tzinfo=UTC)
    assert clock.shown(moment) == "2026-07-03 02:30"  # past midnight in Beijing
    assert clock.shown(moment.isoformat()) == "2026-07-03 02:30"
    assert clock.shown("2026-07-02T18:30:00") == "2026-07-03 02:30"  # stored naive = UTC
    assert clock.shown("not a time") == "not a time"
    assert local_time(moment) == clock.shown(moment)  # the console's filter is the same

"""`supervision calendar`: the working-day calendar, its extra-days file and the notice."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Any

import click
import yaml

from supervision.cli.context import CALENDAR_OPTION, JSON_OPTION, emit_json, emit_table
from supervision.reference.notice import merge_notice, parse_notice
from supervision.reference.workdays import (
    FILE_FORMAT_HELP,
    CalendarError,
    WorkCalendar,
    calendar_from,
)
from supervision.settings import settings

_WEEKDAY = "一二三四五六日"
_KIND = {"holiday": "休 rest", "workday": "班 work"}
_SOURCE = {
    "package": "包 package (chinesecalendar)",
    "file": "文件 file",
    "provisional": "暂定 provisional (holidays)",
}


@click.group(
    "calendar",
    help="工作日历 / the working-day calendar.\n\n\b\n"
    "包中尚无的年份为暂定：法定节假日（holidays 包），期限取最早可能日期；通知公布后用 import 读入。\n"
    "A year the package does not know yet is provisional (statutory holidays; deadlines take\n"
    "the earliest possible date) until its notice is imported.\n\n" + FILE_FORMAT_HELP,
)
def calendar_group() -> None:
    pass


@calendar_group.command("import")
@click.argument("notice", type=click.Path(dir_okay=False))
@click.option(
    "--year", type=int, default=None, help="年份（默认取通知标题）/ year (default: title)"
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="写入的补充日历文件（默认 SUPERVISION_CALENDAR_FILE）/ extra-days file to write "
    "(default SUPERVISION_CALENDAR_FILE)",
)
def import_command(notice: str, year: int | None, output: str | None) -> None:
    """读入国务院办公厅放假安排通知的正文，写入补充日历文件 / read the text of the State
    Council's holiday notice (《国务院办公厅关于YYYY年部分节假日安排的通知》) into the
    extra-days file.

    \b
    每一条“一、元旦：…”都必须读懂，否则指出行号并拒绝，文件不变。
    Every numbered item must be understood, else the line is named and nothing is written.
    文件中该年已有的日期被通知替换 / the year's days already in the file are replaced.
    """
    target = output or settings().calendar_file
    if not target:
        raise CalendarError(
            "请用 --output 指定补充日历文件，或设置 SUPERVISION_CALENDAR_FILE",
            "give the extra-days file with --output, or set SUPERVISION_CALENDAR_FILE",
        )
    path = Path(notice)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CalendarError(
            f"无法读取通知文件 {path}：{exc}", f"cannot read the notice file {path}: {exc}"
        ) from exc
    parsed = parse_notice(text, year=year, source=str(path))
    out = Path(target)
    existing: dict[str, Any] | None = None
    if out.exists():
        current = WorkCalendar.from_file(out)  # refuses a bad file before touching it
        existing = {
            "years": sorted(current.years),
            "holidays": sorted(current.holidays),
            "workdays": sorted(current.workdays),
        }
    data, skipped = merge_notice(existing, parsed)
    WorkCalendar.from_data(data, source=str(out))  # the result obeys the file's rules
    emit_table(
        f"{parsed.year} 年放假安排 / holiday arrangement ({path.name})",
        ["行 line", "节日 festival", "放假 days off", "上班 worked"],
        [
            (
                item.line,
                item.name,
                _ranges(item.holidays),
                _ranges(item.workdays),
            )
            for item in parsed.items
        ],
    )
    _write_yaml(out, data)
    rest = sum(1 for d in parsed.holidays if d.year == parsed.year)
    work = sum(1 for d in parsed.workdays if d.year == parsed.year)
    click.echo(
        f"已写入 {out}：{parsed.year} 年 {rest} 个休息日、{work} 个调休上班日 / written to "
        f"{out}: {rest} days off and {work} make-up working days for {parsed.year}"
    )
    for day in skipped:
        click.echo(
            f"未写入 {day}：属于 {day.year} 年，由该年的日历决定 / not written: {day} belongs to "
            f"{day.year}, decided by that year's calendar"
        )


def _ranges(days: list[dt.date]) -> str:
    """Days as compact runs: 2026-02-15–02-23、2026-02-28."""
    runs: list[list[dt.date]] = []
    for d in sorted(days):
        if runs and (d - runs[-1][-1]).days == 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    return "、".join(
        r[0].isoformat()
        if len(r) == 1
        else f"{r[0].isoformat()}–{r[-1].isoformat()[0 if r[-1].year != r[0].year else 5 :]}"
        for r in runs
    )


def _write_yaml(path: Path, data: dict[str, Any]) -> None:
    """Write all or nothing: a temporary file beside the target, then a rename."""
    header = "# 补充日历文件 / extra-days file (supervision calendar import)\n"
    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=None)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(header + body)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@calendar_group.command("show")
@click.argument("year", type=int)
@CALENDAR_OPTION
@JSON_OPTION
def show_command(year: int, calendar_file: str | None, as_json: bool) -> None:
    """一年的休息日与调休上班日及其来源 / the year's days off and make-up working days,
    and where they come from (package, file, provisional)."""
    cal = calendar_from(calendar_file)
    days = cal.year_days(year)
    windows = cal.makeup_windows(year)
    provisional = cal.is_provisional(year)
    if as_json:
        emit_json(
            {
                "year": year,
                "provisional": provisional,
                "source": cal.source_of(f"{year}-07-01") if not cal.years else None,
                "fingerprint": cal.fingerprint,
                "days": days,
                "makeup_windows": [[a.isoformat(), b.isoformat()] for a, b in windows],
            }
        )
        return
    emit_table(
        f"{year} 年工作日历 / working-day calendar {year}",
        ["日期 date", "星期 weekday", "类别 kind", "来源 source"],
        [
            (d["date"], _WEEKDAY[d["weekday"] - 1], _KIND[d["kind"]], _SOURCE[d["source"]])
            for d in days
        ],
    )
    if provisional:
        click.echo(
            f"{year} 年的放假安排尚未公布：以上为法定节假日（暂定），未含调休。期限按最早可能日期计算："
            f"下列时段内的周末可能调休上班（每个节日至多 2 天）/ {year}'s arrangement is not "
            "announced yet: statutory holidays only (provisional), no 调休. Deadlines take the "
            "earliest possible date: weekends in these windows may become make-up working days "
            "(at most 2 per festival):"
        )
        for a, b in windows:
            click.echo(f"  {a.isoformat()} – {b.isoformat()}")


@calendar_group.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
def check_command(file: str) -> None:
    """检查补充日历文件 / validate an extra-days file."""
    cal = WorkCalendar.from_file(file)
    years = "、".join(str(y) for y in sorted(cal.years)) or "—"
    click.echo(
        f"文件有效：{file}（年份 {years}；{len(cal.holidays)} 个休息日，{len(cal.workdays)} 个"
        f"调休上班日）/ the file is valid: {file} (years {years}; {len(cal.holidays)} days "
        f"off, {len(cal.workdays)} make-up working days)"
    )

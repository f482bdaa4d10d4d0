"""`supervision deadlines`: publication, rectification and listing-decision deadlines."""

from __future__ import annotations

from typing import Any

import click

from supervision import clock
from supervision.cli.context import CALENDAR_OPTION, JSON_OPTION, AppContext, emit_json, emit_table
from supervision.reference.workdays import calendar_from
from supervision.results.deadlines import PROVISIONAL_BOUND, list_deadlines

DATE = click.DateTime(formats=["%Y-%m-%d"])


@click.command("deadlines")
@click.option(
    "--as-of", type=DATE, default=None, help="截至日期（默认今天）/ as of (default today)"
)
@CALENDAR_OPTION
@JSON_OPTION
@click.pass_obj
def deadlines_command(
    app: AppContext, as_of: Any, calendar_file: str | None, as_json: bool
) -> None:
    """公示、整改与列入名录决定期限：到期与逾期 / publication, rectification and listing
    deadlines, due and overdue.

    \b
    计数经过放假安排尚未公布的年份时，期限标为“暂定”，取最早可能日期（--json 中为
    "provisional": true 与 "provisional_years"）。
    A deadline counted through a year whose arrangement is not announced yet is marked
    provisional and is the earliest possible date ("provisional": true in --json).
    """
    day = as_of.date() if as_of is not None else clock.today()
    calendar = calendar_from(calendar_file)
    with app.db.session() as session:
        data = list_deadlines(session, as_of=day, calendar=calendar)
    if as_json:
        emit_json(data)
        return

    def standing(d: dict[str, Any]) -> str:
        if d["overdue"]:
            return f"逾期 {d['workdays_over']} / {d['workdays_over']} over"
        return f"剩余 {d['workdays_left']} / {d['workdays_left']} left"

    def due(d: dict[str, Any]) -> str:
        return f"{d['due']} 暂定* provisional*" if d["provisional"] else str(d["due"])

    emit_table(
        f"公示期限（{day}）/ publication due",
        ["任务 task", "主体 entity", "检查结束 ended", "期限 due", "工作日 workdays"],
        [
            (d["task"], d["uscc"], d["inspection_end"], due(d), standing(d))
            for d in data["publication"]
        ],
    )
    emit_table(
        f"整改期限（{day}）/ rectification due",
        ["任务 task", "主体 entity", "事项 item", "期限 due", "工作日 workdays", "标记 flags"],
        [
            (
                d["task"],
                d["uscc"],
                d["item"],
                due(d),
                standing(d),
                ("需复查 re-check " if d["recheck"] else "")
                + ("移送办案 case transfer" if d["case_transfer"] else ""),
            )
            for d in data["rectification"]
        ],
    )
    emit_table(
        f"列入名录决定期限（{day}）/ listing decisions due",
        ["建议 proposal", "主体 entity", "名录 register", "期限 due", "工作日 workdays"],
        [
            (d["proposal_id"], d["uscc"], d["register"], due(d), standing(d))
            for d in data["listing"]
        ],
    )
    years = data["calendar"]["provisional_years"]
    if years:
        click.echo(f"* {'、'.join(map(str, years))}：{PROVISIONAL_BOUND}")

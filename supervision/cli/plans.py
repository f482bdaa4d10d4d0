"""`supervision plan ...`: the yearly plans tasks belong to, their contents and targets,
their publication (计划公示) and their coverage report."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click

from supervision.cli.context import (
    BY_OPTION,
    JSON_OPTION,
    AppContext,
    act_as,
    emit_json,
    emit_table,
)
from supervision.draw.plans import list_plans
from supervision.models.fields import as_date
from supervision.models.tasks import TaskStatus
from supervision.models.users import Role
from supervision.plans.service import (
    create_plan_from,
    plan_detail,
    plan_report,
    publish_plan,
    set_plan,
)
from supervision.plans.spec import PlanSpec, read_plan_file

FROM_OPTION = click.option(
    "--from",
    "from_file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="计划文件 (YAML/JSON)：事项、部门、计划任务和月份、覆盖率目标 / plan file: items, "
    "departments, planned tasks with months, coverage targets",
)

#: Target status → (zh, en).
STATUS_WORDS = {
    "met": ("已达标", "met"),
    "on_track": ("预计达标", "on track"),
    "short": ("预计不足", "short"),
    "no_items": ("无对应事项", "no items"),
}


@click.group("plan")
def plan_group() -> None:
    """年度抽查计划 / yearly inspection plans."""


@plan_group.command("create")
@FROM_OPTION
@click.option("--code", default=None, help="计划编号 / plan code")
@click.option("--year", default=None, type=int, help="年度 / year")
@click.option("--name", default=None, help="计划名称 / plan name")
@click.option(
    "--department",
    "departments",
    multiple=True,
    help="参与部门代码，可重复 / department code (repeatable)",
)
@click.option("--notes", default=None, help="备注 / notes")
@BY_OPTION
@click.pass_obj
def plan_create(
    app: AppContext,
    from_file: Path | None,
    code: str | None,
    year: int | None,
    name: str | None,
    departments: tuple[str, ...],
    notes: str | None,
    by: str | None,
) -> None:
    """创建年度抽查计划（选项优先于计划文件）/ create a yearly plan (options override the file)."""
    actor = act_as(app, by, Role.PLANNER)
    spec = read_plan_file(from_file) if from_file else PlanSpec(source="options")
    for key, value in (("code", code), ("year", year), ("name", name), ("notes", notes)):
        if value is not None:
            setattr(spec, key, value)
    if departments:
        spec.departments = list(departments)
    with app.db.session() as session:
        plan = create_plan_from(session, spec=spec, actor=actor)
    click.echo(f"已创建抽查计划 {plan.code} / plan {plan.code} created")


@plan_group.command("set")
@click.argument("code")
@click.option(
    "--from",
    "from_file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="计划文件 (YAML/JSON)，未写的部分保持不变 / plan file; what it leaves out stays",
)
@click.option(
    "--reason", default=None, help="调整理由（已公示的计划必填）/ reason (required once published)"
)
@BY_OPTION
@click.pass_obj
def plan_set(
    app: AppContext, code: str, from_file: Path, reason: str | None, by: str | None
) -> None:
    """设定计划的事项、部门、计划任务和覆盖率目标 / set a plan's items, tasks and targets."""
    actor = act_as(app, by, Role.PLANNER)
    spec = read_plan_file(from_file)
    with app.db.session() as session:
        plan = set_plan(session, code=code, spec=spec, actor=actor, reason=reason)
        detail = plan_detail(session, code=plan.code)
    click.echo(
        f"已设定计划 {plan.code}：{len(detail['items'])} 个事项、{len(detail['targets'])} 个目标、"
        f"{len(detail['planned_tasks'])} 个计划任务 / plan {plan.code} set: "
        f"{len(detail['items'])} item(s), {len(detail['targets'])} target(s), "
        f"{len(detail['planned_tasks'])} planned task(s)"
    )


@plan_group.command("publish")
@click.argument("code")
@BY_OPTION
@click.pass_obj
def plan_publish(app: AppContext, code: str, by: str | None) -> None:
    """计划公示：发布计划公告（下次发布网站时显示）/ publish the plan notice."""
    actor = act_as(app, by, Role.PLANNER)
    with app.db.session() as session:
        plan = publish_plan(session, code=code, actor=actor)
        code = plan.code
    click.echo(
        f"已公示计划 {code}（下次 supervision publish 时上网）/ plan {code} published "
        "(on the site at the next `supervision publish`)"
    )


@plan_group.command("list")
@JSON_OPTION
@click.pass_obj
def plan_list(app: AppContext, as_json: bool) -> None:
    """列出抽查计划 / list plans."""
    with app.db.session() as session:
        plans = [p.model_dump(mode="json") for p in list_plans(session)]
    if as_json:
        emit_json(plans)
        return
    emit_table(
        "抽查计划 / plans",
        ["编号 code", "年度 year", "名称 name", "部门 departments", "公示 published"],
        [
            (
                p["code"],
                p["year"],
                p["name"],
                "、".join(p["departments"]),
                (p["published_at"] or "")[:10],
            )
            for p in plans
        ],
    )


@plan_group.command("show")
@click.argument("code")
@JSON_OPTION
@click.pass_obj
def plan_show(app: AppContext, code: str, as_json: bool) -> None:
    """显示计划的内容和目标 / show a plan with its contents and targets."""
    with app.db.session() as session:
        detail = plan_detail(session, code=code)
    if as_json:
        emit_json(detail)
        return
    click.echo(f"{detail['name']}（{detail['code']}，{detail['year']}）")
    click.echo(f"部门 departments: {'、'.join(detail['departments'])}")
    click.echo(f"事项 items: {'、'.join(detail['items']) or '—'}")
    published = (detail["published_at"] or "")[:16].replace("T", " ")
    click.echo(f"公示 published: {published or '未公示 not yet'}")
    emit_table(
        "覆盖率目标 / coverage targets",
        ["目标 target", "部门 department", "类别 kind", "主体类型 entity types", "比例 ratio"],
        [
            (
                t["id"],
                t["department"] or "全部 all",
                t["item_kind"] or "全部 all",
                "、".join(t["entity_types"]) or "全部 all",
                _percent(t["ratio"]),
            )
            for t in detail["targets"]
        ],
    )
    emit_table(
        "计划任务 / planned tasks",
        ["任务 task", "部门 departments", "事项 items", "月份 months"],
        [
            (
                p["code"] or p["name"],
                "、".join(p["departments"]),
                "、".join(p["items"]),
                "、".join(str(m) for m in p["months"]),
            )
            for p in detail["planned_tasks"]
        ],
    )


def _task_status(status: str | None) -> str:
    if status is None:
        return "未创建 none"
    return f"{TaskStatus.ZH.get(status, status)} {status}"


def _percent(ratio: str | float) -> str:
    value = float(ratio) * 100
    return f"{value:.2f}".rstrip("0").rstrip(".") + "%"


def _as_of(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        parsed: date = as_date(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--as-of") from None
    return parsed


@plan_group.command("report")
@click.argument("code")
@click.option(
    "--as-of", "as_of", default=None, help="统计日期 YYYY-MM-DD（默认今天）/ as of (default today)"
)
@JSON_OPTION
@click.pass_obj
def plan_report_command(app: AppContext, code: str, as_of: str | None, as_json: bool) -> None:
    """计划覆盖率报告：已完成和预计的覆盖率对照目标 / coverage achieved and projected against
    the plan's targets, by department, region and credit class."""
    with app.db.session() as session:
        report = plan_report(session, code=code, as_of=_as_of(as_of))
    if as_json:
        emit_json(report)
        return
    print_report(report)


def print_report(report: dict[str, Any]) -> None:
    """The plan report as tables for people (Chinese and English headers); one card per
    target, so that it reads on an 80-column terminal."""
    published = (report["published_at"] or "")[:16].replace("T", " ") or "未公示 / not published"
    click.echo(
        f"{report['name']}（{report['plan']}）截至 as of {report['as_of']}，"
        f"年度已过 year elapsed {report['year_elapsed']:.0%}；公示 published: {published}"
    )
    if not report["targets"]:
        click.echo("计划没有覆盖率目标 / the plan has no coverage targets (plan set --from)")
    for t in report["targets"]:
        emit_table(
            f"目标 target {t['id']}{'：' + t['name'] if t['name'] else ''}",
            ["项目 measure", "数值 value"],
            [
                ("部门 department", t["department"] or "全部 all"),
                ("事项类别 item kind", t["item_kind"] or "全部 all"),
                ("事项 items", "、".join(t["items"]) or "—"),
                ("主体类型 entity types", "、".join(t["entity_types"]) or "全部 all"),
                ("目标比例 ratio", _percent(t["ratio"])),
                ("范围内主体 entities in scope", t["entities"]),
                ("需检查 needed", t["needed"]),
                ("已抽取 drawn", f"{t['drawn']}（{_percent(t['drawn_rate'])}）"),
                ("已检查 inspected", f"{t['inspected']}（{_percent(t['inspected_rate'])}）"),
                ("预计 projected", f"{t['projected']:g}（{_percent(t['projected_rate'])}）"),
                ("状态 status", " ".join(STATUS_WORDS[t["status"]])),
                ("任务 tasks", "、".join(t["tasks"]) or "—"),
            ],
        )
        rows = [(f"{r['region']} {r['region_name']}", r) for r in t["by_region"]]
        rows += [(f"信用 class {r['credit_class']}", r) for r in t["by_credit_class"]]
        emit_table(
            f"{t['id']}：按盟市和信用风险分类 / by region and credit class",
            ["分组 group", "对象 N", "抽取 drawn", "检查 done", "预计 projected"],
            [
                (label, r["entities"], r["drawn"], r["inspected"],
                 f"{r['projected']:g}（{_percent(r['projected_rate'])}）")
                for label, r in rows
            ],
        )  # fmt: skip
    emit_table(
        "按部门 / by department",
        ["部门 department", "任务 tasks", "已抽取 drawn", "已检查 inspected"],
        [(d["department"], d["tasks"], d["drawn"], d["inspected"]) for d in report["departments"]],
    )
    emit_table(
        "计划任务 / planned tasks",
        ["任务 task", "月份 months", "状态 status", "逾期 late"],
        [
            (p["code"] or p["name"], "、".join(str(m) for m in p["months"]),
             _task_status(p["status"]), "是 yes" if p["late"] else "")
            for p in report["planned_tasks"]
        ],
    )  # fmt: skip
    repeated = report["repeated"]
    click.echo(
        f"年度内被抽取超过一次的主体 / entities drawn more than once this year: {len(repeated)}"
    )
    for r in repeated:
        click.echo(f"  {r['uscc']}: {'、'.join(r['tasks'])}")
    for row in report["committed_before_publication"]:
        when = row["committed_at"][:16].replace("T", " ")
        click.echo(
            f"注意：任务 {row['task']} 在计划公示前锁定（{when}）/ "
            f"note: task {row['task']} was committed before the plan was published"
        )
    for row in report["items_outside_plan"]:
        click.echo(
            f"注意：任务 {row['task']} 的事项 {'、'.join(row['items'])} 不在计划中 / "
            f"note: task {row['task']} inspects {', '.join(row['items'])}, not items of the plan"
        )

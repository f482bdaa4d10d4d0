"""`supervision plan ...`: the yearly plans tasks belong to."""

from __future__ import annotations

import click

from supervision.cli.context import (
    BY_OPTION,
    JSON_OPTION,
    AppContext,
    act_as,
    emit_json,
    emit_table,
)
from supervision.draw.plans import create_plan, list_plans
from supervision.models.users import Role


@click.group("plan")
def plan_group() -> None:
    """年度抽查计划 / yearly inspection plans."""


@plan_group.command("create")
@click.option("--code", required=True, help="计划编号 / plan code")
@click.option("--year", required=True, type=int, help="年度 / year")
@click.option("--name", required=True, help="计划名称 / plan name")
@click.option(
    "--department",
    "departments",
    multiple=True,
    required=True,
    help="参与部门代码，可重复 / department code (repeatable)",
)
@click.option("--notes", default="", help="备注 / notes")
@BY_OPTION
@click.pass_obj
def plan_create(
    app: AppContext,
    code: str,
    year: int,
    name: str,
    departments: tuple[str, ...],
    notes: str,
    by: str | None,
) -> None:
    """创建年度抽查计划 / create a yearly plan."""
    act_as(app, by, Role.PLANNER)  # a planner's act; plans are not in the trail (yet)
    with app.db.session() as session:
        plan = create_plan(
            session, code=code, year=year, name=name, departments=departments, notes=notes
        )
    click.echo(f"已创建抽查计划 {plan.code} / plan {plan.code} created")


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
        ["编号 code", "年度 year", "名称 name", "部门 departments"],
        [(p["code"], p["year"], p["name"], "、".join(p["departments"])) for p in plans],
    )

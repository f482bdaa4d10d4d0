"""`supervision demo`: fill the database with a synthetic but realistic province."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import click

from supervision import clock
from supervision.cli.context import (
    JSON_OPTION,
    AppContext,
    creates_database,
    emit_json,
    progress,
    stages,
)
from supervision.cli.plans import STATUS_WORDS
from supervision.db import DEFAULT_URL
from supervision.demo.check import demo_check_step
from supervision.demo.deadlines import demo_deadlines_step
from supervision.demo.draws import demo_draw_step
from supervision.demo.load import DemoLoadResult, load_demo
from supervision.demo.plan import demo_plan_report
from supervision.demo.province import DEFAULT_ENTITIES, DEFAULT_SEED, DemoProvince
from supervision.demo.results import demo_results_step
from supervision.demo.site import demo_site_step
from supervision.demo.users import demo_users_step
from supervision.demo.users import describe as describe_users
from supervision.reference.vocab import RecordKind


@dataclass(frozen=True)
class NextStep:
    """A suggestion printed after the demo is loaded: Chinese, English, the command."""

    zh: str
    en: str
    command: str


#: What to try next, in order. Later features append their steps here
#: (e.g. ``NEXT_STEPS.append(NextStep("抽取检查对象", "draw entities", "supervision draw ..."))``).
NEXT_STEPS: list[NextStep] = [
    NextStep("查看兴安盟的检查对象", "list the entities of Hinggan League",
             "supervision list entities --region 152200"),
    NextStep("查看执法检查人员", "list the inspectors", "supervision list inspectors"),
    NextStep("把检查对象名录导出为 Excel", "export the entity directory to Excel",
             "supervision export entities --format xlsx -o entities.xlsx"),
    NextStep("打开审核队列（规则核查发现）", "open the review queue (rule-check findings)",
             "supervision review list"),
]  # fmt: skip


def _with_db(command: str, url: str) -> str:
    """Next-step commands name the database when it is not the default one."""
    if url == DEFAULT_URL or not command.startswith("supervision "):
        return command
    return f"supervision --db {url} {command.removeprefix('supervision ')}"


def summary(
    result: DemoLoadResult,
    *,
    seed: int,
    as_of: date,
    url: str,
    extra_steps: list[NextStep] | None = None,
) -> dict[str, Any]:
    """The JSON summary of a demo load (what `--json` prints)."""
    steps = [*NEXT_STEPS, *(extra_steps or [])]
    return {
        "seed": seed,
        "as_of": as_of.isoformat(),
        **result.stats.as_dict(),
        "rows_written": result.rows,
        "rows_deleted": result.cleared,
        "seconds": round(result.seconds, 2),
        "next_steps": [
            {"zh": s.zh, "en": s.en, "command": _with_db(s.command, url)} for s in steps
        ],
    }


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "0%"


def _print_summary(data: dict[str, Any]) -> None:
    n = data["entities"]
    echo = click.echo
    echo(f"演示省份：内蒙古自治区（种子 {data['seed']}，基准日 {data['as_of']}），"
         f"用时 {data['seconds']} 秒")  # fmt: skip
    echo(f"Demo province: Inner Mongolia (seed {data['seed']}, as of {data['as_of']}), "
         f"{data['seconds']} s")  # fmt: skip
    echo("")
    echo(
        f"部门 / departments: {data['departments']}    抽查事项 / inspection items: {data['items']}"
    )
    statuses = ", ".join(f"{k} {v}" for k, v in data["inspectors_by_status"].items())
    echo(f"执法检查人员 / inspectors: {data['inspectors']} ({statuses})    "
         f"回避声明 / declared conflicts: {data['conflicts']}")  # fmt: skip
    types = ", ".join(f"{k} {v} ({_percent(v, n)})" for k, v in data["entities_by_type"].items())
    echo(f"检查对象 / entities: {n}: {types}")
    statuses = ", ".join(f"{k} {v}" for k, v in data["entities_by_status"].items())
    echo(f"  登记状态 / status: {statuses}")
    risks = ", ".join(f"{k} {v} ({_percent(v, n)})" for k, v in data["risk_classes"].items())
    echo(f"  信用风险分类 / risk classes: {risks}")
    echo(f"  列入经营异常名录 / on the abnormal list: {data['abnormal']} "
         f"({_percent(data['abnormal'], n)})，其中满三年 / over 3 years: "
         f"{data['abnormal_over_3_years']}")  # fmt: skip
    echo("")
    echo("各盟市检查对象 / entities per prefecture:")
    for code, info in data["entities_by_prefecture"].items():
        echo(f"  {code} {info['name']:<6} {info['entities']:>9}")
    echo("")
    echo(f"合规记录 / compliance records: {data['records']}")
    for kind in RecordKind:
        echo(f"  {kind.zh} / {kind.value}: {data['records_by_kind'][kind.value]}")
    draw = data.get("draw")
    if draw:
        echo("")
        echo(f"抽查计划 / plan: {draw['plan']}")
        echo(f"  已锁定 / committed: {'、'.join(draw['tasks'])}")
        echo(f"  已抽取 / drawn: {draw['drawn']}，随机种子 / seed {draw['seed']!r}：")
        echo(f"    {draw['picked']} 户主体 / entities, "
             f"{draw['assignments']} 人次检查人员 / inspector assignments")  # fmt: skip
        echo(
            f"  {draw['committed_only']} 已锁定、待公开掷骰后抽取 / committed, waiting for its seed"
        )
    results = data.get("results")
    if results and results.get("task"):
        states = Counter(results["entities"].values())
        echo("")
        echo(f"检查结果 / inspection results ({results['task']}): "
             + ", ".join(f"{k} {v}" for k, v in sorted(states.items())))  # fmt: skip
    _print_plan(data.get("plan"))
    check = data.get("check")
    if check:
        echo("")
        echo(f"规则核查 / rule check (run #{check['run_id']}, {check['seconds']} s): "
             f"被标记主体 / flagged entities: {check['flagged']}")  # fmt: skip
        for row in check["by_rule"]:
            echo(f"  {row['rule_id']:<45} {row['entities']:>8}")
        if check.get("error_count"):
            echo(
                f"  核查出错的主体 / entities the check could not evaluate: {check['error_count']}"
            )
            for line in check.get("errors", [])[:5]:
                echo(f"    {line}")
    _print_deadlines(data.get("deadlines"))
    site = data.get("site")
    if site:
        echo("")
        echo(site["zh"])
        echo(site["en"])
    users = data.get("users")
    if users:
        echo("")
        for line in describe_users(users, site_dir=site["out_dir"] if site else "site"):
            echo(line)
    echo("")
    echo("接下来可以试试 / what to try next:")
    for step in data["next_steps"]:
        echo(f"  {step['zh']} / {step['en']}:")
        echo(f"    {step['command']}")


def _print_plan(plan: dict[str, Any] | None) -> None:
    """The plan's coverage against its targets, after the demo's results."""
    if not plan:
        return
    echo = click.echo
    echo("")
    echo(f"计划覆盖率 / plan coverage (supervision plan report '{plan['plan']}'):")
    for t in plan["targets"]:
        echo(f"  {t['id']}: 目标 target {float(t['ratio']):.0%} × {t['entities']} = {t['needed']}，"
             f"已检查 inspected {t['inspected']}，已抽取 drawn {t['drawn']}，"
             f"预计 projected {t['projected']:g} → {' '.join(STATUS_WORDS[t['status']])}")  # fmt: skip


def _print_deadlines(deadlines: dict[str, Any] | None) -> None:
    """The deadline step: counts, provisional ones and how they were bounded, or the gap."""
    if not deadlines:
        return
    echo = click.echo
    echo("")
    error = deadlines.get("error")
    if error:
        echo(f"期限无法计算 / deadlines could not be computed: {error['zh']} / {error['en']}")
        return
    echo(f"期限 / deadlines: 公示 / publication {deadlines['publication']}，"
         f"整改 / rectification {deadlines['rectification']}，"
         f"逾期 / overdue {deadlines['overdue']}")  # fmt: skip
    if deadlines["provisional"]:
        years = "、".join(map(str, deadlines["provisional_years"]))
        echo(f"  暂定 / provisional: {deadlines['provisional']}（{years}）— {deadlines['bound']}")
        echo("  查看该年的暂定日历 / see that year's provisional calendar: "
             f"supervision calendar show {deadlines['provisional_years'][0]}")  # fmt: skip


@click.command("demo")
@click.option("--entities", "entities", type=click.IntRange(min=1), default=DEFAULT_ENTITIES,
              show_default=True, help="检查对象数量 / number of entities")  # fmt: skip
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True,
              help="随机种子：相同种子生成相同数据 / seed: the same seed gives the same data")  # fmt: skip
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="基准日（默认今天）/ the demo's 'today' (default: today), YYYY-MM-DD")  # fmt: skip
@click.option("--fresh", is_flag=True,
              help="先清空演示相关表的全部数据 / first delete all rows of the demo's tables")  # fmt: skip
@click.option("--site", "site_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("site"), show_default=True,
              help="公示网站输出目录 / where to publish the public site")  # fmt: skip
@JSON_OPTION
@click.pass_obj
def demo(
    app: AppContext,
    entities: int,
    seed: int,
    as_of: Any,
    fresh: bool,
    site_dir: Path,
    as_json: bool,
) -> None:
    """生成演示省份（内蒙古自治区）/ generate a demo province (Inner Mongolia).

    \b
    部门、抽查事项、执法检查人员、检查对象（12个盟市）、回避声明和合规记录，
    由 --seed 决定，可重复生成。数据库已有数据时须加 --fresh。
    Departments, inspection items, inspectors, entities across the 12 盟市, declared
    conflicts and compliance records, determined by --seed. A database that already
    holds data is refused unless --fresh is given.

    \b
    然后：建立抽查计划和两个任务并锁定，用演示种子抽取其中一个；为部分抽中主体录入不同状态的
    检查结果；运行规则核查；发布公示网站；创建每个角色的演示账号。
    Then: a plan with two committed tasks, one drawn with a demo seed; results in several
    states for some drawn entities; a rule check; the public site; one demo user per role.
    """
    creates_database(app)  # the demo makes its database where there is none
    day = as_of.date() if as_of is not None else clock.today()
    province = DemoProvince(entities=entities, seed=seed, as_of=day)
    with progress("生成演示数据 / generating the demo", entities) as advance:
        result = load_demo(app.db, province, fresh=fresh, advance=advance)
    with stages("演示 / demo") as say:
        say("抽取 / drawing")
        draw = demo_draw_step(app.db, as_of=day, seed=seed)
        say("录入检查结果 / entering results")
        results = demo_results_step(app.db, as_of=day, seed=seed)
        plan = demo_plan_report(app.db, code=draw["plan"], as_of=day)
        say("规则核查 / checking")
        check = demo_check_step(app.db, as_of=day)
        deadlines = demo_deadlines_step(app.db, as_of=day)
        say("发布公示网站 / publishing the site")
        site = demo_site_step(app.db, out_dir=site_dir)
        users = demo_users_step(app.db)
    task = draw["drawn"]
    steps = [
        NextStep("核验抽取结果（任何人都可重算）", "verify the draw (anyone can recompute it)",
                 f"supervision verify '{task}'"),
        NextStep("查看公平性报告", "see the fairness report", f"supervision task report '{task}'"),
        NextStep("导出供外部复核的文件", "export the files an outsider needs",
                 f"supervision task export '{task}' draw-export"),
        NextStep("查看计划覆盖率（对照目标）", "see the plan's coverage against its targets",
                 f"supervision plan report '{draw['plan']}'"),
    ]  # fmt: skip
    data = summary(result, seed=seed, as_of=day, url=app.url, extra_steps=steps)
    data["draw"] = draw
    data["results"] = results
    data["plan"] = plan
    data["check"] = check
    data["deadlines"] = deadlines
    data["site"] = site
    data["users"] = users
    if as_json:
        emit_json(data)
    else:
        _print_summary(data)


__all__ = ["NEXT_STEPS", "NextStep", "demo", "summary"]

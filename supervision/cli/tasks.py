"""`supervision task ...`: create, commit, cancel, draw, show and report on tasks.

`task export` and `task salt` live in supervision.cli.verify with `supervision verify`;
the `plan` group lives in supervision.cli.plans.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import click
import yaml

from supervision import clock, yamlsafe
from supervision.cli.context import (
    BY_OPTION,
    JSON_OPTION,
    AppContext,
    act_as,
    emit_json,
    emit_table,
    task_code_argument,
)
from supervision.cli.verify import task_export, task_salt
from supervision.draw.commit import commit_task
from supervision.draw.population import exclusion_label
from supervision.draw.tasks import (
    cancel_task,
    create_task,
    get_task,
    list_tasks,
    parse_task_input,
)
from supervision.errors import SupervisionError
from supervision.models import Task, TaskStatus
from supervision.models.users import Role


@click.group("task")
def task_group() -> None:
    """抽查任务：创建、锁定、抽取、核验、导出 / tasks: create, commit, draw, verify, export."""


def _load_task_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SupervisionError(
            f"无法读取任务文件 {path}", f"cannot read task file {path}: {exc}"
        ) from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yamlsafe.load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise SupervisionError(
            f"任务文件 {path} 格式错误：{exc}", f"task file {path} is not valid YAML/JSON: {exc}"
        ) from None
    if not isinstance(data, dict):
        raise SupervisionError(
            f"任务文件 {path} 应为一个对象", f"task file {path} must hold a mapping"
        )
    return data


def _ratio_option(values: tuple[str, ...]) -> dict[str, str] | str | None:
    """--ratio 0.05 (every class) or --ratio A=0.01 --ratio B=0.02 ..."""
    if not values:
        return None
    if len(values) == 1 and "=" not in values[0]:
        return values[0]
    ratios = {}
    for value in values:
        key, sep, ratio = value.partition("=")
        if not sep:
            raise SupervisionError(
                f"抽查比例写法应为 A=0.05：{value}", f"a ratio is written A=0.05, got {value}"
            )
        ratios[key.strip().upper()] = ratio.strip()
    return ratios


#: What `task create --example` prints: a task file with every key, commented.
TASK_EXAMPLE = """\
# 抽查任务文件 / a task file: supervision task create --from 任务.yaml --as 计划员
# 必填项标 *；其余可省略，省略时取注释中的默认值。Keys marked * are required.
code: 蒙市监抽查〔2026〕1号        # * 任务编号（唯一）/ task code (unique)
plan: P2026                        # * 所属年度抽查计划编号 / the yearly plan's code
name: 2026年企业公示信息抽查        # * 任务名称 / task name
departments: [SJ0102]              # * 参与部门代码；多个部门即联合抽查 / departments (joint if several)
items: [SJ-0102-01]                # * 抽查事项编码 / inspection item codes
ratios: 0.05                       # * 抽查比例：一个数，或按信用风险分类分别设定：
#  A: 0.01                         #   per risk class instead: A 低风险 … D 高风险
#  B: 0.03
#  C: 0.05
#  D: 0.10
period_start: 2026-03-01           # * 检查开始日期 / inspection period start
period_end: 2026-06-30             # * 检查结束日期 / inspection period end
strata: risk_class                 # 分层：risk_class 或 risk_class,region / strata
target:                            # 定向抽查的条件，全部留空即不定向 / targeting (empty: everyone)
  entity_types: []                 #   企业、个体工商户、农民专业合作社
  industries: []                   #   行业代码前缀（GB/T 4754），如 F52
  regions: []                      #   行政区划代码，如 150100（含下级）
  risk_classes: []                 #   A、B、C、D
  # abnormal: true                 #   只抽（或 false：不抽）经营异常名录中的主体
members: {}                        # 每部门派出人数，如 {SJ0102: 2}；默认单部门 2 人、联合每部门 1 人
exclusion_days: 365                # 多少天内已检查过的主体不再抽取 / exclusion window (days)
region_rule: prefecture            # 检查人员地域：prefecture 同盟市、county 同旗县、province、any
exclude_previous_inspector: true   # 不派上次检查过该主体的人员 / not the previous inspector
load_slack: 0                      # 每人任务量上限的宽容量 / extra load per inspector
seed: typed                        # 种子：typed 锁定后录入（如掷骰子）；beacon 用未来的 drand 轮次
disclosure: pseudonymous           # 名录公开方式：pseudonymous 化名；full 公开统一社会信用代码
"""


def _print_example(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(TASK_EXAMPLE, nl=False)
        ctx.exit(0)


@task_group.command("create")
@click.option(
    "--example",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_print_example,
    help="打印带注释的任务文件示例 / print a commented example task file",
)
@click.option(
    "--from",
    "from_file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="任务文件 (YAML/JSON)，命令行选项优先 / task file; options override it",
)
@click.option("--code", help="任务编号，如 蒙市监抽查〔2026〕1号 / task code")
@click.option("--plan", help="所属计划编号 / plan code")
@click.option("--name", help="任务名称 / task name")
@click.option(
    "--department", "departments", multiple=True, help="部门代码，可重复 / department (repeatable)"
)
@click.option("--item", "items", multiple=True, help="事项编码，可重复 / item code (repeatable)")
@click.option(
    "--ratio",
    "ratios",
    multiple=True,
    help="抽查比例：0.05 或 A=0.01 B=0.02 ... / ratio for all classes or per class",
)
@click.option(
    "--strata",
    type=click.Choice(["risk_class", "risk_class,region"]),
    help="分层 / strata (default risk_class)",
)
@click.option(
    "--entity-type", "entity_types", multiple=True, help="定向：主体类型 / target entity type"
)
@click.option(
    "--industry", "industries", multiple=True, help="定向：行业代码前缀 / target industry"
)
@click.option("--region", "regions", multiple=True, help="定向：行政区划 / target region")
@click.option(
    "--risk-class", "risk_classes", multiple=True, help="定向：风险分类 / target risk class"
)
@click.option(
    "--abnormal/--not-abnormal",
    default=None,
    help="定向：是否在经营异常名录 / target abnormal flag",
)
@click.option(
    "--from-credit",
    "credit",
    multiple=True,
    type=click.Choice(["marks", "proposals", "registers"]),
    help="定向：只抽有定向抽查标记（marks，抽中即消耗）、待决定列入建议（proposals）或在名录中"
    "（registers）的主体 / target entities with an unconsumed mark (consumed when drawn), an open "
    "listing proposal, or a current register entry",
)
@click.option(
    "--members", "members", multiple=True, help="每部门人数 DEPT=2 / inspectors per department"
)
@click.option(
    "--exclusion-days", type=int, help="避免重复检查的天数 (365) / exclusion window in days"
)
@click.option(
    "--region-rule",
    type=click.Choice(["prefecture", "county", "province", "any"]),
    help="检查人员地域匹配规则 / inspector region rule (default prefecture)",
)
@click.option(
    "--load-slack", type=int, help="每人任务量上限的宽容量 / extra load allowed per inspector"
)
@click.option(
    "--disclosure",
    type=click.Choice(["pseudonymous", "full"]),
    help="名录公开方式：pseudonymous 化名（默认）；full 公开代码（分层不敏感时，如只按区划）/ "
    "population files: pseudonymous (default) or full USCCs (strata not sensitive)",
)
@click.option("--start", "period_start", help="检查开始日期 / inspection period start")
@click.option("--end", "period_end", help="检查结束日期 / inspection period end")
@BY_OPTION
@click.pass_obj
def task_create(app: AppContext, /, by: str | None, from_file: Path | None, **options: Any) -> None:
    """创建抽查任务（草稿）/ create a task (draft).

    \b
    任务文件的写法：supervision task create --example > 任务.yaml
    A task file to start from: supervision task create --example > task.yaml
    """
    actor = act_as(app, by, Role.PLANNER)
    data: dict[str, Any] = _load_task_file(from_file) if from_file else {}
    source = str(from_file) if from_file else "task"
    target = dict(data.get("target") or {})
    for key in ("entity_types", "industries", "regions", "risk_classes"):
        if options[key]:
            target[key] = list(options[key])
    if options["abnormal"] is not None:
        target["abnormal"] = options["abnormal"]
    if options["credit"]:
        target["credit"] = list(options["credit"])
    if target:
        data["target"] = target
    ratios = _ratio_option(options["ratios"])
    if ratios is not None:
        data["ratios"] = ratios
    if options["members"]:
        data["members"] = dict(_pair(v) for v in options["members"])
    for key in (
        "code",
        "plan",
        "name",
        "strata",
        "disclosure",
        "exclusion_days",
        "region_rule",
        "load_slack",
        "period_start",
        "period_end",
    ):
        if options[key] is not None:
            data[key] = options[key]
    for key in ("departments", "items"):
        if options[key]:
            data[key] = list(options[key])
    spec = parse_task_input(data, source)
    with app.db.session() as session:
        task = create_task(session, spec=spec, actor=actor)
    click.echo(f"已创建抽查任务（草稿）{task.code} / task {task.code} created as a draft")
    click.echo(f"下一步 / next: supervision task commit '{task.code}'")


def _pair(value: str) -> tuple[str, int]:
    key, sep, number = value.partition("=")
    if not sep or not number.strip().isdigit():
        raise SupervisionError(
            f"人数写法应为 部门=2：{value}", f"members are written DEPT=2, got {value}"
        )
    return key.strip(), int(number)


def task_summary(task: Task) -> dict[str, Any]:
    """The JSON form of a task shown by `task show --json` and `task list --json`."""
    data = task.model_dump(mode="json", exclude={"parameters_json"})
    data["status_zh"] = TaskStatus.ZH[task.status]
    return data


@task_group.command("list")
@click.option("--plan", help="只看某个计划 / only this plan")
@JSON_OPTION
@click.pass_obj
def task_list(app: AppContext, plan: str | None, as_json: bool) -> None:
    """列出抽查任务 / list tasks."""
    with app.db.session() as session:
        tasks = [task_summary(t) for t in list_tasks(session, plan=plan)]
    if as_json:
        emit_json(tasks)
        return
    emit_table(
        "抽查任务 / tasks",
        ["编号 code", "名称 name", "部门 departments", "状态 status", "对象数 population"],
        [
            (
                t["code"],
                t["name"],
                "、".join(t["departments"]),
                f"{t['status_zh']} {t['status']}",
                t["population_size"] or "",
            )
            for t in tasks
        ],
    )


@task_group.command("show")
@click.argument("task_code", callback=task_code_argument)
@JSON_OPTION
@click.pass_obj
def task_show(app: AppContext, task_code: str, as_json: bool) -> None:
    """显示任务详情 / show a task."""
    with app.db.session() as session:
        task = get_task(session, code=task_code)
        data = task_summary(task)
    if as_json:
        emit_json(data)
        return
    click.echo(f"{data['code']}  {data['name']}  [{data['status_zh']} / {data['status']}]")
    click.echo(
        f"计划 plan: {data['plan_code']}   部门 departments: {'、'.join(data['departments'])}"
    )
    click.echo("事项 items: " + "、".join(f"{i['code']} v{i['version']}" for i in data["items"]))
    click.echo(f"比例 ratios: {data['ratios']}   分层 strata: {' × '.join(data['strata_keys'])}")
    click.echo(
        f"人数 members: {data['members']}   检查期 period: {data['period_start']} – {data['period_end']}"
    )
    if data["target"] and any(data["target"].values()):
        click.echo(f"定向条件 target: {data['target']}")
    if data["committed_at"]:
        click.echo(f"锁定时间 committed: {_local(data['committed_at'])}")
        click.echo(f"参数摘要 parameters SHA-256: {data['parameters_digest']}")
        click.echo(f"名录摘要 population SHA-256: {data['population_digest']}")
        click.echo(f"抽查对象数 population: {data['population_size']}")
        for reason, count in data["exclusions"].items():
            click.echo(f"  排除 excluded — {exclusion_label(reason)}: {count}")
    if data["beacon_round"] is not None:
        click.echo(
            f"种子来源 seed source: drand quicknet 第 {data['beacon_round']} 轮 / round "
            f"{data['beacon_round']}"
            + (f"  签名 signature: {data['beacon_signature']}" if data["beacon_signature"] else "")
        )
    elif data["seed_kind"] == "beacon":
        click.echo(
            "种子来源 seed source: drand 信标（锁定时确定轮次）/ drand beacon (round at commit)"
        )
    if data["seed"] is not None:
        click.echo(
            f"随机种子 seed: {data['seed']!r}  录入 entered: {_local(data['seed_entered_at'])}"
        )
    if data["cancel_reason"]:
        click.echo(f"撤销理由 cancelled because: {data['cancel_reason']}")


def _local(iso: str) -> str:
    return f"{clock.shown(iso)} 北京时间 Beijing time"


@task_group.command("commit")
@click.argument("task_code", callback=task_code_argument)
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="排除窗口的截止日期（默认今天）/ date the exclusion window counts back from",
)
@click.option(
    "--seed",
    "seed_kind",
    type=click.Choice(["typed", "beacon"]),
    default=None,
    help="种子类型：typed 人工录入（默认，或任务文件的 seed）；beacon 为 drand 将来的一轮 / "
    "kind of seed: typed (default, or the task file's seed) or beacon (a future drand round)",
)
@click.option(
    "--disclosure",
    type=click.Choice(["pseudonymous", "full"]),
    default=None,
    help="名录公开方式（默认任务的选择：化名）/ population disclosure (default: the task's, "
    "pseudonymous)",
)
@click.option(
    "--draw-at",
    default=None,
    help="计划抽取时间（beacon 必需，除非已排程），如 2026-12-10T10:00+08:00 / planned draw "
    "time (needed for beacon unless the task is scheduled)",
)
@BY_OPTION
@click.pass_obj
def task_commit(
    app: AppContext,
    task_code: str,
    as_of: Any,
    seed_kind: str | None,
    disclosure: str | None,
    draw_at: str | None,
    by: str | None,
) -> None:
    """锁定任务：在种子产生之前固定名录和参数 / freeze population and parameters before the seed."""
    from supervision.draw.beacon import round_time
    from supervision.scheduling.schedules import parse_time

    as_of_date: date | None = as_of.date() if as_of else None
    planned = parse_time(draw_at, clock.LOCAL_TZ, "--draw-at") if draw_at else None
    actor = act_as(app, by, Role.PLANNER)
    with app.db.session() as session:
        task = commit_task(
            session,
            code=task_code,
            as_of=as_of_date,
            seed=seed_kind,
            draw_at=planned,
            disclosure=disclosure,
            actor=actor,
        )
    click.echo(f"任务 {task.code} 已锁定 / committed")
    click.echo(f"  抽查对象 population: {task.population_size}")
    click.echo(f"  参数摘要 parameters SHA-256: {task.parameters_digest}")
    click.echo(f"  名录摘要 population SHA-256: {task.population_digest}")
    click.echo(
        "  名录公开方式 disclosure: "
        + ("化名 pseudonymous" if task.disclosure == "pseudonymous" else "代码 full")
    )
    if task.beacon_round is not None:
        due = clock.local(round_time(task.beacon_round))
        click.echo(
            f"  随机种子 seed: drand quicknet 第 {task.beacon_round} 轮 / round "
            f"{task.beacon_round}, {due:%Y-%m-%d %H:%M:%S} 北京时间 Beijing time"
        )
        click.echo("请公开以上摘要和轮次；该轮产生后抽取。")
        click.echo("Publish these digests and the round; draw once the round exists.")
        click.echo(f"下一步 / next: supervision seed beacon '{task.code}'")
        return
    click.echo("请公开以上摘要，然后再产生随机种子（如公开掷骰）。")
    click.echo("Publish these digests, then make the seed in public (e.g. dice).")
    click.echo(f"下一步 / next: supervision task draw '{task.code}' --seed <SEED>")


@task_group.command("cancel")
@click.argument("task_code", callback=task_code_argument)
@click.option("--reason", required=True, help="撤销理由（必填）/ reason (required)")
@BY_OPTION
@click.pass_obj
def task_cancel(app: AppContext, task_code: str, reason: str, by: str | None) -> None:
    """撤销任务（不删除任何记录）/ cancel a task (nothing is deleted)."""
    actor = act_as(app, by, Role.PLANNER)
    with app.db.session() as session:
        task = cancel_task(session, code=task_code, reason=reason, actor=actor)
    click.echo(f"任务 {task.code} 已撤销 / cancelled: {task.cancel_reason}")


@task_group.command("draw")
@click.argument("task_code", callback=task_code_argument)
@click.option(
    "--seed",
    required=True,
    help="随机种子：1-100 个可打印字符，原样使用，首尾不得有空白 / the seed, 1-100 printable "
    "characters, taken verbatim; no whitespace at either end",
)
@click.option(
    "--workers",
    type=int,
    default=2,
    show_default=True,
    help="并行进程数 / processes for big populations",
)
@JSON_OPTION
@BY_OPTION
@click.pass_obj
def task_draw(
    app: AppContext, task_code: str, seed: str, workers: int, as_json: bool, by: str | None
) -> None:
    """抽取检查对象并匹配执法检查人员 / draw entities and match inspectors."""
    from supervision.draw.service import draw_task

    actor = act_as(app, by, Role.PLANNER)
    with app.db.session() as session:
        outcome = draw_task(session, code=task_code, seed=seed, workers=workers, actor=actor)
    if as_json:
        emit_json(outcome)
        return
    click.echo(
        f"任务 {task_code} 已抽取 / drawn: {outcome['picked']} 户主体 entities, "
        f"{outcome['assignments']} 人次 inspector assignments"
    )
    for stratum in outcome["strata"]:
        click.echo(
            f"  {stratum['stratum']}: N={stratum['size']} n={stratum['picked']} "
            f"(比例 ratio {stratum['ratio']})"
        )
    click.echo(f"核验 / verify: supervision verify '{task_code}'")
    click.echo(f"导出 / export: supervision task export '{task_code}' DIR")


@task_group.command("report")
@click.argument("task_code", callback=task_code_argument)
@JSON_OPTION
@click.pass_obj
def task_report(app: AppContext, task_code: str, as_json: bool) -> None:
    """公平性报告：各层 N、n、比例，人员工作量分布，排除原因 / fairness report."""
    from supervision.draw.fairness import fairness_report

    with app.db.session() as session:
        report = fairness_report(session, code=task_code)
    if as_json:
        emit_json(report)
        return
    if report["not_drawn"] is not None:
        click.echo(f"注意：{report['not_drawn']['zh']}")
        click.echo(f"Note: {report['not_drawn']['en']}")
        if not report["strata"]:
            return
        click.echo("下表只有各层的总数 N / the table below has each stratum's size N only")
    emit_table(
        f"抽取结果 / draw by stratum — {task_code}",
        ["分层 stratum", "N", "n", "规定比例 declared", "实际比例 realised"],
        [
            (s["stratum"], s["size"], s["picked"], s["ratio"], s["realised"])
            for s in report["strata"]
        ],
    )
    emit_table(
        "检查人员工作量 / inspector load",
        ["部门 department", "任务量 load", "人数 inspectors"],
        [
            (d, load, count)
            for d, hist in report["load_histogram"].items()
            for load, count in sorted(hist.items(), key=lambda kv: int(kv[0]))
        ],
    )
    if report["exclusions"]:
        emit_table(
            "排除 / exclusions",
            ["原因 reason", "户数 count"],
            [(exclusion_label(r), n) for r, n in report["exclusions"].items()],
        )


task_group.add_command(task_export)
task_group.add_command(task_salt)

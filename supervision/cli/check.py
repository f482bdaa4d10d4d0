"""`supervision check` and `supervision review list|show|confirm|dismiss`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import click

from supervision import clock
from supervision.checks.dry_run import dry_run as run_dry_run
from supervision.checks.executors import EXECUTORS
from supervision.checks.review import (
    confirm_finding,
    dismiss_finding,
    effect_text,
    entity_review,
    flagged_count,
    open_count,
    queue_explained,
    review_queue,
)
from supervision.checks.run import CheckSummary, EarlierThanLastRun, run_check
from supervision.cli.context import (
    BY_OPTION,
    CALENDAR_OPTION,
    JSON_OPTION,
    AppContext,
    act_as,
    emit_json,
    emit_table,
    progress,
)
from supervision.errors import SupervisionError
from supervision.models.findings import SEVERITY_ZH
from supervision.models.users import Role
from supervision.reference.regions import region_name
from supervision.reference.workdays import calendar_from
from supervision.rules.pack import SEVERITIES, load_pack

_RULES = click.option(
    "--rules",
    "rules_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="规则包目录（默认随包规则）/ rule pack folder (default: the shipped pack)",
)


def _parse_day(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise SupervisionError(
            f"日期格式应为 YYYY-MM-DD，而不是 {value}", f"a date is YYYY-MM-DD, not {value}"
        ) from None


_table = emit_table


@contextmanager
def _lazy_progress(
    description: str,
) -> Iterator[tuple[Callable[[int], object], Callable[[int], object]]]:
    """A progress bar that starts once the total is known: yields (on_total, advance)."""
    stack = ExitStack()

    def idle(n: int = 1) -> None:
        return None

    advance: list[Callable[[int], object]] = [idle]

    def on_total(total: int) -> None:
        advance[0] = stack.enter_context(progress(description, total))

    with stack:
        yield on_total, lambda n: advance[0](n)


# ---------------------------------------------------------------- check
@click.command("check")
@click.option(
    "--as-of", "as_of", metavar="DATE", help="检查日期（默认今天）/ as-of date (default today)"
)
@_RULES
@click.option(
    "--workers",
    type=int,
    default=1,
    show_default=True,
    help="本机进程数（--executor local）/ worker processes on this machine (--executor local)",
)
@click.option(
    "--executor",
    type=click.Choice(EXECUTORS),
    default="local",
    show_default=True,
    help="在哪里核查：local 本机进程，dask 为 Dask 分布式集群（需 --scheduler 与 PostgreSQL）"
    " / where the chunks run: local processes, or a Dask distributed cluster (needs "
    "--scheduler and PostgreSQL)",
)
@click.option(
    "--scheduler",
    metavar="tcp://HOST:8786",
    default=None,
    help="Dask 调度器地址（--executor dask）/ the Dask scheduler's address (--executor dask)",
)
@click.option(
    "--full", is_flag=True, help="检查全部主体 / check every entity (default: incremental)"
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="试运行：不写入，只对比当前待审核发现 / evaluate without writing; compare with open findings",
)
@click.option(
    "--rewind",
    is_flag=True,
    help="检查日期早于上次核查时，确实回到该日期重新核查（需 --reason 和 --as）/ with an as-of "
    "date before the last check's, really check again as of that day (needs --reason and --as)",
)
@click.option("--reason", default=None, help="回退的理由 / why the check goes back (--rewind)")
@BY_OPTION
@CALENDAR_OPTION
@JSON_OPTION
@click.pass_obj
def check_command(
    app: AppContext,
    as_of: str | None,
    rules_dir: Path | None,
    workers: int,
    executor: str,
    scheduler: str | None,
    full: bool,
    dry_run: bool,
    rewind: bool,
    reason: str | None,
    by: str | None,
    calendar_file: str | None,
    as_json: bool,
) -> None:
    """按规则包核查合规记录，更新发现 / check compliance records against the rule pack.

    \b
    默认增量：只检查上次运行后记录有变化、从未检查过或期限已到的主体；--full 检查全部。
    Incremental by default: only entities whose records changed since the last run,
    never checked, or whose deadlines fell due; --full checks everyone.
    --dry-run evaluates a pack (e.g. --rules DIR) and writes nothing.
    核查是系统动作（结果只取决于数据和规则包，调度器也会执行），不需要 --as；确认或驳回发现才需要审核人员。
    A check is a system action (its outcome follows from the data and the pack; the scheduler
    runs it too), so it needs no --as; confirming or dismissing a finding needs a reviewer.

    \b
    每个主体推导出的事实以模板保存，记录未变时后续运行直接复用，结果与重新推导相同。
    Each entity's derived facts are stored as a template that later runs reuse while
    its records do not change; the results equal those of deriving afresh.

    \b
    工作日按 chinesecalendar 的官方日历；包中尚无的年份（如次年）按法定节假日暂定，期限取最早
    可能日期；通知公布后用 supervision calendar import 写入补充文件（--calendar），下次运行
    因日历变化而全量重算。
    Working days follow the chinesecalendar package; a year it does not know yet (e.g. next
    year) is provisional (statutory holidays; deadlines take the earliest possible date).
    Once the notice is out, import it (supervision calendar import) into an extra-days file
    (--calendar): the next run sees the calendar changed and checks everyone again.

    \b
    检查日期早于上次核查的检查日期时，只作假设分析（报告会新增、消除哪些发现），不写入；
    确需回退，加 --rewind --reason 理由 --as 审核人员或管理员，留痕记录。
    An as-of date before the last check's is a what-if: it reports which findings would
    open or close and writes nothing; to go back for real, add --rewind --reason TEXT
    --as a reviewer or admin (recorded in the trail).

    \b
    --executor dask --scheduler tcp://HOST:8786：在 Dask 分布式集群上核查（每个工作进程建一次
    规则引擎，自行读取数据块；本进程在一个事务中写入）；--workers 此时不用，并行度由集群决定。
    --executor dask --scheduler tcp://HOST:8786 runs the chunks on a Dask distributed cluster
    (each worker builds the rule engine once and reads its chunks itself; this process writes,
    in one transaction); --workers is not used then: the cluster's threads decide.
    """
    day = _parse_day(as_of)
    if rewind != (reason is not None):
        raise SupervisionError(
            "--rewind 与 --reason 须一起使用", "--rewind and --reason go together"
        )
    actor = act_as(app, by, Role.REVIEWER, Role.ADMIN) if rewind else None
    pack = load_pack(rules_dir)
    calendar = calendar_from(calendar_file)
    what_if: EarlierThanLastRun | None = None
    with _lazy_progress("核查 / checking") as (on_total, advance):
        if not dry_run:
            try:
                summary = run_check(
                    app.db,
                    as_of=day,
                    pack=pack,
                    workers=workers,
                    executor=executor,
                    scheduler=scheduler,
                    full=full,
                    calendar=calendar,
                    advance=advance,
                    on_total=on_total,
                    rewind=reason,
                    actor=actor,
                )
            except EarlierThanLastRun as earlier:
                what_if, dry_run = earlier, True
        if dry_run:
            report = run_dry_run(
                app.db,
                pack=pack,
                as_of=day,
                workers=workers,
                executor=executor,
                scheduler=scheduler,
                calendar=calendar,
                advance=advance,
                on_total=on_total,
            )
    if dry_run:
        data = report.to_dict()
        if what_if is not None:
            data["what_if"] = {
                "last_as_of": what_if.last_as_of.isoformat(),
                "last_run": what_if.last_id,
                "zh": what_if.zh,
                "en": what_if.en,
            }
            if not as_json:
                click.echo(f"假设分析 / what-if: {what_if.zh}")
                click.echo(f"  {what_if.en}")
        _show_dry_run(data, as_json=as_json)
    else:
        _show_run(app, summary, as_json=as_json)


def _show_dry_run(data: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        emit_json(data)
        return
    click.echo(
        f"试运行（未写入）：检查日期 {data['as_of']}，{data['entities_checked']} 个主体 / "
        f"dry run (nothing written): as of {data['as_of']}, {data['entities_checked']} entities"
    )
    _table(
        "与当前待审核发现相比 / compared with the open findings",
        ["规则 / rule", "新增 / new", "消失 / gone", "不变 / unchanged"],
        [(r, c["new"], c["gone"], c["unchanged"]) for r, c in data["rules"].items()],
    )
    if data["error_count"]:
        click.echo(f"错误 / errors: {data['error_count']}")


def _show_run(app: AppContext, summary: CheckSummary, *, as_json: bool) -> None:
    data = summary.to_dict()
    if as_json:
        emit_json(data)
        return
    mode_zh = "全量" if summary.mode == "full" else "增量"
    f = data["findings"]
    click.echo(
        f"检查运行 #{summary.run_id}（{mode_zh}，{summary.reason}）：检查日期 {data['as_of']}，"
        f"检查 {summary.entities_checked} 个主体、{summary.facts} 条事实，用时 {data['seconds']} 秒"
    )
    click.echo(
        f"Check run #{summary.run_id} ({summary.mode}, {summary.reason}): as of {data['as_of']}, "
        f"{summary.entities_checked} entities, {summary.facts} facts, {data['seconds']} s"
    )
    click.echo(
        f"其中 {summary.reused} 个主体的事实取自已存的事实模板（记录未变） / "
        f"{summary.reused} entities' facts came from stored fact templates (records unchanged)"
    )
    click.echo(
        f"发现：新增 {f['new']}，不变 {f['unchanged']}，更新 {f['updated']}，已消除 {f['resolved']} / "
        f"findings: new {f['new']}, unchanged {f['unchanged']}, updated {f['updated']}, "
        f"resolved {f['resolved']}"
    )
    if summary.cures_proposed:
        n = len(summary.cures_proposed)
        click.echo(
            f"原因已消除，建议移出名录 {n} 条；查看：supervision credit proposals / "
            f"{n} removal proposal(s) for cured causes; next: supervision credit proposals"
        )
    if summary.provisional_years:
        years = "、".join(map(str, summary.provisional_years))
        click.echo(
            f"暂定日历：{years} 年放假安排尚未公布，该年的期限为最早可能日期（日历 {summary.calendar}）/ "
            f"provisional calendar: {years}'s holiday arrangement is not announced; its deadlines "
            f"are the earliest possible dates (calendar {summary.calendar})"
        )
    if summary.error_count:
        click.secho(
            f"错误 {summary.error_count} 个（运行已继续）/ {summary.error_count} error(s) "
            "(the run went on):",
            fg="yellow",
        )
        for e in summary.errors[:20]:
            click.echo(f"  - {e['uscc']} {e['rule_id'] or '-'}: {e['zh']} / {e['en']}")
    click.echo(
        f"被标记主体 {flagged_count(app.db)} 个；查看：supervision review list / "
        "flagged entities; next: supervision review list"
    )


# ---------------------------------------------------------------- review
@click.group("review")
def review_group() -> None:
    """审核队列：待审核发现的查看、确认与驳回 / the review queue of open findings."""


@review_group.command("list")
@click.option("--department", default=None, help="规则所属部门 / the rule's department")
@click.option(
    "--region", default=None, help="行政区划代码（含下级）/ region code (includes sub-regions)"
)
@click.option("--rule", default=None, help="规则编号 / rule id")
@click.option("--severity", type=click.Choice(SEVERITIES), default=None, help="严重程度 / severity")
@click.option(
    "--limit", type=int, default=50, show_default=True, help="每页条数 / findings per page"
)
@click.option("--page", type=int, default=None, help="第几页（从 1 开始）/ page number (from 1)")
@click.option("--offset", type=int, default=None, help="跳过前几条 / skip this many findings first")
@_RULES
@JSON_OPTION
@click.pass_obj
def review_list(
    app: AppContext,
    department: str | None,
    region: str | None,
    rule: str | None,
    severity: str | None,
    limit: int,
    page: int | None,
    offset: int | None,
    rules_dir: Path | None,
    as_json: bool,
) -> None:
    """待审核发现，按严重程度、时间排序 / open findings, most severe and oldest first.

    \b
    显示总数与页码；--page 或 --offset 翻页。
    Says the total and the page; turn pages with --page or --offset.
    """
    if page is not None and offset is not None:
        raise SupervisionError("--page 与 --offset 只能用一个", "use --page or --offset, not both")
    if page is not None and page < 1:
        raise SupervisionError("--page 至少为 1", "--page must be at least 1")
    start = offset if offset is not None else ((page or 1) - 1) * max(limit, 1)
    items = review_queue(app.db, limit=limit, offset=start, department=department,
                         region=region, rule=rule, severity=severity)  # fmt: skip
    total = open_count(app.db, department=department, region=region, rule=rule, severity=severity)
    about = queue_explained(items, rules_dir=rules_dir)
    pages = max(1, -(-total // limit))
    number = start // limit + 1
    if as_json:
        emit_json(
            {
                "total": total,
                "offset": start,
                "limit": limit,
                "page": number,
                "pages": pages,
                "items": [
                    {**i.to_dict(), "title": {"zh": a["title_zh"], "en": a["title_en"]},
                     "explain": a["explain"]}
                    for i, a in zip(items, about, strict=True)
                ],
            }
        )  # fmt: skip
        return
    shown = f"{start + 1}–{start + len(items)}" if items else "0"
    _table(
        f"待审核发现：共 {total} 条，第 {shown} 条，第 {number}/{pages} 页 / "
        f"open findings: {len(items)} of {total}, page {number}/{pages}",
        [
            "编号 / id",
            "严重 / severity",
            "问题 / finding",
            "统一社会信用代码 / USCC",
            "名称 / name",
            "发现时间 / opened",
        ],
        [
            (
                i.finding_id,
                f"{SEVERITY_ZH.get(i.severity, i.severity)} {i.severity}",
                a["explain"]["zh"] if a["explain"] else a["title_zh"],
                i.uscc,
                i.entity_name,
                clock.shown(i.opened_at),
            )
            for i, a in zip(items, about, strict=True)
        ],
    )
    if start + len(items) < total:
        click.echo(f"下一页 / next page: supervision review list --page {number + 1}")
    if items:
        click.echo("详情 / details: supervision review show <USCC>")


@review_group.command("show")
@click.argument("entity")
@_RULES
@JSON_OPTION
@click.pass_obj
def review_show(app: AppContext, entity: str, rules_dir: Path | None, as_json: bool) -> None:
    """主体的发现及解释 / an entity's findings, explained (rule, legal basis, facts, history)."""
    data = entity_review(app.db, uscc=entity, rules_dir=rules_dir)
    if as_json:
        emit_json(data)
        return
    e = data["entity"]
    flag = "已标记 / flagged" if data["flagged"] else "未标记 / not flagged"
    click.echo(
        f"{e['uscc']} {e['name']}（{region_name(e['region_code'])} {e['region_code']}，"
        f"风险等级 / risk {e['risk_class']}）{flag}"
    )
    for f in data["findings"]:
        rule = f["rule"]
        click.echo("")
        title = f"{rule['title_zh']} / {rule['title_en']}" if rule["title_zh"] else f["rule_id"]
        click.echo(f"#{f['id']} [{f['status_zh']} / {f['status']}] {title}")
        if f["explain"]:
            click.echo(f"  {f['explain']['zh']}")
            click.echo(f"  {f['explain']['en']}")
        click.echo(
            f"  规则 / rule: {f['rule_id']} v{f['rule_version']}；"
            f"严重程度 / severity {SEVERITY_ZH.get(f['severity'], f['severity'])} {f['severity']}；"
            f"结果代码 / result code {f['result_code']}"
        )
        for basis in rule["legal_basis"]:
            click.echo(f"  依据 / legal basis: 《{basis['law']}》{basis['article']}")
        click.echo("  匹配的事实 / matched facts:")
        for fact in f["facts"]:
            click.echo(f"    {fact['zh']} / {fact['en']} ({fact['id']})")
            for field in fact["fields"]:
                click.echo(f"      {field['zh']} / {field['en']}: {field['value']}")
        history = (
            f"  记录 / history: {clock.shown(f['opened_at'])} 运行 #{f['first_run_id']} 发现"
            f"（检查日期 {f['opened_as_of']}），最近运行 #{f['last_run_id']}"
        )
        if f["resolved_run_id"]:
            history += f"，运行 #{f['resolved_run_id']} 消除"
        click.echo(history)
        if f["decided_by"]:
            click.echo(
                f"  审核 / decision: {f['decided_by']} {clock.shown(f['decided_at'])}: {f['note']}"
            )
        for effect in f["effects"]:
            click.echo(f"  处置 / effect: {effect_text(effect)}")
    for mark in data["marks"]:
        click.echo(f"定向抽查标记 / targeted-draw mark #{mark['id']}: {mark['reason']}")
    if data["results"]:
        click.echo("")
        click.echo("检查结果 / inspection results:")
        for r in data["results"]:
            click.echo(
                f"  {r['inspected_on']} {r['task_code']} {r['item_code']} "
                f"结果代码 / result {r['result_code']}"
            )
    if data["records"]:
        click.echo("")
        click.echo("记录 / records (newest first):")
        for rec in data["records"]:
            fields = "；".join(f"{x['zh']} {x['value']}" for x in rec["fields"])
            click.echo(f"  {rec['event_date'] or '—'} {rec['zh']} / {rec['en']}: {fields}")


def _emit_decision(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(result)
        return
    status_zh = {"confirmed": "已确认", "dismissed": "已驳回"}[result["status"]]
    click.echo(f"发现 #{result['finding_id']} {status_zh} / finding {result['status']}")
    for effect in result["effects"]:
        click.echo(f"  处置 / effect: {effect_text(effect)}")
    if any("proposal_id" in e for e in result["effects"]):
        click.echo("列入建议待决定 / listing proposed; next: supervision credit proposals")


@review_group.command("confirm")
@click.argument("finding", type=int)
@click.option("--note", required=True, help="确认说明 / note")
@BY_OPTION
@_RULES
@JSON_OPTION
@click.pass_obj
def review_confirm(
    app: AppContext, finding: int, note: str, by: str | None, rules_dir: Path | None, as_json: bool
) -> None:
    """确认发现，按规则提高风险等级或标记定向抽查 / confirm a finding (applies on_confirm)."""
    actor = act_as(app, by, Role.REVIEWER)
    result = confirm_finding(
        app.db, finding_id=finding, note=note, actor=actor, rules_dir=rules_dir
    )
    _emit_decision(result, as_json)


@review_group.command("dismiss")
@click.argument("finding", type=int)
@click.option("--reason", default=None, help="驳回理由（必填）/ reason (required)")
@BY_OPTION
@JSON_OPTION
@click.pass_obj
def review_dismiss(
    app: AppContext, finding: int, reason: str | None, by: str | None, as_json: bool
) -> None:
    """驳回发现，必须写明理由 / dismiss a finding; a reason is required."""
    actor = act_as(app, by, Role.REVIEWER)
    result = dismiss_finding(app.db, finding_id=finding, reason=reason, actor=actor)
    _emit_decision(result, as_json)

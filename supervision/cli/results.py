"""`supervision result ...`: enter, review, publish, correct and show inspection results."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click
import yaml
from pydantic import ValidationError

from supervision import yamlsafe
from supervision.cli.context import (
    AS_OPTION,
    JSON_OPTION,
    AppContext,
    act_as,
    emit_json,
    emit_table,
    task_code_argument,
)
from supervision.draw.tasks import get_task, not_drawn_note
from supervision.errors import SupervisionError, ValidationFailed
from supervision.models.users import Role
from supervision.reference.result_codes import (
    FOLLOW_UP_STATUSES,
    FOLLOW_UPS,
    RESULT_STATES,
    result_label,
)
from supervision.results.entry import correct_results, enter_results
from supervision.results.follow_ups import record_follow_up
from supervision.results.inputs import ItemInput, parse_items
from supervision.results.replies import add_reply, review_reply
from supervision.results.service import (
    entity_results,
    list_results,
    publish_results,
    review_results,
)

DATE = click.DateTime(formats=["%Y-%m-%d"])


def _day(value: Any) -> date | None:
    return None if value is None else value.date()


def _load_file(path: Path) -> list[ItemInput]:
    """A YAML/JSON file: a list of items, or {defaults..., items: [...]}."""
    try:
        data: Any = yamlsafe.read_data(path)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise SupervisionError(
            f"无法读取文件 {path}：{exc}", f"cannot read {path}: {exc}"
        ) from None
    defaults: dict[str, Any] = {}
    if isinstance(data, dict):
        defaults = {k: v for k, v in data.items() if k != "items"}
        data = data.get("items")
    if not isinstance(data, list) or not all(isinstance(e, dict) for e in data):
        raise SupervisionError(
            f"文件 {path} 应包含检查事项列表（items）", f"{path} must hold a list of items"
        )
    items = parse_items(data, defaults)
    for item in items:  # evidence paths are relative to the file
        item.evidence = [str((path.parent / p).resolve()) for p in item.evidence]
    return items


def _items_from_options(
    from_file: Path | None, options: dict[str, Any], *, need: tuple[str, ...]
) -> list[ItemInput]:
    if from_file is not None:
        return _load_file(from_file)
    missing = [f"--{n.replace('_', '-')}" for n in need if options.get(n) in (None, ())]
    if missing:
        raise SupervisionError(
            f"缺少参数 {'、'.join(missing)}（或使用 --from FILE）",
            f"missing {', '.join(missing)} (or use --from FILE)",
        )
    data = {k: v for k, v in options.items() if v not in (None, ())}
    if "inspectors" in data:
        data["inspectors"] = list(data["inspectors"])
    if "evidence" in data:
        data["evidence"] = list(data["evidence"])
    return parse_items([data])


def _result_options(fn: Any) -> Any:
    decorators = [
        click.option("--item", help="检查事项代码 / task item code"),
        click.option("--code", help="检查结果代码（1、A、E、F、7–12）/ official result code"),
        click.option("--sub-code", help="A 的子代码（B、C、6、D、3、4、5）/ sub-code of A"),
        click.option("--finding", help="检查发现 / finding text"),
        click.option("--inspected-on", type=DATE, help="检查日期 / inspection date (YYYY-MM-DD)"),
        click.option(
            "--inspector",
            "inspectors",
            multiple=True,
            help="实际检查人员证号，可重复（默认为分配的检查组）/ inspector cert (repeatable)",
        ),
        click.option(
            "--team-change-reason", help="检查人员更换理由 / why the team differs from the assigned"
        ),
        click.option(
            "--evidence",
            multiple=True,
            type=click.Path(dir_okay=False),
            help="证据文件，可重复 / evidence file (repeatable)",
        ),
        click.option(
            "--follow-up",
            type=click.Choice(list(FOLLOW_UPS)),
            help="后续处置 / follow-up",
        ),
        click.option("--due", type=DATE, help="整改期限 / rectification due date"),
        click.option("--follow-up-note", help="后续处置说明 / follow-up note"),
        click.option(
            "--follow-up-ref",
            help="后续处置所指：立案案号、处罚决定书文号、移送机关或抄告部门 / case number, "
            "penalty decision number, receiving organ or department notified",
        ),
        click.option(
            "--checklist",
            "checklist_file",
            type=click.Path(dir_okay=False, exists=True, path_type=Path),
            help="检查表答案文件（YAML/JSON：要点编号: 符合/不符合/不涉及）；未给 --code 时由答案推荐，"
            "与答案矛盾的代码被拒绝 / checklist answers (point id: 符合/不符合/不涉及); without "
            "--code the code is proposed from them, and a code contradicting them is refused",
        ),
        click.option(
            "--from",
            "from_file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="从 YAML/JSON 文件录入多个事项 / several items from a YAML/JSON file",
        ),
    ]
    for d in reversed(decorators):
        fn = d(fn)
    return fn


def _option_values(kw: dict[str, Any]) -> dict[str, Any]:
    return {
        "item": kw["item"],
        "code": kw["code"],
        "sub_code": kw["sub_code"],
        "finding": kw["finding"],
        "inspected_on": _day(kw["inspected_on"]),
        "inspectors": kw["inspectors"],
        "team_change_reason": kw["team_change_reason"],
        "evidence": kw["evidence"],
        "follow_up": kw["follow_up"],
        "due": _day(kw["due"]),
        "follow_up_note": kw["follow_up_note"],
        "follow_up_ref": kw["follow_up_ref"],
        "checklist": _answers_file(kw.pop("checklist_file", None)),
    }


def _answers_file(path: Path | None) -> dict[str, Any] | None:
    """The answers of --checklist FILE, read safely; a clear error naming the file."""
    if path is None:
        return None
    try:
        data: Any = yamlsafe.read_data(path)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise SupervisionError(
            f"无法读取检查表答案文件 {path}：{exc}", f"cannot read checklist answers {path}: {exc}"
        ) from None
    if not isinstance(data, dict):
        raise SupervisionError(
            f"检查表答案文件 {path} 应是“要点编号: 答案”的映射",
            f"checklist answers {path} must map point ids to answers",
        )
    return data


@click.group("result")
def result_group() -> None:
    """检查结果：录入、审核、公示、更正、回复 / inspection results."""


@result_group.command("enter")
@click.argument("task", callback=task_code_argument)
@click.argument("entity")
@_result_options
@AS_OPTION
@click.pass_obj
def result_enter(
    app: AppContext, /, task: str, entity: str, as_user: str | None, **kw: Any
) -> None:
    """录入检查结果（待审核）/ enter results of a drawn entity (awaiting review).

    \b
    只给 --checklist 而不给 --item：一表通查，文件是这次检查所有待录入事项（联合抽查各部门）的合并检查表，
    一次填完，每个事项的结果代码由其部分的答案推荐。
    --checklist without --item: the combined checklist (一表通查) of every open item of the
    visit (every department of a joint task), filled once; each item's code follows from its part.
    """
    if kw.get("checklist_file") and not kw.get("item") and not kw.get("from_file"):
        _enter_visit(app, task=task, entity=entity, as_user=as_user, kw=kw)
        return
    # With checklist answers the code may be left to them (it is proposed from the answers).
    need = (
        ("item", "inspected_on") if kw.get("checklist_file") else ("item", "code", "inspected_on")
    )
    actor = act_as(app, as_user, Role.INSPECTOR)
    items = _items_from_options(kw.pop("from_file"), _option_values(kw), need=need)
    with app.db.session() as session:
        rows = enter_results(session, task_code=task, uscc=entity, items=items, actor=actor)
        done = [(r.item_code, r.version) for r in rows]
    for item, version in done:
        click.echo(f"已录入 {entity} 事项 {item}（第 {version} 版，待审核）/ entered v{version}")


def _enter_visit(
    app: AppContext, *, task: str, entity: str, as_user: str | None, kw: dict[str, Any]
) -> None:
    """一表通查 from the command line: the --checklist file is the combined sheet (its
    answers, or ``{answers, items, inspected_on, teams}``); --inspected-on and
    --team-change-reason apply to the whole visit."""
    from supervision.results.visit import VisitInput, enter_visit

    actor = act_as(app, as_user, Role.INSPECTOR)
    path: Path = kw["checklist_file"]
    data = _answers_file(path) or {}
    if "answers" not in data:
        data = {"answers": data}
    if kw.get("inspected_on") is not None:
        data["inspected_on"] = _day(kw["inspected_on"])
    if kw.get("team_change_reason"):
        data["team_change_reason"] = kw["team_change_reason"]
    for extras in (data.get("items") or {}).values():
        if isinstance(extras, dict) and isinstance(extras.get("evidence"), list):
            extras["evidence"] = [str((path.parent / p).resolve()) for p in extras["evidence"]]
    try:
        visit = VisitInput.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(
            f"一表通查检查表 {path} 有误",
            f"the combined checklist {path} is invalid",
            details=[f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()],
        ) from None
    with app.db.session() as session:
        rows = enter_visit(session, task_code=task, uscc=entity, visit=visit, actor=actor)
        done = [(r.item_code, r.version, r.result_code, r.sub_code) for r in rows]
    for item, version, code, sub in done:
        shown = f"{code}/{sub}" if sub else code
        click.echo(
            f"已录入 {entity} 事项 {item}（第 {version} 版，{shown}，待审核）/ entered v{version} "
            f"({shown})"
        )


@result_group.command("correct")
@click.argument("task", callback=task_code_argument)
@click.argument("entity")
@_result_options
@click.option("--reason", required=True, help="更正理由 / why the correction")
@AS_OPTION
@click.pass_obj
def result_correct(
    app: AppContext, /, task: str, entity: str, reason: str, as_user: str | None, **kw: Any
) -> None:
    """更正已公示的结果（新版本，旧版本保留）/ correct a published result (new version)."""
    items = _items_from_options(kw.pop("from_file"), _option_values(kw), need=("item",))
    actor = act_as(app, as_user, Role.INSPECTOR)
    with app.db.session() as session:
        rows = correct_results(
            session, task_code=task, uscc=entity, items=items, reason=reason, actor=actor
        )
        done = [(r.item_code, r.version) for r in rows]
    for item, version in done:
        click.echo(f"已更正 {entity} 事项 {item}（第 {version} 版，待审核）/ corrected v{version}")


@result_group.command("review")
@click.argument("task", callback=task_code_argument)
@click.argument("entity")
@click.option("--approve", "decision", flag_value="approve", help="审核通过 / approve")
@click.option("--return", "decision", flag_value="return", help="退回 / return")
@click.option("--reason", default=None, help="理由（退回时必填）/ reason (required to return)")
@click.option("--item", "items", multiple=True, help="只审核这些事项 / only these items")
@AS_OPTION
@click.pass_obj
def result_review(
    app: AppContext,
    task: str,
    entity: str,
    decision: str | None,
    reason: str | None,
    items: tuple[str, ...],
    as_user: str | None,
) -> None:
    """审核待审核的检查结果 / approve or return results awaiting review."""
    if decision is None:
        raise SupervisionError("请选择 --approve 或 --return", "choose --approve or --return")
    actor = act_as(app, as_user, Role.REVIEWER)
    with app.db.session() as session:
        rows = review_results(
            session,
            task_code=task,
            uscc=entity,
            approve=decision == "approve",
            reason=reason,
            actor=actor,
            items=items or None,
        )
        done = [(r.item_code, r.version, r.state) for r in rows]
    for item, version, state in done:
        click.echo(f"{entity} 事项 {item} 第 {version} 版：{RESULT_STATES[state].label()}")


@result_group.command("publish")
@click.argument("task", callback=task_code_argument)
@click.argument("entity", required=False)
@AS_OPTION
@JSON_OPTION
@click.pass_obj
def result_publish(
    app: AppContext, task: str, entity: str | None, as_user: str | None, as_json: bool
) -> None:
    """公示已审核通过的结果（全部或全不）/ publish approved results (all or nothing)."""
    actor = act_as(app, as_user, Role.REVIEWER)
    with app.db.session() as session:
        report = publish_results(session, task_code=task, uscc=entity, actor=actor)
    if as_json:
        emit_json(report)
        return
    click.echo(f"已公示 {len(report['published'])} 项 / published {len(report['published'])}")
    for line in report["not_ready"]:
        click.echo(f"  未就绪 not ready: {line}")


@result_group.command("follow-up")
@click.argument("task", callback=task_code_argument)
@click.argument("entity")
@click.option("--item", required=True, help="检查事项代码 / item code")
@click.option("--done-on", type=DATE, help="完成（整改）日期 / completed on")
@click.option("--not-rectified", is_flag=True, help="逾期未整改（移送办案）/ not rectified")
@AS_OPTION
@click.pass_obj
def result_follow_up(
    app: AppContext,
    task: str,
    entity: str,
    item: str,
    done_on: Any,
    not_rectified: bool,
    as_user: str | None,
) -> None:
    """记录后续处置结果 / record the outcome of a follow-up."""
    actor = act_as(app, as_user, Role.INSPECTOR)
    with app.db.session() as session:
        row = record_follow_up(
            session,
            task_code=task,
            uscc=entity,
            item=item,
            done_on=_day(done_on),
            not_rectified=not_rectified,
            actor=actor,
        )
        status = row.follow_up_status
    click.echo(f"{entity} 事项 {item}：{FOLLOW_UP_STATUSES[status].label()}")


@result_group.command("reply")
@click.argument("task", callback=task_code_argument)
@click.argument("entity")
@click.option("--text", required=True, help="主体的回复或异议 / the entity's reply")
@click.option("--received-on", required=True, type=DATE, help="收到日期 / date received")
@AS_OPTION
@click.pass_obj
def result_reply(
    app: AppContext, task: str, entity: str, text: str, received_on: Any, as_user: str | None
) -> None:
    """登记主体对已公示结果的回复或异议 / enter an entity's reply to its published result."""
    actor = act_as(app, as_user, Role.REVIEWER)
    with app.db.session() as session:
        reply = add_reply(
            session,
            task_code=task,
            uscc=entity,
            text=text,
            received_on=received_on.date(),
            actor=actor,
        )
        seq = reply.seq
    click.echo(f"已登记回复 {seq}（待审核）/ reply {seq} entered, awaiting review")


@result_group.command("reply-review")
@click.argument("task", callback=task_code_argument)
@click.argument("entity")
@click.option("--approve", "decision", flag_value="approve", help="公示 / publish it")
@click.option("--reject", "decision", flag_value="reject", help="不予公示 / reject")
@click.option("--reason", default=None, help="理由（不予公示时必填）/ reason")
@click.option("--seq", type=int, default=None, help="回复序号（默认最新）/ reply number")
@AS_OPTION
@click.pass_obj
def result_reply_review(
    app: AppContext,
    task: str,
    entity: str,
    decision: str | None,
    reason: str | None,
    seq: int | None,
    as_user: str | None,
) -> None:
    """审核主体回复；通过即与结果一并公示 / review a reply; approved = published beside it."""
    if decision is None:
        raise SupervisionError("请选择 --approve 或 --reject", "choose --approve or --reject")
    actor = act_as(app, as_user, Role.REVIEWER)
    with app.db.session() as session:
        reply = review_reply(
            session,
            task_code=task,
            uscc=entity,
            approve=decision == "approve",
            reason=reason,
            actor=actor,
            seq=seq,
        )
        state = reply.state
    click.echo(f"回复 {reply.seq}：{state}")


@result_group.command("show")
@click.argument("task", callback=task_code_argument)
@click.argument("entity")
@JSON_OPTION
@click.pass_obj
def result_show(app: AppContext, task: str, entity: str, as_json: bool) -> None:
    """显示主体的检查结果（含全部版本与回复）/ show an entity's results, versions, replies."""
    with app.db.session() as session:
        data = entity_results(session, task_code=task, uscc=entity)
    if as_json:
        emit_json(data)
        return
    rows = []
    for item in data["items"]:
        if not item["versions"]:
            rows.append((item["item"], "", RESULT_STATES["not_entered"].zh, "", "", "", ""))
        for v in item["versions"]:
            rows.append(
                (
                    item["item"],
                    v["version"],
                    RESULT_STATES[v["state"]].zh,
                    f"{v['result_code']}{'/' + v['sub_code'] if v['sub_code'] else ''} "
                    f"{result_label(v['result_code'], v['sub_code']).zh}",
                    v["inspected_on"],
                    "、".join(v["inspectors"]),
                    FOLLOW_UPS[v["follow_up"]].zh
                    + (f"（{v['follow_up_due']}）" if v["follow_up_due"] else ""),
                )
            )
    emit_table(
        f"{task} / {entity}",
        [
            "事项 item",
            "版本 v",
            "状态 state",
            "结果 result",
            "检查日期 date",
            "检查人员 team",
            "后续处置 follow-up",
        ],
        rows,
    )
    for r in data["replies"]:
        click.echo(
            f"主体回复（主体自述）/ entity's own statement #{r['seq']} [{r['state']}]: {r['text']}"
        )


@result_group.command("list")
@click.argument("task", callback=task_code_argument)
@click.option(
    "--state", type=click.Choice(list(RESULT_STATES)), default=None, help="按状态筛选 / filter"
)
@JSON_OPTION
@click.pass_obj
def result_list(app: AppContext, task: str, state: str | None, as_json: bool) -> None:
    """列出任务的检查结果状态 / list the result state of every drawn entity and item."""
    with app.db.session() as session:
        rows = list_results(session, task_code=task, state=state)
        note = not_drawn_note(get_task(session, code=task))
    if as_json:
        emit_json(rows)
        return
    if note is not None:
        click.echo(f"注意：{note['zh']}")
        click.echo(f"Note: {note['en']}")
        return
    emit_table(
        f"{task} 检查结果 / results",
        ["主体 entity", "事项 item", "状态 state", "版本 v", "结果 code", "检查日期 date"],
        [
            (
                r["uscc"],
                r["item"],
                RESULT_STATES[r["state"]].zh,
                r["version"] or "",
                (r["result_code"] or "") + (f"/{r['sub_code']}" if r["sub_code"] else ""),
                r["inspected_on"] or "",
            )
            for r in rows
        ],
    )

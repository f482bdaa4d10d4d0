"""`supervision credit`: register proposals and decisions, entries, class history."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from supervision import clock
from supervision.cli.context import BY_OPTION, JSON_OPTION, AppContext, act_as, emit_json
from supervision.credit.proposals import accept_proposal, open_proposals, reject_proposal
from supervision.credit.reasons import catalogue
from supervision.credit.registers import Decision, record_listing, record_removal
from supervision.credit.standing import credit_standing
from supervision.errors import SupervisionError
from supervision.models import Register
from supervision.models.users import Role


def _day(value: str | None) -> dt.date:
    if value is None:
        return clock.today()
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise SupervisionError(
            f"日期格式应为 YYYY-MM-DD，而不是 {value}", f"a date is YYYY-MM-DD, not {value}"
        ) from None


def _decision_options(fn: Any) -> Any:
    for option in reversed(
        [
            click.option("--decision-no", required=True, help="决定书文号 / decision number"),
            click.option("--organ", required=True, help="作出决定的机关 / deciding organ"),
            click.option(
                "--decided-on", default=None, help="决定日期（默认今天）/ decision date (today)"
            ),
            click.option(
                "--wording", default="", help="决定书写明的依据或补充 / the decision's own wording"
            ),
        ]
    ):
        fn = option(fn)
    return fn


def _entry_line(e: dict[str, Any]) -> str:
    line = (
        f"#{e['entry_id'] if 'entry_id' in e else e['id']} {e['register_zh']} / {e['register_en']}："
        f"{e['decided_on']} {e['organ']} {e['decision_no']}，{e['reason']}"
    )
    if e.get("removed_on"):
        line += (
            f"；{e['removed_on']} 移出 / removed（{e['removal_organ']} "
            f"{e['removal_decision_no']}，{e['removal_reason']}）"
        )
    return line


@click.group("credit")
def credit_group() -> None:
    """信用监管：名录建议与决定、名录记录、风险分类历史 / credit registers, proposals, class history."""


@credit_group.command("proposals")
@click.option("--entity", "uscc", default=None, help="只看这个主体 / only this entity")
@click.option("--limit", type=int, default=50, show_default=True, help="最多条数 / at most")
@JSON_OPTION
@click.pass_obj
def proposals_command(app: AppContext, uscc: str | None, limit: int, as_json: bool) -> None:
    """待决定的列入/移出建议，最早到期的在前 / open proposals, earliest due first."""
    items = open_proposals(app.db, limit=limit, uscc=uscc)
    if as_json:
        emit_json(items)
        return
    click.echo(f"待决定的建议 / open proposals ({len(items)})")
    for p in items:
        due = f"，{p['due_on']} 前决定 / due {p['due_on']}" if p["due_on"] else ""
        click.echo(
            f"#{p['id']} {p['action_zh']}{p['register_zh']} / {p['action']} {p['register_en']}："
            f"{p['uscc']} {p['entity_name']}，理由 / reason {p['reason_code']}"
            f"（{p['cause'] or p['detail']}）{due}"
        )
    if items:
        click.echo(
            "决定 / decide: supervision credit accept ID --decision-no NO --organ ORGAN"
            "（或 reject ID --reason TEXT）"
        )


@credit_group.command("accept")
@click.argument("proposal", type=int)
@_decision_options
@click.option("--reason", "reason_code", default=None, help="改用的理由代码 / other reason code")
@click.option(
    "--risk-class",
    "new_class",
    type=click.Choice(["A", "B", "C", "D"]),
    default=None,
    help="移出决定同时调整的风险分类（信用修复）/ the class a removal sets",
)
@click.option("--note", default="", help="说明 / note")
@BY_OPTION
@JSON_OPTION
@click.pass_obj
def accept_command(
    app: AppContext, proposal: int, decision_no: str, organ: str, decided_on: str | None,
    wording: str, reason_code: str | None, new_class: str | None, note: str, by: str | None,
    as_json: bool,
) -> None:  # fmt: skip
    """按建议作出列入或移出决定（须文号）/ decide a proposal: list or remove, with a decision number."""
    actor = act_as(app, by, Role.REVIEWER)
    decision = Decision(organ, decision_no, _day(decided_on), wording)
    result = accept_proposal(app.db, proposal_id=proposal, decision=decision, actor=actor,
                             reason_code=reason_code, note=note, new_class=new_class)  # fmt: skip
    if as_json:
        emit_json(result)
        return
    verb = "已列入 / listed" if result["action"] == "list" else "已移出 / removed"
    click.echo(f"建议 #{proposal} 已决定，{verb}：{_entry_line(result['entry'])}")


@credit_group.command("reject")
@click.argument("proposal", type=int)
@click.option("--reason", default=None, help="不予采纳的理由（必填）/ reason (required)")
@BY_OPTION
@JSON_OPTION
@click.pass_obj
def reject_command(
    app: AppContext, proposal: int, reason: str | None, by: str | None, as_json: bool
) -> None:
    """不予采纳建议，须写明理由 / reject a proposal; a reason is required."""
    actor = act_as(app, by, Role.REVIEWER)
    result = reject_proposal(app.db, proposal_id=proposal, reason=reason or "", actor=actor)
    if as_json:
        emit_json(result)
        return
    click.echo(f"建议 #{proposal} 不予采纳 / proposal {proposal} rejected")


@credit_group.command("list")
@click.argument("uscc")
@click.option("--register", type=click.Choice(Register.ALL), required=True, help="名录 / register")
@click.option(
    "--reason", "reason_code", required=True, help="理由代码（见 credit reasons）/ reason code"
)
@_decision_options
@BY_OPTION
@JSON_OPTION
@click.pass_obj
def list_command(
    app: AppContext, uscc: str, register: str, reason_code: str, decision_no: str, organ: str,
    decided_on: str | None, wording: str, by: str | None, as_json: bool,
) -> None:  # fmt: skip
    """直接录入列入决定（无建议时，如纸质决定书）/ record a listing decided outside a proposal."""
    actor = act_as(app, by, Role.REVIEWER)
    entry = record_listing(app.db, uscc=uscc, register=register, reason_code=reason_code,
                           decision=Decision(organ, decision_no, _day(decided_on), wording),
                           actor=actor)  # fmt: skip
    if as_json:
        emit_json(entry)
        return
    click.echo(f"已列入 / listed：{_entry_line(entry)}")


@credit_group.command("remove")
@click.argument("entry", type=int)
@click.option("--reason", "reason_code", required=True, help="移出理由代码 / removal reason code")
@click.option(
    "--risk-class",
    "new_class",
    type=click.Choice(["A", "B", "C", "D"]),
    default=None,
    help="同时调整的风险分类（信用修复）/ the class the removal sets",
)
@_decision_options
@BY_OPTION
@JSON_OPTION
@click.pass_obj
def remove_command(
    app: AppContext, entry: int, reason_code: str, new_class: str | None, decision_no: str,
    organ: str, decided_on: str | None, wording: str, by: str | None, as_json: bool,
) -> None:  # fmt: skip
    """直接录入移出决定 / record a removal decided outside a proposal."""
    actor = act_as(app, by, Role.REVIEWER)
    done = record_removal(app.db, entry_id=entry, reason_code=reason_code,
                          decision=Decision(organ, decision_no, _day(decided_on), wording),
                          actor=actor, new_class=new_class)  # fmt: skip
    if as_json:
        emit_json(done)
        return
    click.echo(f"已移出 / removed：{_entry_line(done)}")


@credit_group.command("show")
@click.argument("uscc")
@JSON_OPTION
@click.pass_obj
def show_command(app: AppContext, uscc: str, as_json: bool) -> None:
    """主体的名录记录、建议和风险分类历史（内部）/ an entity's entries, proposals, class history."""
    data = credit_standing(app.db, uscc=uscc)
    if as_json:
        emit_json(data)
        return
    e = data["entity"]
    click.echo(f"{e['uscc']} {e['name']}：风险分类 / risk class {e['risk_class']}"
               f"（{e['risk_classified_on'] or '日期未知 / date unknown'}）")  # fmt: skip
    click.echo("名录记录 / register entries:")
    for entry in data["entries"]:
        click.echo(f"  {_entry_line(entry)}")
    click.echo("建议 / proposals:")
    for p in data["proposals"]:
        click.echo(f"  #{p['id']} {p['action_zh']}{p['register_zh']} {p['reason_code']} "
                   f"[{p['status_zh']} / {p['status']}]")  # fmt: skip
    click.echo("风险分类历史 / class history:")
    for c in data["class_history"]:
        click.echo(f"  {c['effective_on']} {c['old_class'] or '-'} → {c['new_class']}"
                   f"（{c['source_zh']} / {c['source']}，{c['ref']}）")  # fmt: skip


@credit_group.command("reasons")
@JSON_OPTION
def reasons_command(as_json: bool) -> None:
    """列入与移出的理由目录（含 SUPERVISION_CREDIT_REASONS_FILE）/ the reasons in force."""
    reasons = catalogue()
    if as_json:
        emit_json([r.as_dict() for r in reasons])
        return
    for r in reasons:
        where = Register.ZH.get(r.register, "任一名录 / any")
        click.echo(
            f"{r.code}\t{where}\t{'列入' if r.action == 'list' else '移出'}\t{r.text} / {r.en}"
        )

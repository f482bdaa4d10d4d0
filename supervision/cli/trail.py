"""`supervision trail ...`: verify the hash-chained trail and list its events."""

from __future__ import annotations

import json

import click

from supervision import clock, trail
from supervision.cli.context import JSON_OPTION, AppContext, emit_json, emit_table


@click.group("trail")
def trail_group() -> None:
    """全程留痕：哈希链事件 / the hash-chained trail of events."""


@trail_group.command("verify")
@click.option(
    "--expect-head", default=None, help="链头必须恰为此哈希 / the head must be exactly this hash"
)
@click.option(
    "--checkpoint",
    "checkpoint",
    default=None,
    metavar="SEQ:HASH",
    help="已公布的检查点（公示网站“留痕检查点”页或开放数据 trail-checkpoints.json）：当前链必须延续它，"
    "之后新增的事件无妨 / a published checkpoint (the site's trail checkpoints page or "
    "open data trail-checkpoints.json): the chain must extend it; later growth is fine",
)
@JSON_OPTION
@click.pass_obj
def trail_verify(
    app: AppContext, expect_head: str | None, checkpoint: str | None, as_json: bool
) -> None:
    """逐条核验哈希链，报告第一处断裂；可核对已公布的检查点（发现截断和改写后重算哈希）/ walk the chain
    and report the first broken link; with --checkpoint, prove it extends a published
    checkpoint (truncation and rewrite-and-rehash are found)."""
    anchor = trail.parse_checkpoint(checkpoint) if checkpoint is not None else None
    with app.db.session() as session:
        report = trail.verify(session, anchor=anchor)
    if report["ok"] and expect_head and report["head"] != expect_head:
        report |= {
            "ok": False,
            "zh": f"链头为 {report['head']}，与公布的 {expect_head} 不符（末尾事件被删除或链被替换）",
            "en": f"head is {report['head']}, not the published {expect_head} "
            "(events removed from the end, or the chain replaced)",
        }
    if as_json:
        emit_json(report)
    elif report["ok"]:
        click.echo(
            f"留痕链完整：{report['events']} 条事件 / trail intact: {report['events']} events"
        )
        if anchor is not None:
            click.echo(
                f"延续检查点 {anchor[0]}:{anchor[1]} / extends checkpoint {anchor[0]}:{anchor[1]}"
            )
        click.echo(f"链头 head: {report['head']}")
    if not report["ok"]:
        if not as_json:
            where = (
                f"事件 {report['broken_at']} / event {report['broken_at']}: "
                if report["broken_at"]
                else ""
            )
            click.secho(f"留痕链断裂 / trail broken: {where}", fg="red", err=True)
            click.secho(f"  {report['zh']}", fg="red", err=True)
            click.secho(f"  {report['en']}", fg="red", err=True)
        raise click.exceptions.Exit(2)


@trail_group.command("show")
@click.option("--object", "obj", default=None, help="对象（如 task:CODE）/ object, e.g. task:CODE")
@click.option("--limit", type=int, default=None, help="最多条数 / at most N events")
@JSON_OPTION
@click.pass_obj
def trail_show(app: AppContext, obj: str | None, limit: int | None, as_json: bool) -> None:
    """列出留痕事件 / list trail events."""
    with app.db.session() as session:
        rows = [e.model_dump(mode="json") for e in trail.events(session, obj=obj, limit=limit)]
    for r in rows:
        r["payload"] = json.loads(r["payload"])
    if as_json:
        emit_json(rows)
        return
    emit_table(
        "留痕 / trail",
        ["序号 seq", "时间 time", "操作人 actor", "动作 action", "对象 object", "哈希 hash"],
        [
            (
                r["seq"],
                clock.shown(r["at"]),
                r["actor"],
                r["action"],
                r["object"],
                r["hash"][:16],
            )
            for r in rows
        ],
    )

"""What lets an outsider check a draw: `supervision verify`, `task export` (the files to
recompute it) and `task salt` (an entity's own salt, to find itself in the population).

`task export` and `task salt` are subcommands of the `task` group; supervision.cli.tasks
adds them to it.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from supervision import trail
from supervision.cli.context import (
    BY_OPTION,
    JSON_OPTION,
    AppContext,
    act_as,
    emit_json,
    task_code_argument,
)
from supervision.draw.tasks import get_task
from supervision.models.users import Role


@click.command("verify")
@click.argument("task_code", callback=task_code_argument)
@JSON_OPTION
@click.pass_obj
def verify_command(app: AppContext, task_code: str, as_json: bool) -> None:
    """重新计算抽取和匹配，与记录比对 / recompute the draw and the matching and compare."""
    from supervision.draw.publication import stored_proof
    from supervision.draw.verify import verify_task

    with app.db.session() as session:
        problems = verify_task(session, code=task_code)
        proof = stored_proof(get_task(session, code=task_code))
    if as_json:
        emit_json(
            {"task": task_code, "match": not problems, "problems": problems}
            | ({"beacon": proof.to_dict()} if proof is not None else {})
        )
    elif problems:
        click.secho(f"不一致 / MISMATCH: {problems[0]}", fg="red", err=True)
    else:
        if proof is not None:
            click.echo(
                f"drand quicknet 第 {proof.round} 轮签名验证通过 / round {proof.round} verified: "
                f"chain {proof.chain_hash}, signature {proof.signature}"
            )
        click.echo(
            f"一致：任务 {task_code} 的抽取与匹配可以重现 / match: the draw and matching recompute"
        )
    if problems:
        raise SystemExit(1)


@click.command("export")
@click.argument("task_code", callback=task_code_argument)
@click.argument("out_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--full",
    is_flag=True,
    help="审计用完整导出：另含 full/population.csv（全部主体的代码、盐值和信用风险分类），"
    "每次导出记入审计链 / auditors' export: adds full/population.csv (every member's USCC, "
    "salt and risk class); each one is recorded on the trail",
)
@BY_OPTION
@click.pass_obj
def task_export(app: AppContext, task_code: str, out_dir: Path, full: bool, by: str | None) -> None:
    """导出供外部复核的文件 / write what an outsider needs to recompute the draw."""
    from supervision.draw.publication import export_task

    # The public pack is a read; the auditors' pack reveals every salt and class: a named
    # planner or admin makes it, and the trail records who.
    actor = act_as(app, by, Role.PLANNER, Role.ADMIN) if full else trail.current_actor(None)
    with app.db.session() as session:
        files = export_task(session, code=task_code, out_dir=out_dir, full=full, actor=actor)
    click.echo(f"已导出 {len(files)} 个文件到 {out_dir} / wrote {len(files)} files to {out_dir}")
    if full:
        click.echo(
            "注意：full/population.csv 含全部主体的盐值和信用风险分类，不得公开 / "
            "full/population.csv holds every salt and risk class: not for publication"
        )
    click.echo(f"请阅读 / read: {out_dir / 'README.md'}")


@click.command("salt")
@click.argument("task_code", callback=task_code_argument)
@click.argument("uscc")
@BY_OPTION
@JSON_OPTION
@click.pass_obj
def task_salt(app: AppContext, task_code: str, uscc: str, by: str | None, as_json: bool) -> None:
    """应主体申请出具其在任务中的盐值，供其自查是否在名录中 / issue an entity its salt in a
    task so it can check its own inclusion (recorded on the trail)."""
    from supervision.draw.publication import issue_salt

    actor = act_as(app, by, Role.PLANNER)
    with app.db.session() as session:
        issued = issue_salt(session, code=task_code, uscc=uscc, actor=actor)
    if as_json:
        click.echo(json.dumps(issued, ensure_ascii=False))
        return
    click.echo(f"任务 task: {issued['task']}")
    click.echo(f"主体 entity: {issued['uscc']}")
    click.echo(f"盐值 salt: {issued['salt']}")
    click.echo(f"化名 pseudonym: {issued['pseudonym']}")
    click.echo(
        '化名 = SHA-256(盐值 ":" 统一社会信用代码)，可在公开的名录文件 population/*.txt 中查到 / '
        'pseudonym = SHA-256(salt ":" USCC); find it in the published population/*.txt'
    )

"""`supervision beacon ...` (round arithmetic and offline verification of drand rounds) and
`supervision seed beacon TASK` (draw a beacon task with its committed round)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from supervision import clock
from supervision.cli.context import (
    BY_OPTION,
    JSON_OPTION,
    AppContext,
    act_as,
    emit_json,
    task_code_argument,
)
from supervision.draw import beacon
from supervision.models.users import Role
from supervision.scheduling.schedules import parse_time


@click.group("beacon")
def beacon_group() -> None:
    """drand 公共随机信标（quicknet）：轮次与验证 / the drand beacon (quicknet): rounds, checks."""


@beacon_group.command("round")
@click.option(
    "--at",
    "at",
    required=True,
    help="时间，如 2026-12-10T10:00+08:00（不带时区按北京时间）/ a time",
)
@JSON_OPTION
def beacon_round(at: str, as_json: bool) -> None:
    """某一时刻的 drand quicknet 轮次 / the quicknet round published at a time.

    \b
    轮次 = floor((t − 创世时间) / 3 秒) + 1。
    round = floor((t − genesis) / 3 s) + 1.
    """
    moment = parse_time(at, clock.LOCAL_TZ, "--at")
    number = beacon.round_at(moment)
    published = beacon.round_time(number)
    if as_json:
        emit_json(
            {"round": number, "round_time": published.isoformat(), "chain_hash": beacon.CHAIN_HASH}
        )
        return
    click.echo(number)
    click.echo(
        f"第 {number} 轮于 {clock.local(published):%Y-%m-%d %H:%M:%S} 北京时间产生 / round {number} "
        f"is published at {published:%Y-%m-%d %H:%M:%S} UTC",
        err=True,
    )


@beacon_group.command("verify")
@click.option("--round", "number", required=True, type=click.IntRange(min=1), help="轮次 / round")
@click.option("--signature", required=True, help="签名（96 位十六进制）/ signature (96 hex digits)")
def beacon_verify(number: int, signature: str) -> None:
    """离线验证一轮的签名，输出随机数；失败时退出码 1 / verify a round offline; print its
    randomness, or fail with exit code 1."""
    proof = beacon.BeaconRound(
        round=number, signature=beacon.normalise_signature(signature, source="--signature")
    )
    click.echo(beacon.verify(proof))


def read_proof(source: str) -> beacon.BeaconRound:
    """A round from a JSON file, or from standard input when ``source`` is ``-``."""
    if source == "-":
        return beacon.parse_round(sys.stdin.buffer.read(), source="<stdin>")
    path = Path(source)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise beacon.BeaconError(
            f"无法读取 {path}：{exc.strerror}", f"cannot read {path}: {exc.strerror}"
        ) from None
    return beacon.parse_round(data, source=str(path))


@click.command("beacon")
@click.argument("task_code", metavar="TASK", callback=task_code_argument)
@click.option(
    "--from",
    "from_file",
    default=None,
    metavar="FILE",
    help="drand 端点返回的该轮 JSON（- 为标准输入；省略则从 drand 端点获取）/ the round's JSON as "
    "a drand endpoint returns it (- reads standard input; omitted: fetch it from drand)",
)
@click.option("--workers", type=int, default=2, show_default=True, help="并行进程数 / processes")
@JSON_OPTION
@BY_OPTION
@click.pass_obj
def seed_beacon(
    app: AppContext,
    task_code: str,
    from_file: str | None,
    workers: int,
    as_json: bool,
    by: str | None,
) -> None:
    """用锁定的 drand 轮次抽取任务（先验证签名）/ draw a task with its committed drand round.

    \b
    签名验证通过后，随机数（小写十六进制）即为种子；轮次不符、签名错误、另一条链或尚未到轮次时间时拒绝，
    什么也不写入。离线机器可以用 --from 载入任一 drand 端点返回的 JSON。
    The round's signature is verified first; its randomness (lower-case hex) is the seed. A
    wrong round, a bad signature, another chain or a round not yet due is refused and nothing
    is written. On an offline machine, load the JSON any drand endpoint returns with --from.
    """
    from supervision.draw.beacon_fetch import fetch_round
    from supervision.draw.service import draw_task
    from supervision.draw.tasks import get_task

    actor = act_as(app, by, Role.PLANNER)
    with app.db.session() as session:
        task = get_task(session, code=task_code)
        number = task.beacon_round
    if from_file is not None:
        proof = read_proof(from_file)
    elif number is None:
        raise beacon.BeaconError(
            f"任务 {task_code} 没有锁定 drand 轮次（种子为人工录入或尚未锁定）",
            f"task {task_code} commits to no drand round (typed seed, or not committed)",
        )
    else:
        proof = fetch_round(number)
    with app.db.session() as session:
        outcome = draw_task(session, code=task_code, proof=proof, workers=workers, actor=actor)
    if as_json:
        emit_json(outcome)
        return
    click.echo(
        f"drand 第 {proof.round} 轮签名验证通过，种子 / round {proof.round} verified, seed: "
        f"{outcome['seed']}"
    )
    click.echo(
        f"任务 {task_code} 已抽取 / drawn: {outcome['picked']} 户主体 entities, "
        f"{outcome['assignments']} 人次 inspector assignments"
    )
    click.echo(f"核验 / verify: supervision verify '{task_code}'")

"""Before a task is drawn: the seed a draw may use (a typed seed, or the verified drand
round a beacon task committed to) and the draw-once rule (only a committed task is drawn,
and the draw's first write claims it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from supervision import clock
from supervision.draw import beacon
from supervision.draw.sampling import entered_seed
from supervision.errors import ConflictError, SupervisionError
from supervision.models import Task, TaskStatus

__all__ = ["AlreadyDrawn", "claim", "require_committed", "seed_of"]


def seed_of(
    task: Task, *, seed: str | None, proof: beacon.BeaconRound | None, now: datetime
) -> str:
    """The seed a draw may use: the typed seed of a typed task, or the verified randomness of
    the committed round of a beacon task (never before that round's time)."""
    code = task.code
    if task.seed_kind != beacon.KIND_BEACON:
        if proof is not None or seed is None:
            raise SupervisionError(
                f"任务 {code} 的随机种子为人工录入，请用 --seed 给出种子",
                f"task {code} takes a typed seed; give it with --seed",
            )
        return entered_seed(seed)
    number = task.beacon_round
    assert number is not None  # committed beacon tasks always name their round
    if seed is not None or proof is None:
        raise SupervisionError(
            f"任务 {code} 的随机种子是 drand 第 {number} 轮的随机数，不能人工输入；"
            f"请运行 supervision seed beacon '{code}'",
            f"task {code} takes its seed from drand round {number}, not from a typed seed; "
            f"run `supervision seed beacon '{code}'`",
        )
    due = beacon.round_time(number)
    if now < due:
        raise beacon.BeaconError(
            f"任务 {code} 锁定的 drand 第 {number} 轮将于 {clock.local(due):%Y-%m-%d %H:%M:%S} "
            "产生，此前不能抽取",
            f"drand round {number}, committed to by task {code}, is only published at "
            f"{clock.local(due):%Y-%m-%d %H:%M:%S}; no draw before then",
        )
    return beacon.verify(proof, expected_round=number)


class AlreadyDrawn(ConflictError):
    """Another draw of the same task finished first (or the task is no longer committed)."""


def claim(session: Session, *, code: str) -> None:
    """Mark the task drawn if it is still committed; else raise ``AlreadyDrawn``.

    The first write of the draw's transaction (see ``draw.service.draw_task``): the loser of a race
    blocks here until the winner commits, then finds nothing to update.
    """
    claimed = session.connection().execute(
        update(Task)
        .where(col(Task.code) == code, col(Task.status) == TaskStatus.COMMITTED)
        .values(status=TaskStatus.DRAWN)
    )
    if claimed.rowcount == 1:
        return
    status = session.exec(select(Task.status).where(Task.code == code)).one()
    if status == TaskStatus.DRAWN or status == TaskStatus.IN_PROGRESS:
        raise AlreadyDrawn(
            f"任务 {code} 已经抽取（另一次抽取先完成），不能再次抽取",
            f"task {code} has already been drawn (another draw finished first); "
            "it cannot be drawn again",
        )
    raise AlreadyDrawn(
        f"任务 {code} 状态已变为{TaskStatus.ZH.get(status, status)}，不能抽取",
        f"task {code} is now {status} and cannot be drawn",
    )


def require_committed(task: Task) -> None:
    """Refuse to draw a task that is not committed (``AlreadyDrawn`` once it was drawn)."""
    code = task.code
    if task.status != TaskStatus.COMMITTED:
        if task.status == TaskStatus.DRAFT:
            raise SupervisionError(
                f"任务 {code} 尚未锁定，不能抽取；请先运行 supervision task commit",
                f"task {code} is not committed; run `supervision task commit` first",
            )
        if task.status in (TaskStatus.DRAWN, TaskStatus.IN_PROGRESS, TaskStatus.CLOSED):
            raise AlreadyDrawn(
                f"任务 {code} 已经抽取（状态为{TaskStatus.ZH[task.status]}），不能再次抽取"
                "（如需重抽，请撤销并新建任务）",
                f"task {code} has already been drawn (it is {task.status}) and cannot be drawn "
                "again (to redraw, cancel it with a reason and create a new task)",
            )
        raise SupervisionError(
            f"任务 {code} 状态为{TaskStatus.ZH[task.status]}，不能再次抽取（如需重抽，请撤销并新建任务）",
            f"task {code} is {task.status} and cannot be drawn again "
            "(to redraw, cancel it with a reason and create a new task)",
        )

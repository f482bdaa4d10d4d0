"""Where a task's seed comes from, and when a seed may be entered.

A seed source is a small interface: ``seed_for(schedule, now)`` returns the seed if it is
available, else None. ``manual``: a person enters the seed (e.g. dice rolled at the public
draw session) with ``supervision seed enter``. ``beacon``: the task committed to a drand
round (supervision.draw.beacon); the draw job fetches and verifies that round itself
(``task_jobs.draw``), because the draw needs the round's proof, not only its value.

Entry rules (pure, in ``check_seed_entry``): a seed is refused before the task is
committed (the population must be frozen before anyone can know the seed), after the task
was drawn or cancelled, after the seed deadline, a second time, and if it is not a valid
seed (supervision.draw.sampling.entered_seed: verbatim, no whitespace at either end).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import ClassVar, Protocol

from sqlmodel import Session

from supervision import clock, trail
from supervision.draw.sampling import DrawError, entered_seed
from supervision.draw.tasks import unknown_task
from supervision.errors import NotFoundError, SupervisionError
from supervision.models import Task, TaskStatus
from supervision.models.scheduling import TaskSchedule


class SeedSource(Protocol):
    name: ClassVar[str]
    zh: ClassVar[str]

    def seed_for(self, schedule: TaskSchedule, now: datetime) -> str | None:
        """The seed for this task if it is available at ``now``, else None."""
        ...


class ManualSeed:
    """A seed entered by a person after the commit (``supervision seed enter``)."""

    name: ClassVar[str] = "manual"
    zh: ClassVar[str] = "人工录入"

    def seed_for(self, schedule: TaskSchedule, now: datetime) -> str | None:
        return schedule.seed_value


class BeaconSeed:
    """The committed drand round, fetched by the draw job at the draw time."""

    name: ClassVar[str] = "beacon"
    zh: ClassVar[str] = "drand 公共随机信标"

    def seed_for(self, schedule: TaskSchedule, now: datetime) -> str | None:
        return None  # never entered: see task_jobs.draw


SEED_SOURCES: dict[str, SeedSource] = {ManualSeed.name: ManualSeed(), BeaconSeed.name: BeaconSeed()}


def seed_source(name: str) -> SeedSource:
    try:
        return SEED_SOURCES[name]
    except KeyError:
        raise SupervisionError(
            f"未知随机种子来源 {name}，可选：{', '.join(SEED_SOURCES)}",
            f"unknown seed source {name}; choose from {', '.join(SEED_SOURCES)}",
        ) from None


def check_seed_entry(
    *,
    task_code: str,
    task_status: str,
    committed_at: datetime | None,
    seed_source: str,
    seed_deadline: datetime,
    already_entered: datetime | None,
    now: datetime,
) -> None:
    """Raise SupervisionError if a seed may not be entered now (pure: no I/O)."""
    if task_status == TaskStatus.DRAFT or committed_at is None or committed_at > now:
        raise SupervisionError(
            f"任务 {task_code} 尚未锁定，不能录入随机种子：种子必须在锁定之后、抽取之前录入",
            f"task {task_code} is not committed yet; the seed must be entered after the "
            "commit and before the draw",
        )
    if task_status != TaskStatus.COMMITTED:
        raise SupervisionError(
            f"任务 {task_code} 状态为{TaskStatus.ZH.get(task_status, task_status)}，不再接受随机种子",
            f"task {task_code} is {task_status} and takes no seed any more",
        )
    if seed_source != ManualSeed.name:
        raise SupervisionError(
            f"任务 {task_code} 的随机种子来源是 {seed_source}，不能人工录入",
            f"task {task_code} takes its seed from {seed_source}, not from manual entry",
        )
    if already_entered is not None:
        raise SupervisionError(
            f"任务 {task_code} 的随机种子已于 {clock.local(already_entered):%Y-%m-%d %H:%M:%S} 录入，不能更改",
            f"the seed of task {task_code} was entered at "
            f"{clock.local(already_entered):%Y-%m-%d %H:%M:%S} and cannot be changed",
        )
    if now > seed_deadline:
        raise SupervisionError(
            f"任务 {task_code} 的随机种子录入截止时间 {clock.local(seed_deadline):%Y-%m-%d %H:%M} 已过",
            f"the seed deadline of task {task_code} "
            f"({clock.local(seed_deadline):%Y-%m-%d %H:%M}) has passed",
        )


def enter_seed(
    session: Session, *, task_code: str, seed: str, actor: str | None = None
) -> TaskSchedule:
    """Record a manually entered seed with the time of entry (a trail event by ``actor``);
    the draw job uses it."""
    schedule = session.get(TaskSchedule, task_code)
    task = session.get(Task, task_code)
    if task is None:
        raise unknown_task(session, task_code)
    if schedule is None:
        raise NotFoundError(
            f"任务 {task_code} 没有排程；请先运行 supervision schedule set",
            f"task {task_code} has no schedule; run `supervision schedule set` first",
        )
    if task.seed_kind == "beacon":
        raise SupervisionError(
            f"任务 {task_code} 的随机种子来自 drand 第 {task.beacon_round} 轮，不能人工录入；"
            f"该轮产生后运行 supervision seed beacon '{task_code}'",
            f"task {task_code} takes its seed from drand round {task.beacon_round}, not from "
            f"manual entry; once the round exists run `supervision seed beacon '{task_code}'`",
        )
    try:
        seed = entered_seed(seed)
    except DrawError as exc:
        raise SupervisionError(exc.zh, exc.en) from None
    now = clock.now()
    check_seed_entry(
        task_code=task_code,
        task_status=task.status,
        committed_at=task.committed_at,
        seed_source=schedule.seed_source,
        seed_deadline=schedule.seed_deadline,
        already_entered=schedule.seed_entered_at,
        now=now,
    )
    schedule.seed_value = seed
    schedule.seed_entered_at = now
    schedule.updated_at = now
    session.add(schedule)
    session.flush()
    # Who entered a seed and when is on the trail now; the seed itself only as a digest
    # until the draw (``task.seed`` then records it), so reading the trail cannot foretell
    # the draw.
    trail.record(
        session,
        action="task.seed_entered",
        obj=f"task:{task_code}",
        payload={
            "entered_at": now.isoformat(),
            "seed_sha256": hashlib.sha256(seed.encode()).hexdigest(),
        },
        actor=actor,
    )
    return schedule

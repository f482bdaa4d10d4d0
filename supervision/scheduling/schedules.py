"""Per-task schedules: when a task is committed, when it is drawn in public, and the seed.

Set with ``supervision schedule set``; the running scheduler picks changes up at its next
sync (``scheduler.sync_seconds``). Times without a zone are read in Asia/Shanghai.

Once a seed has been entered the schedule is frozen, except after a missed or abandoned
draw (or a missed commit): then it may be set again, the entered seed is kept (it was
entered after the commit, over a frozen population), and the task's alerts are resolved.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from sqlmodel import Session, col, select

from supervision import clock, trail
from supervision.draw.tasks import unknown_task
from supervision.errors import NotFoundError, SupervisionError, ValidationFailed
from supervision.models import Task, TaskStatus
from supervision.models.scheduling import SeedState, TaskSchedule
from supervision.scheduling.alerts import AlertKind, resolve_alerts
from supervision.scheduling.seeds import seed_source


def parse_time(text: str, tz: tzinfo, what: str) -> datetime:
    """An ISO date-time; without an offset it is read in ``tz``. Returns aware UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed(
            f"{what} 不是有效的时间：{text}（例：2026-12-01T09:30）",
            f"{what} is not a valid time: {text!r} (e.g. 2026-12-01T09:30)",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(clock.now().tzinfo)


def set_schedule(
    session: Session,
    *,
    task_code: str,
    draw_at: datetime,
    seed_deadline: datetime,
    commit_at: datetime | None = None,
    source: str = "manual",
    actor: str | None = None,
) -> TaskSchedule:
    """Create or replace a task's schedule (a trail event by ``actor``); every rule broken
    is listed."""
    task = session.get(Task, task_code)
    if task is None:
        raise unknown_task(session, task_code)
    seed_source(source)
    now = clock.now()
    existing = session.get(TaskSchedule, task_code)
    _refuse_frozen(task, existing, task_code=task_code)
    problems = _time_problems(
        task,
        now=now,
        commit_at=commit_at,
        draw_at=draw_at,
        seed_deadline=seed_deadline,
        source=source,
    )
    if problems:
        raise ValidationFailed(
            f"任务 {task_code} 的排程有 {len(problems)} 处错误",
            f"the schedule of task {task_code} has {len(problems)} problem(s)",
            details=problems,
        )
    schedule = existing or TaskSchedule(
        task_code=task_code,
        draw_at=draw_at,
        seed_deadline=seed_deadline,
        created_at=now,
        updated_at=now,
    )
    schedule.commit_at = commit_at
    schedule.draw_at = draw_at
    schedule.seed_deadline = seed_deadline
    schedule.seed_source = source
    if source == "beacon" and task.status == TaskStatus.DRAFT:
        task.seed_kind = "beacon"  # the (scheduled) commit names the draw time's round
        session.add(task)
    schedule.seed_missing_since = None
    schedule.state = None
    schedule.updated_at = now
    session.add(schedule)
    session.flush()
    trail.record(
        session,
        action="task.schedule",
        obj=f"task:{task_code}",
        payload={
            "commit_at": commit_at.isoformat() if commit_at else None,
            "draw_at": draw_at.isoformat(),
            "seed_deadline": seed_deadline.isoformat(),
            "seed_source": source,
            "replaces": existing is not None,
        },
        actor=actor,
    )
    for kind in (
        AlertKind.DRAW_MISSED,
        AlertKind.SEED_DEADLINE_PASSED,
        AlertKind.COMMIT_MISSED,
        AlertKind.SEED_MISSING,
    ):
        resolve_alerts(session, kind=kind, obj=task_code)
    return schedule


def _refuse_frozen(task: Task, existing: TaskSchedule | None, *, task_code: str) -> None:
    """A task past commit cannot be scheduled; a schedule whose seed was entered is
    frozen, unless its draw or commit was missed or abandoned."""
    if task.status not in (TaskStatus.DRAFT, TaskStatus.COMMITTED):
        raise SupervisionError(
            f"任务 {task_code} 状态为{TaskStatus.ZH.get(task.status, task.status)}，不能再排程",
            f"task {task_code} is {task.status} and cannot be scheduled",
        )
    rescheduling_a_miss = existing is not None and existing.state in (
        SeedState.MISSED,
        SeedState.ABANDONED,
        SeedState.COMMIT_MISSED,
    )
    if existing is not None and existing.seed_entered_at is not None and not rescheduling_a_miss:
        raise SupervisionError(
            f"任务 {task_code} 的随机种子已录入，排程不能再改",
            f"the seed of task {task_code} has been entered; its schedule can no longer change",
        )


def _time_problems(
    task: Task,
    *,
    now: datetime,
    commit_at: datetime | None,
    draw_at: datetime,
    seed_deadline: datetime,
    source: str,
) -> list[str]:
    """Every rule the requested times break (commit, draw, seed kind, seed deadline)."""
    problems: list[str] = []
    if commit_at is not None:
        if task.status != TaskStatus.DRAFT:
            problems.append(
                "--commit-at: 任务已锁定，不能再设锁定时间 / the task is already committed"
            )
        elif commit_at <= now:
            problems.append("--commit-at: 锁定时间应在将来 / the commit time must be in the future")
        if commit_at >= draw_at:
            problems.append(
                "--commit-at: 锁定时间应早于抽取时间 / the commit time must be before the draw time"
            )
    if draw_at <= now:
        problems.append("--draw-at: 抽取时间应在将来 / the draw time must be in the future")
    problems += _seed_kind_problems(task, source=source, draw_at=draw_at)
    if seed_deadline < draw_at:
        problems.append(
            "--seed-deadline: 种子录入截止时间不得早于抽取时间 / "
            "the seed deadline must not be before the draw time"
        )
    return problems


def _seed_kind_problems(task: Task, *, source: str, draw_at: datetime) -> list[str]:
    """A beacon task is scheduled with the beacon source, at or after its committed round."""
    from supervision.draw.beacon import round_time

    if source != "beacon" and task.seed_kind == "beacon":
        return [
            "--seed-source: 任务以 drand 信标为种子，应为 beacon / the task takes its seed from "
            "the drand beacon: use beacon"
        ]
    if source == "beacon" and task.status != TaskStatus.DRAFT and task.seed_kind != "beacon":
        return [
            "--seed-source: 任务已按人工录入种子锁定，不能改用信标 / the task was committed "
            "for a typed seed and cannot switch to the beacon"
        ]
    if task.beacon_round is not None and draw_at < round_time(task.beacon_round):
        due = clock.local(round_time(task.beacon_round))
        return [
            f"--draw-at: 不得早于锁定的 drand 第 {task.beacon_round} 轮的产生时间 "
            f"{due:%Y-%m-%d %H:%M:%S} / must not be before committed round "
            f"{task.beacon_round} ({due:%Y-%m-%d %H:%M:%S})"
        ]
    return []


def get_schedule(session: Session, *, task_code: str) -> TaskSchedule:
    schedule = session.get(TaskSchedule, task_code)
    if schedule is None:
        raise NotFoundError(f"任务 {task_code} 没有排程", f"task {task_code} has no schedule")
    return schedule


def list_schedules(session: Session) -> list[TaskSchedule]:
    return list(session.exec(select(TaskSchedule).order_by(col(TaskSchedule.draw_at))))


def schedule_dict(schedule: TaskSchedule) -> dict[str, Any]:
    def local(moment: datetime | None) -> str | None:
        return clock.local(moment).isoformat() if moment else None

    return {
        "task": schedule.task_code,
        "commit_at": local(schedule.commit_at),
        "draw_at": local(schedule.draw_at),
        "seed_deadline": local(schedule.seed_deadline),
        "seed_source": schedule.seed_source,
        "seed_entered": schedule.seed_entered_at is not None,
        "seed_entered_at": local(schedule.seed_entered_at),
        "seed_missing_since": local(schedule.seed_missing_since),
        "state": schedule.state,
    }

"""The work of the task jobs (``jobs.run_task_commit``, ``jobs.run_task_draw``): commit a
scheduled task at its commit time, draw it at its draw time with its seed, deciding
lateness from the task's schedule (see ``supervision.scheduling.jobs``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from datetime import timedelta

from sqlmodel import Session

from supervision import clock
from supervision.draw.beacon import BeaconError, BeaconRound
from supervision.models import Task, TaskStatus
from supervision.models.scheduling import SeedState, TaskSchedule
from supervision.scheduling import decisions, task_alerts
from supervision.scheduling.alerts import AlertKind, resolve_alerts
from supervision.scheduling.runs import Outcome, already_done, claim, finish
from supervision.scheduling.runtime import (
    SCHEDULER_ACTOR,
    jsonable,
    logger,
    raise_message,
    runtime,
)
from supervision.scheduling.seeds import seed_source


def _skipped(job: str, period: str, zh: str, en: str, status: str = "skipped") -> Outcome:
    return Outcome(job, period, status, zh, en)


def commit(code: str) -> Outcome:
    from supervision.draw.commit import commit_task

    rt = runtime()
    job = "commit"
    with rt.db.session() as session:
        schedule = session.get(TaskSchedule, code)
        task = session.get(Task, code)
        if schedule is None or task is None or schedule.commit_at is None:
            return _skipped(
                job, code, "任务没有锁定排程，跳过", "no commit scheduled for the task; skipped"
            )
        if task.status != TaskStatus.DRAFT:
            return _skipped(
                job,
                code,
                f"任务已是{TaskStatus.ZH.get(task.status, task.status)}状态，无需锁定",
                f"the task is already {task.status}; nothing to commit",
            )
        now = clock.now()
        late = now - schedule.commit_at
        if (
            late > timedelta(seconds=rt.config.tasks.commit_grace_seconds)
            or now >= schedule.draw_at
        ):
            schedule.state = SeedState.COMMIT_MISSED
            session.add(schedule)
            raise_message(session, task_alerts.commit_missed(code, schedule.commit_at, late))
            return _skipped(
                job, code, "锁定时间已过，已提醒", "commit time missed; alert raised", "missed"
            )
        if not claim(session, job=job, period=code, holder=rt.holder):
            session.rollback()
            return already_done(job, code)
        committed = commit_task(session, code=code)
        result = {
            "population_size": committed.population_size,
            "population_digest": committed.population_digest,
            "parameters_digest": committed.parameters_digest,
        }
        finish(session, job=job, period=code, result=result)
        resolve_alerts(session, kind=AlertKind.COMMIT_MISSED, obj=code)
    return Outcome(
        job,
        code,
        "done",
        f"任务 {code} 已锁定，抽查对象 {result['population_size']} 户",
        f"task {code} committed, population {result['population_size']}",
        result,
    )


def draw(code: str) -> Outcome:
    from supervision.draw.seeding import AlreadyDrawn
    from supervision.draw.service import draw_task

    rt = runtime()
    job = "draw"
    grace = timedelta(seconds=rt.config.tasks.draw_grace_seconds)
    with rt.db.session() as session:
        schedule = session.get(TaskSchedule, code)
        task = session.get(Task, code)
        now = clock.now()
        seed = None
        proof: BeaconRound | None = None
        unavailable: tuple[str, str] | None = None
        if schedule is not None and decisions.seed_needed(schedule, task, now=now, grace=grace):
            if task is not None and task.beacon_round is not None:
                proof, unavailable = _fetch_beacon(task.beacon_round)
                seed = proof.signature if proof is not None else None
            else:
                seed = seed_source(schedule.seed_source).seed_for(schedule, now)
        decision = decisions.decide_draw(schedule, task, now=now, grace=grace, seed=seed)
        if decision.outcome == "waiting" and unavailable is not None:
            decision = dataclasses.replace(decision, reason=unavailable)
        if schedule is None or decision.outcome != "draw":
            return _not_drawn(session, code, schedule, decision, now=now, grace=grace)
        assert seed is not None
        if not claim(session, job=job, period=code, holder=rt.holder):
            session.rollback()
            return already_done(job, code)
        try:
            typed = seed if proof is None else None  # a beacon task is drawn with its proof only
            drawn = draw_task(session, code=code, seed=typed, proof=proof, actor=SCHEDULER_ACTOR)
        except AlreadyDrawn:  # a draw by hand (CLI, console, API) won the race: not a failure
            session.rollback()
            schedule = session.get(TaskSchedule, code)
            not_drawn = decisions.Decision("drawn_elsewhere")
            return _not_drawn(session, code, schedule, not_drawn, now=now, grace=grace)
        result = jsonable(drawn)
        result["late_seconds"] = int(decision.late.total_seconds())
        schedule.state = SeedState.DRAWN
        session.add(schedule)
        finish(session, job=job, period=code, result=result)
        resolve_alerts(session, kind=AlertKind.SEED_MISSING, obj=code)
    return Outcome(
        job,
        code,
        "done",
        f"任务 {code} 已抽取：{result.get('picked')} 户，{result.get('assignments')} 个检查人员指派",
        f"task {code} drawn: {result.get('picked')} entities, {result.get('assignments')} assignments",
        result,
    )


def _fetch_beacon(number: int) -> tuple[BeaconRound | None, tuple[str, str] | None]:
    """The committed drand round, verified, or None and why (Chinese, English)."""
    from supervision.draw.beacon_fetch import fetch_round

    try:
        return fetch_round(number), None
    except BeaconError as exc:
        logger.warning("beacon round %s: %s; %s", number, exc, "; ".join(exc.details))
        return None, (
            f"尚未取得经过验证的 drand 第 {number} 轮（{exc.zh}）；也可用 supervision seed beacon "
            "--from 人工载入",
            f"no verified drand round {number} yet ({exc.en}); an operator may load it with "
            "`supervision seed beacon --from`",
        )


# Outcomes of the draw job that only say why nothing was drawn: (Chinese, English).
_DRAW_SKIPS: dict[decisions.Outcome, tuple[str, str]] = {
    "no_schedule": ("任务没有排程，跳过", "the task has no schedule; skipped"),
    "drawn_elsewhere": (
        "任务已抽取（在调度之外），无需再抽",
        "the task was already drawn (outside the scheduler)",
    ),
    "cancelled": ("任务已撤销，不抽取", "the task was cancelled; no draw"),
    "too_early": ("尚未到抽取时间", "not yet draw time"),
}


def _not_drawn(
    session: Session,
    code: str,
    schedule: TaskSchedule | None,
    decision: decisions.Decision,
    *,
    now: dt.datetime,
    grace: timedelta,
) -> Outcome:
    """Record a draw job's decision not to draw (state, alerts) and say why."""
    job, outcome = "draw", decision.outcome
    if schedule is None or outcome in _DRAW_SKIPS:
        if schedule is not None and outcome in decisions.STATE_AFTER:
            schedule.state = decisions.STATE_AFTER[outcome]
            session.add(schedule)
        return _skipped(job, code, *_DRAW_SKIPS[outcome])
    if outcome == "over":
        return _skipped(
            job,
            code,
            f"该任务的抽取已结束（{schedule.state}）",
            f"the draw is over ({schedule.state})",
        )
    if outcome == "waiting":
        schedule.seed_missing_since = schedule.seed_missing_since or now
    schedule.state = decisions.STATE_AFTER[outcome]
    session.add(schedule)
    if outcome == "missed":
        raise_message(
            session, task_alerts.draw_missed(code, schedule.draw_at, decision.late, grace)
        )
        return _skipped(
            job,
            code,
            "抽取时间已错过，已提醒，不抽取",
            "draw time missed; alert raised, no draw",
            "missed",
        )
    if outcome == "seed_deadline_passed":
        resolve_alerts(session, kind=AlertKind.SEED_MISSING, obj=code)
        raise_message(session, task_alerts.seed_deadline_passed(code, schedule.seed_deadline))
        return _skipped(
            job, code, "种子截止时间已过，未抽取", "seed deadline passed; not drawn", "abandoned"
        )
    assert decision.reason is not None
    zh, en = decision.reason
    retry = runtime().config.tasks.seed_retry_seconds
    raise_message(
        session, task_alerts.seed_missing(code, schedule.seed_deadline, decision.reason, retry)
    )
    return _skipped(job, code, f"{zh}，等待重试", f"{en}; will retry", "waiting")

"""The scheduler's job functions. NEVER RENAME THEM.

APScheduler stores each job in ``apscheduler_jobs`` with a textual reference to its
function (``supervision.scheduling.jobs:run_task_draw``); a job whose function can no
longer be imported is silently deleted when the scheduler loads it. To change behaviour,
change the body; to retire a function, keep a stub that does nothing and says so.

Every job:
- claims its idempotency key (job, period) in the same transaction as its work
  (supervision.scheduling.runs), so a second run for the period does nothing and says so;
- never raises: a failure rolls the work back, is recorded on ``job_run`` with its error
  and raises an alert, and the scheduler goes on;
- returns its outcome as a dict (logged in both languages).

Task jobs (``run_task_commit``, ``run_task_draw``) take a task code and decide lateness
themselves from the task's schedule: a commit is made late only within the configured
grace and never after the draw time; a draw is never made silently late (beyond
``tasks.draw_grace_seconds`` it raises a ``draw_missed`` alert instead), except when an
on-time attempt found no seed, in which case it retries until the seed deadline.
Recurring jobs take their cron line and zone so that they can name their period.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Connection
from sqlmodel import Session, select

from supervision import clock, trail
from supervision.accounts.throttle import flush_refusals
from supervision.db import Database
from supervision.draw.beacon import BeaconError, BeaconRound
from supervision.errors import SupervisionError
from supervision.models import Task, TaskStatus
from supervision.models.scheduling import SeedState, TaskSchedule
from supervision.scheduling import decisions, task_alerts
from supervision.scheduling.alerts import (
    DEADLINE_KINDS,
    AlertKind,
    AlertMessage,
    deadline_alerts,
    open_alerts,
    raise_alert,
    resolve_alerts,
)
from supervision.scheduling.config import SchedulerConfig, cron_trigger
from supervision.scheduling.runs import (
    HOLDER,
    Outcome,
    already_done,
    claim,
    finish,
    last_fire_time,
    period_key,
    record_failure,
    run_once,
)
from supervision.scheduling.seeds import seed_source

logger = logging.getLogger("supervision.scheduler")

#: Who the trail records as the actor of what the scheduler does by itself.
SCHEDULER_ACTOR = "scheduler"


# --------------------------------------------------------------------------- runtime
@dataclass
class Runtime:
    """What jobs need and cannot be pickled: the database and the configuration."""

    db: Database
    config: SchedulerConfig
    holder: str = HOLDER


_runtime: Runtime | None = None


def bind(runtime: Runtime) -> None:
    """Give the job functions their database and configuration (one per process)."""
    global _runtime
    _runtime = runtime


def unbind() -> None:
    global _runtime
    _runtime = None


def runtime() -> Runtime:
    if _runtime is None:
        raise SupervisionError(
            "调度任务未绑定数据库（只能由 supervision scheduler run 运行）",
            "scheduler jobs are not bound to a database (run them via `supervision scheduler run`)",
        )
    return _runtime


# --------------------------------------------------------------------------- helpers
def _jsonable(data: Any) -> Any:
    return json.loads(json.dumps(data, ensure_ascii=False, default=str))


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, SupervisionError):
        return "\n".join([str(exc), *exc.details])
    return f"{type(exc).__name__}: {exc}"


def _log(outcome: Outcome) -> dict[str, Any]:
    level = logging.ERROR if outcome.status == "failed" else logging.INFO
    logger.log(
        level,
        "%s [%s] %s: %s / %s",
        outcome.job,
        outcome.period,
        outcome.status,
        outcome.zh,
        outcome.en,
    )
    return outcome.to_dict()


def _guarded(
    job: str, period: str, alert_object: str, body: Callable[[], Outcome]
) -> dict[str, Any]:
    """Run ``body``; on any error record the failure and alert, never raise."""
    rt = runtime()
    try:
        outcome = body()
    except Exception as exc:
        error = _error_text(exc)
        logger.debug("job %s [%s] failed", job, period, exc_info=True)
        try:
            with rt.db.session() as session:
                record_failure(session, job=job, period=period, error=error, holder=rt.holder)
                raise_alert(
                    session,
                    kind=AlertKind.JOB_FAILED,
                    obj=alert_object,
                    zh=f"调度任务 {job}（期间 {period}）失败：{error}",
                    en=f"scheduled job {job} (period {period}) failed: {error}",
                )
        except Exception as inner:  # the database itself may be what failed
            logger.error("could not record the failure of %s [%s]: %s", job, period, inner)
        return _log(
            Outcome(job, period, "failed", f"失败：{error}", f"failed: {error}", {"error": error})
        )
    if outcome.status in ("done", "already_done"):
        with rt.db.session() as session:  # a later good run settles earlier trouble
            resolve_alerts(session, kind=AlertKind.JOB_FAILED, obj=alert_object)
            resolve_alerts(session, kind=AlertKind.JOB_MISSED, obj=alert_object)
    return _log(outcome)


# --------------------------------------------------------------------------- task jobs
def _skipped(job: str, period: str, zh: str, en: str, status: str = "skipped") -> Outcome:
    return Outcome(job, period, status, zh, en)


def run_task_commit(task_code: str) -> dict[str, Any]:
    """Commit a scheduled task (freeze its population) at its commit time. Exactly once."""
    return _guarded("commit", task_code, f"commit:{task_code}", lambda: _commit(task_code))


def _commit(code: str) -> Outcome:
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
            _raise(session, task_alerts.commit_missed(code, schedule.commit_at, late))
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


def run_task_draw(task_code: str) -> dict[str, Any]:
    """Draw a scheduled task at its public draw time with its seed. Exactly once.

    No seed at draw time: no draw, a ``seed_missing`` alert, and the job retries every
    ``tasks.seed_retry_seconds`` until the seed deadline.
    """
    return _guarded("draw", task_code, f"draw:{task_code}", lambda: _draw(task_code))


def _draw(code: str) -> Outcome:
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
        result = _jsonable(drawn)
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
        _raise(session, task_alerts.draw_missed(code, schedule.draw_at, decision.late, grace))
        return _skipped(
            job,
            code,
            "抽取时间已错过，已提醒，不抽取",
            "draw time missed; alert raised, no draw",
            "missed",
        )
    if outcome == "seed_deadline_passed":
        resolve_alerts(session, kind=AlertKind.SEED_MISSING, obj=code)
        _raise(session, task_alerts.seed_deadline_passed(code, schedule.seed_deadline))
        return _skipped(
            job, code, "种子截止时间已过，未抽取", "seed deadline passed; not drawn", "abandoned"
        )
    assert decision.reason is not None
    zh, en = decision.reason
    retry = runtime().config.tasks.seed_retry_seconds
    _raise(session, task_alerts.seed_missing(code, schedule.seed_deadline, decision.reason, retry))
    return _skipped(job, code, f"{zh}，等待重试", f"{en}; will retry", "waiting")


def _raise(session: Session, message: AlertMessage) -> None:
    raise_alert(session, kind=message.kind, obj=message.object, zh=message.zh, en=message.en)


# --------------------------------------------------------------------------- recurring jobs
def _recurring(
    job: str, cron: str, timezone: str, work: Callable[[Session, dt.date], dict[str, Any]]
) -> dict[str, Any]:
    now = clock.now()
    zone = ZoneInfo(timezone)
    fire = last_fire_time(cron_trigger(cron, timezone), now) or now
    period = period_key(fire, zone)
    day = fire.astimezone(zone).date()
    rt = runtime()
    return _guarded(
        job,
        period,
        job,
        lambda: run_once(rt.db, job=job, period=period, work=lambda s: _jsonable(work(s, day))),
    )


def run_nightly_check(cron: str, timezone: str) -> dict[str, Any]:
    """The nightly incremental compliance check, as of the scheduled day. Exactly once."""
    return _recurring("nightly_check", cron, timezone, _check)


def run_deadline_watch(cron: str, timezone: str) -> dict[str, Any]:
    """Deadlines due and overdue (publication, rectification) become alerts. Exactly once."""
    return _recurring("deadline_watch", cron, timezone, _watch_deadlines)


def run_publication(cron: str, timezone: str) -> dict[str, Any]:
    """Publish approved results, then rebuild the public site incrementally. Exactly once.

    The site is rebuilt after the publication committed (it reads committed data), and
    only by the run that published; its failure raises an alert, the publication stands.
    """
    outcome = _recurring("publish_results", cron, timezone, _publish)
    if outcome["status"] == "done":
        outcome["site"] = _rebuild_site()["site"]
    return outcome


def run_trail_checkpoint(cron: str, timezone: str) -> dict[str, Any]:
    """Anchor the trail at its head (at least daily; every publication adds one too),
    after writing the refused sign-ins of windows that are over. Exactly once a period."""
    flush_refusals(runtime().db)
    return _recurring("trail_checkpoint", cron, timezone, _checkpoint)


# --------------------------------------------------------------------------- the work
def _checkpoint(session: Session, day: dt.date) -> dict[str, Any]:
    anchor = trail.checkpoint(session, reason="daily")
    return {} if anchor is None else {"seq": anchor.seq, "hash": anchor.hash}


class _BoundEngine:
    """An engine look-alike whose begin()/connect() hand out one open connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.dialect = conn.dialect
        self.url = conn.engine.url

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        yield self._conn

    connect = begin


class _InTransaction:
    """A Database view bound to the claiming transaction.

    ``run_check`` opens its own transaction with ``db.engine.begin()``; handing it this
    view makes its writes part of the transaction that claimed the key, so the run and
    its key commit together or not at all.
    """

    def __init__(self, db: Database, conn: Connection) -> None:
        self.url = db.url
        self.engine = _BoundEngine(conn)
        self.is_sqlite = db.is_sqlite


def _check(session: Session, day: dt.date) -> dict[str, Any]:
    from supervision.checks.run import run_check

    bound = cast(Database, _InTransaction(runtime().db, session.connection()))
    summary = run_check(bound, as_of=day)
    return summary.to_dict()


def _watch_deadlines(session: Session, day: dt.date) -> dict[str, Any]:
    from supervision.results.deadlines import list_deadlines

    listed = list_deadlines(session, as_of=day)
    messages = deadline_alerts(listed, runtime().config.warn_workdays)
    for message in messages:
        _raise(session, message)
    current = {(m.kind, m.object) for m in messages}
    resolved = 0
    for alert in open_alerts(session, kinds=DEADLINE_KINDS):
        if (alert.kind, alert.object) not in current:
            resolved += resolve_alerts(session, kind=alert.kind, obj=alert.object)
    counts: dict[str, int] = {}
    for message in messages:
        counts[message.kind] = counts.get(message.kind, 0) + 1
    calendar = listed["calendar"]
    # Which calendar the stored deadline alerts were counted with: a provisional one is
    # replaced at the first run after the notice arrives (its fingerprint changes).
    trail.record(
        session,
        action="deadlines.watch",
        obj=f"deadlines:{day.isoformat()}",
        payload={
            "calendar": calendar["fingerprint"],
            "provisional_years": calendar["provisional_years"],
            "alerts": counts,
            "resolved": resolved,
        },
        actor=SCHEDULER_ACTOR,
    )
    return {
        "as_of": day.isoformat(),
        "alerts": counts,
        "resolved": resolved,
        "calendar": calendar["fingerprint"],
        "provisional_years": calendar["provisional_years"],
    }


def _publish(session: Session, day: dt.date) -> dict[str, Any]:
    """Publish every task's approved results (entities whose results are all approved)."""
    from supervision.models.results import InspectionResult, ResultState
    from supervision.results.service import publish_results
    from supervision.results.states import IllegalTransition

    tasks = sorted(
        set(
            session.exec(
                select(InspectionResult.task_code).where(
                    InspectionResult.state == ResultState.APPROVED
                )
            )
        )
    )
    published: dict[str, int] = {}
    waiting: dict[str, list[str]] = {}
    for code in tasks:
        try:
            done = publish_results(session, task_code=code, actor=SCHEDULER_ACTOR)
        except IllegalTransition as exc:  # nothing ready in this task: not an error
            waiting[code] = exc.details
            continue
        published[code] = len(done["published"])
        for uscc in {p["uscc"] for p in done["published"]}:
            for kind in (AlertKind.PUBLICATION_DUE, AlertKind.PUBLICATION_OVERDUE):
                resolve_alerts(session, kind=kind, obj=f"{code}/{uscc}")
        if done["not_ready"]:
            waiting[code] = done["not_ready"]
    return {"published": published, "not_ready": waiting}


def _rebuild_site() -> dict[str, Any]:
    """Rebuild the public site incrementally after a publication (if configured)."""
    rt = runtime()
    if rt.config.site_dir is None:
        logger.info("site: [site] out_dir is not configured; the site was not rebuilt")
        return {"site": "skipped: [site] out_dir not configured"}
    try:
        from supervision.site import publish_site
    except ImportError:
        logger.info("site: supervision.site.publish_site is not available; skipped")
        return {"site": "skipped: supervision.site not available"}
    try:
        report = publish_site(rt.db, out_dir=rt.config.site_dir, languages=rt.config.site_languages)
    except Exception as exc:
        error = _error_text(exc)
        with rt.db.session() as session:
            raise_alert(
                session,
                kind=AlertKind.JOB_FAILED,
                obj="publish_results:site",
                zh=f"公示网站重建失败（{rt.config.site_dir}）：{error}；可运行 supervision publish 重试",
                en=f"rebuilding the public site in {rt.config.site_dir} failed: {error}; "
                "run `supervision publish` to retry",
            )
        logger.error("site rebuild failed: %s", error)
        return {"site": f"failed: {error}"}
    withheld = report.withheld_message()
    with rt.db.session() as session:
        if withheld is None:
            resolve_alerts(session, kind=AlertKind.JOB_FAILED, obj="publish_results:site")
        else:  # the rest of the site is published; the planner must see what is not
            raise_alert(session, kind=AlertKind.JOB_FAILED, obj="publish_results:site",
                        zh=withheld[0], en=withheld[1])  # fmt: skip
    summary = {k: v for k, v in report.as_dict().items() if k != "written_paths"}
    return {"site": _jsonable(summary)}

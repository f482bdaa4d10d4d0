"""The work of the recurring jobs (``jobs.run_nightly_check``, ``run_deadline_watch``,
``run_publication``, ``run_trail_checkpoint``): each runs inside the transaction that
claimed its (job, period) key, as of the scheduled day (see ``supervision.scheduling.jobs``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import Connection
from sqlmodel import Session, select

from supervision import trail
from supervision.db import Database
from supervision.scheduling.alerts import (
    DEADLINE_KINDS,
    AlertKind,
    deadline_alerts,
    open_alerts,
    raise_alert,
    resolve_alerts,
)
from supervision.scheduling.runtime import (
    SCHEDULER_ACTOR,
    error_text,
    jsonable,
    logger,
    raise_message,
    runtime,
)


def checkpoint(session: Session, day: dt.date) -> dict[str, Any]:
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


def check(session: Session, day: dt.date) -> dict[str, Any]:
    from supervision.checks.run import run_check

    bound = cast(Database, _InTransaction(runtime().db, session.connection()))
    summary = run_check(bound, as_of=day)
    return summary.to_dict()


def watch_deadlines(session: Session, day: dt.date) -> dict[str, Any]:
    from supervision.results.deadlines import list_deadlines

    listed = list_deadlines(session, as_of=day)
    messages = deadline_alerts(listed, runtime().config.warn_workdays)
    for message in messages:
        raise_message(session, message)
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


def watch_plans(session: Session, day: dt.date) -> dict[str, Any]:
    """Warn of plan targets projected short with the year running out (from the configured
    month of the plan year): one alert per plan and target, raised once. An open one is
    refreshed with the day's numbers and resolved when the projection reaches the target;
    once resolved (by the watch or by a person) it is not raised again."""
    from supervision.models import Alert, Plan
    from supervision.plans.coverage import shortfalls
    from supervision.plans.service import plan_report
    from supervision.scheduling.plan_alerts import coverage_short

    kind = AlertKind.PLAN_COVERAGE_SHORT
    from_month = runtime().config.plan_warn_from_month
    if day.month < from_month:  # the year is not running out yet: nothing to look at
        return {"as_of": day.isoformat(), "skipped": f"before month {from_month}"}
    ever = {a.object: a for a in session.exec(select(Alert).where(Alert.kind == kind))}
    raised: list[str] = []
    resolved: list[str] = []
    plans = session.exec(select(Plan).where(Plan.year == day.year).order_by(Plan.code)).all()
    for plan in plans:
        report = plan_report(session, code=plan.code, as_of=day)
        short = {t["id"]: t for t in shortfalls(report, as_of=day, from_month=from_month)}
        for target in short.values():
            message = coverage_short(report, target)
            before = ever.get(message.object)
            if before is not None and before.resolved_at is not None:
                continue  # raised once already: a person or the watch dealt with it
            raise_message(session, message)
            raised.append(message.object)
        for t in report["targets"]:
            obj = f"{plan.code}/{t['id']}"
            if t["id"] not in short and obj in ever and ever[obj].resolved_at is None:
                resolved_count = resolve_alerts(session, kind=kind, obj=obj)
                if resolved_count:
                    resolved.append(obj)
    trail.record(
        session,
        action="plans.watch",
        obj=f"plans:{day.isoformat()}",
        payload={"from_month": from_month, "short": raised, "resolved": resolved},
        actor=SCHEDULER_ACTOR,
    )
    return {"as_of": day.isoformat(), "short": raised, "resolved": resolved}


def publish(session: Session, day: dt.date) -> dict[str, Any]:
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


def rebuild_site() -> dict[str, Any]:
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
        error = error_text(exc)
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
    return {"site": jsonable(summary)}

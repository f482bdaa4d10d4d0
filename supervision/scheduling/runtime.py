"""The scheduler's job runtime: the database and configuration bound to the job
functions of one process, and the guard every job runs under (a failure is recorded on
``job_run`` with its error and raises an alert, never an exception; the outcome is logged
in both languages). See ``supervision.scheduling.jobs``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from supervision.db import Database
from supervision.errors import SupervisionError
from supervision.scheduling.alerts import AlertKind, AlertMessage, raise_alert, resolve_alerts
from supervision.scheduling.config import SchedulerConfig
from supervision.scheduling.runs import HOLDER, Outcome, record_failure

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
def jsonable(data: Any) -> Any:
    return json.loads(json.dumps(data, ensure_ascii=False, default=str))


def error_text(exc: BaseException) -> str:
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


def guarded(
    job: str, period: str, alert_object: str, body: Callable[[], Outcome]
) -> dict[str, Any]:
    """Run ``body``; on any error record the failure and alert, never raise."""
    rt = runtime()
    try:
        outcome = body()
    except Exception as exc:
        error = error_text(exc)
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


def raise_message(session: Session, message: AlertMessage) -> None:
    raise_alert(session, kind=message.kind, obj=message.object, zh=message.zh, en=message.en)

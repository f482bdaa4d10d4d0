"""Where a check's chunks run: ``local`` (this process, or ``--workers N`` spawned
processes, ``supervision.checks.workers``) or ``dask`` (a Dask distributed cluster,
``supervision.checks.cluster``).

The writing process is the same either way (``supervision.checks.run``): it sends
``ChunkJob``s out, gets ``ChunkOutcome``s back in chunk order with at most two per worker
in flight, and writes them in its one transaction. Only the place where a chunk is read,
evaluated and compared changes, so a crashed or killed run leaves nothing with either.

Decided here: ``--executor dask`` needs ``--scheduler`` (no cluster is started behind the
user's back) and a PostgreSQL database (workers on other machines cannot read a SQLite
file). Both are refused before anything is written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from supervision.checks.workers import LocalPool, Plan, start_pool
from supervision.db import Database
from supervision.errors import SupervisionError

if TYPE_CHECKING:
    from supervision.checks.cluster import DaskPool

__all__ = ["EXECUTORS", "start_executor", "validate_executor"]

EXECUTORS = ("local", "dask")


def validate_executor(db: Database, plan: Plan) -> None:
    """Refuse, before anything is written, an executor that cannot run here."""
    if plan.executor not in EXECUTORS:
        raise SupervisionError(
            f"--executor 只能是 {' 或 '.join(EXECUTORS)}，而不是 {plan.executor}",
            f"--executor is one of {', '.join(EXECUTORS)}, not {plan.executor}",
        )
    if plan.executor == "local":
        if plan.scheduler is not None:
            raise SupervisionError(
                "--scheduler 只用于 --executor dask", "--scheduler goes with --executor dask"
            )
        return
    if not plan.scheduler:
        raise SupervisionError(
            "--executor dask 需要 --scheduler 指定 Dask 调度器地址（如 tcp://HOST:8786）",
            "--executor dask needs --scheduler, the Dask scheduler's address "
            "(e.g. tcp://HOST:8786)",
        )
    if db.is_sqlite:
        raise SupervisionError(
            "--executor dask 需要 PostgreSQL 数据库：其他机器上的 Dask 工作进程无法读取 SQLite 文件",
            "--executor dask needs a PostgreSQL database: Dask workers on other machines "
            "cannot read a SQLite file",
        )


def start_executor(db: Database, *, plan: Plan) -> LocalPool | DaskPool | None:
    """The started executor of ``plan`` (validated first), or None when the chunks run in
    this process (local, one worker). Close it when done."""
    validate_executor(db, plan)
    if plan.executor == "dask":
        from supervision.checks.cluster import DaskPool

        assert plan.scheduler is not None
        return DaskPool.connect(db.url, plan=plan, scheduler=plan.scheduler)
    if plan.workers > 1:
        return start_pool(db, plan=plan)
    return None

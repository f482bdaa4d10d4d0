"""A check's chunks on a Dask distributed cluster (``supervision check --executor dask``).

``DaskPool.connect`` connects to the scheduler and registers a worker plugin
(``CheckPlugin``) under a name unique to the run: on every worker process (and on any
that joins later) its ``setup`` builds the rule engine (``Evaluator``) from the pack and
opens the database (``Database(url, migrate=False)``), once. Each task (``_work``) finds
its run's plugin on the worker by that name, reads its chunk from the database itself and
returns the chunk's ``ChunkOutcome``; the parent gets them in chunk order with at most
``2 ×`` the cluster's threads in flight. Two runs on one cluster have two plugins, each
with its own engine (a ruleset name is unique within a process, ``RuleEngine``). When the
run ends the plugin is removed and its engine freed. A plugin is named after its run's
client: the plugins of runs that were killed (their client gone from the scheduler) are
removed by the next run that connects, so their engines and database connections do not
pile up on a long-lived cluster.

Failure modes: a worker lost mid-task (killed, machine gone) — the scheduler runs the task
again on another worker (up to ``distributed.scheduler.allowed-failures`` times, then the
run fails); the scheduler lost, or the parent killed — the run's transaction is never
committed, so nothing of it is left; a worker that cannot reach the database — the
plugin's set-up fails and the run stops before writing, with a clear error.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import CancelledError
from typing import Any

from distributed import Client, WorkerPlugin, get_worker
from sqlalchemy import text

from supervision.checks.compare import ChunkOutcome
from supervision.checks.evaluate import Evaluator
from supervision.checks.workers import ChunkJob, Plan, check_chunk
from supervision.db import Database
from supervision.errors import SupervisionError

__all__ = ["CONNECT_SECONDS", "CheckPlugin", "DaskPool"]

#: How long to try reaching the scheduler before giving up with a clear error.
CONNECT_SECONDS = 10
#: Every check plugin's name starts so; the rest is its run's client id.
PREFIX = "supervision-check-"


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


class CheckPlugin(WorkerPlugin):
    """Per worker process: one run's rule engine and database, built once in ``setup``."""

    def __init__(self, name: str, url: str, plan: Plan) -> None:
        self.name = name
        self.url = url
        self.pack = plan.pack
        self.as_of = plan.as_of
        self.calendar = plan.calendar
        self.state: tuple[Evaluator, Database] | None = None
        self.lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["state"] = None
        del state["lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.lock = threading.Lock()

    def setup(self, worker: Any) -> None:
        database = Database(self.url, migrate=False)
        try:
            with database.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as error:
            database.dispose()
            raise SupervisionError(
                f"Dask 工作进程 {worker.address} 无法连接数据库：{_first_line(error)}",
                f"Dask worker {worker.address} cannot reach the database: {_first_line(error)}",
            ) from None
        self.state = (Evaluator(self.pack, self.as_of, self.calendar), database)

    def teardown(self, worker: Any) -> None:
        if self.state is not None:
            evaluator, database = self.state
            self.state = None
            evaluator.close()
            database.dispose()

    def check(self, job: ChunkJob) -> ChunkOutcome:
        if self.state is None:
            raise SupervisionError(
                "Dask 工作进程未能准备核查（见其日志）",
                "a Dask worker could not get ready for the check (see its log)",
            )
        # The engine is not thread-safe: a worker with several threads runs this run's
        # chunks one at a time (start workers with --nthreads 1).
        with self.lock:
            evaluator, database = self.state
            with database.engine.connect() as conn:
                return check_chunk(evaluator, conn, job)


def _work(name: str, job: ChunkJob) -> ChunkOutcome:
    """A task: the chunk checked by this worker's plugin of the run ``name``."""
    plugin = get_worker().plugins.get(name)
    if not isinstance(plugin, CheckPlugin):
        raise SupervisionError(
            f"Dask 工作进程上没有本次核查的插件 {name}",
            f"the Dask worker has no plugin {name} for this check",
        )
    return plugin.check(job)


def _orphans(dask_scheduler: Any) -> list[str]:
    """On the scheduler: the check plugins whose run's client is gone."""
    clients = set(dask_scheduler.clients)
    return [
        name
        for name in dask_scheduler.worker_plugins
        if name.startswith(PREFIX) and name.removeprefix(PREFIX) not in clients
    ]


def _failure(error: BaseException, scheduler: str) -> SupervisionError:
    """What a failed Dask run tells the user (nothing of the run was written)."""
    if isinstance(error, SupervisionError):
        return error
    kind = type(error).__name__
    if kind == "KilledWorker":
        return SupervisionError(
            "Dask 工作进程在执行同一数据块时反复退出，核查中止，未写入任何内容",
            "Dask workers died repeatedly on the same chunk; the check stopped and wrote nothing",
        )
    if isinstance(error, CancelledError | OSError | TimeoutError) or "Comm" in kind:
        return SupervisionError(
            f"与 Dask 调度器 {scheduler} 的连接中断，核查中止，未写入任何内容（{kind}）",
            f"lost the Dask scheduler {scheduler}; the check stopped and wrote nothing ({kind})",
        )
    return SupervisionError(
        f"Dask 任务失败，核查中止，未写入任何内容：{_first_line(error)}",
        f"a Dask task failed; the check stopped and wrote nothing: {_first_line(error)}",
    )


class DaskPool:
    """A run's connection to a Dask cluster, its plugin registered on every worker."""

    def __init__(self, client: Any, name: str, scheduler: str) -> None:
        self.client = client
        self.name = name
        self.scheduler = scheduler
        #: The cluster's worker threads when the run started (the in-flight bound).
        self.workers = max(1, sum(client.nthreads().values()))

    @classmethod
    def connect(cls, url: str, *, plan: Plan, scheduler: str) -> DaskPool:
        try:
            client: Any = Client(  # type: ignore[no-untyped-call]
                scheduler, timeout=CONNECT_SECONDS, set_as_default=False
            )
        except (OSError, TimeoutError, ValueError, TypeError) as error:
            raise SupervisionError(
                f"无法连接 Dask 调度器 {scheduler}：{_first_line(error)}",
                f"cannot reach the Dask scheduler {scheduler}: {_first_line(error)}",
            ) from None
        name = f"{PREFIX}{client.id}"
        try:
            for orphan in client.run_on_scheduler(_orphans):
                client.unregister_worker_plugin(orphan)
            if not client.nthreads():
                raise SupervisionError(
                    f"Dask 调度器 {scheduler} 没有工作进程（先启动 dask worker）",
                    f"the Dask scheduler {scheduler} has no workers (start dask worker first)",
                )
            client.register_plugin(CheckPlugin(name, url, plan), name=name)
            return cls(client, name, scheduler)
        except Exception as error:
            _close(client, name)
            raise _failure(error, scheduler) from None

    def outcomes(self, jobs: Iterable[ChunkJob], *, ahead: int) -> Iterator[ChunkOutcome]:
        """Outcomes in job order, at most ``ahead`` tasks in flight."""
        pending: deque[Any] = deque()
        try:
            for n, job in enumerate(jobs):
                pending.append(
                    self.client.submit(_work, self.name, job, key=f"{self.name}-{n}", pure=False)
                )
                if len(pending) > ahead:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        except Exception as error:
            raise _failure(error, self.scheduler) from None
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        _close(self.client, self.name)


def _close(client: Any, name: str) -> None:
    """Remove the run's plugin (freeing its engines) and disconnect; a scheduler already
    gone is no error here (the run has failed or finished already)."""
    with contextlib.suppress(Exception):  # the plugin dies with the workers anyway
        client.unregister_worker_plugin(name)
    with contextlib.suppress(Exception):
        client.close(timeout=CONNECT_SECONDS)

"""Spreading a check over chunks of entities, in this process or in worker processes.

A chunk is evaluated *and compared* with its entities' live findings where it is read
(``check_chunk``: ``Evaluator.evaluate_chunk``, then ``compare_with_live``); its
entities belong to no other chunk, so the writing process's earlier writes cannot change
that comparison. ``workers > 1`` spreads the chunks over that many spawned processes
(``supervision.pools``, ``spawn``: each opens its own database connection); each builds
its own ``Evaluator`` from the pickled pack and reads its chunks through its own
connection. Outcomes come back in chunk order, with at most ``2 × workers`` chunks in
flight. A started pool is anything with ``outcomes`` and ``workers`` (``ChunkPool``): the
spawned processes here (``LocalPool``) or a Dask cluster (``supervision.checks.cluster``);
``supervision.checks.executors`` chooses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from sqlalchemy import Connection

from supervision import pools
from supervision.checks.compare import ChunkOutcome, compare_with_live
from supervision.checks.evaluate import Evaluator
from supervision.db import Database
from supervision.reference.workdays import WorkCalendar
from supervision.rules.pack import RulePack

__all__ = [
    "CHUNK",
    "ChunkJob",
    "ChunkPool",
    "LocalPool",
    "Plan",
    "check_chunk",
    "evaluate_all",
    "start_pool",
]

#: Entities per chunk: one select of entities, one of their records, one batch of writes.
CHUNK = 1_000


@dataclass(frozen=True)
class Plan:
    """What every chunk of one evaluation shares: the pack, the as-of day, the working-day
    calendar, and how the work is spread (``workers`` processes, ``chunk_size`` entities
    per chunk, on which ``executor``: ``local`` or ``dask`` at ``scheduler``)."""

    pack: RulePack
    as_of: dt.date
    calendar: WorkCalendar
    workers: int = 1
    chunk_size: int = CHUNK
    executor: str = "local"
    scheduler: str | None = None


class ChunkJob(NamedTuple):
    """One chunk to check (sorted usccs) and how; see ``Evaluator.evaluate_chunk`` for
    ``contiguous``, ``stale`` (the part in this chunk) and ``trust_due``, and
    ``compare_with_live`` for ``full``."""

    chunk: list[str]
    contiguous: bool
    stale: frozenset[str] | None
    full: bool
    trust_due: bool


def check_chunk(evaluator: Evaluator, conn: Connection, job: ChunkJob) -> ChunkOutcome:
    """Evaluate one chunk and compare the results with their live findings."""
    results = evaluator.evaluate_chunk(conn, job.chunk, job.contiguous, job.stale, job.trust_due)
    return compare_with_live(conn, results, contiguous=job.contiguous, full=job.full)


# Worker-process globals (spawned processes: one evaluator and one database each).
_worker: tuple[Evaluator, Database] | None = None


def _init_worker(url: str, pack: RulePack, as_of: dt.date, calendar: WorkCalendar) -> None:
    global _worker
    _worker = (Evaluator(pack, as_of, calendar), Database(url, migrate=False))


def _work(job: ChunkJob) -> ChunkOutcome:
    assert _worker is not None
    evaluator, database = _worker
    with database.engine.connect() as conn:
        return check_chunk(evaluator, conn, job)


def _ready() -> None:
    """A task that does nothing: submitted once per worker, it starts the processes."""


class ChunkPool(Protocol):
    """Started workers that check chunks: ``outcomes`` in job order, at most ``ahead`` in
    flight; ``workers`` says how many run at once."""

    workers: int

    def outcomes(self, jobs: Iterable[ChunkJob], *, ahead: int) -> Iterator[ChunkOutcome]: ...

    def close(self) -> None: ...


class LocalPool:
    """Spawned worker processes on this machine (``start_pool``)."""

    def __init__(self, pool: ProcessPoolExecutor, workers: int) -> None:
        self.pool = pool
        self.workers = workers

    def outcomes(self, jobs: Iterable[ChunkJob], *, ahead: int) -> Iterator[ChunkOutcome]:
        return pools.in_order(self.pool, _work, jobs, ahead=ahead)

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


def start_pool(db: Database, *, plan: Plan) -> LocalPool:
    """``plan.workers`` spawned processes, each with its evaluator and database, started
    now (their start-up overlaps whatever the caller does next). The calendar goes
    along: a spawned process starts with none set. Close it when done."""
    pool = pools.process_pool(
        plan.workers,
        method="spawn",
        initializer=_init_worker,
        initargs=(db.url, plan.pack, plan.as_of, plan.calendar),
    )
    for _ in range(plan.workers):
        pool.submit(_ready)
    return LocalPool(pool, plan.workers)


def _chunks(usccs: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(usccs), size):
        yield usccs[i : i + size]


def evaluate_all(
    db: Database,
    *,
    conn: Connection,
    plan: Plan,
    usccs: list[str],
    contiguous: bool,
    stale: frozenset[str] | None,
    full: bool,
    trust_due: bool = False,
    pool: ChunkPool | None = None,
) -> Iterator[ChunkOutcome]:
    """Outcomes chunk by chunk, in the order of ``usccs`` (sorted); ``stale``, ``full``
    and ``trust_due`` as in ``ChunkJob`` (each job carries the part of ``stale`` in its
    chunk). ``pool``: workers already started (``start_pool``, or a Dask cluster's, which
    gets every chunk however few)."""

    def part(chunk: list[str]) -> frozenset[str] | None:
        if stale is None:
            return None
        if not stale:
            return stale
        return frozenset(u for u in chunk if u in stale)

    jobs = (
        ChunkJob(chunk, contiguous, part(chunk), full, trust_due)
        for chunk in _chunks(usccs, plan.chunk_size)
    )
    if plan.executor != "local":
        assert pool is not None, "a Dask run starts its pool first (executors.start_executor)"
        yield from pool.outcomes(jobs, ahead=2 * pool.workers)
        return
    if plan.workers <= 1 or len(usccs) <= plan.chunk_size:
        evaluator = Evaluator(plan.pack, plan.as_of, plan.calendar)
        try:
            for job in jobs:
                yield check_chunk(evaluator, conn, job)
        finally:
            evaluator.close()
        return
    ahead = 2 * plan.workers
    if pool is not None:
        yield from pool.outcomes(jobs, ahead=ahead)
        return
    own = start_pool(db, plan=plan)
    try:
        yield from own.outcomes(jobs, ahead=ahead)
    finally:
        own.pool.shutdown(wait=True, cancel_futures=True)

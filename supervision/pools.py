"""The one process-pool helper: every parallel step (draw scan, import validation, check,
publish rendering) starts its workers here and maps over them in order, with bounded memory.

Start methods, decided once:

- ``fork`` where the workers need what the parent holds in memory (a rule pack, a list of
  pages) and touch no inherited database connection; it also needs no importable
  ``__main__`` (``python -m supervision`` under spawn would run the command again).
- ``spawn`` where each worker opens its own database connection: nothing of the parent's
  engine or threads is copied.

Platforms without ``fork`` (Windows, some macOS set-ups) get ``spawn`` for both.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing.context import BaseContext
from typing import Any, Literal, TypeVar

T = TypeVar("T")
R = TypeVar("R")

Method = Literal["fork", "spawn"]


def can_fork() -> bool:
    """True where ``fork`` is available as a start method."""
    return "fork" in multiprocessing.get_all_start_methods()


def context(method: Method) -> BaseContext:
    """The multiprocessing context for ``method``, ``spawn`` where ``fork`` is missing."""
    if method == "fork" and not can_fork():
        method = "spawn"
    return multiprocessing.get_context(method)


def process_pool(
    workers: int,
    *,
    method: Method,
    initializer: Callable[..., object] | None = None,
    initargs: tuple[Any, ...] = (),
) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes started with ``method`` (see the module docstring).
    Use it as a context manager; map over it with ``in_order``."""
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context(method),
        initializer=initializer,
        initargs=initargs,
    )


def in_order(
    pool: ProcessPoolExecutor, fn: Callable[[T], R], items: Iterable[T], *, ahead: int
) -> Iterator[R]:
    """``fn`` over ``items`` in the pool, results in submission order, with at most
    ``ahead`` tasks in flight: the input is consumed lazily and memory stays flat
    (unlike ``Pool.imap``, whose feeder thread reads the whole input at once)."""
    pending: deque[Future[R]] = deque()
    try:
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) > ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:  # an error or an abandoned loop: nothing more is started
            future.cancel()

"""The one process-pool helper: every parallel step (draw scan, import validation, check,
publish rendering) starts its workers here and maps over them in order, with bounded memory.

Start methods, decided once:

- ``fork`` where the workers need what the parent holds in memory (a rule pack, a list of
  pages) and touch no inherited database connection; it also needs no importable
  ``__main__`` (``python -m supervision`` under spawn would run the command again).
- ``spawn`` where each worker opens its own database connection: nothing of the parent's
  engine or threads is copied.

Platforms without ``fork`` (Windows, some macOS set-ups) get ``spawn`` for both.

Workers die with their parent: a ``kill -9`` of an import, a check or a publish must not
leave its workers running (they would hold database connections and locks, and go on
writing files). On Linux each worker asks the kernel for SIGKILL when its parent goes
(``prctl(PR_SET_PDEATHSIG)``, see ``_die_with_parent``); elsewhere a daemon thread in the
worker watches the parent's pid. Either way a worker whose parent is already gone when it
starts exits at once.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys
import threading
import time
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


def release_free_memory() -> None:
    """Hand the memory this process has freed back to the system (glibc's ``malloc_trim``).

    The C allocator keeps what a bulk step freed (a demo load's batches and SQLite page
    cache: ~340 MB at 200,000 entities) for reuse, so the process stays as big as its
    largest step, and workers forked later map all of it too. A no-op where the C library
    has no ``malloc_trim``."""
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is not None:
        trim(0)


def _libc() -> Any:
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def process_pool(
    workers: int,
    *,
    method: Method,
    initializer: Callable[..., object] | None = None,
    initargs: tuple[Any, ...] = (),
) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes started with ``method`` (see the module docstring).
    Use it as a context manager; map over it with ``in_order``. Forked workers start from
    this process's memory: what it freed is handed back first (``release_free_memory``)."""
    if method == "fork":
        release_free_memory()
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context(method),
        initializer=_worker_start,
        initargs=(os.getpid(), initializer, initargs),
    )


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WATCH_SECONDS = 0.5  # how often the fallback watchdog looks at the parent's pid


def _worker_start(
    parent: int, initializer: Callable[..., object] | None, initargs: tuple[Any, ...]
) -> None:
    """Pool initializer of every worker: tie its life to the parent's, then run the
    caller's initializer."""
    _die_with_parent(parent)
    if initializer is not None:
        initializer(*initargs)


def _die_with_parent(parent: int) -> None:
    """Make this process end when `parent` (the pool's owner) ends, even by SIGKILL.

    Linux: PR_SET_PDEATHSIG (the signal comes when the thread that started the worker
    ends; pools are started and awaited by the same thread, which lives until the work is
    done). The parent may have died before the call: then the pid seen is not `parent`
    any more, and the worker leaves now. Other systems: a daemon thread polls the pid.
    """
    if sys.platform.startswith("linux"):
        libc = _libc()
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
            if os.getppid() != parent:
                os._exit(1)
            return
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    os._exit(1)


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

"""Memory of a process tree, for the benchmarks: the peak of the summed RSS (and PSS) of
every process below this one, sampled from /proc while a phase runs.

ru_maxrss alone cannot give it: it reports one process at a time, and a spawned child's
figure includes the parent pages it briefly shared before exec.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

__all__ = ["TreeRss"]


def _descendants(root: int) -> list[int]:
    """Every process below ``root`` (children of all its threads, recursively)."""
    found: list[int] = []
    todo = [root]
    while todo:
        pid = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                children = Path(f"/proc/{pid}/task/{task}/children").read_text().split()
            except OSError:
                continue
            for child in children:
                found.append(int(child))
                todo.append(int(child))
    return found


class TreeRss:
    """Peaks of the memory of every process below this one, sampled from /proc.

    A phase's processes are this process's descendants while it runs (the phase's child
    process and its workers; for the console, the server's processes and wrk).
    ``peak_mb`` is the peak of their summed RSS; ``peak_pss_mb`` of their summed PSS
    (proportional set size: a page shared by k processes counts 1/k in each), which is
    what they take together when workers are forked and share their parent's pages (the
    RSS sum counts such pages once per process). ``include_self``: this process too (a
    phase run in-process, such as bench_draw's draw)."""

    def __init__(self, interval: float = 0.1, *, include_self: bool = False) -> None:
        self.interval = interval
        self.include_self = include_self
        self.peak_mb = 0.0
        self.peak_pss_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def sample(self) -> tuple[float, float]:
        """(RSS, PSS) in MB summed over the processes below this one."""
        rss = pss = 0.0
        me = os.getpid()
        for pid in ([me] if self.include_self else []) + _descendants(me):
            try:
                text = Path(f"/proc/{pid}/smaps_rollup").read_text()
            except OSError:
                continue
            for line in text.splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1]) / 1024
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1]) / 1024
        return rss, pss

    def _run(self) -> None:
        while True:
            rss, pss = self.sample()
            self.peak_mb = max(self.peak_mb, rss)
            self.peak_pss_mb = max(self.peak_pss_mb, pss)
            if self._stop.wait(self.interval):
                return

"""The one process-pool helper: ordered results, bounded input, both start methods."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supervision import pools


def _square(n: int) -> int:
    return n * n


def _fail_on_three(n: int) -> int:
    if n == 3:
        raise ValueError("three")
    return n


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_results_come_in_submission_order(method: pools.Method) -> None:
    with pools.process_pool(2, method=method) as pool:
        assert list(pools.in_order(pool, _square, range(50), ahead=4)) == [n * n for n in range(50)]


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(-1000, 1000), max_size=30), st.integers(1, 8))
def test_in_order_is_map_for_any_input_and_window(items: list[int], ahead: int) -> None:
    with pools.process_pool(1, method="fork") as pool:
        assert list(pools.in_order(pool, _square, items, ahead=ahead)) == list(map(_square, items))


def test_input_is_read_lazily() -> None:
    """At most `ahead` items are taken before the first result is handed out."""
    taken: list[int] = []

    def feed() -> Iterator[int]:
        for n in itertools.count():
            taken.append(n)
            yield n

    with pools.process_pool(1, method="fork") as pool:
        results = pools.in_order(pool, _square, feed(), ahead=3)
        assert next(results) == 0
        assert len(taken) == 4  # the window of 3 in flight, plus the one that overflowed it
        results.close()


def test_a_worker_error_reaches_the_caller() -> None:
    with pools.process_pool(2, method="fork") as pool, pytest.raises(ValueError, match="three"):
        list(pools.in_order(pool, _fail_on_three, range(10), ahead=2))


# --------------------------------------------------------------------- dying with the parent
_PARENT = """
import os, sys, time
from supervision import pools

def main():
    pool = pools.process_pool(2, method=sys.argv[1])
    futures = [pool.submit(os.getpid) for _ in range(8)]
    pids = sorted({f.result() for f in futures})
    blocker = [pool.submit(time.sleep, 120) for _ in range(2)]  # keep the workers busy
    print(" ".join(map(str, pids)), flush=True)
    time.sleep(120)

if __name__ == "__main__":
    main()
"""


def _alive(pid: int) -> bool:
    """True while `pid` runs (a zombie waiting for its reaper counts as dead)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_workers_die_when_their_parent_is_killed(method: str, tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(_PARENT, encoding="utf-8")
    with subprocess.Popen(
        [sys.executable, str(script), method], stdout=subprocess.PIPE, text=True
    ) as parent:
        try:
            assert parent.stdout is not None
            workers = [int(p) for p in parent.stdout.readline().split()]
            assert workers and all(map(_alive, workers))
        finally:
            parent.send_signal(signal.SIGKILL)
            parent.wait(10)
    deadline = time.monotonic() + 10
    while any(map(_alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = [pid for pid in workers if _alive(pid)]
    for pid in survivors:  # do not leave them behind even when the test fails
        os.kill(pid, signal.SIGKILL)
    assert survivors == []


TRIM_PROBE = """
import os
from supervision import pools

def rss_mb():
    with open(f"/proc/{os.getpid()}/status") as status:
        return int(next(l for l in status if l.startswith("VmRSS")).split()[1]) // 1024

blocks = [bytes(2000) for _ in range(150_000)]  # ~300 MB from malloc (beyond obmalloc)
keep = blocks[-1]  # the top of the heap stays in use: freeing alone cannot shrink it
del blocks
held = rss_mb()
pools.release_free_memory()
print(held, rss_mb())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RSS read from Linux's /proc")
def test_freed_memory_is_handed_back_to_the_system() -> None:
    """What a step freed stops counting against the process (and its forked workers)."""
    done = subprocess.run([sys.executable, "-c", TRIM_PROBE], capture_output=True, text=True,
                          check=True, timeout=120)  # fmt: skip
    held, after = (int(x) for x in done.stdout.split())
    assert held > 250 and after < held - 200, (held, after)

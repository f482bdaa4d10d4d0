"""The check benchmark runs end to end at a tiny size and prints its figures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_check.py"


@pytest.mark.postgres
def test_bench_check_tiny(tmp_path: Path, pg_url: str) -> None:
    server = pg_url.rsplit("/", 1)[0]  # the benchmark makes and drops its own database
    command = [sys.executable, str(BENCH), "--entities", "300", "--repeat", "2"]
    done = subprocess.run(
        [*command, "--dir", str(tmp_path), "--pg", server],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    bare = re.search(r"bare loop\s+: \d+ facts of 300 entities posted in ([\d.]+) s.*"
                     r"best of 2: ([\d.]+), ([\d.]+) s", out)  # fmt: skip
    assert bare and bare.group(1) == min(bare.group(2), bare.group(3), key=float), out
    for workers in (1, 2):
        first = re.search(rf"check --full -w{workers} first : (\d+) facts .* reused 0,", out)
        steady = re.search(
            rf"check --full -w{workers} steady: (\d+) facts .* reused 300,.* best of 2: ", out
        )
        assert first and steady, out
        assert first.group(1) == steady.group(1)
    assert re.search(r"incremental\s+: 3 entities changed, \d+ checked", out), out
    for label in ("1 worker / bare", "2 workers / bare", "incremental / full", "first full run"):
        assert re.search(re.escape(label) + r".*: [\d.]+ \(goal", out), out
    floor = re.search(r"floor of any incremental run .*: ([\d.]+) s = ([\d.]+) of the steady", out)
    assert floor and float(floor.group(1)) > 0, out
    assert re.search(r"first runs .*: 1 worker / bare [\d.]+, 2 workers / bare [\d.]+", out), out
    assert re.search(
        r"first full run / bare, 1 worker .*: [\d.]+ \(goal >= 0\.4\) (met|MISSED)", out
    )
    assert re.search(r"incremental service time / floor: [\d.]+ \(goal <= 2\.0\) (met|MISSED)", out)
    # Dask (a LocalCluster of 2 worker processes) against local --workers 2, on PostgreSQL.
    assert "dask vs local  : built 300 entities" in out, out
    for kind in ("first", "steady"):
        local = re.search(rf"{kind}\s+local -w2\s+: (\d+) facts .* = ([\d,]+) facts/s", out)
        dask = re.search(rf"{kind}\s+dask 2 workers: (\d+) facts .* = ([\d,]+) facts/s", out)
        assert local and dask and local.group(1) == dask.group(1), out
        ratio = re.search(rf"{kind}\s+dask / local -w2 : ([\d.]+) \(goal >= 0.9\)", out)
        assert ratio and float(ratio.group(1)) > 0, out
    assert not list(tmp_path.rglob("*.db"))  # cleaned up

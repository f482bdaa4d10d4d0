"""The benchmark script runs end to end at a tiny size and prints every figure."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_draw.py"


def test_benchmark_prints_its_figures() -> None:
    run = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--ids",
            "2000",
            "--matching-entities",
            "50",
            "--inspectors",
            "10",
            "--regions",
            "3",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    out = run.stdout
    for label in ("ours", "bare sha256 loop", "reference", "matching"):
        assert re.search(rf"^{label} +wall +[\d.]+ s +[\d,]+ ", out, re.M), (label, out)
    assert re.search(r"ids/s", out)
    assert re.search(r"reference/ours +[\d.]+x", out)
    assert re.search(r"ours/bare +[\d.]+ \(wall\)", out)
    assert re.search(r"peak RSS .*\d+ MB", out)
    assert "2,000 in 4 strata" in out and "-> 20 picks" in out
    assert "50 entities x 2 among 10 inspectors in 3 regions -> 100 assignments" in out
    assert out.rstrip().endswith("picks equal reference: yes")


def test_benchmark_without_reference_and_with_one_worker() -> None:
    run = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--ids",
            "500",
            "--matching-entities",
            "0",
            "--skip-reference",
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert "reference          skipped" in run.stdout
    assert "matching" not in run.stdout
    assert "picks equal reference" not in run.stdout

"""The publish benchmark runs end to end at a tiny size and prints its figures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_publish.py"


def test_bench_publish_tiny(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--results", "60", "--tasks", "2", "--lang", "all",
         "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert re.search(r"our publish    : \d+ pages \(\d+ files\) in [\d.]+ s = [\d,]+ pages/s", out)
    assert re.search(r"bare loop      : \d+ pages in [\d.]+ s = [\d,]+ pages/s", out), out
    assert re.search(r"ratio ours/bare: [\d.]+", out), out
    assert re.search(r"republish      : 0 files written", out), out
    assert list(tmp_path.iterdir()) == []  # cleaned up

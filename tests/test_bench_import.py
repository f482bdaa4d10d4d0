"""The import benchmark runs end to end at a tiny size and prints its figures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_import.py"


def test_bench_import_tiny(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--rows", "2000", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert re.search(r"service import : 2000 rows in [\d.]+ s = [\d,]+ rows/s", out), out
    assert re.search(r"bare executemany: 2000 rows in [\d.]+ s = [\d,]+ rows/s", out), out
    assert re.search(r"ratio service/bare: [\d.]+", out), out
    assert not list(tmp_path.glob("*.csv")) and not list(tmp_path.glob("*.db"))  # cleaned up

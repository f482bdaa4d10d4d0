"""The console benchmark runs end to end at a tiny size (2,000 findings, 2 clients, SQLite)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_console.py"
ARGS = ["--findings", "2000", "--clients", "2", "--requests", "6", "--backend", "sqlite"]


def test_bench_console_tiny(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), *ARGS, "--json"],
        capture_output=True, text=True, check=False, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (result,) = json.loads(done.stdout)
    assert result["backend"] == "sqlite" and result["findings"] == 2000
    assert result["error_count"] == 0, result["errors"]
    assert set(result["pages"]) == {"first", "deep"}
    for page in result["pages"].values():
        assert page["requests"] == 6 and 0 < page["p50_ms"] <= page["p95_ms"] <= page["max_ms"]
    text = subprocess.run(
        [sys.executable, str(BENCH), *ARGS], capture_output=True, text=True, check=True,
        timeout=600, cwd=tmp_path,
    ).stdout  # fmt: skip
    assert "first page: p50" in text and "deep  page: p50" in text and "p95 < 100 ms" in text

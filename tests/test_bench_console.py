"""The console benchmark runs end to end at a tiny size (2,000 findings, 2 clients, SQLite),
with wrk (the default load tool; CI installs it) and with the Python client."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_console.py"
ARGS = ["--findings", "2000", "--clients", "2", "--backend", "sqlite"]


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, str(BENCH), *ARGS, *args],
        capture_output=True, text=True, check=False, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done


def check_pages(result: dict, client: str) -> None:  # type: ignore[type-arg]
    assert result["backend"] == "sqlite" and result["findings"] == 2000
    assert result["client"] == client
    assert result["error_count"] == 0, result["errors"]
    assert set(result["pages"]) == {"first", "deep", "county-first", "county-deep"}
    for page in result["pages"].values():
        assert page["requests"] > 0 and 0 < page["p50_ms"] <= page["p95_ms"] <= page["max_ms"]


def test_bench_console_tiny_with_wrk(tmp_path: Path) -> None:
    if shutil.which("wrk") is None:
        if os.environ.get("CI"):
            pytest.fail("wrk is not installed (CI must install Debian's wrk: see .ci/run)")
        pytest.skip("wrk is not installed (apt-get install wrk)")
    (result,) = json.loads(run(tmp_path, "--client", "wrk", "--seconds", "1", "--json").stdout)
    check_pages(result, "wrk")
    text = run(tmp_path, "--seconds", "1").stdout  # wrk is the default when installed
    assert "(wrk)" in text
    assert "first page: p50" in text and "deep  page: p50" in text and "p95 < 100 ms" in text


def test_bench_console_tiny_with_the_python_client(tmp_path: Path) -> None:
    args = ("--client", "python", "--requests", "6", "--json")
    (result,) = json.loads(run(tmp_path, *args).stdout)
    check_pages(result, "python")
    # 2 clients × 6 requests, cycling over the four pages
    assert sum(page["requests"] for page in result["pages"].values()) == 12

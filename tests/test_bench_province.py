"""The province benchmark runs end to end at a tiny size on PostgreSQL (2,000 entities,
compared against 1,000), and its table and JSON carry every phase with sane figures."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_province.py"
PHASES = [
    "load",
    "draw",
    "check-first",
    "check-steady",
    "check-incremental",
    "publish-first",
    "publish-incremental",
    "console",
]

pytestmark = pytest.mark.postgres


def run(tmp_path: Path, pg_url: str, *args: str) -> str:
    if shutil.which("wrk") is None:
        if os.environ.get("CI"):
            pytest.fail("wrk is not installed (CI must install Debian's wrk: see .ci/run)")
        pytest.skip("wrk is not installed (apt-get install wrk)")
    base = pg_url.rsplit("/", 1)[0]  # the benchmark makes (and drops) its own databases
    done = subprocess.run(
        [sys.executable, str(BENCH), "--pg", base, "--clients", "2", "--seconds", "1", *args],
        capture_output=True, text=True, check=False, timeout=900, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def check_phases(result: dict, entities: int) -> None:  # type: ignore[type-arg]
    assert result["entities"] == entities and result["workers"] == 2
    phases = {p["phase"]: p for p in result["phases"]}
    assert list(phases) == PHASES
    for p in phases.values():
        assert p["seconds"] > 0 and p["throughput"] > 0, p
        # every phase runs in processes of its own: some tens of MB at least, far below 2 GB
        assert 30 < p["peak_rss_mb"] < 2048, p
        assert 0 < p["peak_pss_mb"] <= p["peak_rss_mb"] + 1, p  # shared pages count once
        assert p["db_mb"] > 1, p
        assert p["settle_seconds"] >= 0, p  # what the phase wrote was written out after it
    # the server's settings that bear on the figures are part of them
    assert int(result["server"]["server_version"].split(".")[0]) >= 12
    assert result["server"]["shared_buffers"].endswith(("kB", "MB", "GB"))
    assert phases["load"]["rows"] > entities  # entities plus their records
    assert phases["draw"]["picked"] > 0
    assert phases["check-first"]["checked"] == entities
    assert phases["check-steady"]["checked"] == entities
    # one record for every 100th entity, and those (at least) are checked again
    changed = phases["check-incremental"]["count"]
    assert changed == -(-entities // 100)
    assert phases["check-incremental"]["checked"] >= changed
    assert phases["publish-first"]["written"] > 0
    assert phases["publish-incremental"]["written"] < phases["publish-first"]["written"]
    console = phases["console"]
    assert console["findings"] > 0 and console["bad"] == 0 and console["p95_ms"] > 0
    assert set(console["pages"]) == {"first", "deep"}


def test_bench_province_tiny_with_compare(tmp_path: Path, pg_url: str) -> None:
    result = json.loads(run(tmp_path, pg_url, "--entities", "2000", "--compare", "1000", "--json"))
    check_phases(result, 2000)
    check_phases(result["anchor"], 1000)
    assert result["compare_entities"] == 1000
    assert set(result["ratios"]) == set(PHASES)
    assert all(r is not None and r > 0 for r in result["ratios"].values())

    # The table (printed without --json) names every phase with its ratio and the goals;
    # a saved --json output serves as the anchor of a later run (--compare FILE).
    bench = load_bench()
    saved = tmp_path / "anchor.json"
    saved.write_text(json.dumps(result["anchor"]), encoding="utf-8")
    anchor = bench.load_anchor(str(saved), result["anchor"]["workers"])
    assert bench.compare(result, anchor) == result["ratios"]
    text = bench.table(result)
    lines = text.splitlines()
    assert "province of 2,000 entities on PostgreSQL" in lines[0]
    assert lines[1].startswith("server: ") and "shared_buffers" in lines[1]
    assert "per entity vs 1,000" in lines[2] and "settle s" in lines[2]
    for phase in PHASES:
        row = next(line for line in lines if line.startswith(phase + " "))
        assert f"{result['ratios'][phase]:.2f}×" in row
    assert "peak RSS ≤ 2048 MB in every phase" in text
    assert "per-entity cost at 2,000 vs 1,000 ≤ 1.15×" in text


def test_settle_without_checkpoint_rights_syncs_and_says_so(
    pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A role that may not CHECKPOINT still settles the kernel's pages, and is told why the
    database's were not (the benchmark goes on)."""
    import psycopg

    bench = load_bench()
    role = "sv_bench_" + pg_url.rsplit("_", 1)[1]  # unique per test database
    admin_url = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
    try:
        assert bench.settle(pg_url) >= 0  # the superuser: no note
        assert "CHECKPOINT" not in capsys.readouterr().err
        rest = pg_url.split("@", 1)[1]  # host, port and database
        assert bench.settle(f"postgresql+psycopg://{role}@{rest}") >= 0
        note = capsys.readouterr().err
        assert "no CHECKPOINT between phases" in note and "pg_checkpoint" in note
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')


def load_bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_province", BENCH)
    assert spec is not None and spec.loader is not None
    sys.path.insert(0, str(BENCH.parent))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

"""kill -9 during a job: the period is done completely or not at all, and runs on restart.

A real `supervision scheduler run` process (tests/scheduler_child.py) is killed with
SIGKILL while its nightly check holds the transaction that claimed the period. On SQLite
and PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from scheduler_support import service
from sqlalchemy import text

from supervision.db import Database
from supervision.scheduling import lease
from supervision.scheduling.config import load_config
from supervision.scheduling.runs import last_fire_time, period_key

HERE = Path(__file__).resolve().parent
CONFIG = """
[scheduler]
lease_ttl_seconds = 30
heartbeat_seconds = 5
sync_seconds = 60

[jobs.nightly_check]
cron = "0 * * * *"
misfire_grace_seconds = 7200

[jobs.deadline_watch]
enabled = false

[jobs.publish_results]
enabled = false
"""


def _rows(db: Database, sql: str) -> list[tuple[object, ...]]:
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql)).all()]


def test_kill_9_during_a_job_leaves_the_period_undone_and_it_runs_on_restart(
    db: Database, tmp_path: Path
) -> None:
    config_path = tmp_path / "scheduler.toml"
    config_path.write_text(CONFIG, encoding="utf-8")
    cfg = load_config(config_path)
    # Setup: the job is in the store and due (its run time just passed).
    setup = service(db, cfg, "setup")
    setup.start()
    setup.scheduler._process_jobs()
    setup.scheduler.modify_job(
        "nightly_check",
        jobstore="default",
        next_run_time=datetime.now(cfg.tz) - timedelta(minutes=1),
    )
    setup.stop()

    marker = tmp_path / "marker"
    log = (tmp_path / "child.log").open("w")
    child = subprocess.Popen(
        [sys.executable, str(HERE / "scheduler_child.py"), db.url, str(config_path), str(marker)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None, (tmp_path / "child.log").read_text()
            assert time.monotonic() < deadline, "the child never reached its transaction"
            time.sleep(0.1)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
        log.close()
    assert child.returncode == -signal.SIGKILL

    # Not at all: the run's check and its key rolled back; only the trace of the attempt.
    assert _rows(db, "SELECT job, status FROM job_run") == [("nightly_check", "started")]
    assert _rows(db, "SELECT count(*) FROM check_run") == [(0,)]
    held = lease.current_lease(db)
    assert held is not None and held.holder.endswith(f":{child.pid}")

    # Restart: refused while the dead holder's lease looks alive, taken over once stale.
    restart = service(db, cfg, "restart")
    with pytest.raises(lease.LeaseHeld):
        restart.start()
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=31), tick=True):
        restart.start()
        restart.scheduler._process_jobs()  # sync: the unfinished period is recovered
        restart.scheduler._process_jobs()  # and runs
        expected = period_key(
            last_fire_time(cfg.jobs["nightly_check"].trigger(cfg.timezone), datetime.now(UTC)),
            cfg.tz,
        )  # type: ignore[arg-type]
        restart.stop()
    assert _rows(db, "SELECT job, period, status, attempts FROM job_run") == [
        ("nightly_check", expected, "done", 2)
    ]
    assert _rows(db, "SELECT count(*) FROM check_run") == [(1,)]


def test_the_real_scheduler_process_refuses_a_second_one_and_stops_cleanly(
    db: Database, tmp_path: Path
) -> None:
    config_path = tmp_path / "scheduler.toml"
    config_path.write_text(CONFIG, encoding="utf-8")
    command = [sys.executable, "-m", "supervision", "--db", db.url, "scheduler", "run"]
    log = (tmp_path / "first.log").open("w")
    first = subprocess.Popen(
        [*command, "--config", str(config_path)], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while (held := lease.current_lease(db)) is None:
            assert first.poll() is None, (tmp_path / "first.log").read_text()
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert held.holder.endswith(f":{first.pid}")
        second = subprocess.run(
            [*command, "--config", str(config_path)], capture_output=True, text=True, timeout=60
        )
        assert second.returncode == 3
        assert "另一个调度进程正在运行" in second.stderr and "another scheduler" in second.stderr
        assert "Traceback" not in second.stderr
        first.send_signal(signal.SIGTERM)
        assert first.wait(60) == 0
    finally:
        if first.poll() is None:
            first.kill()
        log.close()
    assert lease.current_lease(db) is None  # given back at the clean stop
    output = (tmp_path / "first.log").read_text()
    assert "已停止" in output and "Traceback" not in output

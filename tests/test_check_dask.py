"""`supervision check --executor dask`: the check's chunks on a real Dask distributed cluster
(a ``LocalCluster`` of 2 worker processes), on PostgreSQL.

Same findings, facts templates and check states as the local executor with 1 and 2
workers; kill -9 of the parent leaves nothing and a rerun completes; kill -9 of a worker
process mid-run: the scheduler runs its task elsewhere and the run completes with the same
rows; refusals (no scheduler, SQLite, unreachable scheduler or database) are clear
bilingual errors with nothing written.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import PG_HOST, PG_PORT, PG_USER, _pg_admin
from sqlalchemy import func, select

from supervision.checks import cluster
from supervision.checks.cluster import DaskPool
from supervision.checks.run import run_check
from supervision.checks.workers import Plan
from supervision.cli import main
from supervision.db import Database
from supervision.demo.load import load_demo
from supervision.demo.province import DemoProvince
from supervision.models import CheckRun
from supervision.models.findings import EntityCheckState, EntityFacts, Finding
from supervision.reference.workdays import default_calendar
from supervision.rules.pack import load_pack

AS_OF = dt.date(2026, 11, 20)
ENTITIES = 600

_F = Finding.__table__  # type: ignore[attr-defined]
_S = EntityCheckState.__table__  # type: ignore[attr-defined]
_T = EntityFacts.__table__  # type: ignore[attr-defined]
_RUN = CheckRun.__table__  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """The address of a LocalCluster of 2 worker processes, one thread each."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    ) as local:
        yield local.scheduler_address


@pytest.fixture
def demo_pg(pg_url: str) -> str:
    """The pg_url database holding the demo province (no check run yet)."""
    database = Database(pg_url)
    try:
        load_demo(database, DemoProvince(entities=ENTITIES, seed=11, as_of=AS_OF))
    finally:
        database.dispose()
    return pg_url


@contextmanager
def pg_copy(url: str) -> Iterator[str]:
    """A fresh copy of the PostgreSQL database at ``url`` (no one may be connected to it)."""
    source = url.rsplit("/", 1)[1]
    name = f"sv_test_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    try:
        yield f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def outputs(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """What a check wrote, less ids, run ids and clock times: every finding with its
    matched facts, every entity's check state and stored facts template."""
    database = Database(url, migrate=False)
    try:
        with database.engine.connect() as conn:
            findings = conn.execute(
                select(
                    _F.c.uscc,
                    _F.c.rule_id,
                    _F.c.rule_version,
                    _F.c.severity,
                    _F.c.severity_rank,
                    _F.c.result_code,
                    _F.c.department,
                    _F.c.fact_ids,
                    _F.c.matched,
                    _F.c.status,
                    _F.c.opened_as_of,
                )
            ).all()
            states = conn.execute(select(_S.c.uscc, _S.c.next_due_on, _S.c.checked_as_of)).all()
            facts = conn.execute(
                select(
                    _T.c.uscc,
                    _T.c.facts_key,
                    _T.c.valid_from,
                    _T.c.valid_until,
                    _T.c.template,
                    _T.c.counters,
                    _T.c.due,
                    _T.c.dates,
                    _T.c.facts,
                )
            ).all()
    finally:
        database.dispose()
    as_text = lambda rows: sorted(json.dumps(list(r), default=str, sort_keys=True) for r in rows)  # noqa: E731
    return {"findings": as_text(findings), "states": as_text(states), "facts": as_text(facts)}


def counts(url: str) -> tuple[int, int, int, int]:
    database = Database(url, migrate=False)
    try:
        with database.engine.connect() as conn:
            return tuple(  # type: ignore[return-value]
                int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                for t in (_RUN, _F, _S, _T)
            )
    finally:
        database.dispose()


def check(url: str, **how: Any) -> Any:
    database = Database(url, migrate=False)
    try:
        return run_check(database, as_of=AS_OF, full=True, chunk_size=50, **how)
    finally:
        database.dispose()


# ------------------------------------------------------------------ same findings
@pytest.mark.postgres
def test_dask_writes_what_local_writes_byte_for_byte(demo_pg: str, scheduler: str) -> None:
    results: dict[str, Any] = {}
    runs = {
        "local-1": {"workers": 1},
        "local-2": {"workers": 2},
        "dask": {"executor": "dask", "scheduler": scheduler},
    }
    for name, how in runs.items():
        with pg_copy(demo_pg) as url:
            summary = check(url, **how)
            assert summary.entities_checked == ENTITIES and summary.error_count == 0, name
            results[name] = (outputs(url), summary.new, summary.facts)
    local, two, dask = results["local-1"], results["local-2"], results["dask"]
    assert local == two == dask
    written = local[0]
    assert len(written["states"]) == ENTITIES and len(written["facts"]) == ENTITIES
    rules = {json.loads(f)[1] for f in written["findings"]}
    assert len(written["findings"]) > 20 and len(rules) >= 3, rules
    # Its run row records where the chunks ran: the cluster's 2 worker threads.
    with pg_copy(demo_pg) as url:
        again = check(url, executor="dask", scheduler=scheduler)
        assert again.workers == 2
        # The next run on the cluster reuses the templates the dask run stored.
        steady = check(url, executor="dask", scheduler=scheduler)
        assert steady.reused == ENTITIES and steady.unchanged == again.new
        assert outputs(url)["findings"] == written["findings"]


@pytest.mark.postgres
def test_two_runs_on_one_cluster_do_not_collide(demo_pg: str, scheduler: str) -> None:
    """Two runs at once on one cluster (two databases): each run's plugin has its own
    name, engine and database on every worker."""
    with pg_copy(demo_pg) as first, pg_copy(demo_pg) as second:
        done: dict[str, Any] = {}

        def run(url: str) -> None:
            done[url] = check(url, executor="dask", scheduler=scheduler)

        threads = [threading.Thread(target=run, args=(u,)) for u in (first, second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        assert all(done[u].entities_checked == ENTITIES for u in (first, second))
        assert outputs(first) == outputs(second)


@pytest.mark.postgres
def test_dry_run_on_the_cluster(demo_pg: str, scheduler: str) -> None:
    runner = CliRunner()
    args = ["--db", demo_pg, "check", "--as-of", AS_OF.isoformat(), "--dry-run", "--json"]
    local = runner.invoke(main, args)
    dask = runner.invoke(main, [*args, "--executor", "dask", "--scheduler", scheduler])
    assert local.exit_code == 0 and dask.exit_code == 0, dask.output
    assert json.loads(local.stdout)["rules"] == json.loads(dask.stdout)["rules"]
    assert counts(demo_pg) == (0, 0, 0, 0)


# ------------------------------------------------------------------ kill -9
def _check_in_thread(
    url: str, scheduler: str, *, chunk_size: int
) -> tuple[threading.Thread, threading.Event, dict[str, Any]]:
    """A full Dask check of ``url`` started in a thread: the thread, an event set once a
    chunk's outcome has come back, and where its summary (or its error) lands."""
    progressed = threading.Event()
    done: dict[str, Any] = {}

    def run() -> None:
        database = Database(url, migrate=False)
        try:
            done["summary"] = run_check(
                database, as_of=AS_OF, full=True, chunk_size=chunk_size, executor="dask",
                scheduler=scheduler, advance=lambda _n: progressed.set(),
            )  # fmt: skip
        except BaseException as error:
            done["error"] = error
        finally:
            database.dispose()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, progressed, done


def _start(url: str, scheduler: str) -> subprocess.Popen[str]:
    argv = ["--db", url, "check", "--as-of", AS_OF.isoformat(), "--full"]
    argv += ["--executor", "dask", "--scheduler", scheduler]
    return subprocess.Popen(
        [sys.executable, "-m", "supervision", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


def _plugins(scheduler: str) -> list[str]:
    """The check plugins registered on the cluster now."""
    from distributed import Client

    with Client(scheduler, set_as_default=False) as client:
        names = client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.worker_plugins))
    return [name for name in names if name.startswith(cluster.PREFIX)]


def _run_in_progress(url: str) -> bool:
    """True while a check holds its run lock (its transaction is open)."""
    database = url.rsplit("/", 1)[1]
    with _pg_admin() as admin:
        row = admin.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
            "WHERE l.locktype = 'advisory' AND l.objid = 4040404 AND l.granted AND d.datname = %s",
            (database,),
        ).fetchone()
    return bool(row and row[0])


def _wait_for_the_lock(url: str, child: subprocess.Popen[str]) -> float:
    """Wait until the check's transaction is open; the moment it was seen."""
    deadline = time.monotonic() + 120
    while not _run_in_progress(url):
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return time.monotonic()


@pytest.fixture
def big_demo_pg(pg_url: str) -> str:
    """A demo province of several CLI chunks (1,000 entities each)."""
    database = Database(pg_url)
    try:
        load_demo(database, DemoProvince(entities=3 * ENTITIES, seed=11, as_of=AS_OF))
    finally:
        database.dispose()
    return pg_url


@pytest.mark.postgres
def test_kill_9_of_the_parent_leaves_nothing_and_a_rerun_completes(
    big_demo_pg: str, scheduler: str
) -> None:
    with pg_copy(big_demo_pg) as url:
        timed = _start(url, scheduler)
        locked = _wait_for_the_lock(url, timed)
        _out, err = timed.communicate(timeout=300)
        assert timed.returncode == 0, err
        in_transaction = time.monotonic() - locked
        expected = outputs(url)
    for fraction in (0.05, 0.3):
        # A loaded machine may finish sooner than the timed run: then the trial proves
        # nothing and is tried again, killing earlier.
        for attempt in range(4):
            with pg_copy(big_demo_pg) as url:
                child = _start(url, scheduler)
                _wait_for_the_lock(url, child)
                time.sleep(in_transaction * fraction / 3**attempt)
                if not (_run_in_progress(url) and child.poll() is None):
                    child.communicate(timeout=300)
                    continue
                child.send_signal(signal.SIGKILL)  # inside its transaction
                child.communicate(timeout=60)
                assert counts(url) == (0, 0, 0, 0), fraction
                again = _start(url, scheduler)
                _out, err = again.communicate(timeout=300)
                assert again.returncode == 0 and "Traceback" not in err, err
                assert outputs(url) == expected
                assert counts(url)[0] == 1
                break
        else:
            pytest.fail(f"no run was still in its transaction when killed ({fraction})")
    # The killed runs' plugins were removed by the runs after them; every run removed its own.
    assert _plugins(scheduler) == []


@pytest.mark.postgres
def test_kill_9_of_a_worker_the_task_runs_elsewhere(demo_pg: str, scheduler: str) -> None:
    from distributed import Client

    with pg_copy(demo_pg) as url:
        check(url, workers=1)
        expected = outputs(url)
    with pg_copy(demo_pg) as url, Client(scheduler, set_as_default=False) as client:
        pids = client.run(os.getpid)
        assert len(pids) == 2
        victim = next(iter(pids.values()))
        thread, progressed, done = _check_in_thread(url, scheduler, chunk_size=10)
        assert progressed.wait(120)
        os.kill(victim, signal.SIGKILL)
        thread.join(300)
        assert "error" not in done, done.get("error")
        assert done["summary"].entities_checked == ENTITIES
        assert outputs(url) == expected
        # The nanny restarted the worker: the cluster has its two processes again.
        deadline = time.monotonic() + 60
        while len(client.nthreads()) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(client.nthreads()) == 2 and victim not in client.run(os.getpid).values()


# ------------------------------------------------------------------ refusals
def _cli(url: str, *args: str) -> Any:
    result = CliRunner().invoke(main, ["--db", url, "check", "--as-of", AS_OF.isoformat(), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_dask_without_a_scheduler_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sv.db'}"
    Database(url).dispose()
    result = _cli(url, "--executor", "dask")
    assert result.exit_code == 1
    assert "需要 --scheduler" in result.stderr and "needs --scheduler" in result.stderr
    assert "Traceback" not in result.output and counts(url) == (0, 0, 0, 0)
    local = _cli(url, "--scheduler", "tcp://127.0.0.1:8786")
    assert local.exit_code == 1 and "--scheduler goes with --executor dask" in local.stderr


def test_dask_on_sqlite_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sv.db'}"
    Database(url).dispose()
    result = _cli(url, "--executor", "dask", "--scheduler", "tcp://127.0.0.1:8786")
    assert result.exit_code == 1
    assert "需要 PostgreSQL" in result.stderr and "needs a PostgreSQL database" in result.stderr
    assert "Traceback" not in result.output and counts(url) == (0, 0, 0, 0)


@pytest.mark.postgres
@pytest.mark.parametrize("address", ["tcp://127.0.0.1:9", "nonsense://somewhere:1", "tcp://"])
def test_an_unreachable_or_bad_scheduler_is_a_clear_error(
    demo_pg: str, address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 2)
    started = time.monotonic()
    result = _cli(demo_pg, "--full", "--executor", "dask", "--scheduler", address)
    assert result.exit_code == 1, result.output
    assert f"无法连接 Dask 调度器 {address}" in result.stderr
    assert f"cannot reach the Dask scheduler {address}" in result.stderr
    assert "Traceback" not in result.output and counts(demo_pg) == (0, 0, 0, 0)
    assert time.monotonic() - started < 30


@pytest.mark.postgres
def test_a_database_the_workers_cannot_reach_is_a_clear_error(scheduler: str) -> None:
    plan = Plan(pack=load_pack(), as_of=AS_OF, calendar=default_calendar(), executor="dask")
    unreachable = f"postgresql+psycopg://{PG_USER}@127.0.0.1:9/nowhere?connect_timeout=2"
    with pytest.raises(Exception) as caught:
        DaskPool.connect(unreachable, plan=plan, scheduler=scheduler)
    error = caught.value
    assert "无法连接数据库" in getattr(error, "zh", "") and "cannot reach the database" in str(
        error
    ), repr(error)


# ------------------------------------------------------------------ the scheduler lost
def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.postgres
def test_the_scheduler_lost_mid_run_stops_it_leaving_nothing(demo_pg: str) -> None:
    """A cluster started as the README says (`dask scheduler`, `dask worker ADDRESS`); the
    scheduler is killed (-9) mid-run: a clear error, and the run left nothing."""
    from distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = Path(sys.executable).with_name("dask")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "start_new_session": True}
    scheduler = subprocess.Popen(
        [dask, "scheduler", "--port", str(port), "--no-dashboard"], **quiet
    )  # type: ignore[call-overload]
    workers = subprocess.Popen(  # type: ignore[call-overload]
        [dask, "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard"],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        **quiet,
    )
    try:
        with Client(address, timeout=60, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)
        thread, progressed, done = _check_in_thread(demo_pg, address, chunk_size=5)
        assert progressed.wait(120)
        scheduler.send_signal(signal.SIGKILL)
        thread.join(120)
        assert not thread.is_alive()
        error = done.get("error")
        assert error is not None and "summary" not in done
        assert f"与 Dask 调度器 {address} 的连接中断" in str(error), repr(error)
        assert "lost the Dask scheduler" in str(error)
        assert counts(demo_pg) == (0, 0, 0, 0)
    finally:
        for child in (workers, scheduler):
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
            child.wait(30)

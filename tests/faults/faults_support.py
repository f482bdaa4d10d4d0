"""Helpers of the fault suite: a demo province built once per backend and copied per trial,
commands run in forked processes (the real CLI, killable with SIGKILL), and the
consistency checks every trial ends with.

Replaying a failure: every trial's random choices come from ``trial_rng(name, n)``, seeded
by ``$SUPERVISION_FAULTS_SEED`` (default 2026); a failing assertion names the seed, the
trial and the moment of the kill.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import shutil
import signal
import sys
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, func, select

from supervision import trail
from supervision.db import Database
from supervision.draw.verify import verify_task
from supervision.models import Task, TaskStatus, TrailEvent

SEED = os.environ.get("SUPERVISION_FAULTS_SEED", "2026")
AS_OF = "2026-07-15"
COMMITTED = "蒙联合抽查〔2026〕2号"  # the demo's committed, undrawn task
DEMO_ENTITIES = 300


def trial_rng(name: str, n: int) -> random.Random:
    return random.Random(f"{SEED}:{name}:{n}")


def replay(name: str, n: int, **what: Any) -> str:
    shown = ", ".join(f"{k}={v}" for k, v in what.items())
    return f"[{name} trial {n}, SUPERVISION_FAULTS_SEED={SEED}; {shown}]"


# ----------------------------------------------------------------------------- databases
@dataclass
class Template:
    """A demo database to copy: a SQLite file, or a PostgreSQL database used as TEMPLATE."""

    backend: str
    source: str  # file path (sqlite) or database name (postgresql)
    site: Path  # the demo's published site
    admin_url: str = ""  # postgresql: the server's URL without a database

    @contextmanager
    def copy(self, where: Path) -> Iterator[str]:
        """A fresh copy of the demo database for one trial; its URL."""
        if self.backend == "sqlite":
            target = where / f"trial-{uuid.uuid4().hex[:8]}.db"
            shutil.copyfile(self.source, target)
            yield f"sqlite:///{target}"
            return
        from conftest import _pg_admin

        name = f"sv_fault_{uuid.uuid4().hex[:12]}"
        with _pg_admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.source}"')
        try:
            yield f"{self.admin_url}/{name}"
        finally:
            with _pg_admin() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ----------------------------------------------------------------------------- processes
def _run_cli(argv: list[str], out: str) -> None:
    """In a forked child: the real `supervision` command, its output to files."""
    with open(out + ".out", "wb") as stdout, open(out + ".err", "wb") as stderr:
        os.dup2(stdout.fileno(), 1)
        os.dup2(stderr.fileno(), 2)
    # pytest's capture replaced sys.stdout/err in the parent: write to the files instead
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False, buffering=1)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", closefd=False, buffering=1)  # noqa: SIM115
    from supervision.cli import main

    code = 0
    try:
        main(argv, prog_name="supervision", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


@dataclass
class Child:
    process: Any
    out: str

    @property
    def pid(self) -> int:
        return int(self.process.pid)

    def wait(self, timeout: float = 120) -> int:
        self.process.join(timeout)
        assert self.process.exitcode is not None, f"{self.out}: still running"
        return int(self.process.exitcode)

    @property
    def stdout(self) -> str:
        return Path(self.out + ".out").read_text(encoding="utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return Path(self.out + ".err").read_text(encoding="utf-8", errors="replace")


def start_cli(argv: list[str], out: Path) -> Child:
    """Fork a process running `supervision ARGV` (modules already imported: quick)."""
    process = multiprocessing.get_context("fork").Process(target=_run_cli, args=(argv, str(out)))
    with warnings.catch_warnings():  # 3.12 warns when a process with threads forks; the
        warnings.simplefilter("ignore", DeprecationWarning)  # child runs one command only
        process.start()
    return Child(process, str(out))


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        children = [p for p, parent in parents.items() if parent == current]
        found += children
        frontier += children
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def kill_after(child: Child, delay: float) -> list[int]:
    """SIGKILL `child` after `delay` seconds (or when it ends); returns its descendants then."""
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline and child.process.is_alive():
        time.sleep(0.01)
    below = descendants(child.pid)
    if child.process.is_alive():
        os.kill(child.pid, signal.SIGKILL)
    child.process.join(30)
    return below


def assert_all_gone(pids: list[int], where: str) -> None:
    """Workers die with their parent: none of `pids` may outlive it by more than 10 s."""
    deadline = time.monotonic() + 10
    while any(map(alive, pids)) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = [p for p in pids if alive(p)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert not survivors, f"{where}: workers outlived their killed parent: {survivors}"


# ----------------------------------------------------------------------------- consistency
def assert_consistent(url: str, where: str) -> dict[str, Any]:
    """The trail verifies and every drawn task recomputes; returns a few counts."""
    db = Database(url)
    try:
        with db.session() as session:
            chain = trail.verify(session)
            assert chain["ok"], f"{where}: trail broken at {chain['broken_at']}: {chain['en']}"
            drawn = session.exec(
                select(Task.code).where(
                    col(Task.status) != TaskStatus.DRAFT, col(Task.seed).is_not(None)
                )
            ).all()
            for code in drawn:
                assert verify_task(session, code=code) == [], f"{where}: verify {code}"
            tasks = {t.code: t.status for t in session.exec(select(Task))}
            events = session.exec(select(func.count()).select_from(TrailEvent)).one()
        return {"tasks": tasks, "events": int(events), "drawn": list(drawn)}
    finally:
        db.dispose()


def assert_site_whole(site: Path, where: str) -> None:
    """No empty file, every page a complete HTML document."""
    for file in site.rglob("*"):
        if not file.is_file() or ".publishing" in file.parts:
            continue
        size = file.stat().st_size
        assert size > 0, f"{where}: 0-byte file {file.relative_to(site)}"
        if file.suffix == ".html":
            tail = file.read_bytes()[-64:].rstrip()
            assert tail.endswith(b"</html>"), f"{where}: cut page {file.relative_to(site)}"


# ----------------------------------------------------------------------------- fixtures
# (imported by the test modules: ``from faults_support import demo, ...``)
def _build_demo(url: str, where: Path) -> Path:
    site = where / "demo-site"
    child = start_cli(
        ["--db", url, "demo", "--entities", str(DEMO_ENTITIES), "--as-of", AS_OF,
         "--site", str(site)],
        where / "demo",
    )  # fmt: skip
    assert child.wait(600) == 0, child.stderr
    return site


@pytest.fixture(scope="session")
def sqlite_demo(tmp_path_factory: pytest.TempPathFactory) -> Template:
    where = tmp_path_factory.mktemp("faults-sqlite")
    path = where / "demo.db"
    site = _build_demo(f"sqlite:///{path}", where)
    return Template("sqlite", str(path), site)


@pytest.fixture(scope="session")
def postgres_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Template]:
    from conftest import PG_HOST, PG_PORT, PG_USER, _pg_admin, _pg_unavailable

    try:
        admin = _pg_admin()
    except Exception as exc:
        _pg_unavailable(str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc))
        return
    name = f"sv_fault_tmpl_{uuid.uuid4().hex[:10]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    server = f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}"
    try:
        site = _build_demo(f"{server}/{name}", tmp_path_factory.mktemp("faults-pg"))
        yield Template("postgresql", name, site, admin_url=server)
    finally:
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def demo(request: pytest.FixtureRequest) -> Template:
    """The demo province on each backend (copy it per trial with ``demo.copy(tmp_path)``)."""
    name = "sqlite_demo" if request.param == "sqlite" else "postgres_demo"
    template: Template = request.getfixturevalue(name)
    return template

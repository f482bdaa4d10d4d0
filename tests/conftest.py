"""Shared fixtures: a fresh database per test, on SQLite and on PostgreSQL.

PostgreSQL variants create their own database on 127.0.0.1:5432 and drop it after.
Without a reachable server they skip with a visible reason, except in CI (CI=true),
where that skip is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from supervision.cli import main
from supervision.db import Database

PG_HOST = os.environ.get("SUPERVISION_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("SUPERVISION_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("SUPERVISION_TEST_PG_USER", "postgres")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _pg_admin() -> Any:
    import psycopg

    return psycopg.connect(
        host=PG_HOST,
        port=PG_PORT,
        user=PG_USER,
        dbname="postgres",
        autocommit=True,
        connect_timeout=3,
    )


def _pg_unavailable(reason: str) -> None:
    message = f"PostgreSQL at {PG_HOST}:{PG_PORT} unreachable: {reason}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: PostgreSQL tests must run, not skip)")
    pytest.skip(message)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    name = f"sv_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = _pg_admin()
    except Exception as exc:
        _pg_unavailable(str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc))
        return
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh database, once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'supervision.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """An open, migrated, empty project database."""
    database = Database(db_url)
    try:
        yield database
    finally:
        database.dispose()


CliRun = Callable[..., Result]


@pytest.fixture
def cli(db_url: str) -> CliRun:
    """Run the real `supervision` command group against this test's database.

    cli("import", "entities", path) → click Result; raises if the command crashed
    with a traceback (a user must never see one).
    """
    runner = CliRunner()

    def run(*args: str, expect: int | None = 0, input: str | None = None) -> Result:
        result = runner.invoke(main, ["--db", db_url, *map(str, args)], input=input)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        if expect is not None:
            assert result.exit_code == expect, (
                f"exit {result.exit_code} != {expect}\nstdout:\n{result.stdout}\n"
                f"stderr:\n{result.stderr}"
            )
        return result

    return run


CREW = {"admin": "cli-admin", "planner": "cli-planner", "reviewer": "cli-reviewer"}
"""The console users the CLI tests act as (--as): one per role whose commands change data."""


@pytest.fixture
def crew(request: pytest.FixtureRequest) -> dict[str, str]:
    """Console users for CLI tests to act as (``--as CREW[role]``), created in the test's
    database when the test runs the CLI. Modules whose tests change data through the CLI use
    it with ``pytestmark = pytest.mark.usefixtures("crew")``."""
    if "cli" not in request.fixturenames:
        return CREW
    from supervision.accounts.users import add_user

    database = Database(request.getfixturevalue("db_url"))
    try:
        with database.session() as session:
            for role, name in CREW.items():
                add_user(session, username=name, password="crew password 1", role=role,
                         actor="test:crew")  # fmt: skip
    finally:
        database.dispose()
    return CREW


# ---------------------------------------------------------------- browser tests
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def artifacts() -> Path:
    """test-artifacts/ at the top of the checkout (gitignored): screenshots go there."""
    path = Path(__file__).resolve().parent.parent / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (its own download cannot work here).

    Skips with the reason when the browser or Playwright is missing, except in CI
    (CI=true), where that is a failure.
    """
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail("/usr/bin/chromium is missing (CI=true: the browser test must run)")
        pytest.skip("/usr/bin/chromium is missing: apt-get install -y chromium fonts-noto-cjk")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if IN_CI:
            pytest.fail("playwright is not installed (CI=true: the browser test must run)")
        pytest.skip("playwright is not installed: pip install playwright")
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()

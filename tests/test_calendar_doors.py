"""A demo dated in December reaches into a year whose holidays are not announced: every door
(demo summary, `deadlines`, `deadlines --json`, `check`, the console dashboard and its API,
the scheduler's deadline watch) works and marks the provisional deadlines; the notice's
arrival supersedes them. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import time_machine
from sqlalchemy import inspect, select, text
from test_console_support import PASSWORD, ConsoleServer, sign_in, soup, text_of

from supervision.accounts.users import add_user
from supervision.db import Database
from supervision.models import CheckRun, TrailEvent
from supervision.models.users import Role

DAY = "2026-12-07"
NOON = datetime(2026, 12, 31, 4, 0, tzinfo=UTC)  # 12:00 in Beijing, the demo + 24 days
_RUN = CheckRun.__table__  # type: ignore[attr-defined]
_T = TrailEvent.__table__  # type: ignore[attr-defined]


@pytest.fixture
def demo(cli: Any, tmp_path: Path) -> dict[str, Any]:
    result = cli("demo", "--entities", "150", "--as-of", DAY, "--site", tmp_path / "site", "--json")
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _announced_2027(tmp_path: Path) -> Path:
    """A stand-in for 2027's notice (the real one is not out): rest days and one make-up
    Saturday, written by `calendar import` as a bureau would."""
    notice = tmp_path / "2027.txt"
    notice.write_text(
        "国务院办公厅关于2027年部分节假日安排的通知\n"
        "一、元旦：1月1日（周五）至3日（周日）放假，共3天。\n"
        "二、春节：2月5日（周五）至11日（周四）放假调休，共7天。2月20日（周六）上班。\n",
        encoding="utf-8",
    )
    return notice


def test_a_december_demo_shows_provisional_deadlines_at_every_cli_door(
    cli: Any, demo: dict[str, Any], db: Database, tmp_path: Path
) -> None:
    # The demo's own summary: no entity recorded as an error, deadlines reported as provisional.
    assert demo["check"]["error_count"] == 0
    assert demo["check"]["provisional_years"] == [2027]
    assert demo["deadlines"]["error"] is None
    assert demo["deadlines"]["provisional"] > 0
    assert demo["deadlines"]["provisional_years"] == [2027]
    # deadlines --json, on the demo's day and on the README's 31 December.
    for as_of in (DAY, "2026-12-31"):
        data = json.loads(cli("deadlines", "--as-of", as_of, "--json").stdout)
        rows = data["publication"] + data["rectification"]
        assert rows
        for d in rows:
            # From 21 December on, 2027's notice may still move a day (a make-up Saturday
            # for 元旦): such a deadline is provisional too.
            assert d["provisional"] is (d["due"] >= "2026-12-21")
            assert d["provisional_years"] == ([2027] if d["provisional"] else [])
        assert data["calendar"]["provisional_years"] == [2027] and data["calendar"]["bound"]
    table = cli("deadlines", "--as-of", "2026-12-31").stdout
    assert "暂定" in table and "provisional" in table and "2027" in table
    # check: an incremental run on the same calendar, no errors, the provisional year named.
    out = cli("check", "--as-of", DAY).stdout
    assert "暂定日历" in out and "错误" not in out
    # The notice arrives: import it, and every door loses its provisional marks.
    extra = tmp_path / "extra.yaml"
    cli("calendar", "import", _announced_2027(tmp_path), "--output", extra)
    data = json.loads(cli("deadlines", "--as-of", DAY, "--calendar", extra, "--json").stdout)
    assert not any(d["provisional"] for d in data["publication"] + data["rectification"])
    assert data["calendar"]["provisional"] is False
    summary = json.loads(cli("check", "--as-of", DAY, "--calendar", extra, "--json").stdout)
    assert summary["mode"] == "full" and summary["reason"] == "working-day calendar changed"
    assert summary["provisional_years"] == [] and summary["facts_reused"] == 0
    with db.engine.connect() as conn:
        calendars = conn.execute(select(_RUN.c.calendar).order_by(_RUN.c.id)).scalars().all()
    assert calendars[0] == calendars[1] != calendars[2] == summary["calendar"]


@pytest.fixture
def console(db: Database, demo: dict[str, Any]) -> Iterator[httpx.Client]:
    with db.session() as session:
        add_user(session, username="t-admin", password=PASSWORD, role=Role.ADMIN,
                 display_name="测试管理员")  # fmt: skip
        session.commit()
    with time_machine.travel(NOON, tick=True), ConsoleServer(db) as url:
        client = httpx.Client(base_url=url, follow_redirects=False, timeout=30)
        try:
            sign_in(client, "t-admin")
            yield client
        finally:
            client.close()


def test_the_dashboard_marks_provisional_deadlines(console: httpx.Client) -> None:
    page = soup(console.get("/"))
    cells = page.select("table.deadlines td[data-provisional]")
    assert cells, "the December demo has deadlines due soon"
    provisional = [c for c in cells if c["data-provisional"] == "true"]
    assert provisional and all("暂定" in text_of(c) for c in provisional)
    note = page.select_one("#provisional-note")
    assert note is not None and "2027" in text_of(note) and "earliest" in text_of(note)
    api = console.get("/api/dashboard").json()
    assert api["deadline_calendar"]["provisional_years"] == [2027]
    assert any(d["provisional"] for d in api["deadlines"])


def test_the_dashboard_never_says_nothing_due_when_it_cannot_count(
    console: httpx.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("years: 2027\n", encoding="utf-8")
    monkeypatch.setenv("SUPERVISION_CALENDAR_FILE", str(bad))
    page = soup(console.get("/"))
    section = page.select_one("section[aria-labelledby=due-h]")
    assert section is not None
    errors = " ".join(text_of(p) for p in section.select("p.error"))
    assert str(bad) in errors and "years" in errors
    assert "Nothing due" not in text_of(section) and "暂无到期事项" not in text_of(section)
    assert page.select_one("p.error[data-state=unknown]") is not None
    api = console.get("/api/dashboard").json()
    assert api["deadline_error"] and str(bad) in api["deadline_error"]["zh"]


def test_the_scheduler_watch_records_its_calendar_and_marks_alerts(
    db: Database, demo: dict[str, Any]
) -> None:
    from supervision.scheduling.alerts import deadline_alerts, open_alerts
    from supervision.scheduling.config import SchedulerConfig
    from supervision.scheduling.recurring import watch_deadlines
    from supervision.scheduling.runtime import Runtime, bind, unbind

    bind(Runtime(db=db, config=SchedulerConfig()))
    try:
        with db.session() as session:
            result = watch_deadlines(session, date(2026, 12, 31))
            session.commit()
    finally:
        unbind()
    assert result["provisional_years"] == [2027]
    with db.session() as session:
        alerts = open_alerts(session)
    provisional = [a for a in alerts if "暂定" in a.message_zh]
    assert provisional and all("provisional" in a.message_en for a in provisional)
    with db.engine.connect() as conn:
        event = conn.execute(select(_T).where(_T.c.action == "deadlines.watch")).one()
    payload = json.loads(event.payload)
    assert payload["calendar"] == result["calendar"] and payload["provisional_years"] == [2027]
    # An official due date carries no mark.
    plain = deadline_alerts(
        {"publication": [{"task": "T", "uscc": "U", "due": "2026-12-01", "overdue": True,
                          "workdays_over": 3, "workdays_left": 0, "provisional": False,
                          "provisional_years": []}]},
        3,
    )  # fmt: skip
    assert "暂定" not in plain[0].zh


def test_migration_0014_adds_and_drops_the_calendar_column(db_url: str) -> None:
    from alembic import command

    from supervision.db import alembic_config, make_engine

    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0014-1")  # the revision before 0014
            conn.execute(
                text(
                    "INSERT INTO check_run (started_at, as_of, pack_digest, pack_root, mode,"
                    " workers, entities_checked, facts, findings_new, findings_unchanged,"
                    " findings_updated, findings_resolved, error_count, errors, status)"
                    " VALUES ('2026-12-01 00:00:00', '2026-12-01', 'd', '', 'full', 1, 0, 0,"
                    " 0, 0, 0, 0, 0, '[]', 'done')"
                )
            )
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0014")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT calendar FROM check_run")).scalar_one() is None
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0014-1")
        with engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("check_run")}
            assert "calendar" not in columns
            assert conn.execute(text("SELECT count(*) FROM check_run")).scalar_one() == 1
    finally:
        engine.dispose()


def test_public_pages_and_open_data_footnote_the_provisional_due_date(
    demo: dict[str, Any], tmp_path: Path
) -> None:
    from bs4 import BeautifulSoup

    site = tmp_path / "site"
    pages = sorted((site / "tasks").glob("*/index.html"))
    assert pages
    for lang_root in (site, site / "en"):
        page = BeautifulSoup(
            (lang_root / "tasks" / pages[0].parent.name / "index.html").read_text("utf-8"),
            "html.parser",
        )
        note = page.select_one("#due-note")
        assert note is not None and "2027" in note.get_text()
        assert page.select_one("dd span.provisional") is not None
    tasks = json.loads((site / "data" / "tasks.json").read_text("utf-8"))
    rows = tasks["records"] if isinstance(tasks, dict) and "records" in tasks else tasks
    dues = [r for r in rows if r["result_due"] >= "2027"]
    assert dues and all(r["result_due_provisional"] is True for r in dues)

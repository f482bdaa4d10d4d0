"""Shared data and helpers for the console tests (no tests here).

``build_console`` extends the public site's test province (tests/site_support.py: a drawn
task with results in every state) with: a finding of a real rule of the shipped pack, a
draft task for the planner, one user per role and an open alert. ``ConsoleServer`` runs
the real application under uvicorn on 127.0.0.1 (a thread, an ephemeral port), so tests
talk HTTP to it with httpx or a browser.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import site_support as s
from bs4 import BeautifulSoup
from sqlmodel import col, select

from supervision.accounts.throttle import LoginThrottle
from supervision.accounts.users import add_user
from supervision.console.app import create_app
from supervision.console.serve import UVICORN_OPTIONS
from supervision.db import Database
from supervision.draw.tasks import create_task, parse_task_input
from supervision.models import Assignment, CheckRun, Finding, InspectionResult
from supervision.models.users import Role
from supervision.scheduling.alerts import raise_alert

PASSWORD = "correct horse battery"
DRAFT_TASK = "T-CONSOLE-2026"
RULE = "samr.annual-report-not-filed"


def build_console(db: Database, tmp_path: Path) -> dict[str, Any]:
    built = s.build(db, tmp_path)
    usccs: list[str] = built["usccs"]
    now = datetime(2026, 7, 2, tzinfo=UTC)
    with db.session() as session:
        run = CheckRun(started_at=now, as_of=date(2026, 7, 2), pack_digest="1" * 64, mode="full")
        session.add(run)
        session.flush()
        assert run.id is not None
        finding = Finding(
            uscc=usccs[3], rule_id=RULE, rule_version=1, department="市场监督管理部门",
            severity="medium", severity_rank=2, result_code="B", first_run_id=run.id,
            last_run_id=run.id, opened_as_of=date(2026, 7, 2), opened_at=now,
            fact_ids=["annual_report:2025", "entity"],
            matched=[
                {"alias": "r", "id": "annual_report:2025", "t": "annual_report",
                 "values": {"uscc": usccs[3], "year": 2025, "filed": False, "days_overdue": 2}},
                {"alias": "e", "id": "entity", "t": "entity",
                 "values": {"uscc": usccs[3], "entity_type": "企业", "active": True}},
            ],
        )  # fmt: skip
        session.add(finding)
        session.flush()
        create_task(
            session,
            spec=parse_task_input(
                {"code": DRAFT_TASK, "plan": "P2026", "name": "控制台测试抽查",
                 "departments": ["SJ"], "items": ["SJ-01"], "ratios": "0.5",
                 "exclusion_days": 0, "period_start": "2026-03-01",
                 "period_end": "2026-12-31"}
            ),
        )  # fmt: skip
        entered = set(session.exec(select(InspectionResult.uscc)).all())
        assignment = session.exec(
            select(Assignment)
            .where(col(Assignment.task_code) == s.TASK, col(Assignment.uscc).not_in(entered))
            .order_by(col(Assignment.uscc), col(Assignment.cert_no))
        ).first()
        assert assignment is not None
        for role in Role.ALL:
            add_user(
                session, username=role, password=PASSWORD, role=role,
                display_name=f"测试{Role.ZH[role]}",
                cert_no=assignment.cert_no if role == Role.INSPECTOR else None,
            )  # fmt: skip
        raise_alert(
            session,
            kind="seed_missing",
            obj=f"task:{s.TASK}",
            zh="提醒：种子未录入",
            en="seed missing",
        )
        finding_id = finding.id
    return built | {
        "finding_id": finding_id,
        "flagged_uscc": usccs[3],
        "inspector_uscc": assignment.uscc,
        "inspector_cert": assignment.cert_no,
    }


class ConsoleServer:
    """The console under uvicorn on 127.0.0.1 in a background thread."""

    def __init__(self, db: Database, **options: Any) -> None:
        import uvicorn

        options.setdefault("throttle", LoginThrottle())
        self.app = create_app(db, **options)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=0, log_level="warning",
                                proxy_headers=UVICORN_OPTIONS["proxy_headers"],
                                lifespan="off")  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the console server did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def csrf_of(response: httpx.Response) -> str:
    field = soup(response).find("input", attrs={"name": "csrf_token"})
    assert field is not None, response.text[:500]
    value = field.get("value")
    assert isinstance(value, str)
    return value


def sign_in(client: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    """Sign in through the real form (with its CSRF cookie); returns the landing page."""
    form = client.get("/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(form),
              "next": "/"},
        follow_redirects=True,
    )  # fmt: skip


def text_of(node: Any) -> str:
    return re.sub(r"\s+", " ", node.get_text(" ")).strip()

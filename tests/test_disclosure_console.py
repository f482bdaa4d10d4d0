"""The console's doors of pseudonymous disclosure: the task page shows the disclosure and
issues an entity its salt (form and JSON API), each issue on the trail."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import site_support as s
from bs4 import BeautifulSoup
from sqlalchemy import select
from test_console_support import PASSWORD, ConsoleServer, build_console, csrf_of, sign_in, soup

from supervision.accounts.throttle import LoginThrottle
from supervision.db import Database
from supervision.models import DrawPick, TaskPopulation, TrailEvent
from supervision.models.users import Role
from supervision.site import publish_site, urls


@pytest.fixture
def server(db: Database, tmp_path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    data = build_console(db, tmp_path)
    with ConsoleServer(db, throttle=LoginThrottle(limit=3, client_limit=1000)) as url:
        yield url, data


def _outsider(db: Database) -> TaskPopulation:
    """A member of the drawn demo task's population (not drawn, when there is one)."""
    with db.session() as session:
        drawn = set(session.execute(select(DrawPick.uscc)).scalars())
        members = list(
            session.execute(
                select(TaskPopulation).where(TaskPopulation.task_code == s.TASK)
            ).scalars()
        )
        return next((m for m in members if m.uscc not in drawn), members[0])


def _issued(db: Database) -> list[tuple[str, Any]]:
    with db.session() as session:
        return [
            (e.actor, json.loads(e.payload) if isinstance(e.payload, str) else e.payload)
            for e in session.execute(
                select(TrailEvent).where(TrailEvent.action == "task.salt_issued")
            ).scalars()
        ]


def test_task_page_issues_a_salt(db: Database, server: tuple[str, dict[str, Any]]) -> None:
    url, _ = server
    outsider = _outsider(db)
    with httpx.Client(base_url=url, timeout=30) as client:
        sign_in(client, Role.PLANNER)
        page = soup(client.get("/task", params={"code": s.TASK}))
        assert page.select_one("dd.disclosure")["data-disclosure"] == "pseudonymous"
        form = page.select_one("form.salt")
        assert form is not None and form["action"] == "/task/salt"
        token = form.find("input", attrs={"name": "csrf_token"})["value"]
        shown = client.post(
            "/task/salt", data={"code": s.TASK, "uscc": outsider.uscc, "csrf_token": token}
        )
        assert shown.status_code == 200, shown.text[:500]
        doc = soup(shown)
        salt = doc.select_one("code.salt").get_text()
        pseudonym = doc.select_one("code.pseudonym").get_text()
        assert salt == outsider.salt
        assert pseudonym == hashlib.sha256(f"{salt}:{outsider.uscc}".encode()).hexdigest()
        missing = client.post(
            "/task/salt", data={"code": s.TASK, "uscc": "91150000000000000X", "csrf_token": token}
        )
        assert missing.status_code == 404
        assert "不在任务" in missing.text
    assert _issued(db) == [("console:planner", {"uscc": outsider.uscc})]


def test_api_issues_a_salt(db: Database, server: tuple[str, dict[str, Any]]) -> None:
    url, _ = server
    outsider = _outsider(db)
    with httpx.Client(base_url=url, timeout=30) as client:
        token = client.post("/api/session", json={"username": "planner", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['token']}"}
        answer = client.post(
            "/api/tasks/salt", json={"code": s.TASK, "uscc": outsider.uscc}, headers=headers
        )
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "task": s.TASK,
            "uscc": outsider.uscc,
            "salt": outsider.salt,
            "pseudonym": outsider.pseudonym,
        }
        inspector = client.post(
            "/api/session", json={"username": "inspector", "password": PASSWORD}
        ).json()["token"]
        refused = client.post(
            "/api/tasks/salt",
            json={"code": s.TASK, "uscc": outsider.uscc},
            headers={"Authorization": f"Bearer {inspector}"},
        )
        assert refused.status_code == 403
    assert len(_issued(db)) == 1
    assert csrf_of  # the form test uses the page's own token


# ------------------------------------------------------- choosing the disclosure at creation
def _new_task(code: str, **overrides: str) -> dict[str, Any]:
    return {"code": code, "plan": "P2026", "name": "公开方式测试", "departments": ["SJ"],
            "items": ["SJ-01"], "ratios": "0.5", "period_start": "2026-03-01",
            "period_end": "2026-12-31"} | overrides  # fmt: skip


def _disclosures(db: Database) -> dict[str, str]:
    from supervision.models import Task

    with db.session() as session:
        return {t.code: t.disclosure for t in session.execute(select(Task)).scalars()}


def test_create_form_offers_and_keeps_the_disclosure(
    db: Database, server: tuple[str, dict[str, Any]]
) -> None:
    url, _ = server
    with httpx.Client(base_url=url, timeout=30) as client:
        sign_in(client, Role.PLANNER)
        page = soup(client.get("/tasks"))
        select_ = page.select_one("form.create-task select[name=disclosure]")
        assert [o["value"] for o in select_.select("option")] == ["pseudonymous", "full"]
        assert select_.select_one("option[selected]")["value"] == "pseudonymous"
        token = page.select_one("form.create-task input[name=csrf_token]")["value"]
        spec = _new_task("T-FORM-FULL")
        form = {k: v for k, v in spec.items() if k not in ("departments", "items", "ratios")}
        form |= {"departments": "SJ", "items": "SJ-01", "csrf_token": token}
        form |= {f"ratio_{k}": "0.5" for k in "ABCD"}
        bad = client.post("/tasks", data=form | {"disclosure": "public"})
        assert bad.status_code == 400
        details = " ".join(li.get_text() for li in soup(bad).select("div.error ul.details li"))
        assert "disclosure" in details
        made = client.post("/tasks", data=form | {"disclosure": "full"})
        assert made.status_code == 303, made.text[:500]
        default = client.post("/tasks", data=form | {"code": "T-FORM-DEFAULT"})
        assert default.status_code == 303
        shown = soup(client.get("/task", params={"code": "T-FORM-FULL"}))
        assert shown.select_one("dd.disclosure")["data-disclosure"] == "full"
    disclosures = _disclosures(db)
    assert disclosures["T-FORM-FULL"] == "full"
    assert disclosures["T-FORM-DEFAULT"] == "pseudonymous"
    assert "public" not in disclosures.values()


def test_api_creates_a_task_with_its_disclosure(
    db: Database, server: tuple[str, dict[str, Any]]
) -> None:
    url, _ = server
    with httpx.Client(base_url=url, timeout=30) as client:
        token = client.post("/api/session", json={"username": "planner", "password": PASSWORD})
        client.headers["Authorization"] = f"Bearer {token.json()['token']}"
        bad = client.post("/api/tasks", json=_new_task("T-API-BAD", disclosure="public"))
        assert bad.status_code == 400
        assert any("disclosure" in d for d in bad.json()["error"]["details"])
        made = client.post("/api/tasks", json=_new_task("T-API-FULL", disclosure="full"))
        assert made.status_code == 200, made.text
        plain = client.post("/api/tasks", json=_new_task("T-API-DEFAULT"))
        assert plain.status_code == 200
    disclosures = _disclosures(db)
    assert disclosures["T-API-FULL"] == "full"
    assert disclosures["T-API-DEFAULT"] == "pseudonymous"
    assert "T-API-BAD" not in disclosures


@pytest.mark.usefixtures("crew")
def test_cli_creates_a_task_with_its_disclosure(cli: Any, db: Database, tmp_path: Path) -> None:
    s.build(db, tmp_path)
    base = ["task", "create", "--as", "cli-planner", "--plan", "P2026", "--name", "公开方式测试",
            "--department", "SJ", "--item", "SJ-01", "--ratio", "0.5",
            "--start", "2026-03-01", "--end", "2026-12-31", "--exclusion-days", "0"]  # fmt: skip
    refused = cli(*base, "--code", "T-CLI-BAD", "--disclosure", "public", expect=2)
    assert "disclosure" in refused.stderr
    spec = tmp_path / "task.json"
    spec.write_text(json.dumps(_new_task("T-CLI-FILE", disclosure="public")), encoding="utf-8")
    refused = cli("task", "create", "--as", "cli-planner", "--from", str(spec), expect=1)
    assert "disclosure" in refused.stderr
    cli(*base, "--code", "T-CLI-FULL", "--disclosure", "full")
    cli(*base, "--code", "T-CLI-DEFAULT")
    disclosures = _disclosures(db)
    assert disclosures["T-CLI-FULL"] == "full"
    assert disclosures["T-CLI-DEFAULT"] == "pseudonymous"
    assert not {"T-CLI-BAD", "T-CLI-FILE"} & set(disclosures)
    # The public notice says which disclosure the committed task took.
    for code in ("T-CLI-FULL", "T-CLI-DEFAULT"):
        cli("task", "commit", "--as", "cli-planner", code, "--as-of", "2026-02-20")
    publish_site(db, out_dir=tmp_path / "site", languages="all")
    for code, chosen in (("T-CLI-FULL", "full"), ("T-CLI-DEFAULT", "pseudonymous")):
        for prefix in ("", "en/"):
            path = tmp_path / "site" / prefix / urls.task_path(code)
            notice = BeautifulSoup(path.read_text("utf-8"), "html.parser")
            assert notice.select_one("dd.disclosure")["data-disclosure"] == chosen

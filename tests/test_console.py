"""The console over HTTP (uvicorn on 127.0.0.1), on SQLite and PostgreSQL.

Route-permission sweep over every route; CSRF rejection; login throttling; cookies;
bilingual errors that change nothing; escaping; the review queue's keyset pages; the
JSON API with a bearer token; the trail records sign-ins and actions.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import site_support as s
import time_machine
from sqlalchemy import select
from test_console_support import (
    DRAFT_TASK,
    PASSWORD,
    RULE,
    ConsoleServer,
    build_console,
    csrf_of,
    sign_in,
    soup,
    text_of,
)

from supervision import clock
from supervision.accounts.throttle import REFUSAL_WINDOW_SECONDS, LoginThrottle, flush_refusals
from supervision.console.app import create_app
from supervision.console.security import route_roles
from supervision.db import Database
from supervision.models import Finding, TrailEvent
from supervision.models.users import Role

_F = Finding.__table__  # type: ignore[attr-defined]
_T = TrailEvent.__table__  # type: ignore[attr-defined]


@pytest.fixture
def data(db: Database, tmp_path: Path) -> dict[str, Any]:
    return build_console(db, tmp_path)


@pytest.fixture
def server(db: Database, data: dict[str, Any]) -> Iterator[str]:
    with ConsoleServer(db, throttle=LoginThrottle(limit=3, client_limit=1000)) as url:
        yield url


_OPEN: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def _client(url: str) -> httpx.Client:
    client = httpx.Client(base_url=url, follow_redirects=False, timeout=30)
    _OPEN.append(client)
    return client


def _status(db: Database, finding_id: int) -> str:
    with db.engine.connect() as conn:
        return str(conn.execute(select(_F.c.status).where(_F.c.id == finding_id)).scalar_one())


def _trail(db: Database, action: str) -> list[Any]:
    with db.engine.connect() as conn:
        return list(conn.execute(select(_T).where(_T.c.action == action).order_by(_T.c.seq)))


def _concrete(path: str, data: dict[str, Any]) -> str:
    return path.replace("{uscc}", data["flagged_uscc"]).replace(
        "{finding_id}", str(data["finding_id"])
    )


# --------------------------------------------------------------------------- permissions
def test_every_route_declares_its_roles(db: Database, tmp_path: Path) -> None:
    roles = route_roles(create_app(db))
    assert roles, "no routes found"
    undeclared = [key for key, value in roles.items() if value == frozenset({"?"})]
    assert undeclared == []
    public = sorted(key for key, value in roles.items() if value is None)
    assert public == [
        ("GET", "/api/openapi.json"),
        ("GET", "/login"),
        ("POST", "/api/session"),
        ("POST", "/login"),
    ]
    assert roles[("GET", "/review")] == frozenset({Role.REVIEWER})
    assert roles[("POST", "/task/draw")] == frozenset({Role.PLANNER})
    assert roles[("POST", "/inspector/result")] == frozenset({Role.INSPECTOR})
    assert roles[("POST", "/users")] == frozenset({Role.ADMIN})
    assert roles[("GET", "/")] == frozenset(Role.ALL)


def test_permission_sweep_anonymous_and_wrong_role(
    db: Database, data: dict[str, Any], server: str
) -> None:
    """Every route: anonymous → sign-in (401 on /api); each role it does not allow → 403."""
    roles = route_roles(create_app(db))
    anonymous = _client(server)
    clients = {}
    for role in Role.ALL:
        client = _client(server)
        landing = sign_in(client, role)
        assert landing.status_code == 200
        clients[role] = (client, csrf_of(landing))
    checked = 0
    for (method, path), allowed in sorted(roles.items()):
        if allowed is None:
            continue
        url = _concrete(path, data)
        response = anonymous.request(method, url)
        if path.startswith("/api"):
            assert response.status_code == 401, (method, path)
            assert response.json()["error"]["en"] == "sign in first"
        else:
            assert response.status_code == 303, (method, path)
            assert response.headers["location"].startswith("/login?next=")
        for role in sorted(set(Role.ALL) - allowed):
            client, token = clients[role]
            response = client.request(method, url, headers={"X-CSRF-Token": token})
            assert response.status_code == 403, (method, path, role)
            checked += 1
    assert checked > 40
    # Nothing a refused request touched has changed.
    assert _status(db, data["finding_id"]) == "open"


def test_allowed_roles_open_their_pages(db: Database, data: dict[str, Any], server: str) -> None:
    from urllib.parse import urlencode

    entity = urlencode({"task": s.TASK, "uscc": data["inspector_uscc"]})
    pages = {
        Role.REVIEWER: ["/", "/review", f"/review/entity/{data['flagged_uscc']}", "/results",
                        f"/results/entity?{entity}"],
        Role.PLANNER: ["/", "/tasks", f"/task?code={DRAFT_TASK}",
                       f"/task?{urlencode({'code': s.TASK})}",
                       f"/task/fairness?{urlencode({'code': s.TASK})}"],
        Role.INSPECTOR: ["/", "/inspector", f"/inspector/result?{entity}"],
        Role.ADMIN: ["/", "/users"],
    }  # fmt: skip
    for role, paths in pages.items():
        client = _client(server)
        sign_in(client, role)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (role, path, response.text[:300])
            page = soup(response)
            assert page.html is not None and page.html["lang"] == "zh-CN"
            nav = [text_of(a) for a in page.select("nav.site-nav a")]
            assert any(label.startswith("工作台") for label in nav)
            for form in page.select("form"):  # every state-changing form carries the token
                if form.get("method", "get").lower() == "post":
                    field = form.find("input", attrs={"name": "csrf_token"})
                    assert field is not None and field["value"], (path, form.get("action"))


# --------------------------------------------------------------------------- CSRF
def test_csrf_rejected_and_nothing_changes(db: Database, data: dict[str, Any], server: str) -> None:
    client = _client(server)
    page = sign_in(client, Role.REVIEWER)
    token = csrf_of(page)
    action = f"/review/findings/{data['finding_id']}/confirm"
    form = {"uscc": data["flagged_uscc"], "note": "核实属实"}
    missing = client.post(action, data=form)
    forged = client.post(action, data=form | {"csrf_token": "forged"})
    for response in (missing, forged):
        assert response.status_code == 403
        assert "CSRF" in text_of(soup(response).select_one("div.error"))
    api = client.post(f"/api/review/findings/{data['finding_id']}/confirm", json={"text": "x"})
    assert api.status_code == 403 and "CSRF" in api.json()["error"]["zh"]
    assert _status(db, data["finding_id"]) == "open"
    ok = client.post(action, data=form | {"csrf_token": token})
    assert ok.status_code == 303
    assert _status(db, data["finding_id"]) == "confirmed"
    # The sign-in form has its own token (double-submit cookie).
    fresh = _client(server)
    refused = fresh.post("/login", data={"username": "admin", "password": PASSWORD})
    assert refused.status_code == 403


# --------------------------------------------------------------------------- sign-in
def test_throttling_after_failed_sign_ins(db: Database, data: dict[str, Any], server: str) -> None:
    client = _client(server)
    for _ in range(3):
        assert sign_in(client, Role.ADMIN, "wrong password!").status_code == 401
    throttled = sign_in(client, Role.ADMIN)  # the right password, too late
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) > 0
    error = text_of(soup(throttled).select_one("div.error"))
    assert "登录失败次数过多" in error and "too many failed sign-ins" in error
    api = client.post("/api/session", json={"username": "admin", "password": PASSWORD})
    assert api.status_code == 429
    # Another user is not locked out by someone guessing the admin's password.
    assert sign_in(_client(server), Role.PLANNER).status_code == 200
    # The refusals reach the trail counted, once their window is over.
    assert _trail(db, "console.sign_in_refused") == []
    with time_machine.travel(clock.now() + timedelta(seconds=REFUSAL_WINDOW_SECONDS), tick=False):
        flush_refusals(db)
    events = _trail(db, "console.sign_in_refused")
    assert 1 <= len(events) <= 2  # one per window (the test may straddle two)
    counts: dict[str, int] = {}
    for event in events:
        for row in json.loads(event.payload)["refusals"]:
            counts[row["reason"]] = counts.get(row["reason"], 0) + row["count"]
    assert counts == {"bad password": 3, "throttled": 2}


def test_sign_in_cookie_and_trail(db: Database, data: dict[str, Any], server: str) -> None:
    client = _client(server)
    form = client.get("/login?next=/review")
    response = client.post(
        "/login",
        data={"username": "reviewer", "password": PASSWORD, "csrf_token": csrf_of(form),
              "next": "/review"},
    )  # fmt: skip
    assert response.status_code == 303 and response.headers["location"] == "/review"
    cookie = response.headers["set-cookie"]
    assert "sv_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie
    events = _trail(db, "console.sign_in")
    assert [e.actor for e in events] == ["console:reviewer"]
    # An outside address after sign-in is refused: back to the console.
    other = _client(server)
    form = other.get("/login")
    response = other.post(
        "/login",
        data={"username": "planner", "password": PASSWORD, "csrf_token": csrf_of(form),
              "next": "//evil.example/"},
    )  # fmt: skip
    assert response.headers["location"] == "/"
    # Sign out ends the session.
    page = client.get("/review")
    client.post("/logout", data={"csrf_token": csrf_of(page)})
    assert client.get("/review").status_code == 303
    assert len(_trail(db, "console.sign_out")) == 1


def test_secure_cookie_behind_https(db: Database, data: dict[str, Any]) -> None:
    with ConsoleServer(db, secure_cookies=True) as url:
        client = _client(url)
        form = client.get("/login")
        assert "Secure" in form.headers["set-cookie"]
        token = csrf_of(form)
        # A client keeps Secure cookies for HTTPS only: send it by hand over loopback HTTP.
        response = client.post(
            "/login",
            data={"username": "admin", "password": PASSWORD, "csrf_token": token},
            headers={"Cookie": f"sv_login_csrf={token}"},
        )
        assert response.status_code == 303
        assert "Secure" in response.headers["set-cookie"]


def test_disabled_user_is_signed_out(db: Database, data: dict[str, Any], server: str) -> None:
    planner = _client(server)
    sign_in(planner, Role.PLANNER)
    assert planner.get("/tasks").status_code == 200
    admin = _client(server)
    page = sign_in(admin, Role.ADMIN)
    response = admin.post(
        "/users/disable", data={"username": "planner", "csrf_token": csrf_of(page)}
    )
    assert response.status_code == 303
    assert planner.get("/tasks").status_code == 303
    assert sign_in(_client(server), Role.PLANNER).status_code == 401


# --------------------------------------------------------------------------- review
def test_entity_page_explains_and_dismiss_needs_reason(
    db: Database, data: dict[str, Any], server: str
) -> None:
    client = _client(server)
    sign_in(client, Role.REVIEWER)
    page = client.get(f"/review/entity/{data['flagged_uscc']}")
    finding = soup(page).select_one(f"#finding-{data['finding_id']}")
    assert finding is not None
    assert "未按期报送年度报告" in text_of(finding.h3)
    basis = [text_of(li) for li in finding.select("ul.legal-basis li")]
    assert "《企业信息公示暂行条例》第八条" in basis
    assert RULE in text_of(finding)
    # Facts as labelled fields, not Python dicts.
    tables = finding.select("table.facts")
    assert [text_of(t.caption) for t in tables] == ["年度报告 Annual report", "主体 Entity"]
    assert text_of(finding.select_one("p.explain")).startswith(
        "2025 年度年报未报送（截至检查日已逾期 2 天）"
    )
    assert text_of(tables[1].select_one("tr[data-field=active] td")) == "是 yes"
    assert text_of(tables[0].select_one("tr[data-field=year] th")) == "年度 Year"
    assert text_of(tables[0].select_one("tr[data-field=year] td")) == "2025"
    assert "{'" not in text_of(finding)
    form = finding.select_one("form.dismiss")
    assert form is not None and form.find("textarea", attrs={"name": "reason"}) is not None
    refused = client.post(
        f"/review/findings/{data['finding_id']}/dismiss",
        data={"uscc": data["flagged_uscc"], "reason": "  ", "csrf_token": csrf_of(page)},
    )
    assert refused.status_code == 400
    error = soup(refused).select_one("div.error")
    assert "必须填写理由" in text_of(error.select_one("p.zh"))
    assert "requires a reason" in text_of(error.select_one("p.en"))
    assert _status(db, data["finding_id"]) == "open"
    assert _trail(db, "finding.dismiss") == []
    done = client.post(
        f"/review/findings/{data['finding_id']}/dismiss",
        data={"uscc": data["flagged_uscc"], "reason": "已核实为误报", "csrf_token": csrf_of(page)},
        follow_redirects=True,
    )
    assert "已驳回该发现" in text_of(soup(done).select_one("p.notice"))
    history = soup(done).select("table.history tbody tr")
    assert [(r["data-action"], text_of(r.select("td")[1])) for r in history] == [
        ("finding.dismiss", "console:reviewer")
    ]
    assert _status(db, data["finding_id"]) == "dismissed"
    (event,) = _trail(db, "finding.dismiss")
    assert event.actor == "console:reviewer" and "已核实为误报" in event.payload


def test_names_are_escaped(db: Database, data: dict[str, Any], server: str) -> None:
    client = _client(server)
    sign_in(client, Role.REVIEWER)
    page = soup(client.get("/review"))
    names = [text_of(a) for a in page.select("table.queue td a")]
    assert s.EVIL_NAME in names
    assert page.find("script") is None


def test_queue_rows_read_the_words_of_the_entity_page(
    db: Database, data: dict[str, Any], server: str
) -> None:
    # The queue explains each row from the facts' stored JSON text; the entity page from
    # the decoded facts: on both databases a finding must read the same words on both.
    from supervision.checks.review import entity_review

    client = _client(server)
    sign_in(client, Role.REVIEWER)
    page = soup(client.get("/review"))
    rows = page.select("table.queue tr[data-finding]")
    assert rows
    explained = 0
    for row in rows:
        uscc = text_of(row.select_one("td small"))
        findings = entity_review(db, uscc=uscc)["findings"]
        finding = next(f for f in findings if str(f["id"]) == row["data-finding"])
        shown = row.select_one("span.explain")
        if finding["explain"] is None:
            assert shown is None
        else:
            assert shown is not None and text_of(shown) == finding["explain"]["zh"]
            explained += 1
    assert explained > 0


def test_queue_keyset_pages_match_the_service_order(db: Database, data: dict[str, Any]) -> None:
    from datetime import UTC, date, datetime, timedelta

    from supervision.checks.review import review_queue

    usccs = data["usccs"]
    at = datetime(2026, 7, 3, tzinfo=UTC)
    rows = []
    for n in range(120):
        severity = ["critical", "high", "medium", "low"][n % 4]
        rows.append({
            "uscc": usccs[n % len(usccs)], "rule_id": f"r{n:03d}", "rule_version": 1,
            "department": "税务" if n % 5 == 0 else "市场监督管理部门", "severity": severity,
            "severity_rank": n % 4, "result_code": "D", "fact_ids": [], "matched": [],
            "status": "open", "first_run_id": 1, "last_run_id": 1,
            "opened_as_of": date(2026, 7, 3), "opened_at": at + timedelta(seconds=n // 7),
            "effects": [],
        })  # fmt: skip
    with db.engine.begin() as conn:
        conn.execute(_F.insert(), rows)
    with ConsoleServer(db) as url:
        client = _client(url)
        token = client.post("/api/session", json={"username": "reviewer", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['token']}"}
        for filters in ({}, {"severity": "high"}, {"department": "税务"}):
            seen: list[int] = []
            after = None
            while True:
                params = filters | {"limit": 17} | ({"after": after} if after else {})
                page = client.get("/api/review/queue", params=params, headers=headers).json()
                seen += [item["finding_id"] for item in page["items"]]
                after = page["next"]
                if after is None:
                    break
            expected = [i.finding_id for i in review_queue(db, limit=10_000, **filters)]
            assert seen == expected and len(set(seen)) == len(seen)
        bad = client.get("/api/review/queue", params={"after": "x.y"}, headers=headers)
        assert bad.status_code == 400 and "cursor" in bad.json()["error"]["en"]
        # Bearer tokens are for the API only: a page asks for the cookie.
        html = _client(url).get("/review", headers=headers)
        assert html.status_code == 303
        # The page shows the total and numbered pages, not only "next".
        reviewer = _client(url)
        sign_in(reviewer, Role.REVIEWER)
        total = len(review_queue(db, limit=10_000))
        second = soup(reviewer.get("/review", params={"page": 2}))
        assert f"待复核发现共 {total} 条，第 2/3 页" in text_of(second.select_one("p.total"))
        assert text_of(second.select_one("nav.pager [aria-current=page]")) == "2"
        assert [text_of(a) for a in second.select("nav.pager a.page")] == ["1", "3"]
        third = [i.finding_id for i in review_queue(db, limit=50, offset=100)]
        rows = soup(reviewer.get("/review", params={"page": 3})).select("table.queue tbody tr")
        assert [int(r["data-finding"]) for r in rows] == third


# --------------------------------------------------------------------------- API
def test_api_with_bearer_token_and_openapi(db: Database, data: dict[str, Any], server: str) -> None:
    client = _client(server)
    doc = client.get("/api/openapi.json").json()
    assert "/api/review/queue" in doc["paths"] and "/api/tasks/draw" in doc["paths"]
    session = client.post("/api/session", json={"username": "planner", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {session.json()['token']}"}
    plain = _client(server)  # no cookie: the bearer token alone
    assert plain.get("/api/me", headers=headers).json()["role"] == "planner"
    assert plain.get("/api/review/queue", headers=headers).status_code == 403
    bad = plain.post("/api/tasks/draw", json={"code": DRAFT_TASK, "seed": "1"}, headers=headers)
    assert bad.status_code == 400
    assert "尚未锁定" in bad.json()["error"]["zh"]
    assert plain.post("/api/tasks/commit", json={"code": DRAFT_TASK}, headers=headers).is_success
    drawn = plain.post(
        "/api/tasks/draw", json={"code": DRAFT_TASK, "seed": "31415926535"}, headers=headers
    )
    assert drawn.status_code == 200, drawn.text
    report = plain.get("/api/tasks/fairness", params={"code": DRAFT_TASK}, headers=headers)
    assert report.json()["picked"] > 0
    for action in ("task.commit", "task.draw"):
        mine = [e.actor for e in _trail(db, action) if DRAFT_TASK in e.object]
        assert mine and set(mine) == {"console:planner"}, action
    dashboard = plain.get("/api/dashboard", headers=headers).json()
    assert dashboard["counts"]["open_findings"] == 2
    assert [a["kind"] for a in dashboard["alerts"]] == ["seed_missing"]


def test_openapi_lists_real_schemas_for_typed_answers(db: Database) -> None:
    doc = create_app(db).openapi()
    schemas = doc["components"]["schemas"]

    def answer(method: str, path: str) -> dict[str, Any]:
        schema = doc["paths"][path][method]["responses"]["200"]["content"]["application/json"]
        shape = schema["schema"]
        if shape.get("type") == "array":
            shape = shape["items"]
        resolved: dict[str, Any] = schemas[shape["$ref"].rsplit("/", 1)[-1]]
        return resolved

    expected = {
        ("post", "/api/session"): {"token", "csrf_token", "username", "role"},
        ("get", "/api/me"): {"username", "display_name", "role", "cert_no", "scope"},
        ("get", "/api/review/queue"): {"items", "next"},
        ("post", "/api/tasks"): {"code", "status"},
        ("post", "/api/tasks/commit"): {"code", "status"},
        ("post", "/api/inspector/results"): {"task", "uscc", "state"},
        ("post", "/api/results/review"): {"task", "uscc", "state"},
        ("post", "/api/results/publish"): {"task", "uscc", "state"},
        ("get", "/api/users"): {"username", "display_name", "role", "role_zh", "cert_no",
                                "department", "scope", "scope_label", "active", "created_at"},
        ("post", "/api/users"): {"username", "role"},
        ("post", "/api/users/scope"): {"username"},
        ("post", "/api/users/disable"): {"username", "active"},
        ("get", "/api/admin/directories"): {"kind", "zh", "en", "total"},
    }  # fmt: skip
    for (method, path), fields in expected.items():
        assert set(answer(method, path)["properties"]) == fields, (method, path)
    item = schemas["QueueEntry"]["properties"]
    assert item["finding_id"]["type"] == "integer" and "severity" in item


def test_dashboard_page_counts_and_alerts(db: Database, data: dict[str, Any], server: str) -> None:
    client = _client(server)
    page = soup(sign_in(client, Role.INSPECTOR))
    assert text_of(page.select_one("dd[data-count=open_findings]")) == "2"
    assert text_of(page.select_one("dd[data-count=awaiting_review]")) == "1"
    assert "提醒：种子未录入" in text_of(page.select_one("ul.alerts"))


def test_task_export_download(db: Database, data: dict[str, Any], server: str) -> None:
    import io
    import zipfile

    client = _client(server)
    sign_in(client, Role.PLANNER)
    response = client.get("/task/export", params={"code": s.TASK})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert any("seed" in n for n in names) and any(n.lower().startswith("readme") for n in names)
    not_drawn = client.get("/task/export", params={"code": DRAFT_TASK})
    assert not_drawn.status_code == 400
    assert "尚未抽取" in text_of(soup(not_drawn).select_one("p.zh"))


# --------------------------------------------------------------------------- forms
def test_bad_task_form_names_every_field_and_writes_nothing(
    db: Database, data: dict[str, Any], server: str
) -> None:
    client = _client(server)
    page = sign_in(client, Role.PLANNER)
    before = text_of(soup(client.get("/tasks")).select_one("table.tasks"))
    form = {
        "csrf_token": csrf_of(page), "code": "T-BAD", "plan": "P2026", "name": "坏任务",
        "departments": "SJ", "items": "SJ-01", "ratio_A": "0.1", "ratio_B": "2",
        "ratio_C": "", "ratio_D": "0.1", "period_start": "2026-06-01",
        "period_end": "2026-05-01",
    }  # fmt: skip
    response = client.post("/tasks", data=form)
    assert response.status_code == 400
    error = soup(response).select_one("div.error")
    assert "任务参数有" in text_of(error.select_one("p.zh"))
    details = [text_of(li) for li in error.select("ul.details li")]
    assert details and all(d.startswith("form:") for d in details)
    assert any("ratios.C" in d for d in details)
    assert text_of(soup(client.get("/tasks")).select_one("table.tasks")) == before
    good = client.post("/tasks", data=form | {"ratio_B": "0.2", "ratio_C": "0.3",
                                              "period_end": "2026-12-01"})  # fmt: skip
    assert good.status_code == 303 and "T-BAD" in good.headers["location"]


def test_result_entry_and_return_need_valid_input(
    db: Database, data: dict[str, Any], server: str
) -> None:
    from supervision import clock

    inspector = _client(server)
    sign_in(inspector, Role.INSPECTOR)
    rows = soup(inspector.get("/inspector")).select("table.assignments tbody tr[data-uscc]")
    assert data["inspector_uscc"] in {r["data-uscc"] for r in rows}
    params = {"task": s.TASK, "uscc": data["inspector_uscc"]}
    page = inspector.get("/inspector/result", params=params)
    assert page.status_code == 200
    options = [o["value"] for o in soup(page).select("#code-0 option") if o["value"]]
    assert options == ["1", "A", "E", "F", "7", "8", "9", "10", "11", "12"]
    base = params | {"csrf_token": csrf_of(page), "item_0": "SJ-01"}
    nothing = inspector.post("/inspector/result", data=base)
    assert nothing.status_code == 400 and "至少为一个事项" in nothing.text
    wrong = inspector.post(
        "/inspector/result",
        data=base | {"code_0": "1", "sub_code_0": "B", "inspected_on_0": "2099-01-01"},
    )
    assert wrong.status_code == 400
    details = " ".join(text_of(li) for li in soup(wrong).select("ul.details li"))
    assert "sub-code" in details and "future" in details
    ok = inspector.post(
        "/inspector/result",
        data=base | {"code_0": "A", "sub_code_0": "B", "inspected_on_0": clock.today().isoformat(),
                     "follow_up_0": "rectification", "due_0": "2027-01-31",
                     "finding_0": "未公示年报"},
    )  # fmt: skip
    assert ok.status_code == 303
    # Someone else's entity is refused.
    from supervision.models import Assignment

    with db.session() as session:
        mine = set(
            session.exec(
                select(Assignment.uscc).where(Assignment.cert_no == data["inspector_cert"])
            ).scalars()
        )
    other = params | {"uscc": next(u for u in data["usccs"] if u not in mine)}
    assert inspector.get("/inspector/result", params=other).status_code in (403, 404)
    reviewer = _client(server)
    sign_in(reviewer, Role.REVIEWER)
    review_page = reviewer.get("/results/entity", params=params)
    assert "未按规定公示应当公示的信息" in text_of(soup(review_page).select_one("table.versions"))
    token = csrf_of(review_page)
    refused = reviewer.post(
        "/results/review", data=params | {"csrf_token": token, "decision": "return"}
    )
    assert refused.status_code == 400
    returned = reviewer.post(
        "/results/review",
        data=params | {"csrf_token": token, "decision": "return", "reason": "请补充证据"},
        follow_redirects=True,
    )
    assert "已退回" in text_of(soup(returned).select_one("p.notice"))
    again = inspector.get("/inspector/result", params=params)
    assert "请补充证据" in text_of(soup(again).select_one("fieldset.item"))


# --------------------------------------------------------------------------- public site
def test_public_site_beside_the_console(db: Database, data: dict[str, Any], tmp_path: Path) -> None:
    from supervision.site import publish_site

    site = tmp_path / "site"
    publish_site(db, out_dir=site, languages="all", workers=1)
    roles = route_roles(create_app(db, site_dir=site))
    assert roles[("GET", "/site/search/index.html")] is None  # declared public
    assert roles[("GET", "/site/en/search/")] is None
    with ConsoleServer(db, site_dir=site) as url:
        client = _client(url)
        home = client.get("/site/")
        assert home.status_code == 200 and soup(home).html["lang"] == "zh-CN"
        name = data["entities"][5]["name"]
        found = client.get("/site/search/index.html", params={"q": name})
        assert name in [text_of(a) for a in soup(found).select("ul.hits li a")]
        assert client.get("/site/search/").status_code == 200
        assert client.get("/site/en/search/index.html", params={"q": name}).status_code == 200


def test_session_disabled_elsewhere_ends_within_the_cache_time(
    db: Database, data: dict[str, Any], server: str
) -> None:
    """A user disabled from another process (the CLI) is signed out within seconds."""
    import time

    from supervision.accounts.users import add_user, disable_user
    from supervision.console.security import SESSION_CACHE_SECONDS

    client = _client(server)
    sign_in(client, Role.ADMIN)
    assert client.get("/users").status_code == 200
    with db.session() as session:
        add_user(session, username="admin2", password=PASSWORD, role=Role.ADMIN)
        disable_user(session, username="admin", actor="cli:test")
    time.sleep(SESSION_CACHE_SECONDS + 0.2)
    assert client.get("/users").status_code == 303


def test_api_review_and_results_flow(db: Database, data: dict[str, Any], server: str) -> None:
    from supervision import clock

    def bearer(username: str) -> dict[str, str]:
        token = _client(server).post(
            "/api/session", json={"username": username, "password": PASSWORD}
        )
        return {"Authorization": f"Bearer {token.json()['token']}"}

    client = _client(server)
    reviewer, inspector = bearer("reviewer"), bearer("inspector")
    entity = client.get(f"/api/review/entities/{data['flagged_uscc']}", headers=reviewer).json()
    assert entity["flagged"] and entity["findings"][0]["rule"]["title_zh"] == "未按期报送年度报告"
    empty = client.post(
        f"/api/review/findings/{data['finding_id']}/confirm", json={"text": ""}, headers=reviewer
    )
    assert empty.status_code == 400 and empty.json()["error"]["en"].startswith("confirming")
    done = client.post(
        f"/api/review/findings/{data['finding_id']}/confirm", json={"text": "属实"},
        headers=reviewer,
    )  # fmt: skip
    assert done.status_code == 200 and done.json()["status"] == "confirmed"
    mine = client.get("/api/inspector/assignments", headers=inspector).json()
    assert data["inspector_uscc"] in {row["uscc"] for row in mine}
    entry = {"task": s.TASK, "uscc": data["inspector_uscc"], "items": [
        {"item": "SJ-01", "code": "E", "inspected_on": clock.today().isoformat(),
         "finding": "未亮照经营，已责令改正", "follow_up": "rectification",
         "due": (clock.today() + timedelta(days=30)).isoformat()}]}  # fmt: skip
    assert client.post("/api/inspector/results", json=entry, headers=inspector).is_success
    pending = client.get("/api/results/pending", headers=reviewer).json()
    assert any(r["uscc"] == data["inspector_uscc"] and r["states"] == ["entered"] for r in pending)
    target = {"task": s.TASK, "uscc": data["inspector_uscc"]}
    no_reason = client.post(
        "/api/results/review", json=target | {"approve": False}, headers=reviewer
    )
    assert no_reason.status_code == 400
    ok = client.post("/api/results/review", json=target | {"approve": True}, headers=reviewer)
    assert ok.json()["state"] == "approved"
    published = client.post("/api/results/publish", json=target, headers=reviewer)
    assert published.json()["state"] == "published"


def test_the_throttle_is_shared_by_every_console_process(db: Database) -> None:
    """Two throttles over one database stand for two worker processes (or a restart):
    failures counted by one refuse the next sign-in at the other; the window expires."""
    first = LoginThrottle(limit=3, client_limit=1000)
    second = LoginThrottle(limit=3, client_limit=1000)
    for _ in range(3):
        assert second.retry_after(db, "alice", "10.0.0.1") == 0
        first.failed(db, "alice", "10.0.0.1")
    assert 0 < second.retry_after(db, "alice", "10.0.0.1") <= 900
    assert second.retry_after(db, "alice", "10.0.0.9") == 0  # another client: not locked out
    assert second.retry_after(db, "bob", "10.0.0.1") == 0
    with time_machine.travel(clock.now() + timedelta(seconds=901), tick=False):
        assert second.retry_after(db, "alice", "10.0.0.1") == 0
    second.succeeded(db, "alice", "10.0.0.1")
    assert first.retry_after(db, "alice", "10.0.0.1") == 0


def test_the_throttle_limits_one_client_trying_many_names(db: Database) -> None:
    throttle = LoginThrottle(limit=1000, client_limit=2)
    throttle.failed(db, "alice", "10.0.0.1")
    throttle.failed(db, "bob", "10.0.0.1")
    assert throttle.retry_after(db, "carol", "10.0.0.1") > 0
    assert throttle.retry_after(db, "carol", "10.0.0.2") == 0

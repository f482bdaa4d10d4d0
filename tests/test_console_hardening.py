"""The console against lockouts, spoofed addresses, trail floods, framing and losing its
last admin, on SQLite and PostgreSQL, at every door concerned (sign-in page and API;
`supervision serve`; the CLI; the served site).

- Throttle per (user, client) and per client with backoff: nobody locks another user out.
- X-Forwarded-For (and -Proto) believed only from SUPERVISION_TRUSTED_PROXIES.
- Refused sign-ins reach the trail counted per window, not one event each.
- Security headers on every response; no inline script, handler or style in any template.
- The last active admin cannot be disabled or demoted.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import time_machine
from bs4 import BeautifulSoup
from conftest import CliRun
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from test_console_support import (
    PASSWORD,
    ConsoleServer,
    build_console,
    csrf_of,
    sign_in,
    soup,
    text_of,
)

from supervision import clock
from supervision.accounts.throttle import REFUSAL_WINDOW_SECONDS, LoginThrottle, flush_refusals
from supervision.accounts.users import add_user, disable_user
from supervision.db import Database
from supervision.errors import SupervisionError
from supervision.models import TrailEvent
from supervision.models.users import ConsoleUser, Role
from supervision.paths import templates_dir
from supervision.settings import settings
from supervision.site import publish_site
from supervision.site.serve import make_server

pytestmark = pytest.mark.usefixtures("crew")

_T = TrailEvent.__table__  # type: ignore[attr-defined]
_U = ConsoleUser.__table__  # type: ignore[attr-defined]
WRONG = "not the password"


@pytest.fixture
def data(db: Database, tmp_path: Path) -> dict[str, Any]:
    return build_console(db, tmp_path)


def _client(url: str, forwarded_for: str | None = None) -> httpx.Client:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return httpx.Client(base_url=url, headers=headers, follow_redirects=False, timeout=60)


def _events(db: Database, action: str) -> list[Any]:
    with db.engine.connect() as conn:
        return list(conn.execute(select(_T).where(_T.c.action == action).order_by(_T.c.seq)))


def _trail_size(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(_T)).scalar_one())


# --------------------------------------------------------------------------- item 8
def test_nobody_can_lock_another_user_out(db: Database, data: dict[str, Any]) -> None:
    """Five wrong passwords for the admin from one client: that client waits, on the page
    and the API; the admin, from a client that has not failed, signs in at both doors."""
    with ConsoleServer(db, trusted_proxies=["127.0.0.1"]) as url:
        with _client(url, "198.51.100.1") as attacker:
            for _ in range(5):
                assert sign_in(attacker, Role.ADMIN, WRONG).status_code == 401
            assert sign_in(attacker, Role.ADMIN).status_code == 429  # even the right one
            api = attacker.post("/api/session", json={"username": "admin", "password": PASSWORD})
            assert api.status_code == 429 and int(api.headers["Retry-After"]) > 0
        with _client(url, "198.51.100.2") as owner:
            page = sign_in(owner, Role.ADMIN)
            assert page.status_code == 200
            assert text_of(soup(page).select_one("h1")).startswith("工作台")
        with _client(url, "198.51.100.3") as owner_api:
            api = owner_api.post("/api/session", json={"username": "admin", "password": PASSWORD})
            assert api.status_code == 200 and api.json()["role"] == Role.ADMIN
    clients = [json.loads(e.payload)["client"] for e in _events(db, "console.sign_in")]
    assert clients == ["198.51.100.2", "198.51.100.3"]


def test_backoff_doubles_per_name_and_client_and_per_client(db: Database) -> None:
    throttle = LoginThrottle(limit=3, client_limit=100, base_delay=10, max_delay=40)
    start = clock.now()
    with time_machine.travel(start, tick=False) as traveller:
        for _ in range(3):
            throttle.failed(db, "alice", "10.0.0.1")
        waits = [throttle.retry_after(db, "alice", "10.0.0.1")]
        for _ in range(4):  # wait it out, fail once more: the wait doubles, up to the cap
            traveller.shift(timedelta(seconds=waits[-1]))
            assert throttle.retry_after(db, "alice", "10.0.0.1") == 0
            throttle.failed(db, "alice", "10.0.0.1")
            waits.append(throttle.retry_after(db, "alice", "10.0.0.1"))
        assert waits == [10, 20, 40, 40, 40]
        assert throttle.retry_after(db, "alice", "10.0.0.2") == 0  # the owner elsewhere
        assert throttle.retry_after(db, "bob", "10.0.0.1") == 0  # below the client's limit
    # One client trying many names is throttled for every name; other clients are not.
    throttle = LoginThrottle(limit=100, client_limit=6, base_delay=10, max_delay=40)
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        for n in range(6):
            throttle.failed(db, f"user{n}", "10.0.0.9")
        assert throttle.retry_after(db, "carol", "10.0.0.9") == 10
        assert throttle.retry_after(db, "carol", "10.0.0.8") == 0
        throttle.succeeded(db, "user0", "10.0.0.9")  # its own account does not reset it
        assert throttle.retry_after(db, "carol", "10.0.0.9") == 10


@given(
    limit=st.integers(1, 10),
    base=st.floats(0.5, 100),
    cap=st.floats(1, 5000),
    failures=st.lists(st.integers(0, 200), min_size=2, max_size=2),
)
def test_the_delay_is_zero_below_the_limit_monotone_and_capped(
    limit: int, base: float, cap: float, failures: list[int]
) -> None:
    throttle = LoginThrottle(limit=limit, base_delay=base, max_delay=cap)
    low, high = sorted(failures)
    assert throttle.delay(low, limit) <= throttle.delay(high, limit) <= cap
    assert (throttle.delay(low, limit) == 0) == (low < limit)
    if limit <= low and base * 2 ** (low - limit + 1) <= cap:
        assert throttle.delay(low + 1, limit) == 2 * throttle.delay(low, limit)


# --------------------------------------------------------------------------- item 9
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(db_url: str, site: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "supervision", "--db", db_url, "serve", "--out", str(site),
         "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{base}/login", timeout=2)
            return process, base
        except httpx.TransportError:
            if process.poll() is not None:
                raise AssertionError(process.communicate()) from None
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.2)


def _stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    out, _err = process.communicate(timeout=30)
    return out


def test_serve_believes_forwarded_for_only_from_trusted_proxies(
    db_url: str, tmp_path: Path
) -> None:
    db = Database(db_url)
    try:
        with db.session() as session:
            add_user(session, username="admin", password=PASSWORD, role=Role.ADMIN)
        publish_site(db, out_dir=tmp_path / "site", languages="zh", workers=1)
    finally:
        db.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPERVISION_")}
    spoofed = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    body = {"username": "admin", "password": PASSWORD}
    cookies = []
    for trusted in ("", "127.0.0.1"):
        process, base = _serve(
            db_url, tmp_path / "site", env | {"SUPERVISION_TRUSTED_PROXIES": trusted}
        )
        try:
            answer = httpx.post(f"{base}/api/session", json=body, headers=spoofed, timeout=30)
            assert answer.status_code == 200
            cookies.append(answer.headers["set-cookie"])
        finally:
            out = _stop(process)
        assert ("trusted proxies: 127.0.0.1" in out) == bool(trusted)
    db = Database(db_url)
    try:
        clients = [json.loads(e.payload)["client"] for e in _events(db, "console.sign_in")]
    finally:
        db.dispose()
    # Not trusted: the peer's own address, and the proxy's word on HTTPS is ignored too.
    assert clients == ["127.0.0.1", "203.0.113.9"]
    assert "Secure" not in cookies[0] and "Secure" in cookies[1]


def test_a_bad_trusted_proxies_value_names_the_variable(
    cli: CliRun, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SUPERVISION_TRUSTED_PROXIES", "10.0.0.0/8, proxy.example")
    with pytest.raises(SupervisionError) as caught:
        settings()
    assert "SUPERVISION_TRUSTED_PROXIES" in caught.value.zh
    assert "comma-separated IP addresses or networks" in caught.value.en
    monkeypatch.setenv("SUPERVISION_TRUSTED_PROXIES", " 10.0.0.0/8 , ::1 ")
    assert settings().trusted_proxy_list == ["10.0.0.0/8", "::1"]


def test_a_trusted_network_is_believed_and_the_nearest_untrusted_hop_is_the_client(
    db: Database, data: dict[str, Any]
) -> None:
    trusted = ConsoleServer(db, trusted_proxies=["127.0.0.0/8", "10.0.0.0/8"])
    with trusted as url, _client(url, "192.0.2.7, 10.1.2.3") as client:
        assert sign_in(client, Role.PLANNER).status_code == 200
    with ConsoleServer(db) as url, _client(url, "192.0.2.8") as client:  # nothing trusted
        assert sign_in(client, Role.REVIEWER).status_code == 200
    clients = [json.loads(e.payload)["client"] for e in _events(db, "console.sign_in")]
    assert clients == ["192.0.2.7", "127.0.0.1"]


# --------------------------------------------------------------------------- item 11
def test_refused_sign_ins_are_counted_per_window_not_one_event_each(
    db: Database, data: dict[str, Any]
) -> None:
    before = _trail_size(db)
    # Start just after a window opens (the clock keeps running), so all 63 refusals fall
    # in one window: a run that straddled a boundary would see the first window written.
    epoch = int(clock.now().timestamp())
    opened = epoch - epoch % REFUSAL_WINDOW_SECONDS + REFUSAL_WINDOW_SECONDS + 1
    with time_machine.travel(opened, tick=True):
        with ConsoleServer(db, trusted_proxies=["127.0.0.1"]) as url:
            with _client(url, "198.51.100.20") as flood:
                for n in range(60):
                    name = "admin" if n % 2 else f"nobody{n}"
                    flood.post("/api/session", json={"username": name, "password": WRONG})
            with _client(url, "198.51.100.21") as page:
                for _ in range(3):
                    assert sign_in(page, Role.PLANNER, WRONG).status_code == 401
        assert _trail_size(db) == before  # nothing yet: the window is still open
    with time_machine.travel(opened + REFUSAL_WINDOW_SECONDS, tick=False):
        flush_refusals(db)
        flush_refusals(db)  # a second flush finds nothing left to write
    events = _events(db, "console.sign_in_refused")
    assert len(events) == 1  # one event for the one window
    assert _trail_size(db) == before + len(events)
    payloads = [json.loads(e.payload) for e in events]
    assert sum(p["total"] for p in payloads) == 63
    rows = [r for p in payloads for r in p["refusals"]]
    planner = [r for r in rows if r["username"] == "planner"]
    assert {(r["client"], r["reason"]) for r in planner} == {("198.51.100.21", "bad password")}
    assert sum(r["count"] for r in planner) == 3
    assert all(e.actor == "console:-" for e in events)


# --------------------------------------------------------------------------- item 20
def _check_headers(response: httpx.Response, where: str) -> None:
    csp = response.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, where
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp, where
    assert response.headers.get("x-content-type-options") == "nosniff", where
    assert response.headers.get("referrer-policy"), where


def test_security_headers_on_every_console_and_site_response(
    db: Database, data: dict[str, Any], tmp_path: Path
) -> None:
    site = tmp_path / "site"
    publish_site(db, out_dir=site, languages="all", workers=1)
    with ConsoleServer(db, site_dir=site) as url, _client(url) as client:
        for path in ("/login", "/", "/nope", "/api/me", "/api/openapi.json",
                     "/static/console/console.css", "/site/", "/site/data/index.json",
                     "/site/search/index.html?q=公司"):  # fmt: skip
            _check_headers(client.get(path), path)
        _check_headers(client.post("/login", data={"username": "x"}), "POST /login")
        signed = sign_in(client, Role.ADMIN)
        _check_headers(signed, "dashboard")
        _check_headers(client.get("/users"), "/users")
    server = make_server(site, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        for path in ("/", "/en/", "/search/index.html?q=公司", "/static/site.css", "/missing"):
            _check_headers(httpx.get(base + path, timeout=10), f"site {path}")
    finally:
        server.shutdown()
        server.server_close()


def test_no_template_has_inline_script_handler_or_style() -> None:
    """The CSP forbids inline script and style: every page must work without them."""
    found = []
    for path in sorted(templates_dir().rglob("*.html")):
        page = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        for tag in page.find_all(True):
            if tag.name == "script" and (not tag.get("src") or tag.get_text().strip()):
                found.append(f"{path.name}: inline <script>")
            if tag.name == "style":
                found.append(f"{path.name}: <style>")
            for attribute in tag.attrs:
                if attribute.lower().startswith("on") or attribute.lower() == "style":
                    found.append(f"{path.name}: {tag.name}[{attribute}]")
            href = str(tag.get("href") or "")
            if re.match(r"\s*javascript:", href, re.I):
                found.append(f"{path.name}: javascript: link")
    assert found == []


@pytest.mark.slow
def test_pages_run_under_the_policy_in_chromium(
    browser: Any, db: Database, data: dict[str, Any], tmp_path: Path
) -> None:
    """Real Chromium enforces the CSP: no violation on console pages or the site's search
    (whose script and index are files, not inline)."""
    site = tmp_path / "site"
    publish_site(db, out_dir=site, languages="all", workers=1)
    with ConsoleServer(db, site_dir=site) as url:
        context = browser.new_context()
        page = context.new_page()
        violations: list[str] = []
        page.on("console", lambda m: violations.append(m.text) if "Content Security" in m.text
                else None)  # fmt: skip
        page.goto(f"{url}/login")
        page.fill("#username", "admin")
        page.fill("#password", PASSWORD)
        page.click("form.login button[type=submit]")
        page.wait_for_load_state()
        for path in ("/users", "/review", "/tasks", "/admin/directories", "/site/"):
            page.goto(url + path)
        page.goto(f"{url}/site/search/index.html")  # the static page's script and index
        page.wait_for_load_state("networkidle")
        page.goto(f"{url}/site/search/index.html?q=公司")
        page.goto(f"{url}/users")
        assert violations == []
        framed = page.evaluate(
            "() => new Promise(done => { const f = document.createElement('iframe');"
            " f.src = '/login'; f.onload = () => { let ok; try { ok ="
            " f.contentDocument.body.innerText.length > 0 } catch (e) { ok = false }"
            " done(ok) }; document.body.appendChild(f); setTimeout(() => done(null), 3000) })"
        )
        context.close()
    # frame-ancestors 'none': the console never renders in a frame, not even its own.
    assert framed is not True
    assert any("frame-ancestors" in v for v in violations), violations


# --------------------------------------------------------------------------- last admin
def _active_admins(db: Database) -> list[str]:
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(_U.c.username).where(_U.c.role == Role.ADMIN, _U.c.active.is_(True))
        )
        return sorted(rows.scalars())


def test_the_last_admin_cannot_be_disabled_or_demoted_at_the_cli(cli: CliRun, db: Database) -> None:
    cli("user", "add", "--as", "cli-admin", "root", "--role", "admin", "--password-stdin",
        input=PASSWORD + "\n")  # fmt: skip
    cli("user", "disable", "--as", "root", "cli-admin")  # root is now the only active admin
    for args in (("user", "disable", "root"), ("user", "role", "root", "--role", "reviewer")):
        refused = cli(*args, "--as", "root", expect=1)
        assert "最后一个启用的管理员" in refused.stderr and "last active admin" in refused.stderr
        assert "Traceback" not in refused.stderr
    assert _active_admins(db) == ["root"]
    cli("user", "add", "--as", "root", "second", "--role", "admin", "--password-stdin",
        input=PASSWORD + "\n")  # fmt: skip
    cli("user", "role", "--as", "second", "root", "--role", "reviewer")
    assert _active_admins(db) == ["second"]
    assert len(_events(db, "user.role")) == 1
    cli("user", "disable", "--as", "second", "second", expect=1)
    assert (
        "inspector needs a certificate"
        in cli("user", "role", "--as", "second", "root", "--role", "inspector", expect=1).stderr
    )


def test_the_last_admin_cannot_be_disabled_or_demoted_in_the_console_and_api(
    db: Database, data: dict[str, Any]
) -> None:
    with ConsoleServer(db) as url, _client(url) as client:
        token = csrf_of(sign_in(client, Role.ADMIN))
        for action, fields in (("/users/disable", {}), ("/users/role", {"role": "planner"})):
            page = client.post(
                action, data={"csrf_token": token, "username": "admin"} | fields,
                headers={"Referer": f"{url}/users"},
            )  # fmt: skip
            assert page.status_code == 400, action
            error = text_of(soup(page).select_one("div.error"))
            assert "最后一个启用的管理员" in error and "last active admin" in error
            assert soup(page).select_one("a.back")["href"] == "/users"  # a link, not a script
        elsewhere = client.post("/users/disable", data={"csrf_token": token, "username": "admin"},
                                headers={"Referer": "https://evil.example/users"})  # fmt: skip
        assert soup(elsewhere).select_one("a.back")["href"] == "/"
        headers = {"X-CSRF-Token": token}
        for action, fields in (
            ("/api/users/disable", {}),
            ("/api/users/role", {"role": "planner"}),
        ):
            api = client.post(action, json={"username": "admin"} | fields, headers=headers)
            assert api.status_code == 400 and "last active admin" in api.json()["error"]["en"]
        assert _active_admins(db) == ["admin"]
        # With a second admin, the first may be demoted (their sessions end) through the API.
        client.post("/api/users", headers=headers, json={"username": "chief",
                    "password": PASSWORD, "role": "admin", "display_name": "总管"})  # fmt: skip
        done = client.post("/api/users/role", headers=headers,
                           json={"username": "admin", "role": "reviewer"})  # fmt: skip
        assert done.status_code == 200 and done.json() == {"username": "admin", "role": "reviewer"}
        assert client.get("/users").status_code == 303  # signed out: sign in again
        # The page's form does the same: chief makes the planner an inspector.
        token = csrf_of(sign_in(client, "chief"))
        form = soup(client.get("/users")).select_one("tr[data-user=planner] form.role")
        assert form is not None and form.select_one("input[name=cert_no]") is not None
        done = client.post("/users/role", data={"csrf_token": token, "username": "planner",
                           "role": "inspector", "cert_no": "15000099"})  # fmt: skip
        assert done.status_code == 303 and "done=user_role_changed" in done.headers["location"]
    assert _active_admins(db) == ["chief"]
    first, second = _events(db, "user.role")
    assert json.loads(first.payload)["from"] == "admin" and first.actor == "console:admin"
    assert json.loads(second.payload) == {"from": "planner", "to": "inspector",
                                          "cert_no": "15000099"}  # fmt: skip


def test_two_admins_disabling_each_other_at_once_leave_one(db: Database) -> None:
    with db.session() as session:
        for name in ("a1", "a2"):
            add_user(session, username=name, password=PASSWORD, role=Role.ADMIN)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def disable(name: str, by: str) -> None:
        barrier.wait()
        try:
            with db.session() as session:
                disable_user(session, username=name, actor=f"console:{by}")
            outcomes.append("done")
        except Exception as exc:  # the loser: refused (or busy), never both done
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=disable, args=pair) for pair in (("a1", "a2"), ("a2", "a1"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert outcomes.count("done") == 1, outcomes
    assert len(_active_admins(db)) == 1


@pytest.fixture(autouse=True)
def _no_supervision_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("SUPERVISION_TRUSTED_PROXIES", raising=False)
    yield

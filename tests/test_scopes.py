"""Scopes for a province-wide deployment (#22): a console user's region and departments.

The scope itself (pure); the command line (``user add --department --region``, ``user list``,
``user scope``); admins who cannot create or change users outside their scope nor grant a
wider one, at the service, the console form and the JSON API; and the review doors (queue,
its total, an entity's findings, decisions) that answer 404 for an entity of another region.
SQLite and PostgreSQL, over real HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import CliRun
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from test_console_support import (
    PASSWORD,
    ConsoleServer,
    build_console,
    csrf_of,
    sign_in,
    soup,
)

from supervision.accounts.scope import Scope, parse_region
from supervision.accounts.users import add_user, list_users, set_scope, user_scope
from supervision.db import Database
from supervision.errors import NotFoundError, SupervisionError
from supervision.models import Entity, Finding, TrailEvent
from supervision.models.users import ConsoleUser, Role

_T = TrailEvent.__table__  # type: ignore[attr-defined]
_F = Finding.__table__  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- the scope
def test_region_prefixes_are_gbt_2260_divisions() -> None:
    assert parse_region("15") == "15"
    assert parse_region("1502") == "1502"
    assert parse_region("150203") == "150203"
    assert parse_region("150200") == "1502" and parse_region("150000") == "15"
    assert parse_region(" ") == ""
    for bad in ("1", "15020", "99", "1599", "abcdef", "15'--"):
        with pytest.raises(ValueError, match="GB/T 2260"):
            parse_region(bad)


_REGIONS = st.sampled_from(["", "15", "1502", "150203", "1501", "150102", "11"])
_DEPTS = st.lists(st.sampled_from(["SJ", "NMG-SJ", "WJ", "GA"]), max_size=3)


@given(a_region=_REGIONS, a_depts=_DEPTS, b_region=_REGIONS, b_depts=_DEPTS, code=_REGIONS)
def test_within_means_reaching_nothing_more(
    a_region: str, a_depts: list[str], b_region: str, b_depts: list[str], code: str
) -> None:
    a = Scope.of(region=a_region, departments=a_depts)
    b = Scope.of(region=b_region, departments=b_depts)
    assert a.within(a) and a.within(Scope.EVERYTHING)
    if a.within(b):  # whatever a reaches, b reaches
        entity_region = code.ljust(6, "0") if code else "150203"
        assert not a.covers_region(entity_region) or b.covers_region(entity_region)
        for departments in (["SJ"], ["WJ", "GA"], ["NMG-SJ"]):
            assert not a.covers_departments(departments) or b.covers_departments(departments)
    if a.within(b) and b.within(a):
        assert a == b


# --------------------------------------------------------------------------- the CLI
def test_cli_adds_lists_and_changes_scopes(cli: CliRun, db: Database, tmp_path: Path) -> None:
    import site_support as s

    s.build(db, tmp_path)  # departments SJ and others in the directory
    cli("user", "add", "root", "--role", "admin", "--password-stdin", input="root password 1\n")
    done = cli("user", "add", "bt.reviewer", "--role", "reviewer", "--department", "SJ",
               "--region", "1502", "--password-stdin", "--as", "root",
               input="a long enough password\n")  # fmt: skip
    assert "地区 1502" in done.stdout and "部门 SJ" in done.stdout
    rows = {r["username"]: r for r in json.loads(cli("user", "list", "--json").stdout)}
    assert rows["bt.reviewer"]["scope"] == {"region": "1502", "departments": ["SJ"]}
    assert rows["bt.reviewer"]["department"] == "SJ"  # one department: reviews its part
    assert rows["root"]["scope"] == {"region": "", "departments": []}
    table = cli("user", "list").stdout
    assert "范围" in table and "地区 1502" in table
    bad = cli("user", "add", "x.y", "--role", "planner", "--region", "1599", "--password-stdin",
              "--as", "root", input="a long enough password\n", expect=1)  # fmt: skip
    assert "GB/T 2260" in bad.stderr and "Traceback" not in bad.stderr
    cli("user", "scope", "bt.reviewer", "--region", "150203", "--department", "SJ", "--as", "root")
    with db.engine.connect() as conn:
        event = conn.execute(select(_T).where(_T.c.action == "user.scope")).one()
    assert event.actor == "console:root" and event.object == "user:bt.reviewer"
    payload = event.payload if isinstance(event.payload, dict) else json.loads(event.payload)
    assert payload["from"]["region"] == "1502" and payload["to"]["region"] == "150203"


# --------------------------------------------------------------------------- admins
def _user(db: Database, name: str, role: str, **scope: Any) -> ConsoleUser:
    with db.session() as session:
        user = add_user(session, username=name, password=PASSWORD, role=role,
                        cert_no="C1" if role == Role.INSPECTOR else None, **scope)  # fmt: skip
        session.expunge(user)
        return user


def test_an_admin_never_grants_a_wider_scope(db: Database, tmp_path: Path) -> None:
    import site_support as s

    s.build(db, tmp_path)
    _user(db, "bt.admin", Role.ADMIN, region="1502", departments=["SJ"])
    mine = Scope(region="1502", departments=("SJ",))
    wider = [{"region": "15"}, {"region": "1503"}, {"region": "150102"},
             {"region": "150203", "departments": ["SJ", "WJ"]}]  # fmt: skip
    for asked in wider:
        with db.session() as session, pytest.raises(SupervisionError) as refused:
            add_user(session, username="too.wide", password=PASSWORD, role=Role.PLANNER,
                     acting_scope=mine, **asked)  # fmt: skip
        assert "wider than your own" in str(refused.value.details)
    with db.session() as session:
        assert [u.username for u in list_users(session)] == ["bt.admin"]
        # Nothing asked: the admin's own scope; narrower: kept.
        own = add_user(session, username="bt.p", password=PASSWORD, role=Role.PLANNER,
                       acting_scope=mine)  # fmt: skip
        county = add_user(session, username="bt.c", password=PASSWORD, role=Role.PLANNER,
                          region="150203", acting_scope=mine)  # fmt: skip
        assert user_scope(own) == mine and user_scope(county) == Scope("150203", ("SJ",))
        assert own.department_code == "SJ"  # one department, inherited: reviews its part
        add_user(session, username="hh.p", password=PASSWORD, role=Role.PLANNER, region="1501")
    with db.session() as session:
        # Users outside the admin's scope are not there for them.
        assert {u.username for u in list_users(session, scope=mine)} == {"bt.admin", "bt.p",
                                                                          "bt.c"}  # fmt: skip
        with pytest.raises(NotFoundError):
            set_scope(session, username="hh.p", region="1502", departments=["SJ"],
                      acting_scope=mine)  # fmt: skip
        with pytest.raises(SupervisionError, match=r"wider|范围"):
            set_scope(session, username="bt.c", region="15", departments=[], acting_scope=mine)


@pytest.fixture
def world(db: Database, tmp_path: Path) -> dict[str, Any]:
    data = build_console(db, tmp_path)
    with db.engine.connect() as conn:
        region = conn.execute(
            select(Entity.region_code).where(Entity.uscc == data["flagged_uscc"])  # type: ignore[arg-type]
        ).scalar_one()
    other = "1501" if not region.startswith("1501") else "1502"
    _user(db, "here.reviewer", Role.REVIEWER, region=region[:4])
    _user(db, "there.reviewer", Role.REVIEWER, region=other)
    _user(db, "there.admin", Role.ADMIN, region=other)
    return data | {"region": region, "other": other}


@pytest.fixture
def server(db: Database, world: dict[str, Any]) -> Iterator[str]:
    with ConsoleServer(db) as url:
        yield url


_OPEN: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def _signed_in(url: str, name: str) -> tuple[httpx.Client, dict[str, str]]:
    client = httpx.Client(base_url=url, follow_redirects=False, timeout=30)
    _OPEN.append(client)
    token = client.post("/api/session", json={"username": name, "password": PASSWORD})
    assert token.status_code == 200, token.text
    return client, {"Authorization": f"Bearer {token.json()['token']}"}


def test_api_and_form_refuse_a_wider_scope(
    db: Database, world: dict[str, Any], server: str
) -> None:
    client, auth = _signed_in(server, "there.admin")
    for body in ({"region": "15"}, {"region": world["region"][:4]}, {"region": ""}):
        body = body | {"username": "new.one", "password": PASSWORD, "role": "planner"}
        answer = client.post("/api/users", json=body, headers=auth)
        if body["region"] == "":  # nothing asked: the admin's own region
            assert answer.status_code == 200
            continue
        assert answer.status_code == 400, answer.text
        assert "wider than your own" in json.dumps(answer.json())
    listed = client.get("/api/users", headers=auth).json()
    assert {u["username"] for u in listed} == {"there.reviewer", "there.admin", "new.one"}
    assert all(u["scope"]["region"].startswith(world["other"]) for u in listed)
    # A user of another region is not found: disable, change role, change scope.
    for path, body in (("/api/users/disable", {"username": "here.reviewer"}),
                       ("/api/users/role", {"username": "here.reviewer", "role": "planner"}),
                       ("/api/users/scope", {"username": "here.reviewer", "region": world["other"]})):  # fmt: skip
        assert client.post(path, json=body, headers=auth).status_code == 404, path
    with httpx.Client(base_url=server, follow_redirects=False, timeout=30) as page:
        landing = sign_in(page, "there.admin")
        form = soup(page.get("/users"))
        assert {tr["data-user"] for tr in form.select("tr[data-user]")} == {
            "there.reviewer", "there.admin", "new.one"}  # fmt: skip
        refused = page.post("/users", data={"username": "form.one", "password": PASSWORD,
                                            "role": "planner", "region": "15",
                                            "csrf_token": csrf_of(landing)})  # fmt: skip
        assert refused.status_code == 400
    with db.session() as session:
        names = {u.username for u in list_users(session)}
        assert "form.one" not in names
        assert user_scope(session.exec(select(ConsoleUser).where(
            ConsoleUser.username == "new.one")).one()[0]).region == world["other"]  # type: ignore[arg-type]  # fmt: skip


# --------------------------------------------------------------------------- review doors
def test_review_of_another_region_is_not_found(
    db: Database, world: dict[str, Any], server: str
) -> None:
    uscc, finding = world["flagged_uscc"], world["finding_id"]
    there, auth = _signed_in(server, "there.reviewer")
    here, here_auth = _signed_in(server, "here.reviewer")
    queue = there.get("/api/review/queue", headers=auth).json()
    assert all(i["region_code"].startswith(world["other"]) for i in queue["items"])
    assert finding not in [i["finding_id"] for i in queue["items"]]
    assert there.get(f"/api/review/entities/{uscc}", headers=auth).status_code == 404
    for verb in ("confirm", "dismiss"):
        answer = there.post(f"/api/review/findings/{finding}/{verb}",
                            json={"text": "out of scope"}, headers=auth)  # fmt: skip
        assert answer.status_code == 404, answer.text
    mine = here.get("/api/review/queue", headers=here_auth).json()
    assert finding in [i["finding_id"] for i in mine["items"]]
    assert here.get(f"/api/review/entities/{uscc}", headers=here_auth).status_code == 200
    with httpx.Client(base_url=server, follow_redirects=False, timeout=30) as page:
        landing = sign_in(page, "there.reviewer")
        assert page.get(f"/review/entity/{uscc}").status_code == 404
        html = soup(page.get("/review"))
        assert not html.select(f"tr[data-finding='{finding}']")
        assert "共 0 条" in html.get_text()
        posted = page.post(f"/review/findings/{finding}/dismiss",
                           data={"uscc": uscc, "reason": "x", "csrf_token": csrf_of(landing)})  # fmt: skip
        assert posted.status_code == 404
    with db.engine.connect() as conn:
        assert conn.execute(select(_F.c.status).where(_F.c.id == finding)).scalar_one() == "open"


# --------------------------------------------------------------------------- task doors
def test_a_task_reaches_its_departments_and_region() -> None:
    from supervision.draw.tasks import task_in_scope, task_region
    from supervision.models import Task

    def task(departments: list[str], regions: list[str]) -> Task:
        return Task(code="T", departments=departments, target={"regions": regions})

    assert task_region(task(["SJ"], [])) == ""
    assert task_region(task(["SJ"], ["150102", "150103"])) == "1501"
    assert task_region(task(["SJ"], ["150100", "150200"])) == "15"
    assert task_region(task(["SJ"], ["150203"])) == "150203"
    joint = task(["SJ", "WJ"], ["150200"])
    assert task_in_scope(joint, Scope("1502", ("WJ",)))  # each department of a joint task
    assert task_in_scope(joint, Scope("15", ("SJ",)))
    assert not task_in_scope(joint, Scope("150203", ("SJ",)))  # the task is wider
    assert not task_in_scope(joint, Scope("", ("GA",)))
    assert task_in_scope(task(["GA"], []), None)  # the command line: full rights


def test_tasks_of_another_department_or_region_are_not_found(
    db: Database, world: dict[str, Any], server: str
) -> None:
    import site_support as s
    from test_console_support import DRAFT_TASK

    from supervision.models import Department, Task

    with db.session() as session:
        session.add(Department(code="WJ", name="卫生健康委员会", region_code="150000"))
    _user(db, "sj.planner", Role.PLANNER, departments=["SJ"])
    _user(db, "wj.planner", Role.PLANNER, departments=["WJ"])
    _user(db, "region.planner", Role.PLANNER, region=world["other"], departments=["SJ"])
    sj, sj_auth = _signed_in(server, "sj.planner")
    listed = {t["code"] for t in sj.get("/api/tasks", headers=sj_auth).json()}
    assert {DRAFT_TASK, s.TASK} <= listed
    assert sj.get("/api/tasks/fairness", params={"code": s.TASK}, headers=sj_auth).is_success
    for name in ("wj.planner", "region.planner"):
        client, auth = _signed_in(server, name)
        assert client.get("/api/tasks", headers=auth).json() == [], name
        assert client.get("/api/tasks/fairness", params={"code": s.TASK},
                          headers=auth).status_code == 404  # fmt: skip
        for path, body in (("/api/tasks/commit", {"code": DRAFT_TASK}),
                           ("/api/tasks/draw", {"code": s.TASK, "seed": "1"}),
                           ("/api/tasks/salt", {"code": s.TASK, "uscc": world["flagged_uscc"]})):  # fmt: skip
            assert client.post(path, json=body, headers=auth).status_code == 404, (name, path)
    with httpx.Client(base_url=server, follow_redirects=False, timeout=30) as page:
        landing = sign_in(page, "wj.planner")
        assert not soup(page.get("/tasks")).select(f"a[href*='{DRAFT_TASK}']")
        for path in ("/task", "/task/fairness", "/task/export"):
            assert page.get(path, params={"code": s.TASK}).status_code == 404, path
        committed = page.post("/task/commit",
                              data={"code": DRAFT_TASK, "csrf_token": csrf_of(landing)})  # fmt: skip
        assert committed.status_code == 404
    with db.session() as session:
        assert session.get(Task, DRAFT_TASK).status == "draft"  # type: ignore[union-attr]


# --------------------------------------------------------------------------- results, credit
def test_results_and_credit_of_another_region_are_not_found(
    db: Database, world: dict[str, Any], server: str
) -> None:
    import datetime as dt

    import site_support as s

    from supervision.credit.proposals import propose

    pending_uscc = world["usccs"][1]  # entered, awaiting review (site_support)
    with db.engine.begin() as conn:
        proposal, _ = propose(conn, uscc=world["flagged_uscc"], action="list", register="abnormal",
                              reason_code="1", proposed_on=dt.date(2026, 7, 3), actor="test",
                              now=dt.datetime(2026, 7, 3, tzinfo=dt.UTC))  # fmt: skip
    here, here_auth = _signed_in(server, "here.reviewer")
    mine = {
        (r["task"], r["uscc"]) for r in here.get("/api/results/pending", headers=here_auth).json()
    }
    assert (s.TASK, pending_uscc) in mine
    assert proposal in [
        p["id"] for p in here.get("/api/credit/proposals", headers=here_auth).json()
    ]
    there, auth = _signed_in(server, "there.reviewer")
    assert there.get("/api/results/pending", headers=auth).json() == []
    assert there.get("/api/credit/proposals", headers=auth).json() == []
    assert (
        there.get(f"/api/credit/entities/{world['flagged_uscc']}", headers=auth).status_code == 404
    )
    for path, body in (
        ("/api/results/review", {"task": s.TASK, "uscc": pending_uscc, "approve": True}),
        ("/api/results/publish", {"task": s.TASK, "uscc": world["usccs"][2]}),
        (f"/api/credit/proposals/{proposal}/reject", {"reason": "out of scope"}),
        (f"/api/credit/proposals/{proposal}/accept",
         {"organ": "某局", "decision_no": "决字1号", "decided_on": "2026-07-04"}),
    ):  # fmt: skip
        assert there.post(path, json=body, headers=auth).status_code == 404, path
    with httpx.Client(base_url=server, follow_redirects=False, timeout=30) as page:
        landing = sign_in(page, "there.reviewer")
        assert not soup(page.get("/results")).select(f"a[href*='{pending_uscc}']")
        entity = page.get("/results/entity", params={"task": s.TASK, "uscc": pending_uscc})
        assert entity.status_code == 404
        assert page.get(f"/credit/entity/{world['flagged_uscc']}").status_code == 404
        assert not soup(page.get("/credit")).select(f"a[href*='{world['flagged_uscc']}']")
        rejected = page.post(f"/credit/proposals/{proposal}/reject",
                             data={"uscc": world["flagged_uscc"], "reason": "x",
                                   "csrf_token": csrf_of(landing)})  # fmt: skip
        assert rejected.status_code == 404
    from supervision.models import CreditProposal, InspectionResult

    proposals = CreditProposal.__table__  # type: ignore[attr-defined]
    results = InspectionResult.__table__  # type: ignore[attr-defined]
    with db.engine.connect() as conn:
        status = conn.execute(select(proposals.c.status).where(proposals.c.id == proposal))
        assert status.scalar_one() == "open"
        states = conn.execute(select(results.c.state).where(results.c.uscc == pending_uscc))
        assert states.scalars().all() == ["entered"]


# --------------------------------------------------------------------------- one authority's site
def test_publish_for_one_authority(cli: CliRun, db: Database, tmp_path: Path) -> None:
    import site_support as s
    from bs4 import BeautifulSoup

    from supervision.models import Department
    from supervision.reference.folders import folder_name

    s.build(db, tmp_path)
    with db.session() as session:
        session.add(Department(code="WJ", name="卫生健康委员会", region_code="150000"))
    cli("user", "add", "root", "--role", "admin", "--password-stdin", input="root password 1\n")
    for code, name in (("SJ", "市场监督管理局"), ("WJ", "卫生健康委员会")):
        out = tmp_path / f"site-{code}"
        cli("publish", "--out", str(out), "--authority", code, "--lang", "zh", "--as", "root")
        home = BeautifulSoup((out / "index.html").read_text("utf-8"), "html.parser")
        assert home.select_one("header .site-authority").get_text(strip=True) == name
        index = json.loads((out / "data" / "index.json").read_text("utf-8"))
        assert index["publisher"] == name
        has_task = (out / "tasks" / folder_name(s.TASK) / "index.html").exists()
        assert has_task == (code == "SJ"), code
        draws = json.loads((out / "data" / "draws.json").read_text("utf-8"))["records"]
        assert bool(draws) == (code == "SJ")
    unknown = cli("publish", "--out", str(tmp_path / "x"), "--authority", "NOPE", "--as", "root",
                  expect=1)  # fmt: skip
    assert "NOPE" in unknown.stderr and "department" in unknown.stderr
    assert "Traceback" not in unknown.stderr


# --------------------------------------------------------------------------- the demo
def test_demo_users_of_two_cities(db: Database) -> None:
    from supervision.demo.users import CITY_DEPARTMENT, demo_users_step, describe
    from supervision.models import Department

    with db.session() as session:
        session.add(Department(code=CITY_DEPARTMENT, name="市场监督管理局", region_code="150000"))
    users = {u["username"]: u for u in demo_users_step(db)}
    assert users["demo-admin"]["scope"] == {"region": "", "departments": []}
    for part, region in (("hhht", "1501"), ("bt", "1502")):
        for role in ("admin", "planner", "reviewer"):
            assert users[f"demo-{part}-{role}"]["scope"] == {
                "region": region, "departments": [CITY_DEPARTMENT]}  # fmt: skip
    again = {u["username"]: u for u in demo_users_step(db)}  # reset: same scopes
    assert {n: u["scope"] for n, u in again.items()} == {n: u["scope"] for n, u in users.items()}
    text = "\n".join(describe(list(again.values())))
    assert "demo-bt-reviewer" in text and "地区 1502" in text

"""The scope sweep (#22): every console and API route, for a user of another region and a
user of another department, on SQLite and PostgreSQL over real HTTP.

Every route is classified here, so a new route fails the sweep until it is: a door to one
object answers 404 to an outsider, as if the object did not exist (and changes nothing); a
list shows an outsider none of the objects; the few other routes say why they are neither.
Findings and credit proposals belong to their entity, so only the region limits them (a
rule's department is a responsibility in words, not a directory department): for those
doors only the user of another region is an outsider.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import site_support as s
from sqlalchemy import select
from test_console_support import (
    DRAFT_TASK,
    PASSWORD,
    ConsoleServer,
    build_console,
    csrf_of,
    sign_in,
    soup,
)

from supervision.accounts.users import add_user
from supervision.console.app import create_app
from supervision.console.security import route_roles
from supervision.credit.proposals import propose
from supervision.db import Database
from supervision.models import CreditProposal, Department, Entity, Finding, Task
from supervision.models.users import Role

Spec = Callable[[dict[str, Any]], dict[str, Any]]


def _form(**fields: Any) -> Spec:
    return lambda w: {"data": {k: (v(w) if callable(v) else v) for k, v in fields.items()}}


def _body(**fields: Any) -> Spec:
    return lambda w: {"json": {k: (v(w) if callable(v) else v) for k, v in fields.items()}}


def _query(**fields: Any) -> Spec:
    return lambda w: {"params": {k: (v(w) if callable(v) else v) for k, v in fields.items()}}


def _task(w: dict[str, Any]) -> str:
    return s.TASK


def _pending(w: dict[str, Any]) -> str:
    return str(w["usccs"][1])


def _assigned(w: dict[str, Any]) -> str:
    return str(w["inspector_uscc"])


_NOTHING: Spec = lambda w: {}  # noqa: E731

#: Doors to one object: (method, path) → the request. Both outsiders get 404.
OBJECT_DOORS: dict[tuple[str, str], Spec] = {
    ("GET", "/task"): _query(code=_task),
    ("GET", "/task/fairness"): _query(code=_task),
    ("GET", "/task/export"): _query(code=_task),
    ("POST", "/task/commit"): _form(code=DRAFT_TASK),
    ("POST", "/task/draw"): _form(code=_task, seed="123"),
    ("POST", "/task/salt"): _form(code=_task, uscc=_assigned),
    ("GET", "/api/tasks/fairness"): _query(code=_task),
    ("POST", "/api/tasks/commit"): _body(code=DRAFT_TASK),
    ("POST", "/api/tasks/draw"): _body(code=_task, seed="123"),
    ("POST", "/api/tasks/salt"): _body(code=_task, uscc=_assigned),
    ("GET", "/results/entity"): _query(task=_task, uscc=_pending),
    ("POST", "/results/review"): _form(task=_task, uscc=_pending, decision="approve"),
    ("POST", "/results/publish"): _form(task=_task, uscc=_pending),
    ("POST", "/api/results/review"): _body(task=_task, uscc=_pending, approve=True),
    ("POST", "/api/results/publish"): _body(task=_task, uscc=_pending),
    ("GET", "/inspector/result"): _query(task=_task, uscc=_assigned),
    ("GET", "/inspector/visit"): _query(task=_task, uscc=_assigned),
    ("POST", "/inspector/result"): _form(task=_task, uscc=_assigned),
    ("POST", "/inspector/visit"): _form(task=_task, uscc=_assigned),
    ("POST", "/api/inspector/results"): _body(task=_task, uscc=_assigned, items=[]),
    ("POST", "/api/inspector/visit"): _body(task=_task, uscc=_assigned, answers={}),
    ("POST", "/users/disable"): _form(username="insider"),
    ("POST", "/users/role"): _form(username="insider", role="planner"),
    ("POST", "/users/scope"): _form(username="insider", region="15"),
    ("POST", "/api/users/disable"): _body(username="insider"),
    ("POST", "/api/users/role"): _body(username="insider", role="planner"),
    ("POST", "/api/users/scope"): _body(username="insider", region="15"),
}
#: Doors to a plan: the departments decide (a plan is the deployment's, read in every
#: region; publishing it wants no region limit, checked below).
PLAN_DOORS: dict[tuple[str, str], Spec] = {
    ("GET", "/plan"): _query(code="P2026"),
    ("POST", "/plan/publish"): _form(code="P2026"),
    ("GET", "/api/plans/plan"): _query(code="P2026"),
    ("GET", "/api/plans/report"): _query(code="P2026"),
    ("POST", "/api/plans/publish"): _body(code="P2026"),
}
#: Doors to a finding, a proposal or an entity's standing: the region decides.
ENTITY_DOORS: dict[tuple[str, str], Spec] = {
    ("GET", "/review/entity/{uscc}"): _NOTHING,
    ("POST", "/review/findings/{finding_id}/confirm"): _form(note="n", uscc="x"),
    ("POST", "/review/findings/{finding_id}/dismiss"): _form(reason="r", uscc="x"),
    ("GET", "/api/review/entities/{uscc}"): _NOTHING,
    ("POST", "/api/review/findings/{finding_id}/confirm"): _body(text="n"),
    ("POST", "/api/review/findings/{finding_id}/dismiss"): _body(text="r"),
    ("GET", "/credit/entity/{uscc}"): _NOTHING,
    ("POST", "/credit/proposals/{proposal_id}/accept"): _form(
        uscc="x", organ="某局", decision_no="决字1号", decision_date="2026-07-04"
    ),
    ("POST", "/credit/proposals/{proposal_id}/reject"): _form(uscc="x", reason="r"),
    ("GET", "/api/credit/entities/{uscc}"): _NOTHING,
    ("POST", "/api/credit/proposals/{proposal_id}/accept"): _body(
        organ="某局", decision_no="决字1号", decided_on="2026-07-04"
    ),
    ("POST", "/api/credit/proposals/{proposal_id}/reject"): _body(reason="r"),
}
#: Lists: what an outsider sees holds none of the insiders' objects. "entity" lists are
#: limited by region only (see above); "all" lists by department and region.
LISTS: dict[tuple[str, str], str] = {
    ("GET", "/"): "all", ("GET", "/api/dashboard"): "all",
    ("GET", "/tasks"): "all", ("GET", "/api/tasks"): "all",
    ("GET", "/plans"): "all",
    ("GET", "/results"): "all", ("GET", "/api/results/pending"): "all",
    ("GET", "/inspector"): "all", ("GET", "/api/inspector/assignments"): "all",
    ("GET", "/users"): "all", ("GET", "/api/users"): "all",
    ("GET", "/review"): "entity", ("GET", "/api/review/queue"): "entity",
    ("GET", "/credit"): "entity", ("GET", "/api/credit/proposals"): "entity",
    ("GET", "/admin/directories"): "entity", ("GET", "/api/admin/directories"): "entity",
    ("GET", "/admin/directories/{kind}"): "entity",
    ("GET", "/api/admin/directories/{kind}"): "entity",
}  # fmt: skip
#: Neither: why.
OTHER = {
    ("GET", "/login"): "public",
    ("POST", "/login"): "public",
    ("POST", "/api/session"): "public",
    ("GET", "/api/openapi.json"): "public",
    ("POST", "/logout"): "one's own session",
    ("GET", "/api/me"): "one's own account",
    ("POST", "/tasks"): "creation: refused outside the scope (test_scopes)",
    ("POST", "/api/tasks"): "creation: refused outside the scope (test_scopes)",
    ("POST", "/users"): "creation: never wider than the admin (test_scopes)",
    ("POST", "/api/users"): "creation: never wider than the admin (test_scopes)",
    ("GET", "/admin/directories/{kind}/export"): "whole directory: 403 for a limited admin",
    ("GET", "/api/admin/directories/{kind}/export"): "whole directory: 403 for a limited admin",
    ("POST", "/admin/directories/{kind}/import"): "whole directory: 403 for a limited admin",
    ("POST", "/api/admin/directories/{kind}/import"): "whole directory: 403 for a limited admin",
    ("GET", "/admin/rules"): "the province's rule pack",
    ("GET", "/admin/rules/rule"): "the province's rule pack",
    ("GET", "/api/admin/rules"): "the province's rule pack",
    ("GET", "/api/admin/rules/rule"): "the province's rule pack",
    ("POST", "/admin/rules/candidate"): "the province's rule pack",
    ("POST", "/admin/rules/lint"): "the province's rule pack",
    ("POST", "/admin/rules/test"): "the province's rule pack",
    ("POST", "/api/admin/rules/candidate"): "the province's rule pack",
    ("POST", "/api/admin/rules/lint"): "the province's rule pack",
    ("POST", "/api/admin/rules/test"): "the province's rule pack",
}


@pytest.fixture
def world(db: Database, tmp_path: Path) -> dict[str, Any]:
    data = build_console(db, tmp_path)
    with db.engine.begin() as conn:
        proposal, _ = propose(conn, uscc=data["flagged_uscc"], action="list",
                              register="abnormal", reason_code="1",
                              proposed_on=dt.date(2026, 7, 3), actor="test",
                              now=dt.datetime(2026, 7, 3, tzinfo=dt.UTC))  # fmt: skip
        regions = set(conn.execute(select(Entity.region_code)).scalars())  # type: ignore[call-overload]
    assert {r[:4] for r in regions} == {"1501"}  # the test province: 呼和浩特市 only
    with db.session() as session:
        session.add(Department(code="WJ", name="卫生健康委员会", region_code="150000"))
        session.flush()
        add_user(session, username="insider", password=PASSWORD, role=Role.REVIEWER,
                 region="1501")  # fmt: skip
        for role in Role.ALL:
            cert = "OUT-1" if role == Role.INSPECTOR else None
            add_user(session, username=f"region.{role}", password=PASSWORD, role=role,
                     region="1502", cert_no=cert)  # fmt: skip
            add_user(session, username=f"dept.{role}", password=PASSWORD, role=role,
                     departments=["WJ"], cert_no=cert)  # fmt: skip
    markers = {"task": [s.TASK, DRAFT_TASK], "plan": ["P2026"],
               "entity": [data["flagged_uscc"], data["usccs"][1], data["inspector_uscc"]],
               "user": ["insider"]}  # fmt: skip
    return data | {"proposal_id": proposal, "markers": markers}


@pytest.fixture
def server(db: Database, world: dict[str, Any]) -> Iterator[str]:
    with ConsoleServer(db) as url:
        yield url


def _url(path: str, w: dict[str, Any]) -> str:
    return (
        path.replace("{uscc}", w["flagged_uscc"])
        .replace("{finding_id}", str(w["finding_id"]))
        .replace("{proposal_id}", str(w["proposal_id"]))
        .replace("{kind}", "entities")
    )


class Outsider:
    """A signed-in outsider: a cookie session for pages, a bearer token for the API."""

    def __init__(self, url: str, name: str) -> None:
        self.page = httpx.Client(base_url=url, follow_redirects=False, timeout=60)
        self.csrf = csrf_of(sign_in(self.page, name))
        self.api = httpx.Client(base_url=url, follow_redirects=False, timeout=60)
        token = self.api.post("/api/session", json={"username": name, "password": PASSWORD})
        self.api.headers["Authorization"] = f"Bearer {token.json()['token']}"

    def request(self, method: str, path: str, spec: dict[str, Any]) -> httpx.Response:
        if path.startswith("/api"):
            return self.api.request(method, path, **spec)
        if "data" in spec:
            spec = spec | {"data": spec["data"] | {"csrf_token": self.csrf}}
        return self.page.request(method, path, headers={"X-CSRF-Token": self.csrf}, **spec)

    def close(self) -> None:
        self.page.close()
        self.api.close()


def _state(db: Database) -> list[Any]:
    """What an outsider's refused request must leave as it was."""
    with db.engine.connect() as conn:
        return [
            sorted(conn.execute(select(Finding.status, Finding.id)).all()),  # type: ignore[call-overload]
            sorted(conn.execute(select(Task.code, Task.status)).all()),  # type: ignore[call-overload]
            sorted(conn.execute(select(CreditProposal.id, CreditProposal.status)).all()),  # type: ignore[call-overload]
        ]


def _shown(response: httpx.Response) -> str:
    if response.headers.get("content-type", "").startswith("application/json"):
        return json.dumps(response.json(), ensure_ascii=False)
    return soup(response).get_text(" ")


def test_every_route_is_in_the_sweep(db: Database) -> None:
    routes = set(route_roles(create_app(db)))
    classified = set(OBJECT_DOORS) | set(PLAN_DOORS) | set(ENTITY_DOORS) | set(LISTS) | set(OTHER)
    assert routes - classified == set(), "classify the new routes in the scope sweep"
    assert classified - routes == set()


def test_scope_sweep(db: Database, world: dict[str, Any], server: str) -> None:
    roles = route_roles(create_app(db))
    before = _state(db)
    outsiders: dict[tuple[str, str], Outsider] = {}
    try:
        for kind in ("region", "dept"):
            for role in Role.ALL:
                outsiders[kind, role] = Outsider(server, f"{kind}.{role}")
        checked = 0
        for doors, kinds in (
            (OBJECT_DOORS, ("region", "dept")),
            (PLAN_DOORS, ("dept",)),
            (ENTITY_DOORS, ("region",)),
        ):
            for (method, path), spec in doors.items():
                for kind in kinds:
                    for role in sorted(roles[method, path] or ()):
                        answer = outsiders[kind, role].request(
                            method, _url(path, world), spec(world)
                        )
                        assert answer.status_code == 404, (kind, role, method, path, answer.text)
                        checked += 1
        assert checked >= 60
        for path, spec in (("/plan/publish", {"data": {"code": "P2026"}}),
                           ("/api/plans/publish", {"json": {"code": "P2026"}})):  # fmt: skip
            answer = outsiders["region", Role.PLANNER].request("POST", path, spec)
            assert answer.status_code == 400 and "region limit" in answer.text, path
        assert _state(db) == before  # nothing an outsider tried has changed anything
        for (method, path), reach in LISTS.items():
            for kind in ("region", "dept") if reach == "all" else ("region",):
                for role in sorted(roles[method, path] or ()):
                    answer = outsiders[kind, role].request(method, _url(path, world), {})
                    assert answer.status_code == 200, (kind, role, path, answer.text)
                    shown = _shown(answer)
                    kept = [k for k in world["markers"] if not (k == "plan" and kind == "region")]
                    for marker in [m for k in kept for m in world["markers"][k]]:
                        assert marker not in shown, (kind, role, path, marker)
        # Totals: nothing of the insiders counted on an outsider's dashboard.
        for kind in ("region", "dept"):
            counts = outsiders[kind, Role.PLANNER].request("GET", "/api/dashboard", {})
            counted = counts.json()["counts"]
            assert counted["tasks"] == {} and counted["awaiting_review"] == 0, kind
            if kind == "region":
                assert counted["open_findings"] == 0 and counted["flagged"] == 0
    finally:
        for outsider in outsiders.values():
            outsider.close()

"""Users (admin): list, add, change role or scope, disable. An admin sees and changes only the
users inside their own scope, and never grants a wider one (``supervision.accounts.users``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from supervision.accounts.scope import Scope
from supervision.accounts.users import (
    add_user,
    disable_user,
    list_users,
    set_role,
    set_scope,
    user_dict,
)
from supervision.console.deps import AdminUser, DbDep, Sessions
from supervision.console.pages import redirect, render
from supervision.db import Database
from supervision.models.users import Role

router = APIRouter()


def users(db: Database, *, scope: Scope) -> list[dict[str, Any]]:
    with db.session() as session:
        return [user_dict(u) for u in list_users(session, scope=scope)]


def add(db: Database, *, actor: str, scope: Scope, **fields: Any) -> None:
    with db.session() as session:
        add_user(session, actor=actor, acting_scope=scope, **fields)


def disable(db: Database, *, username: str, actor: str, scope: Scope) -> None:
    with db.session() as session:
        disable_user(session, username=username, actor=actor, acting_scope=scope)


def change_role(
    db: Database, *, username: str, role: str, cert_no: str | None, actor: str, scope: Scope
) -> None:
    with db.session() as session:
        set_role(session, username=username, role=role, cert_no=cert_no, actor=actor,
                 acting_scope=scope)  # fmt: skip


def change_scope(
    db: Database,
    *,
    username: str,
    departments: list[str] | None,
    region: str | None,
    actor: str,
    scope: Scope,
) -> None:
    with db.session() as session:
        set_scope(session, username=username, departments=departments, region=region,
                  actor=actor, acting_scope=scope)  # fmt: skip


def split_codes(text: str) -> list[str]:
    """Department codes typed into one field, separated by commas, 、 or spaces."""
    return [c for c in text.replace("、", " ").replace(",", " ").replace("，", " ").split() if c]


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, db: DbDep, who: AdminUser) -> HTMLResponse:
    """The users inside the admin's scope, with role, scope and status; the form to add one."""
    rows = users(db, scope=who.scope)
    return render(request, "console/users.html", users=rows, roles=Role.ZH, scope=who.scope)


@router.post("/users")
def add_user_form(
    db: DbDep,
    who: AdminUser,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    cert_no: Annotated[str, Form()] = "",
    department_code: Annotated[str, Form()] = "",
    departments: Annotated[str, Form()] = "",
    region: Annotated[str, Form()] = "",
) -> Response:
    """Add a user (argon2-hashed password; recorded in the trail) inside the admin's scope;
    a reviewer's department decides which part of a joint task's results they review."""
    add(db, actor=who.actor, scope=who.scope, username=username, password=password, role=role,
        display_name=display_name, cert_no=cert_no, department_code=department_code or None,
        departments=split_codes(departments), region=region or None)  # fmt: skip
    return redirect("/users", done="user_added")


@router.post("/users/disable")
def disable_user_form(
    db: DbDep, sessions: Sessions, who: AdminUser, username: Annotated[str, Form()]
) -> Response:
    """Disable a user; their sessions end at once."""
    disable(db, username=username, actor=who.actor, scope=who.scope)
    sessions.forget()  # their sessions end now, not in a few seconds
    return redirect("/users", done="user_disabled")


@router.post("/users/role")
def set_role_form(
    db: DbDep,
    sessions: Sessions,
    who: AdminUser,
    username: Annotated[str, Form()],
    role: Annotated[str, Form()],
    cert_no: Annotated[str, Form()] = "",
) -> Response:
    """Give a user another role; their sessions end at once."""
    change_role(db, username=username, role=role, cert_no=cert_no or None, actor=who.actor,
                scope=who.scope)  # fmt: skip
    sessions.forget()
    return redirect("/users", done="user_role_changed")


@router.post("/users/scope")
def set_scope_form(
    db: DbDep,
    sessions: Sessions,
    who: AdminUser,
    username: Annotated[str, Form()],
    departments: Annotated[str, Form()] = "",
    region: Annotated[str, Form()] = "",
) -> Response:
    """Give a user another scope, never wider than the admin's; their sessions end at once."""
    change_scope(db, username=username, departments=split_codes(departments),
                 region=region or None, actor=who.actor, scope=who.scope)  # fmt: skip
    sessions.forget()
    return redirect("/users", done="user_scope_changed")

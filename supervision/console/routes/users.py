"""Users (admin): list, add, disable."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from supervision.accounts.sessions import Principal
from supervision.accounts.users import add_user, disable_user, list_users, user_dict
from supervision.console.pages import redirect, render
from supervision.console.security import requires
from supervision.db import Database
from supervision.models.users import Role

router = APIRouter()
ADMIN = requires(Role.ADMIN)


def users(db: Database) -> list[dict[str, Any]]:
    with db.session() as session:
        return [user_dict(u) for u in list_users(session)]


def add(db: Database, who: Principal, **fields: Any) -> None:
    with db.session() as session:
        add_user(session, actor=who.actor, **fields)


def disable(db: Database, who: Principal, username: str) -> None:
    with db.session() as session:
        disable_user(session, username, actor=who.actor)


@router.get("/users", response_class=HTMLResponse)
async def users_page(request: Request, who: Annotated[Principal, Depends(ADMIN)]) -> HTMLResponse:
    """Every user with role and status; the form to add one."""
    rows = await run_in_threadpool(users, request.app.state.db)
    return render(request, "console/users.html", users=rows, roles=Role.ZH)


@router.post("/users")
async def add_user_form(
    request: Request,
    who: Annotated[Principal, Depends(ADMIN)],
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    cert_no: Annotated[str, Form()] = "",
) -> Response:
    """Add a user (argon2-hashed password; recorded in the trail)."""
    await run_in_threadpool(
        lambda: add(request.app.state.db, who, username=username, password=password, role=role,
                    display_name=display_name, cert_no=cert_no)
    )  # fmt: skip
    return redirect("/users", done="user_added")


@router.post("/users/disable")
async def disable_user_form(
    request: Request, who: Annotated[Principal, Depends(ADMIN)], username: Annotated[str, Form()]
) -> Response:
    """Disable a user; their sessions end at once."""
    await run_in_threadpool(disable, request.app.state.db, who, username)
    request.app.state.sessions.forget()  # their sessions end now, not in a few seconds
    return redirect("/users", done="user_disabled")

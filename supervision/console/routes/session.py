"""Sign-in and sign-out (public routes: the only pages anyone may open)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from supervision.accounts.sessions import end_session, sign_in
from supervision.console.deps import Anyone, CurrentUser, DbDep, Sessions, Throttle
from supervision.console.pages import render
from supervision.console.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    check_csrf,
    client_address,
    secure_cookies,
    set_session_cookie,
)

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only a path on this console (never another site) after signing in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _login_page(request: Request, *, next_path: str, status: int = 200, error: tuple[str, str]
                | None = None, username: str = "") -> Response:  # fmt: skip
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = render(
        request, "console/login.html", status=status, login_csrf=token, next_path=next_path,
        error=error, username=username,
    )  # fmt: skip
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax",
        secure=secure_cookies(request), max_age=3600,
    )  # fmt: skip
    return response


async def login_csrf(request: Request) -> None:
    """The sign-in form's double-submit check: the form's token must match its cookie."""
    await check_csrf(request, request.cookies.get(LOGIN_CSRF_COOKIE, ""))


@router.get("/login")
def login_form(request: Request, _who: Anyone, next: str = "/") -> Response:
    """The sign-in page."""
    return _login_page(request, next_path=_safe_next(next))


@router.post("/login")
def login(
    request: Request,
    db: DbDep,
    throttle: Throttle,
    _who: Anyone,
    _csrf: Annotated[None, Depends(login_csrf)],
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the password (throttled), open a session, record the sign-in in the trail."""
    result = sign_in(
        db, throttle=throttle, username=username, password=password, client=client_address(request)
    )
    if result.wait:
        response = _login_page(
            request, next_path=_safe_next(next), status=429, username=username,
            error=(f"登录失败次数过多，请 {result.wait} 秒后再试",
                   f"too many failed sign-ins; try again in {result.wait} s"),
        )  # fmt: skip
        response.headers["Retry-After"] = str(result.wait)
        return response
    if not result.token:
        return _login_page(
            request, next_path=_safe_next(next), status=401, username=username,
            error=("用户名或密码错误", "wrong user name or password"),
        )  # fmt: skip
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(response, request, result.token)
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, db: DbDep, sessions: Sessions, who: CurrentUser) -> Response:
    """Sign out (CSRF-checked like every other POST)."""
    token = request.state.session_token
    end_session(db, token=token, principal=who)
    sessions.forget(token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response

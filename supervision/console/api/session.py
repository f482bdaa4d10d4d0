"""Signing in, who is signed in, the dashboard, and the OpenAPI document (public)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from supervision.accounts.sessions import sign_in
from supervision.console.api.schemas import Me, SessionToken, SignIn
from supervision.console.deps import Anyone, CurrentUser, DbDep, Throttle
from supervision.console.routes import dashboard
from supervision.console.security import client_address, set_session_cookie

router = APIRouter(prefix="/api", tags=["api"])


@router.get("/openapi.json", include_in_schema=False)
async def api_openapi(request: Request, _who: Anyone) -> dict[str, Any]:
    """The OpenAPI document of this API (public: it describes, it does not disclose)."""
    document: dict[str, Any] = request.app.openapi()
    return document


@router.post("/session", response_model=SessionToken)
def api_sign_in(
    request: Request, body: SignIn, db: DbDep, throttle: Throttle, _who: Anyone
) -> JSONResponse:
    """Sign in; returns a bearer token (and sets the session cookie)."""
    client = client_address(request)
    result = sign_in(
        db, throttle=throttle, username=body.username, password=body.password, client=client
    )
    if result.wait:
        return JSONResponse(
            {"error": {"zh": f"登录失败次数过多，请 {result.wait} 秒后再试",
                       "en": f"too many failed sign-ins; retry in {result.wait} s",
                       "details": []}},
            status_code=429, headers={"Retry-After": str(result.wait)},
        )  # fmt: skip
    if result.user is None:
        return JSONResponse(
            {"error": {"zh": "用户名或密码错误", "en": "wrong user name or password",
                       "details": []}}, status_code=401,
        )  # fmt: skip
    response = JSONResponse(
        {"token": result.token, "csrf_token": result.csrf, "username": result.user.username,
         "role": result.user.role}
    )  # fmt: skip
    set_session_cookie(response, request, result.token)
    return response


@router.get("/me")
async def api_me(who: CurrentUser) -> Me:
    """Who is signed in, and their scope (region prefix, departments; empty: no limit)."""
    return Me(username=who.username, display_name=who.display_name, role=who.role,
              cert_no=who.cert_no, scope=who.scope.as_dict())  # fmt: skip


@router.get("/dashboard")
def api_dashboard(db: DbDep, who: CurrentUser) -> dict[str, Any]:
    """Counts, due and overdue deadlines, open alerts: what the user's scope reaches."""
    data = dashboard.overview(db, scope=who.scope)
    for alert in data["alerts"]:
        alert["raised_at"] = alert["raised_at"].isoformat()
    data["deadline_error"] = (
        dict(zip(("zh", "en"), data["deadline_error"], strict=True))
        if data["deadline_error"]
        else None
    )
    return data

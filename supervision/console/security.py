"""Who may call a route, and CSRF: every console route declares its roles here.

``requires(*roles)`` is a FastAPI dependency that carries the roles it allows
(``.roles``), so ``route_roles(app)`` can list every route with its roles and a test
can sweep them all. ``PUBLIC`` marks the few routes anyone may call (sign-in, the
OpenAPI document). A signed-in user of another role gets 403; nobody signed in gets a
redirect to the sign-in page (401 under /api).

CSRF: each session has its own random token; every state-changing request (anything but
GET/HEAD/OPTIONS) must send it back, as the ``csrf_token`` form field or the
``X-CSRF-Token`` header, unless it authenticates with a bearer token (not sent by a
browser on its own, so not forgeable cross-site). The sign-in form, before any session
exists, uses a double-submit cookie.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.routing import Mount

from supervision.accounts.sessions import SESSION_HOURS, Principal, load_session

__all__ = [
    "LOGIN_CSRF_COOKIE",
    "PUBLIC",
    "SESSION_CACHE_SECONDS",
    "SESSION_COOKIE",
    "CsrfRejected",
    "Forbidden",
    "Requires",
    "SessionCache",
    "SignInRequired",
    "check_csrf",
    "client_address",
    "requires",
    "route_roles",
    "secure_cookies",
]

SESSION_COOKIE = "sv_session"
LOGIN_CSRF_COOKIE = "sv_login_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SignInRequired(Exception):
    """Nobody is signed in: pages redirect to the sign-in page, the API answers 401."""


class Forbidden(Exception):
    """Signed in, but the route does not allow this role (403)."""

    def __init__(
        self, role: str, roles: frozenset[str], *, zh: str | None = None, en: str | None = None
    ) -> None:
        super().__init__(role)
        self.role = role
        self.roles = roles
        self.zh = zh
        self.en = en


class CsrfRejected(Exception):
    """A state-changing request without the session's CSRF token (403)."""


def secure_cookies(request: Request) -> bool:
    """Cookies are Secure when configured so, or when the request came over HTTPS (also
    as reported by a trusted proxy: $SUPERVISION_TRUSTED_PROXIES)."""
    return bool(request.app.state.secure_cookies) or request.url.scheme == "https"


def client_address(request: Request) -> str:
    """The client's address: the peer, or what a trusted proxy reported for it
    ($SUPERVISION_TRUSTED_PROXIES; never a header from anyone else)."""
    return request.client.host if request.client else "unknown"


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    """The session cookie: HttpOnly, SameSite=Lax, Secure when due, as long as a session."""
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", secure=secure_cookies(request),
        max_age=SESSION_HOURS * 3600, path="/",
    )  # fmt: skip


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if request.url.path.startswith("/api") and header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


#: Seconds a looked-up session is reused without asking the database again. Signing out
#: and disabling a user in this process forget it at once; a user disabled from another
#: process (the CLI) is signed out here within this many seconds.
SESSION_CACHE_SECONDS = 2.0
_SESSION_CACHE_MAX = 10_000


class SessionCache:
    """token → (principal, until): saves a database round trip on most requests."""

    def __init__(self, seconds: float = SESSION_CACHE_SECONDS) -> None:
        self.seconds = seconds
        self._entries: dict[tuple[str, bool], tuple[Principal, float]] = {}

    def get(self, token: str, bearer: bool) -> Principal | None:
        entry = self._entries.get((token, bearer))
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def put(self, token: str, bearer: bool, principal: Principal) -> None:
        if len(self._entries) >= _SESSION_CACHE_MAX:
            self._entries.clear()
        self._entries[(token, bearer)] = (principal, time.monotonic() + self.seconds)

    def forget(self, token: str | None = None) -> None:
        """Forget one session (sign-out), or all of them (a user was disabled)."""
        if token is None:
            self._entries.clear()
        else:
            self._entries.pop((token, False), None)
            self._entries.pop((token, True), None)


async def current_principal(request: Request) -> Principal | None:
    """The signed-in user of this request (cached on the request), or None."""
    if hasattr(request.state, "principal"):
        cached: Principal | None = request.state.principal
        return cached
    db = request.app.state.db
    cache: SessionCache = request.app.state.sessions
    bearer = _bearer(request)
    token = bearer or request.cookies.get(SESSION_COOKIE)
    principal = None
    if token:
        principal = cache.get(token, bearer is not None)
        if principal is None:
            principal = await run_in_threadpool(
                load_session, db, token=token, bearer=bearer is not None
            )
            if principal is not None:
                cache.put(token, bearer is not None, principal)
    request.state.principal = principal
    request.state.session_token = token
    return principal


async def check_csrf(request: Request, expected: str) -> None:
    """Raise CsrfRejected unless the request carries `expected` (header or form field)."""
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get("csrf_token")
            sent = value if isinstance(value, str) else None
    if not sent or not expected or not secrets.compare_digest(sent, expected):
        raise CsrfRejected()


class Requires:
    """The dependency a route declares: the roles it allows (empty: public)."""

    def __init__(self, *roles: str) -> None:
        self.roles = frozenset(roles)

    @property
    def public(self) -> bool:
        return not self.roles

    def __repr__(self) -> str:
        return f"requires({', '.join(sorted(self.roles)) or 'PUBLIC'})"

    async def __call__(self, request: Request) -> Any:
        principal = await current_principal(request)
        if self.public:
            return principal
        if principal is None:
            raise SignInRequired()
        if principal.role not in self.roles:
            raise Forbidden(principal.role, self.roles)
        if request.method not in SAFE_METHODS and not principal.via_bearer:
            await check_csrf(request, principal.csrf_token)
        return principal


def requires(*roles: str) -> Requires:
    """Declare the roles a route allows (at least one)."""
    if not roles:
        raise ValueError("a console route must allow at least one role (or use PUBLIC)")
    return Requires(*roles)


#: Routes anyone may call.
PUBLIC = Requires()


def _routes(routes: Any) -> Iterator[Any]:
    """Every route, looking inside included routers (FastAPI keeps them as branches)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _routes(inner.routes)
        else:
            yield route


def route_roles(app: Any) -> dict[tuple[str, str], frozenset[str] | None]:
    """Every (method, path) of the app's routes with the roles it allows (None = public).

    Static mounts are files, not routes. Any other route without exactly one declaration
    (including a framework route nobody declared) is reported as ``frozenset({"?"})``.
    """
    out: dict[tuple[str, str], frozenset[str] | None] = {}
    for route in _routes(app.routes):
        if isinstance(route, Mount):
            continue
        roles: frozenset[str] | None = frozenset({"?"})
        if isinstance(route, APIRoute):
            declared = [
                d.call for d in route.dependant.dependencies if isinstance(d.call, Requires)
            ]
            if len(declared) == 1:
                roles = None if declared[0].public else declared[0].roles
        for method in sorted(getattr(route, "methods", None) or {"GET"}):
            out[(method, route.path)] = roles
    return out

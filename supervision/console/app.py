"""The regulators' console: one FastAPI application over one project database.

``create_app(db)`` builds it: server-rendered pages (no JavaScript needed) and the JSON
API under /api (OpenAPI document at /api/openapi.json). With ``site_dir`` the
published public site is served beside it under /site/ and republished when a reviewer
publishes results.

Errors a user can cause are SupervisionError: a page shows them in Chinese and English
(400, or 404 for something that does not exist), the API answers
``{"error": {"zh", "en", "details"}}``. The service functions are all-or-nothing, so a
refused action has written nothing.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from supervision.accounts.throttle import LoginThrottle
from supervision.console.body_limit import BodyLimit
from supervision.console.pages import render
from supervision.console.security import CsrfRejected, Forbidden, SessionCache, SignInRequired
from supervision.db import Database
from supervision.errors import ConflictError, NotFoundError, SupervisionError
from supervision.models.users import Role
from supervision.paths import templates_dir
from supervision.site.headers import SECURITY_HEADERS

__all__ = ["create_app"]


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api")


class SecurityHeaders:
    """Adds ``SECURITY_HEADERS`` to every HTTP response: pages, API, static files, /site/."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _not_found(request: Request) -> Response:
    """A path that is not there: under /site/ the public site's own page, in its style and
    language; the API answers JSON; anywhere else the console's error page."""
    path = request.url.path
    site: Path | None = request.app.state.site_dir
    if site is not None and (path == "/site" or path.startswith("/site/")):
        from supervision.site.serve import render_not_found, split_language

        lang, rest = split_language(path.removeprefix("/site").lstrip("/"))
        return HTMLResponse(render_not_found(site, lang, rest), status_code=404)
    zh, en = "页面不存在", "no such page"
    if _is_api(request):
        return JSONResponse({"error": {"zh": zh, "en": en, "details": []}}, status_code=404)
    return render(request, "console/error.html", status=404, zh=zh, en=en, details=[])


def _install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return _not_found(request)
        return await http_exception_handler(request, exc)

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        if _is_api(request):
            return JSONResponse(
                {"error": {"zh": "请先登录", "en": "sign in first", "details": []}},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        zh_roles = "、".join(Role.ZH.get(r, r) for r in sorted(exc.roles))
        zh = exc.zh or f"此页面仅限{zh_roles}使用"
        en = exc.en or f"this page is for: {', '.join(sorted(exc.roles))}"
        if _is_api(request):
            return JSONResponse({"error": {"zh": zh, "en": en, "details": []}}, status_code=403)
        return render(request, "console/error.html", status=403, zh=zh, en=en, details=[])

    @app.exception_handler(CsrfRejected)
    async def _csrf(request: Request, exc: CsrfRejected) -> Response:
        zh = "表单已过期或来源不明（CSRF 校验失败），未作任何更改；请刷新页面后重试"
        en = "the form is stale or forged (CSRF check failed); nothing was changed"
        if _is_api(request):
            return JSONResponse({"error": {"zh": zh, "en": en, "details": []}}, status_code=403)
        return render(request, "console/error.html", status=403, zh=zh, en=en, details=[])

    @app.exception_handler(SupervisionError)
    async def _user_error(request: Request, exc: SupervisionError) -> Response:
        status = (
            404
            if isinstance(exc, NotFoundError)
            else 409
            if isinstance(exc, ConflictError)
            else 400
        )
        if _is_api(request):
            body = {"error": {"zh": exc.zh, "en": exc.en, "details": exc.details}}
            return JSONResponse(body, status_code=status)
        return render(
            request, "console/error.html", status=status, zh=exc.zh, en=exc.en,
            details=exc.details,
        )  # fmt: skip


def _lifespan(threads: int | None) -> Any:
    """The application's lifespan: sets the worker-thread limit when it starts."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Fewer worker threads than FastAPI's default 40: the database calls are short,
        # and 20 threads contending for the GIL make tail latency worse, not better.
        if threads:
            to_thread.current_default_thread_limiter().total_tokens = threads
        yield

    return lifespan


def _new_app(threads: int | None) -> FastAPI:
    """The bare FastAPI application, its bodies bounded; no routes yet."""
    app = FastAPI(
        lifespan=_lifespan(threads),
        title="supervision console API",
        description="双随机、一公开 监管控制台 / regulators' console: JSON API "
        "(same roles and permissions as the pages)",
        # The document is served by a declared route in api/session.py (no CDN docs pages).
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    # Every body is bounded before any route reads it (JSON and forms small; uploads larger).
    app.add_middleware(BodyLimit)
    return app


def _include_routes(app: FastAPI) -> None:
    """The console's pages, then the JSON API."""
    from supervision.console import api
    from supervision.console.routes import (
        admin_directories,
        admin_rules,
        credit,
        dashboard,
        inspector,
        plans,
        review,
        reviewer,
        session,
    )
    from supervision.console.routes import tasks as task_routes
    from supervision.console.routes import users as user_routes

    for router in (
        session.router,
        dashboard.router,
        review.router,
        credit.router,
        task_routes.router,
        plans.router,
        inspector.router,
        reviewer.router,
        user_routes.router,
        admin_directories.router,
        admin_rules.router,
    ):
        app.include_router(router)
    app.include_router(api.router)


def _mount_static(app: FastAPI) -> None:
    """The console's own static files and the shared ones."""
    console_static = templates_dir() / "console" / "static"
    app.mount("/static/console", StaticFiles(directory=str(console_static)), name="console-static")
    app.mount("/static", StaticFiles(directory=str(templates_dir() / "static")), name="static")


def _serve_site(app: FastAPI, site_dir: str | Path) -> None:
    """The published public site under /site/, with its search route."""
    from supervision.console.routes import site as site_routes

    Path(site_dir).mkdir(parents=True, exist_ok=True)
    app.include_router(site_routes.router)  # before the mount: search with a query
    app.mount("/site", StaticFiles(directory=str(site_dir), html=True), name="site")


def _add_outer_middleware(app: FastAPI, trusted_proxies: list[str] | None) -> None:
    """Security headers on every response; outermost, the trusted proxies' client address."""
    app.add_middleware(SecurityHeaders)
    if trusted_proxies:
        # Only these peers may say who the client is; anyone else's header is ignored.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(trusted_proxies))


def create_app(
    db: Database,
    *,
    site_dir: str | Path | None = None,
    secure_cookies: bool = False,
    throttle: LoginThrottle | None = None,
    rules_dir: str | Path | None = None,
    threads: int | None = None,
    trusted_proxies: list[str] | None = None,
) -> FastAPI:
    """The console application over `db`.

    ``site_dir``: a published public site served under /site/ (and republished on
    publication). ``secure_cookies``: mark the session cookie Secure (behind HTTPS).
    ``rules_dir``: the rule pack used to explain findings (default: the project's).
    ``threads``: worker threads for database calls and sync work (None: anyio's 40).
    ``trusted_proxies``: addresses or networks whose X-Forwarded-For / X-Forwarded-Proto
    are believed (the client address of the throttle and the trail); none by default.
    """
    app = _new_app(threads)
    app.state.db = db
    app.state.secure_cookies = secure_cookies
    app.state.throttle = throttle or LoginThrottle()
    app.state.sessions = SessionCache()
    app.state.rules_dir = rules_dir
    app.state.site_dir = Path(site_dir) if site_dir is not None else None
    _install_error_pages(app)
    _include_routes(app)
    _mount_static(app)
    if site_dir is not None:
        _serve_site(app, site_dir)
    _add_outer_middleware(app, trusted_proxies)
    return app


def app_from_environment() -> Any:
    """For ``uvicorn --factory supervision.console.app:app_from_environment`` and the
    worker processes of ``supervision serve``: $SUPERVISION_DATABASE_URL,
    $SUPERVISION_SITE_DIR, $SUPERVISION_CONSOLE_THREADS, $SUPERVISION_SECURE_COOKIES,
    $SUPERVISION_TRUSTED_PROXIES."""
    from supervision.settings import settings

    config = settings()
    app = create_app(
        Database(config.database_url),
        site_dir=config.site_dir,
        threads=config.console_threads,
        secure_cookies=config.secure_cookies,
        trusted_proxies=config.trusted_proxy_list,
    )
    settle()
    return app


def settle() -> None:
    """Before a served process takes requests: compile every template and load the rule
    pack now, then freeze what exists (``gc.freeze``) out of the garbage collector's view.

    The process holds some 200,000 long-lived objects (modules, SQLAlchemy's and Jinja's
    compiled code); every full collection walked them all, 100-160 ms during which the
    worker answered nobody: under 20 clients that pause was the review queue's p95. Frozen,
    a full collection walks only what requests left behind since."""
    from supervision.console.pages import console_environment
    from supervision.rules.pack import current_pack

    env = console_environment()
    for name in env.list_templates(extensions=("html", "xml")):
        env.get_template(name)
    with contextlib.suppress(SupervisionError):  # no valid pack: pages say so themselves
        current_pack(None)
    gc.collect()
    gc.freeze()

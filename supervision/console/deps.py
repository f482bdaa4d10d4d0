"""Typed FastAPI dependencies of the console's routes: the database, the signed-in user.

A route declares what it needs as annotated parameters and does its work in a plain
``def`` (FastAPI runs those in its thread pool, so database calls never block the event
loop)::

    @router.get("/results")
    def results_page(request: Request, db: DbDep, who: ReviewerUser) -> HTMLResponse: ...

Every console route declares exactly one role guard (``security.requires``): one of the
``...User`` aliases below, ``require_role(...)``, or ``Anyone`` for the public routes.
A guard answers a redirect to the sign-in page (401 under /api) when nobody is signed
in, 403 for another role, and checks the CSRF token of every state-changing request.

The dependencies here are ``async def``: they only read the application's state, and a
synchronous dependency would cost a trip through the thread pool on every request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request

from supervision.accounts.sessions import Principal
from supervision.accounts.throttle import LoginThrottle
from supervision.console.security import PUBLIC, SessionCache, requires
from supervision.db import Database
from supervision.models.users import Role

__all__ = [
    "AdminUser",
    "Anyone",
    "CurrentUser",
    "DbDep",
    "FormFields",
    "InspectorUser",
    "PlannerUser",
    "ReviewerUser",
    "RulesDir",
    "Sessions",
    "SiteDir",
    "Throttle",
    "require_role",
]


async def _database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def _sessions(request: Request) -> SessionCache:
    cache: SessionCache = request.app.state.sessions
    return cache


async def _rules_dir(request: Request) -> Path | None:
    configured = request.app.state.rules_dir
    return Path(configured) if configured else None


async def _site_dir(request: Request) -> Path | None:
    site: Path | None = request.app.state.site_dir
    return site


async def _throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.throttle
    return throttle


async def form_fields(request: Request) -> dict[str, str]:
    """The text fields of the request's form (files left out)."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


#: The project database the console runs over.
DbDep = Annotated[Database, Depends(_database)]
#: The cache of looked-up sessions (forget one on sign-out, all when a user is disabled).
Sessions = Annotated[SessionCache, Depends(_sessions)]
#: The sign-in throttle (failed sign-ins per user name and per client).
Throttle = Annotated[LoginThrottle, Depends(_throttle)]
#: The configured rule pack folder, or None for the shipped pack.
RulesDir = Annotated[Path | None, Depends(_rules_dir)]
#: The served public site's folder, or None when the console serves no site.
SiteDir = Annotated[Path | None, Depends(_site_dir)]
#: The text fields of a submitted form (declare it after the role guard: the guard
#: reads the form first, for its CSRF field).
FormFields = Annotated[dict[str, str], Depends(form_fields)]


def require_role(*roles: str) -> Any:
    """The signed-in user, who must have one of `roles` (a parameter annotation)."""
    return Annotated[Principal, Depends(requires(*roles))]


#: The signed-in user, any role.
CurrentUser = Annotated[Principal, Depends(requires(*Role.ALL))]
AdminUser = Annotated[Principal, Depends(requires(Role.ADMIN))]
PlannerUser = Annotated[Principal, Depends(requires(Role.PLANNER))]
InspectorUser = Annotated[Principal, Depends(requires(Role.INSPECTOR))]
ReviewerUser = Annotated[Principal, Depends(requires(Role.REVIEWER))]
#: Public routes: the signed-in user if any (None otherwise); nobody is refused.
Anyone = Annotated[Principal | None, Depends(PUBLIC)]

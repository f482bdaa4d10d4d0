"""The JSON API under /api, for provincial systems: the pages' actions with the same roles.

Sign in with ``POST /api/session`` (user name and password, throttled like the page):
the answer carries a session token to send as ``Authorization: Bearer <token>`` (no CSRF
token needed then) and sets the same cookie the pages use (cookie callers send
``X-CSRF-Token``). The OpenAPI document is at /api/openapi.json. Errors are
``{"error": {"zh", "en", "details"}}`` with 400/401/403/404/429.

One module per area: ``session`` (sign-in, who am I, the dashboard), ``review`` (the
findings queue and decisions), ``tasks`` (the planner's draws), ``plans`` (yearly plans and their coverage), ``results`` (entering,
reviewing and publishing inspection results), ``users`` and ``admin`` (directories, the
rule pack). Request bodies and typed answers are in ``schemas``.
"""

from __future__ import annotations

from fastapi import APIRouter

from supervision.console.api import admin, plans, results, review, session, tasks, users

__all__ = ["router"]

#: Every area's routes (each area's router carries the /api prefix and the "api" tag).
router = APIRouter()
for _area in (session, review, tasks, plans, results, users, admin):
    router.include_router(_area.router)

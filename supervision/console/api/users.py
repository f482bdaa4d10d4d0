"""Console users (admin): list, add, change role, disable."""

from __future__ import annotations

from fastapi import APIRouter

from supervision.console.api.schemas import (
    DisabledUser,
    NewRole,
    NewScope,
    NewUser,
    NewUserDone,
    RoleChanged,
    ScopeChanged,
    Username,
    UserRow,
)
from supervision.console.deps import AdminUser, DbDep, Sessions
from supervision.console.routes import users

router = APIRouter(prefix="/api", tags=["api"])


@router.get("/users")
def api_users(db: DbDep, who: AdminUser) -> list[UserRow]:
    """The users inside the admin's scope."""
    return [UserRow.model_validate(row) for row in users.users(db, scope=who.scope)]


@router.post("/users")
def api_add_user(body: NewUser, db: DbDep, who: AdminUser) -> NewUserDone:
    """Add a user."""
    users.add(db, actor=who.actor, scope=who.scope, **body.model_dump())
    return NewUserDone(username=body.username, role=body.role)


@router.post("/users/disable")
def api_disable_user(body: Username, db: DbDep, sessions: Sessions, who: AdminUser) -> DisabledUser:
    """Disable a user (their sessions end)."""
    users.disable(db, username=body.username, actor=who.actor, scope=who.scope)
    sessions.forget()
    return DisabledUser(username=body.username, active=False)


@router.post("/users/role")
def api_set_role(body: NewRole, db: DbDep, sessions: Sessions, who: AdminUser) -> RoleChanged:
    """Give a user another role (their sessions end; never the last active admin's)."""
    users.change_role(db, actor=who.actor, scope=who.scope, **body.model_dump())
    sessions.forget()
    return RoleChanged(username=body.username, role=body.role)


@router.post("/users/scope")
def api_set_scope(body: NewScope, db: DbDep, sessions: Sessions, who: AdminUser) -> ScopeChanged:
    """Give a user another scope (never wider than the admin's own; their sessions end)."""
    users.change_scope(db, actor=who.actor, scope=who.scope, **body.model_dump())
    sessions.forget()
    return ScopeChanged(username=body.username)

"""Console users (admin): list, add, change role, disable."""

from __future__ import annotations

from fastapi import APIRouter

from supervision.console.api.schemas import (
    DisabledUser,
    NewRole,
    NewUser,
    NewUserDone,
    RoleChanged,
    Username,
    UserRow,
)
from supervision.console.deps import AdminUser, DbDep, Sessions
from supervision.console.routes import users

router = APIRouter(prefix="/api", tags=["api"])


@router.get("/users")
def api_users(db: DbDep, who: AdminUser) -> list[UserRow]:
    """Every user."""
    return [UserRow.model_validate(row) for row in users.users(db)]


@router.post("/users")
def api_add_user(body: NewUser, db: DbDep, who: AdminUser) -> NewUserDone:
    """Add a user."""
    users.add(db, actor=who.actor, **body.model_dump())
    return NewUserDone(username=body.username, role=body.role)


@router.post("/users/disable")
def api_disable_user(body: Username, db: DbDep, sessions: Sessions, who: AdminUser) -> DisabledUser:
    """Disable a user (their sessions end)."""
    users.disable(db, username=body.username, actor=who.actor)
    sessions.forget()
    return DisabledUser(username=body.username, active=False)


@router.post("/users/role")
def api_set_role(body: NewRole, db: DbDep, sessions: Sessions, who: AdminUser) -> RoleChanged:
    """Give a user another role (their sessions end; never the last active admin's)."""
    users.change_role(db, actor=who.actor, **body.model_dump())
    sessions.forget()
    return RoleChanged(username=body.username, role=body.role)

"""Console users (admin / planner / inspector / reviewer) and their sign-in sessions.

Passwords are stored only as argon2 hashes. A session is a random token held in an
HttpOnly cookie (or sent as a bearer token to the API); the table stores only the
SHA-256 of the token, so a copy of the database cannot be used to sign in.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import JSON, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel


class Role:
    ADMIN = "admin"
    PLANNER = "planner"
    INSPECTOR = "inspector"
    REVIEWER = "reviewer"

    ALL: ClassVar[tuple[str, ...]] = ("admin", "planner", "inspector", "reviewer")
    ZH: ClassVar[dict[str, str]] = {
        "admin": "管理员",
        "planner": "计划员",
        "inspector": "检查人员",
        "reviewer": "审核人",
    }


class ConsoleUser(SQLModel, table=True):
    """A person who signs in to the console, with exactly one role."""

    __tablename__ = "console_user"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=100)
    role: str = Field(max_length=16)
    # An inspector's 执法证号: links the user to the assignments of the draws.
    cert_no: str | None = Field(default=None, max_length=32)
    # The department a reviewer reviews for: in a joint task each department's part is
    # reviewed by a reviewer of that department (一表通查). None: no department.
    department_code: str | None = Field(default=None, max_length=32)
    # The scope (``supervision.accounts.scope``): the region prefix (15, 1502, 150203; ""
    # everywhere) and the departments (empty: every one) the role reaches.
    scope_region: str = Field(default="", max_length=6, sa_column_kwargs={"server_default": ""})
    scope_departments: list[str] = Field(
        default_factory=list,
        sa_column=Column(JSON, nullable=False, server_default=text("'[]'")),
    )
    password_hash: str = Field(max_length=200)
    active: bool = True
    created_at: datetime
    disabled_at: datetime | None = None


class ConsoleSession(SQLModel, table=True):
    """One signed-in session: the token's SHA-256, its CSRF token and its expiry."""

    __tablename__ = "console_session"
    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="console_user.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime
    expires_at: datetime


class LoginFailure(SQLModel, table=True):
    """A failed sign-in, counted by the login throttle: one row per user name and client
    (``uc:NAME|ADDRESS``) and one per client address (``c:ADDRESS``). Kept in the
    database so that every console process, and a restarted one, sees the same count;
    rows older than the throttle's window are deleted as new failures arrive."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_key_at", "key", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200)
    at: datetime


class SignInRefusal(SQLModel, table=True):
    """Refused sign-ins counted per window, user name, client and reason, until the
    window is over and its counts go into the trail as one event (so a flood of
    refusals cannot flood the trail)."""

    __tablename__ = "sign_in_refusal"
    __table_args__ = (
        UniqueConstraint("window_start", "username", "client", "reason", name="uq_sign_in_refusal"),
    )
    id: int | None = Field(default=None, primary_key=True)
    window_start: datetime
    username: str = Field(max_length=64)
    client: str = Field(max_length=120)
    reason: str = Field(max_length=20)
    count: int = 0

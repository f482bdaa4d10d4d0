"""Sign-in sessions: who is signed in (``Principal``), signing in and out.

A session is a random token: the browser holds it in an HttpOnly, SameSite=Lax cookie
(Secure behind HTTPS); an integrating system may send it as ``Authorization: Bearer
<token>``. Only the token's SHA-256 is stored. Every sign-in and every sign-out is
recorded in the trail, in the same transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy import select as core_select

from supervision import clock, trail
from supervision.accounts.scope import Scope
from supervision.accounts.throttle import LoginThrottle, flush_refusals, record_refused_sign_in
from supervision.accounts.users import authenticate
from supervision.db import Database, table_of
from supervision.models.users import ConsoleSession, ConsoleUser, Role

__all__ = [
    "SESSION_HOURS",
    "Principal",
    "SignInResult",
    "end_session",
    "load_session",
    "sign_in",
    "start_session",
]

#: How long a sign-in lasts.
SESSION_HOURS = 10
_U = table_of(ConsoleUser)
_S = table_of(ConsoleSession)


@dataclass(frozen=True)
class Principal:
    """Who is signed in (what every console route receives)."""

    user_id: int
    username: str
    display_name: str
    role: str
    cert_no: str | None
    csrf_token: str
    via_bearer: bool = False
    #: What the role reaches (``supervision.accounts.scope``); services take it as ``scope``.
    scope: Scope = Scope.EVERYTHING

    @property
    def actor(self) -> str:
        """The trail's actor name for this user."""
        return f"console:{self.username}"

    @property
    def role_zh(self) -> str:
        return Role.ZH.get(self.role, self.role)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(db: Database, *, user: ConsoleUser, client: str) -> tuple[str, str]:
    """Open a session for `user` (recorded in the trail); returns (token, csrf token)."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = clock.now()
    assert user.id is not None
    with db.session() as session:
        session.add(
            ConsoleSession(
                token_hash=_token_hash(token),
                user_id=user.id,
                csrf_token=csrf,
                created_at=now,
                expires_at=now + timedelta(hours=SESSION_HOURS),
            )
        )
        session.connection().execute(delete(_S).where(_S.c.expires_at < now))
        trail.record(
            session,
            actor=f"console:{user.username}",
            action="console.sign_in",
            obj=f"user:{user.username}",
            payload={"role": user.role, "client": client},
        )
    return token, csrf


def load_session(db: Database, *, token: str | None, bearer: bool = False) -> Principal | None:
    """The principal of a live session of an active user, or None."""
    if not token:
        return None
    query = (
        core_select(
            _U.c.id, _U.c.username, _U.c.display_name, _U.c.role, _U.c.cert_no,
            _U.c.scope_region, _U.c.scope_departments, _S.c.csrf_token, _S.c.expires_at,
        )
        .join(_U, _U.c.id == _S.c.user_id)
        .where(_S.c.token_hash == _token_hash(token), _U.c.active.is_(True))
    )  # fmt: skip
    with db.engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        return None
    if clock.as_utc(row.expires_at) <= clock.now():
        return None
    return Principal(
        user_id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=row.role,
        cert_no=row.cert_no,
        csrf_token=row.csrf_token,
        via_bearer=bearer,
        scope=Scope.of(region=row.scope_region, departments=row.scope_departments),
    )


def end_session(db: Database, *, token: str, principal: Principal) -> None:
    """Sign out: delete the session (recorded in the trail)."""
    with db.session() as session:
        session.connection().execute(delete(_S).where(_S.c.token_hash == _token_hash(token)))
        trail.record(
            session,
            actor=principal.actor,
            action="console.sign_out",
            obj=f"user:{principal.username}",
        )


@dataclass(frozen=True)
class SignInResult:
    """What a sign-in attempt gave: a session (``token``), a wait (throttled), or neither
    (wrong name or password)."""

    user: ConsoleUser | None = None
    token: str = ""
    csrf: str = ""
    wait: int = 0


def sign_in(
    db: Database, *, throttle: LoginThrottle, username: str, password: str, client: str
) -> SignInResult:
    """The one sign-in, for the page and the API: throttle (per name and client, and per
    client), check the password, count a refusal for the trail, or clear this name and
    client's failures and open a session."""
    wait = throttle.retry_after(db, username, client)
    if wait:
        record_refused_sign_in(db, username=username, client=client, reason="throttled")
        return SignInResult(wait=wait)
    user = authenticate(db, username=username, password=password)
    if user is None:
        throttle.failed(db, username, client)
        record_refused_sign_in(db, username=username, client=client, reason="bad password")
        return SignInResult()
    throttle.succeeded(db, username, client)
    flush_refusals(db)
    token, csrf = start_session(db, user=user, client=client)
    return SignInResult(user=user, token=token, csrf=csrf)

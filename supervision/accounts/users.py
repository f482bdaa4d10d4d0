"""Console users: argon2 password hashes, sign-in sessions, login throttling.

Users have exactly one role (admin, planner, inspector, reviewer). A session is a random
token: the browser holds it in an HttpOnly, SameSite=Lax cookie (Secure behind HTTPS);
an integrating system may send it as ``Authorization: Bearer <token>``. Only the token's
SHA-256 is stored. Every change to users, every sign-in and every sign-out is recorded
in the trail, in the same transaction.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from supervision import clock, trail
from supervision.db import Database
from supervision.errors import NotFoundError, SupervisionError
from supervision.models.users import ConsoleSession, ConsoleUser, LoginFailure, Role

__all__ = [
    "SESSION_HOURS",
    "LoginThrottle",
    "Principal",
    "add_user",
    "authenticate",
    "disable_user",
    "end_session",
    "hash_password",
    "list_users",
    "load_session",
    "sign_in",
    "start_session",
    "verify_password",
]

#: How long a sign-in lasts.
SESSION_HOURS = 10
MIN_PASSWORD = 10
_HASHER = PasswordHasher()
_U = ConsoleUser.__table__  # type: ignore[attr-defined]
_S = ConsoleSession.__table__  # type: ignore[attr-defined]


def hash_password(password: str) -> str:
    """An argon2id hash of `password` (with its own salt and parameters)."""
    return _HASHER.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the user does not exist, so timing does not tell
    (made on first use: hashing costs ~0.1 s, which every import would otherwise pay)."""
    return hash_password("not-a-real-password-" + secrets.token_hex(8))


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

    @property
    def actor(self) -> str:
        """The trail's actor name for this user."""
        return f"console:{self.username}"

    @property
    def role_zh(self) -> str:
        return Role.ZH.get(self.role, self.role)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    cert_no: str | None = None,
    actor: str | None = None,
) -> ConsoleUser:
    """Create a user; refuses a duplicate name, an unknown role or a short password."""
    name = username.strip()
    problems: list[str] = []
    if not name or len(name) > 64 or any(c.isspace() for c in name):
        problems.append("用户名须为 1–64 个字符且不含空格 / username: 1–64 characters, no spaces")
    if role not in Role.ALL:
        problems.append(
            f"角色应为 {'、'.join(Role.ALL)} 之一 / role must be one of {', '.join(Role.ALL)}"
        )
    if len(password) < MIN_PASSWORD:
        problems.append(
            f"密码至少 {MIN_PASSWORD} 个字符 / the password needs at least {MIN_PASSWORD} characters"
        )
    cert = (cert_no or "").strip() or None
    if role == Role.INSPECTOR and cert is None:
        problems.append("检查人员须填写执法证号 / an inspector needs a certificate number")
    if problems:
        raise SupervisionError("用户信息有误，未作任何更改", "invalid user; nothing was changed",
                               details=problems)  # fmt: skip
    if session.exec(select(ConsoleUser).where(col(ConsoleUser.username) == name)).first():
        raise SupervisionError(f"用户 {name} 已存在", f"user {name} already exists")
    user = ConsoleUser(
        username=name,
        display_name=(display_name or "").strip()[:100] or name,
        role=role,
        cert_no=cert,
        password_hash=hash_password(password),
        created_at=clock.now(),
    )
    session.add(user)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="user.add",
        obj=f"user:{name}",
        payload={"role": role, "cert_no": cert, "display_name": user.display_name},
    )
    return user


def list_users(session: Session) -> list[ConsoleUser]:
    return list(session.exec(select(ConsoleUser).order_by(col(ConsoleUser.username))).all())


def disable_user(session: Session, username: str, *, actor: str | None = None) -> ConsoleUser:
    """Disable a user and end all their sessions at once."""
    user = session.exec(
        select(ConsoleUser).where(col(ConsoleUser.username) == username.strip())
    ).first()
    if user is None:
        raise NotFoundError(f"没有用户 {username}", f"no user {username}")
    if not user.active:
        raise SupervisionError(f"用户 {username} 已停用", f"user {username} is already disabled")
    user.active = False
    user.disabled_at = clock.now()
    session.add(user)
    session.connection().execute(delete(_S).where(_S.c.user_id == user.id))
    trail.record(session, actor=actor, action="user.disable", obj=f"user:{user.username}")
    return user


def authenticate(db: Database, username: str, password: str) -> ConsoleUser | None:
    """The active user with this name and password, or None (same work either way)."""
    with db.session() as session:
        user = session.exec(
            select(ConsoleUser).where(col(ConsoleUser.username) == username.strip())
        ).first()
    if user is None or not user.active:
        verify_password(_dummy_hash(), password)
        return None
    return user if verify_password(user.password_hash, password) else None


def start_session(db: Database, user: ConsoleUser, *, client: str) -> tuple[str, str]:
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


def load_session(db: Database, token: str | None, *, bearer: bool = False) -> Principal | None:
    """The principal of a live session of an active user, or None."""
    if not token:
        return None
    query = (
        core_select(
            _U.c.id, _U.c.username, _U.c.display_name, _U.c.role, _U.c.cert_no,
            _S.c.csrf_token, _S.c.expires_at,
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
    )


def end_session(db: Database, token: str, principal: Principal) -> None:
    """Sign out: delete the session (recorded in the trail)."""
    with db.session() as session:
        session.connection().execute(delete(_S).where(_S.c.token_hash == _token_hash(token)))
        trail.record(
            session,
            actor=principal.actor,
            action="console.sign_out",
            obj=f"user:{principal.username}",
        )


def record_refused_sign_in(db: Database, username: str, *, client: str, reason: str) -> None:
    """A failed or throttled sign-in is part of the trail too."""
    with db.session() as session:
        trail.record(
            session,
            actor=f"console:{username.strip()[:64] or '-'}",
            action="console.sign_in_refused",
            obj=f"user:{username.strip()[:64]}",
            payload={"client": client, "reason": reason},
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
    db: Database, throttle: LoginThrottle, username: str, password: str, *, client: str
) -> SignInResult:
    """The one sign-in, for the page and the API: throttle, check the password, record
    a refusal in the trail, or clear the failures and open a session."""
    wait = throttle.retry_after(db, username, client)
    if wait:
        record_refused_sign_in(db, username, client=client, reason="throttled")
        return SignInResult(wait=wait)
    user = authenticate(db, username, password)
    if user is None:
        throttle.failed(db, username, client)
        record_refused_sign_in(db, username, client=client, reason="bad password")
        return SignInResult()
    throttle.succeeded(db, username)
    token, csrf = start_session(db, user, client=client)
    return SignInResult(user=user, token=token, csrf=csrf)


class LoginThrottle:
    """At most `limit` failed sign-ins per user name and `client_limit` per client in
    `window` seconds.

    The failures live in the database (``login_failure``), so every console process
    (``supervision serve --workers N``) and a restarted one count the same failures.
    A successful sign-in clears the name's count; rows older than the window are
    deleted as new failures come in.
    """

    def __init__(self, limit: int = 5, window: float = 900.0, client_limit: int = 20) -> None:
        self.limit = limit
        self.client_limit = client_limit
        self.window = window

    def _keys(self, username: str, client: str) -> tuple[tuple[str, int], ...]:
        return (
            (f"u:{username.strip()[:190]}", self.limit),
            (f"c:{client[:190]}", self.client_limit),
        )

    def retry_after(self, db: Database, username: str, client: str) -> int:
        """Seconds until a sign-in may be tried again (0: now)."""
        now = clock.now()
        since = now - timedelta(seconds=self.window)
        waits = []
        with db.session() as session:
            for key, limit in self._keys(username, client):
                times = session.exec(
                    select(LoginFailure.at)
                    .where(LoginFailure.key == key, col(LoginFailure.at) > since)
                    .order_by(col(LoginFailure.at).desc())
                    .limit(limit)
                ).all()
                if len(times) >= limit:
                    # The oldest of the last `limit` failures leaves the window first.
                    oldest = clock.as_utc(times[-1])
                    waits.append(int((oldest - since).total_seconds()) + 1)
        return max(waits, default=0)

    def failed(self, db: Database, username: str, client: str) -> None:
        now = clock.now()
        with db.session() as session:
            session.execute(
                delete(LoginFailure).where(
                    col(LoginFailure.at) <= now - timedelta(seconds=self.window)
                )
            )
            for key, _limit in self._keys(username, client):
                session.add(LoginFailure(key=key, at=now))

    def succeeded(self, db: Database, username: str) -> None:
        key = self._keys(username, "")[0][0]
        with db.session() as session:
            session.execute(delete(LoginFailure).where(col(LoginFailure.key) == key))


def user_dict(user: ConsoleUser) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "role_zh": Role.ZH.get(user.role, user.role),
        "cert_no": user.cert_no,
        "active": user.active,
        "created_at": clock.local(user.created_at).isoformat(timespec="seconds"),
    }

"""Login throttling: failed sign-ins counted per user name and per client.

A refused sign-in (a wrong password, or one throttled) is recorded in the trail too.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import col, select

from supervision import clock, trail
from supervision.db import Database
from supervision.models.fields import normalise_key
from supervision.models.users import LoginFailure

__all__ = ["LoginThrottle", "record_refused_sign_in", "sign_in_name"]


def sign_in_name(username: str) -> str:
    """A typed user name as sign-in compares it: normalised, so that lookalikes of one
    name (``ａｄｍｉｎ``, ``admin ``) count as that name; a name no user can have
    (invisible or control characters) is kept escaped, printable, as it was typed."""
    try:
        return normalise_key(username)
    except ValueError:
        return username.strip().encode("unicode_escape").decode("ascii")


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
            (f"u:{sign_in_name(username)[:190]}", self.limit),
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


def record_refused_sign_in(db: Database, *, username: str, client: str, reason: str) -> None:
    """A failed or throttled sign-in is part of the trail too."""
    with db.session() as session:
        trail.record(
            session,
            actor=f"console:{sign_in_name(username)[:64] or '-'}",
            action="console.sign_in_refused",
            obj=f"user:{sign_in_name(username)[:64]}",
            payload={"client": client, "reason": reason},
        )

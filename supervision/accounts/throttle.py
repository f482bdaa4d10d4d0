"""Login throttling, and refused sign-ins in the trail.

Failures are counted per (user name, client) and per client, never per user name alone:
nobody can lock another user out by guessing their password from elsewhere, and a user
with the right password, from a client that has not failed, always gets in. Past the
limit each further failure doubles the wait (backoff), up to ``max_delay``.

Refused sign-ins (a wrong password, or a throttled try) go into the trail counted per
window (``REFUSAL_WINDOW_SECONDS``), user name, client and reason: one trail event per
window that had refusals, written once the window is over (at the next sign-in attempt,
or at a trail checkpoint), so an anonymous flood adds at most one event per window.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from supervision import clock, trail
from supervision.db import Database, table_of, upsert_insert
from supervision.models.fields import normalise_key
from supervision.models.users import LoginFailure, SignInRefusal

__all__ = [
    "REFUSAL_WINDOW_SECONDS",
    "LoginThrottle",
    "flush_refusals",
    "record_refused_sign_in",
    "sign_in_name",
]

#: Refused sign-ins are counted in windows this long; each window is one trail event.
REFUSAL_WINDOW_SECONDS = 300
#: At most this many (user name, client, reason) counts are listed in one event; the
#: rest are summed as ``others`` (a flood from many addresses stays one small event).
REFUSAL_ROWS_LISTED = 50
_R = table_of(SignInRefusal)


def sign_in_name(username: str) -> str:
    """A typed user name as sign-in compares it: normalised, so that lookalikes of one
    name (``ａｄｍｉｎ``, ``admin ``) count as that name; a name no user can have
    (invisible or control characters) is kept escaped, printable, as it was typed."""
    try:
        return normalise_key(username)
    except ValueError:
        return username.strip().encode("unicode_escape").decode("ascii")


def _name(username: str) -> str:
    return sign_in_name(username)[:64]


def _client(client: str) -> str:
    return client[:120]


class LoginThrottle:
    """Failed sign-ins per (user name, client) and per client, with backoff.

    After ``limit`` failures of one user name from one client within ``window``
    seconds, that pair waits ``base_delay`` seconds after its last failure, then twice
    as long after the next failure, and so on up to ``max_delay``; the same for one
    client over all names after ``client_limit`` failures. Failures older than the
    window no longer count. A successful sign-in clears its (name, client) count.

    The failures live in the database (``login_failure``), so every console process
    (``supervision serve --workers N``) and a restarted one count the same failures.
    """

    def __init__(
        self,
        limit: int = 5,
        window: float = 900.0,
        client_limit: int = 20,
        base_delay: float = 30.0,
        max_delay: float = 900.0,
    ) -> None:
        self.limit = limit
        self.client_limit = client_limit
        self.window = window
        self.base_delay = base_delay
        self.max_delay = max_delay

    def _keys(self, username: str, client: str) -> tuple[tuple[str, int], ...]:
        return (
            (f"uc:{_name(username)}|{_client(client)}", self.limit),
            (f"c:{_client(client)}", self.client_limit),
        )

    def delay(self, failures: int, limit: int) -> float:
        """Seconds to wait after the last of `failures` failures (0 below the limit)."""
        if failures < limit:
            return 0.0
        return float(min(self.max_delay, self.base_delay * 2 ** min(failures - limit, 32)))

    def retry_after(self, db: Database, username: str, client: str) -> int:
        """Seconds until this name may be tried again from this client (0: now)."""
        now = clock.now()
        since = now - timedelta(seconds=self.window)
        waits = [0]
        with db.session() as session:
            for key, limit in self._keys(username, client):
                count, last = session.exec(
                    select(func.count(), func.max(LoginFailure.at)).where(
                        LoginFailure.key == key, col(LoginFailure.at) > since
                    )
                ).one()
                if last is not None and count >= limit:
                    until = clock.as_utc(last) + timedelta(seconds=self.delay(count, limit))
                    waits.append(math.ceil((until - now).total_seconds()))
        return max(waits)

    def failed(self, db: Database, username: str, client: str) -> None:
        """Count a wrong password of `username` from `client`."""
        now = clock.now()
        with db.session() as session:
            session.execute(
                delete(LoginFailure).where(
                    col(LoginFailure.at) <= now - timedelta(seconds=self.window)
                )
            )
            for key, _limit in self._keys(username, client):
                session.add(LoginFailure(key=key, at=now))

    def succeeded(self, db: Database, username: str, client: str) -> None:
        """A right password: this (name, client)'s failures are forgiven (the client's
        own count stays, or one account's owner could reset it for guessing others)."""
        key = self._keys(username, client)[0][0]
        with db.session() as session:
            session.execute(delete(LoginFailure).where(col(LoginFailure.key) == key))


def _window_start(at: datetime) -> datetime:
    epoch = int(clock.as_utc(at).timestamp())
    start = epoch - epoch % REFUSAL_WINDOW_SECONDS
    return datetime.fromtimestamp(start, tz=clock.as_utc(at).tzinfo)


def record_refused_sign_in(db: Database, *, username: str, client: str, reason: str) -> None:
    """Count a refused sign-in in its window; windows already over go into the trail."""
    now = clock.now()
    with db.session() as session:
        conn = session.connection()
        insert = upsert_insert(_R, conn.dialect.name).values(
            window_start=_window_start(now),
            username=_name(username) or "-",
            client=_client(client),
            reason=reason[:20],
            count=1,
        )
        conn.execute(
            insert.on_conflict_do_update(
                index_elements=["window_start", "username", "client", "reason"],
                set_={"count": _R.c.count + 1},
            )
        )
    flush_refusals(db)


def flush_refusals(db: Database, *, final: bool = False) -> int:
    """Write each window of refused sign-ins that is over (every window: ``final``) into
    the trail as one ``console.sign_in_refused`` event; returns the events written.

    The counts are claimed by deleting them (``DELETE … RETURNING``) in the event's own
    transaction, so two processes never write the same window twice."""
    current = _window_start(clock.now())
    with db.session() as session:
        claim = delete(_R).returning(
            _R.c.window_start, _R.c.username, _R.c.client, _R.c.reason, _R.c.count
        )
        if not final:
            claim = claim.where(_R.c.window_start < current)
        rows = session.connection().execute(claim).all()
        windows: dict[datetime, list[Any]] = {}
        for row in rows:
            windows.setdefault(clock.as_utc(row.window_start), []).append(row)
        for start in sorted(windows):
            _record_window(session, start, windows[start])
    return len(windows)


def _record_window(session: Session, start: datetime, rows: list[Any]) -> None:
    rows.sort(key=lambda r: (-int(r.count), r.username, r.client, r.reason))
    listed = rows[:REFUSAL_ROWS_LISTED]
    trail.record(
        session,
        actor="console:-",
        action="console.sign_in_refused",
        obj="console:sign_in",
        payload={
            "window_start": start.isoformat(),
            "window_seconds": REFUSAL_WINDOW_SECONDS,
            "total": sum(int(r.count) for r in rows),
            "refusals": [
                {
                    "username": r.username,
                    "client": r.client,
                    "reason": r.reason,
                    "count": int(r.count),
                }
                for r in listed
            ],
            "others": sum(int(r.count) for r in rows[REFUSAL_ROWS_LISTED:]),
        },
    )

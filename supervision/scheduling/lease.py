"""One scheduler at a time: a lease row in the project database.

APScheduler 3 is not safe with several schedulers on one job store, so ``scheduler run``
takes the lease first and refuses to start while another live process holds it. The
holder renews it every ``heartbeat_seconds``; a lease not renewed for ``lease_ttl_seconds``
is stale (its process died or hung) and the next scheduler takes it over.

Taking and renewing are single atomic statements (an upsert with a condition, or an
update with a condition), so two processes racing for the lease cannot both win. Times
are the application clock (supervision.clock): hosts sharing a database must keep their
clocks in sync (NTP) to within a small part of the TTL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import OperationalError

from supervision import clock
from supervision.db import Database, table_of, upsert_insert
from supervision.errors import SupervisionError
from supervision.models.scheduling import SchedulerLease

_L = table_of(SchedulerLease)
LEASE_NAME = "scheduler"


class LeaseHeld(SupervisionError):
    """Another live scheduler holds the lease."""

    exit_code = 3


@dataclass(frozen=True)
class LeaseInfo:
    holder: str
    acquired_at: datetime
    renewed_at: datetime
    expires_at: datetime

    def alive(self, now: datetime | None = None) -> bool:
        return self.expires_at > (now or clock.now())

    def to_dict(self) -> dict[str, Any]:
        return {
            "holder": self.holder,
            "acquired_at": clock.local(self.acquired_at).isoformat(),
            "renewed_at": clock.local(self.renewed_at).isoformat(),
            "expires_at": clock.local(self.expires_at).isoformat(),
            "alive": self.alive(),
        }


def current_lease(db: Database) -> LeaseInfo | None:
    with db.engine.connect() as conn:
        row = conn.execute(select(_L).where(_L.c.name == LEASE_NAME)).first()
    if row is None:
        return None
    return LeaseInfo(row.holder, row.acquired_at, row.renewed_at, row.expires_at)


def acquire(db: Database, *, holder: str, ttl_seconds: int) -> LeaseInfo:
    """Take the lease for ``holder``, or raise LeaseHeld naming the live holder.

    Succeeds when there is no lease, when ``holder`` already has it, or when it expired
    (stale-lease takeover).
    """
    now = clock.now()
    expires = now + timedelta(seconds=ttl_seconds)
    try:
        taken = _take(db, holder, now, expires)
    except OperationalError as exc:
        raise SupervisionError(
            "数据库繁忙或不可用，无法确认调度租约，本进程不启动",
            f"the database is busy or unavailable; cannot check the scheduler lease: {exc.orig}",
        ) from None
    info = None if taken else current_lease(db)
    if not taken and info is None:  # released in between: try once more
        return acquire(db, holder=holder, ttl_seconds=ttl_seconds)
    if info is not None:
        raise LeaseHeld(
            f"另一个调度进程正在运行（{info.holder}，最近续约于 {clock.local(info.renewed_at):%Y-%m-%d %H:%M:%S}），"
            f"本进程不启动；若该进程已停止，租约将于 {clock.local(info.expires_at):%H:%M:%S} 过期后可接管",
            f"another scheduler is running ({info.holder}, last renewed "
            f"{clock.local(info.renewed_at):%Y-%m-%d %H:%M:%S}); not starting. If it has stopped, "
            f"its lease can be taken over after {clock.local(info.expires_at):%H:%M:%S}",
        )
    return LeaseInfo(holder, now, now, expires)


def _take(db: Database, holder: str, now: datetime, expires: datetime) -> bool:
    with db.engine.begin() as conn:
        insert = upsert_insert(_L, conn.dialect.name)
        stmt = insert.values(
            name=LEASE_NAME, holder=holder, acquired_at=now, renewed_at=now, expires_at=expires
        ).on_conflict_do_update(
            index_elements=["name"],
            set_={
                "holder": holder,
                "acquired_at": now,
                "renewed_at": now,
                "expires_at": expires,
            },
            where=or_(_L.c.holder == holder, _L.c.expires_at <= now),
        )
        return conn.execute(stmt.returning(_L.c.name)).first() is not None


def renew(db: Database, *, holder: str, ttl_seconds: int) -> bool:
    """Extend the lease; False if ``holder`` no longer holds it (it was taken over)."""
    now = clock.now()
    with db.engine.begin() as conn:
        result = conn.execute(
            _L.update()
            .where(_L.c.name == LEASE_NAME, _L.c.holder == holder)
            .values(renewed_at=now, expires_at=now + timedelta(seconds=ttl_seconds))
        )
    return bool(result.rowcount)


def release(db: Database, *, holder: str) -> None:
    """Give the lease up at a clean shutdown so the next scheduler need not wait."""
    with db.engine.begin() as conn:
        conn.execute(_L.delete().where(_L.c.name == LEASE_NAME, _L.c.holder == holder))

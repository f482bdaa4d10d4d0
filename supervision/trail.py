"""The trail (全程留痕): an append-only, hash-chained log of everything that happened.

Every event is written by ``record`` in the same transaction as the change it records,
so a change never exists without its event, nor an event without its change.

Chain: event ``n`` stores ``prev_hash`` = hash of event ``n-1`` (64 zeros for the first)
and ``hash = SHA-256(prev_hash + canonical JSON of {seq, at, actor, action, object,
payload_digest})``, where ``payload_digest`` = SHA-256 of the canonical JSON payload
(stored beside it). Editing, deleting or reordering any row breaks a link that ``verify``
finds. Deleting the *last* rows cannot be seen from inside the chain: publish the head
hash (``trail verify`` prints it) and check against it with ``--expect-head``.

Concurrency: the head is read under a lock (PostgreSQL: a transaction-scoped advisory
lock, taken before reading the head, so even the very first event cannot fork; SQLite
serialises writers). ``prev_hash`` is UNIQUE as a second guard.
"""

from __future__ import annotations

import getpass
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, or_, text
from sqlmodel import Session, col, select

from supervision import clock
from supervision.canonical import canonical_json
from supervision.errors import ValidationFailed
from supervision.models.fields import text_problem
from supervision.models.trail import TrailEvent

__all__ = [
    "GENESIS",
    "Break",
    "current_actor",
    "event_hash",
    "payload_digest",
    "record",
    "verify",
    "verify_events",
]

GENESIS = "0" * 64
#: Key of the PostgreSQL advisory lock that guards the chain head ("trail" in ASCII).
_LOCK_KEY = 0x747261696C


def default_actor() -> str:
    """The OS user, as ``cli:<user>``."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in this environment
        user = "unknown"
    return f"cli:{user}"


def current_actor(explicit: str | None = None) -> str:
    """Who is acting: `explicit` (a --by value, an ``actor=`` argument), else the OS user.

    Services take the actor as ``actor=`` and hand it to ``record``; there is no
    ambient "acting as" state."""
    if explicit and explicit.strip():
        return explicit.strip()
    return default_actor()


def payload_digest(payload_json: str) -> str:
    return hashlib.sha256(payload_json.encode("utf-8")).hexdigest()


def _at_text(at: datetime) -> str:
    return clock.as_utc(at).astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(
    prev_hash: str, *, seq: int, at: datetime, actor: str, action: str, obj: str, digest: str
) -> str:
    """SHA-256(prev_hash + canonical fields): pure, shared by ``record`` and ``verify``."""
    fields = {
        "seq": seq,
        "at": _at_text(at),
        "actor": actor,
        "action": action,
        "object": obj,
        "payload_digest": digest,
    }
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_json(fields)).hexdigest()


def _lock_head(conn: Connection) -> None:
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    elif dialect == "sqlite":
        # A write statement (matching no row) takes SQLite's write lock before the head is
        # read, so a concurrent writer waits (busy_timeout) instead of reading a stale head.
        conn.execute(text("UPDATE trail_event SET seq = seq WHERE 1 = 0"))


def record(
    session: Session | Connection,
    *,
    action: str,
    obj: str,
    payload: dict[str, Any] | None = None,
    actor: str | None = None,
) -> TrailEvent:
    """Append one event to the chain, in the caller's transaction.

    ``session`` is the caller's Session or Core Connection (the event joins its
    transaction). ``action`` is a dotted verb (``task.commit``, ``result.enter``); ``obj``
    names the object (``task:<code>``, ``result:<task>/<uscc>/<item>``); ``payload`` is
    any JSON.
    """
    who = actor or current_actor()
    # The actor comes from every door (--by, the signed-in user): the stored-text rule
    # holds for it too (events are written with Core, past the ORM's flush check).
    problem = text_problem(who)
    if problem is not None:
        raise ValidationFailed(f"操作人：{problem[0]}", f"actor: {problem[1]}")
    conn = session.connection() if isinstance(session, Session) else session
    _lock_head(conn)
    table = TrailEvent.__table__  # type: ignore[attr-defined]
    head = conn.execute(
        select(table.c.seq, table.c.hash).order_by(table.c.seq.desc()).limit(1)
    ).first()
    seq = 1 if head is None else int(head.seq) + 1
    prev = GENESIS if head is None else str(head.hash)
    body = canonical_json(payload or {}).decode("utf-8")
    digest = payload_digest(body)
    at = clock.now()
    event = TrailEvent(
        seq=seq,
        at=at,
        actor=who,
        action=action,
        object=obj,
        payload=body,
        payload_digest=digest,
        prev_hash=prev,
        hash=event_hash(prev, seq=seq, at=at, actor=who, action=action, obj=obj, digest=digest),
    )
    conn.execute(insert(table).values(**event.model_dump()))
    return event


@dataclass(frozen=True)
class Break:
    """The first broken link: where, and why."""

    seq: int
    zh: str
    en: str


def verify_events(events: Iterable[TrailEvent]) -> tuple[int, str, Break | None]:
    """Walk events (in stored seq order): (events checked, head hash, first break or None)."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    for count, event in enumerate(events):
        if event.seq != expected_seq:
            return (
                count,
                prev,
                Break(
                    event.seq,
                    f"序号不连续：应为 {expected_seq}，实为 {event.seq}（有事件被删除或重排）",
                    f"sequence gap: expected {expected_seq}, found {event.seq} "
                    "(an event was deleted or reordered)",
                ),
            )
        if event.prev_hash != prev:
            return (
                count,
                prev,
                Break(
                    event.seq,
                    f"事件 {event.seq} 的前一哈希与链不符（前面的事件被改动、删除或重排）",
                    f"event {event.seq}: prev_hash does not match the chain "
                    "(an earlier event was edited, deleted or reordered)",
                ),
            )
        if payload_digest(event.payload) != event.payload_digest:
            return (
                count,
                prev,
                Break(
                    event.seq,
                    f"事件 {event.seq} 的内容与其摘要不符（内容被改动）",
                    f"event {event.seq}: payload does not match its digest (payload edited)",
                ),
            )
        recomputed = event_hash(
            prev,
            seq=event.seq,
            at=event.at,
            actor=event.actor,
            action=event.action,
            obj=event.object,
            digest=event.payload_digest,
        )
        if recomputed != event.hash:
            return (
                count,
                prev,
                Break(
                    event.seq,
                    f"事件 {event.seq} 的哈希与其字段不符（时间、操作人、动作或对象被改动）",
                    f"event {event.seq}: hash does not match its fields "
                    "(time, actor, action or object edited)",
                ),
            )
        prev = event.hash
        expected_seq += 1
    return expected_seq - 1, prev, None


def verify(session: Session) -> dict[str, Any]:
    """Check the whole chain; returns {ok, events, head, broken_at, zh, en}."""
    rows = session.exec(
        select(TrailEvent).order_by(col(TrailEvent.seq)).execution_options(yield_per=2000)
    )
    try:
        count, head, broken = verify_events(rows)
    finally:
        rows.close()  # a server-side cursor on PostgreSQL: closed even after an early break
    return {
        "ok": broken is None,
        "events": count,
        "head": head,
        "broken_at": None if broken is None else broken.seq,
        "zh": None if broken is None else broken.zh,
        "en": None if broken is None else broken.en,
    }


def events(
    session: Session, *, obj: str | None = None, limit: int | None = None
) -> list[TrailEvent]:
    """Events in chain order, optionally of one object (exact, or a prefix ending in ':' / '/')."""
    query = select(TrailEvent).order_by(col(TrailEvent.seq))
    if obj:
        if obj.endswith((":", "/")):
            query = query.where(col(TrailEvent.object).startswith(obj, autoescape=True))
        else:
            query = query.where(
                or_(
                    col(TrailEvent.object) == obj,
                    col(TrailEvent.object).startswith(obj + "/", autoescape=True),
                )
            )
    if limit:
        query = query.limit(limit)
    return list(session.exec(query))

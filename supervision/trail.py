"""The trail (全程留痕): an append-only, hash-chained log of everything that happened.

Every event is written by ``record`` in the same transaction as the change it records,
so a change never exists without its event, nor an event without its change.

Chain: event ``n`` stores ``prev_hash`` = hash of event ``n-1`` (64 zeros for the first)
and ``hash = SHA-256(prev_hash + canonical JSON of {seq, at, actor, action, object,
payload_digest})``, where ``payload_digest`` = SHA-256 of the canonical JSON payload
(stored beside it). Editing, deleting or reordering any row breaks a link that ``verify``
finds. Deleting the *last* rows cannot be seen from inside the chain, so the chain is
anchored: ``checkpoint`` stores the head (sequence number + hash) at least daily and with
every publication, and the public site and the open data show them. Whoever keeps one
checks with ``trail verify --checkpoint SEQ:HASH`` that the chain still *extends* it (the
event SEQ still has that hash, and the chain from the first event to the head is intact),
which detects truncation and any rewrite back past it while accepting growth;
``--expect-head`` checks an exact head.

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
from supervision.errors import SupervisionError, ValidationFailed
from supervision.models.fields import text_problem
from supervision.models.trail import TrailCheckpoint, TrailEvent

__all__ = [
    "GENESIS",
    "Break",
    "checkpoint",
    "checkpoints",
    "current_actor",
    "event_hash",
    "parse_checkpoint",
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


def verify_events(
    events: Iterable[TrailEvent], *, watch: int | None = None
) -> tuple[int, str, str | None, Break | None]:
    """Walk events (in stored seq order): (events checked, head hash, the hash of event
    ``watch`` if the walk passed it intact, first break or None)."""
    watched: str | None = None
    prev = GENESIS
    expected_seq = 1
    count = 0
    for count, event in enumerate(events):
        if event.seq != expected_seq:
            return (
                count,
                prev,
                watched,
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
                watched,
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
                watched,
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
                watched,
                Break(
                    event.seq,
                    f"事件 {event.seq} 的哈希与其字段不符（时间、操作人、动作或对象被改动）",
                    f"event {event.seq}: hash does not match its fields "
                    "(time, actor, action or object edited)",
                ),
            )
        prev = event.hash
        if event.seq == watch:
            watched = event.hash
        expected_seq += 1
    return expected_seq - 1, prev, watched, None


def verify(session: Session, *, anchor: tuple[int, str] | None = None) -> dict[str, Any]:
    """Check the whole chain; returns {ok, events, head, broken_at, zh, en}.

    ``anchor`` (seq, hash), a published checkpoint: the chain must also extend it, i.e.
    reach event ``seq`` intact with exactly that hash (growth after it is fine)."""
    rows = session.exec(
        select(TrailEvent).order_by(col(TrailEvent.seq)).execution_options(yield_per=2000)
    )
    try:
        count, head, watched, broken = verify_events(
            rows, watch=None if anchor is None else anchor[0]
        )
    finally:
        rows.close()  # a server-side cursor on PostgreSQL: closed even after an early break
    report: dict[str, Any] = {
        "ok": broken is None,
        "events": count,
        "head": head,
        "broken_at": None if broken is None else broken.seq,
        "zh": None if broken is None else broken.zh,
        "en": None if broken is None else broken.en,
    }
    if anchor is not None:
        report["checkpoint"] = {"seq": anchor[0], "hash": anchor[1]}
    if broken is None and anchor is not None:
        seq, expected = anchor
        if count < seq:
            report |= {
                "ok": False,
                "zh": f"链只有 {count} 条事件，短于检查点 {seq}（末尾事件被删除或链被替换）",
                "en": f"the chain has {count} events, fewer than checkpoint {seq} "
                "(events removed from the end, or the chain replaced)",
            }
        elif watched != expected:
            report |= {
                "ok": False,
                "broken_at": seq,
                "zh": f"事件 {seq} 的哈希为 {watched}，与检查点的 {expected} 不符"
                "（检查点之前的事件被改写并重新计算了哈希）",
                "en": f"event {seq} has hash {watched}, not the checkpoint's {expected} "
                "(events up to the checkpoint were rewritten and rehashed)",
            }
    return report


def parse_checkpoint(text_value: str) -> tuple[int, str]:
    """``SEQ:HASH`` (as published) → (seq, hash); a clear error otherwise."""
    seq_text, sep, digest = text_value.strip().partition(":")
    digest = digest.strip().lower()
    if (
        not sep
        or not seq_text.strip().isascii()
        or not seq_text.strip().isdigit()
        or int(seq_text) < 1
        or len(digest) != 64
        or any(c not in "0123456789abcdef" for c in digest)
    ):
        raise SupervisionError(
            f"检查点应写作 序号:哈希（正整数、冒号、64 位十六进制），而不是 {text_value[:100]!r}",
            f"a checkpoint is SEQ:HASH (a positive integer, a colon, 64 hex digits), "
            f"not {text_value[:100]!r}",
        )
    return int(seq_text), digest


def checkpoint(session: Session, *, reason: str) -> TrailCheckpoint | None:
    """Anchor the chain at its current head (in the caller's transaction); None while the
    chain is empty. Taking one at a head that already has one returns that one."""
    conn = session.connection()
    _lock_head(conn)
    table = TrailEvent.__table__  # type: ignore[attr-defined]
    head = conn.execute(
        select(table.c.seq, table.c.hash).order_by(table.c.seq.desc()).limit(1)
    ).first()
    if head is None:
        return None
    existing = session.get(TrailCheckpoint, int(head.seq))
    if existing is not None:
        return existing
    anchor = TrailCheckpoint(seq=int(head.seq), hash=str(head.hash), at=clock.now(), reason=reason)
    session.add(anchor)
    session.flush()
    return anchor


def checkpoints(session: Session, *, limit: int | None = None) -> list[TrailCheckpoint]:
    """The checkpoints, newest first."""
    query = select(TrailCheckpoint).order_by(col(TrailCheckpoint.seq).desc())
    if limit:
        query = query.limit(limit)
    return list(session.exec(query))


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

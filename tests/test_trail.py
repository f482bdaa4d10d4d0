"""The trail: hash chain, tamper detection, same-transaction writes, concurrent writers."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import select

from supervision import trail
from supervision.db import Database
from supervision.draw.plans import create_plan
from supervision.models import Plan, TrailEvent


def _fill(db: Database, n: int = 5) -> None:
    with db.session() as session:
        for i in range(n):
            trail.record(
                session,
                actor=f"cli:user{i}",
                action="test.event",
                obj=f"thing:{i}",
                payload={"n": i, "名称": "测试"},
            )


def _verify(db: Database) -> dict[str, Any]:
    with db.session() as session:
        return trail.verify(session)


def test_chain_links_and_verifies(db: Database) -> None:
    _fill(db, 5)
    result = _verify(db)
    assert result["ok"] and result["events"] == 5 and result["broken_at"] is None
    with db.session() as session:
        rows = list(session.exec(select(TrailEvent).order_by(TrailEvent.seq)))  # type: ignore[arg-type]
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == trail.GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    assert rows[0].at.tzinfo is not None
    assert result["head"] == rows[-1].hash


@pytest.mark.parametrize(
    "tamper, broken_at",
    [
        ("UPDATE trail_event SET actor = 'cli:mallory' WHERE seq = 3", 3),
        ("UPDATE trail_event SET action = 'other' WHERE seq = 2", 2),
        ("UPDATE trail_event SET object = 'thing:9' WHERE seq = 4", 4),
        ("UPDATE trail_event SET payload = '[99]' WHERE seq = 2", 2),
        (
            "UPDATE trail_event SET payload = '[99]', "
            "payload_digest = 'f8b3a7e4b0b2e0dd3a5f3d4b1c1f3c1c0d0b8e6a9c5e4f3b2a1908172635445a' "
            "WHERE seq = 2",
            2,
        ),
        ("DELETE FROM trail_event WHERE seq = 3", 4),
        ("DELETE FROM trail_event WHERE seq = 1", 2),
    ],
)
def test_tampering_is_caught(db: Database, tamper: str, broken_at: int) -> None:
    _fill(db, 5)
    with db.engine.begin() as conn:
        conn.execute(text(tamper))
    result = _verify(db)
    assert not result["ok"]
    assert result["broken_at"] == broken_at
    assert result["zh"] and result["en"]


def test_time_edit_is_caught(db: Database) -> None:
    _fill(db, 4)
    with db.session() as session:
        event = session.get(TrailEvent, 2)
        assert event is not None
        event.at = event.at.replace(year=event.at.year - 1)
        session.add(event)
    result = _verify(db)
    assert result["broken_at"] == 2


def test_reorder_is_caught(db: Database) -> None:
    _fill(db, 5)
    # Swap rows 2 and 4 (their seq numbers), through a free value.
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE trail_event SET seq = 100 WHERE seq = 2"))
        conn.execute(text("UPDATE trail_event SET seq = 2 WHERE seq = 4"))
        conn.execute(text("UPDATE trail_event SET seq = 4 WHERE seq = 100"))
    result = _verify(db)
    assert not result["ok"] and result["broken_at"] == 2


def test_a_crash_after_the_event_leaves_neither(db: Database) -> None:
    """Change + event in one transaction: an error after both leaves no trace of either."""
    with pytest.raises(RuntimeError), db.session() as session:
        create_plan(session, code="P1", year=2026, name="计划", departments=[])
        trail.record(session, actor="cli:t", action="plan.create", obj="plan:P1")
        raise RuntimeError("crash between change and commit")
    with db.session() as session:
        assert session.get(Plan, "P1") is None
        assert session.exec(select(TrailEvent)).first() is None


def test_two_writers_never_fork_the_chain(db: Database) -> None:
    """Two threads append concurrently; the chain stays one line (no fork, no gap)."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def writer(name: str) -> None:
        try:
            barrier.wait()
            for i in range(25):
                with db.session() as session:
                    trail.record(session, actor=name, action="test.concurrent", obj=f"{name}:{i}")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"w{k}",)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    result = _verify(db)
    assert result["ok"] and result["events"] == 50


def test_the_actor_is_who_the_caller_names(db: Database) -> None:
    with db.session() as session:
        event = trail.record(session, action="x", obj="y", actor="张科长")
        assert event.actor == "张科长"
        unnamed = trail.record(session, action="x", obj="z")
        assert unnamed.actor.startswith("cli:")
    assert trail.current_actor().startswith("cli:")
    assert trail.current_actor("  张科长 ") == "张科长"


def test_events_filter_by_object(db: Database) -> None:
    with db.session() as session:
        trail.record(session, action="a", obj="result:T1/U1/I1")
        trail.record(session, action="a", obj="result:T1/U1/I2")
        trail.record(session, action="a", obj="result:T10/U1/I1")
        assert len(trail.events(session, obj="result:T1/U1")) == 2
        assert len(trail.events(session, obj="result:T1")) == 2
        assert len(trail.events(session, obj="result:")) == 3


def test_record_joins_a_core_connection_transaction(db: Database) -> None:
    """Modules that write with Core (engine.begin()) record in that same transaction."""
    with pytest.raises(RuntimeError), db.engine.begin() as conn:
        trail.record(conn, actor="cli:t", action="finding.confirm", obj="finding:1")
        raise RuntimeError("rolled back")
    with db.engine.begin() as conn:
        trail.record(conn, actor="cli:t", action="finding.confirm", obj="finding:2")
    with db.session() as session:
        assert [e.object for e in trail.events(session)] == ["finding:2"]
        assert trail.verify(session)["ok"]

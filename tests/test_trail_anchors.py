"""Anchoring the trail: checkpoints (seq + head hash) taken daily and at every publication,
shown on the public site and in the open data, and `trail verify --checkpoint SEQ:HASH`
proving that the chain extends one (growth accepted; truncation and rewrite-and-rehash
found), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import site_support as s
from conftest import CliRun
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlmodel import col, select

from supervision import trail
from supervision.db import Database
from supervision.models import TrailCheckpoint, TrailEvent
from supervision.site import publish_site


def _fill(db: Database, n: int, start: int = 0) -> None:
    with db.session() as session:
        for i in range(start, start + n):
            trail.record(session, actor="cli:test", action="test.event", obj=f"thing:{i}",
                         payload={"n": i})  # fmt: skip


def _head(db: Database) -> tuple[int, str]:
    with db.session() as session:
        report = trail.verify(session)
    return int(report["events"]), str(report["head"])


def _rewrite_and_rehash(db: Database, *, at: int) -> None:
    """What a forger with database access does: edit event `at`, then recompute every
    hash from there on so that the chain is intact again."""
    with db.session() as session:
        events = list(session.exec(select(TrailEvent).order_by(col(TrailEvent.seq))))
        prev = trail.GENESIS if at == 1 else events[at - 2].hash
        rows = []
        for event in events[at - 1 :]:
            obj = "thing:forged" if event.seq == at else event.object
            digest = event.payload_digest
            new_hash = trail.event_hash(prev, seq=event.seq, at=event.at, actor=event.actor,
                                        action=event.action, obj=obj, digest=digest)  # fmt: skip
            rows.append((event.seq, obj, prev, new_hash))
            prev = new_hash
    with db.engine.begin() as conn:
        # prev_hash and hash are UNIQUE: park the rewritten rows out of the way first.
        conn.execute(text("DELETE FROM trail_event WHERE seq >= :at"), {"at": at})
    with db.session() as session:
        for event in events[at - 1 :]:
            seq, obj, prev_hash, new_hash = next(r for r in rows if r[0] == event.seq)
            session.add(TrailEvent(seq=seq, at=event.at, actor=event.actor, action=event.action,
                                   object=obj, payload=event.payload,
                                   payload_digest=event.payload_digest, prev_hash=prev_hash,
                                   hash=new_hash))  # fmt: skip


def test_verify_checkpoint_accepts_growth_and_finds_truncation_and_rehash(
    cli: CliRun, db: Database
) -> None:
    _fill(db, 6)
    seq, head = _head(db)
    anchor = f"{seq}:{head}"
    ok = cli("trail", "verify", "--checkpoint", anchor)
    assert "extends checkpoint" in ok.stdout
    _fill(db, 4, start=6)  # the chain grows
    cli("trail", "verify", "--checkpoint", anchor)
    grown = json.loads(cli("trail", "verify", "--checkpoint", anchor, "--json").stdout)
    assert grown["ok"] and grown["events"] == 10 and grown["checkpoint"]["seq"] == seq
    # --expect-head keeps its meaning: the exact head, so a grown chain fails it.
    assert "published" in cli("trail", "verify", "--expect-head", head, expect=2).stderr
    # Rewrite an event before the checkpoint and rehash everything after it: the chain is
    # intact on its own, but it no longer extends the checkpoint.
    _rewrite_and_rehash(db, at=3)
    cli("trail", "verify")
    refused = cli("trail", "verify", "--checkpoint", anchor, expect=2)
    assert f"事件 {seq}" in refused.stderr and "rewritten and rehashed" in refused.stderr
    # Truncate back past the checkpoint: too short.
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM trail_event WHERE seq >= 5"))
    short = cli("trail", "verify", "--checkpoint", anchor, expect=2)
    assert "链只有 4 条事件" in short.stderr and "fewer than checkpoint 6" in short.stderr


def test_a_malformed_checkpoint_is_a_clear_error(cli: CliRun, db: Database) -> None:
    _fill(db, 1)
    for bad in ("12", "x:abc", f"0:{'a' * 64}", f"3:{'g' * 64}", f"3:{'a' * 63}"):
        result = cli("trail", "verify", "--checkpoint", bad, expect=1)
        assert "检查点应写作 序号:哈希" in result.stderr
        assert "a checkpoint is SEQ:HASH" in result.stderr
        assert "Traceback" not in result.stderr + result.stdout


def test_publishing_takes_a_checkpoint_shown_on_the_site_and_in_open_data(
    cli: CliRun, db: Database, tmp_path: Path
) -> None:
    s.build(db, tmp_path)
    out = tmp_path / "site"
    publish_site(db, out_dir=out, languages="all", strict=True, workers=1)
    with db.session() as session:
        [anchor] = trail.checkpoints(session)
        report = trail.verify(session)
    assert anchor.reason == "publish"
    assert (anchor.seq, anchor.hash) == (report["events"], report["head"])
    shown = f"{anchor.seq}:{anchor.hash}"
    for page in (out / "data" / "index.html", out / "en" / "data" / "index.html"):
        section = s.soup(page).select_one("section#trail-checkpoints")
        assert section is not None, page
        codes = [c.get_text() for c in section.select("tbody code")]
        assert codes == [shown]
    english = s.text_of(s.soup(out / "en" / "data" / "index.html").select_one("section h2"))
    assert english == "Trail checkpoints"
    records = s.load_json(out / "data" / "trail-checkpoints.json")["records"]
    assert [(r["seq"], r["hash"], r["reason"]) for r in records] == [
        (anchor.seq, anchor.hash, "publish")
    ]
    csv_text = (out / "data" / "trail-checkpoints.csv").read_text(encoding="utf-8-sig")
    assert anchor.hash in csv_text and csv_text.startswith("事件序号(seq)")
    # Whoever kept it can check the grown chain against it.
    _fill(db, 3)
    cli("trail", "verify", "--checkpoint", shown)
    # The next publication adds the new head; the old checkpoint stays listed.
    publish_site(db, out_dir=out, languages="all", strict=True, workers=1)
    records = s.load_json(out / "data" / "trail-checkpoints.json")["records"]
    assert [r["seq"] for r in records] == [anchor.seq + 3, anchor.seq]


def test_the_daily_job_takes_a_checkpoint_once_a_period(db: Database) -> None:
    import time_machine

    from supervision.scheduling import jobs, runtime
    from supervision.scheduling.config import SchedulerConfig

    _fill(db, 2)
    runtime.bind(runtime.Runtime(db=db, config=SchedulerConfig()))
    try:
        with time_machine.travel(datetime(2026, 12, 2, 1, 0, tzinfo=UTC), tick=False):
            first = jobs.run_trail_checkpoint("45 0 * * *", "Asia/Shanghai")
            again = jobs.run_trail_checkpoint("45 0 * * *", "Asia/Shanghai")
        _fill(db, 1, start=2)
        with time_machine.travel(datetime(2026, 12, 3, 1, 0, tzinfo=UTC), tick=False):
            next_day = jobs.run_trail_checkpoint("45 0 * * *", "Asia/Shanghai")
    finally:
        runtime.unbind()
    assert first["status"] == "done" and again["status"] != "done"
    assert next_day["status"] == "done"
    with db.session() as session:
        anchors = [(c.seq, c.reason) for c in trail.checkpoints(session)]
    assert anchors == [(3, "daily"), (2, "daily")]


# ---------------------------------------------------------------- the pure walk
def _chain(n: int, *, salt: str = "") -> list[TrailEvent]:
    events = []
    prev = trail.GENESIS
    at = datetime(2026, 1, 1, tzinfo=UTC)
    for seq in range(1, n + 1):
        digest = trail.payload_digest("{}")
        obj = f"thing:{seq}{salt}"
        moment = at + timedelta(seconds=seq)
        h = trail.event_hash(prev, seq=seq, at=moment, actor="a", action="x", obj=obj,
                             digest=digest)  # fmt: skip
        events.append(TrailEvent(seq=seq, at=moment, actor="a", action="x", object=obj,
                                 payload="{}", payload_digest=digest, prev_hash=prev,
                                 hash=h))  # fmt: skip
        prev = h
    return events


def _rehashed(events: list[TrailEvent], at: int) -> list[TrailEvent]:
    """Event `at` edited and every hash from there recomputed (an intact forged chain)."""
    out = [e.model_copy() for e in events[: at - 1]]
    prev = out[-1].hash if out else trail.GENESIS
    for event in events[at - 1 :]:
        obj = event.object + ("*" if event.seq == at else "")
        h = trail.event_hash(prev, seq=event.seq, at=event.at, actor=event.actor,
                             action=event.action, obj=obj, digest=event.payload_digest)  # fmt: skip
        out.append(event.model_copy(update={"object": obj, "prev_hash": prev, "hash": h}))
        prev = h
    return out


def _extends(events: list[TrailEvent], anchor: tuple[int, str]) -> bool:
    count, _head, watched, broken = trail.verify_events(events, watch=anchor[0])
    return broken is None and count >= anchor[0] and watched == anchor[1]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_a_chain_extends_its_checkpoint_exactly_when_untouched_up_to_it(data: Any) -> None:
    n = data.draw(st.integers(1, 30), label="events at the checkpoint")
    grow = data.draw(st.integers(0, 10), label="events added later")
    chain = _chain(n + grow)
    anchor = (n, chain[n - 1].hash)
    assert _extends(chain, anchor)  # growth is fine
    assert _extends(chain[:n], anchor)
    cut = data.draw(st.integers(0, n - 1), label="events left after truncation")
    assert not _extends(chain[:cut], anchor)  # truncation back past it
    at = data.draw(st.integers(1, n + grow), label="rewritten event")
    forged = _rehashed(chain, at)
    assert trail.verify_events(forged)[3] is None  # intact on its own
    assert _extends(forged, anchor) == (at > n)  # rewriting after the checkpoint is growth


def test_a_checkpoint_at_an_unchanged_head_is_not_taken_twice(db: Database) -> None:
    with db.session() as session:
        assert trail.checkpoint(session, reason="manual") is None  # nothing to anchor yet
    _fill(db, 2)
    with db.session() as session:
        first = trail.checkpoint(session, reason="daily")
        assert first is not None
        seq = first.seq
    with db.session() as session:
        again = trail.checkpoint(session, reason="publish")
        assert again is not None and again.seq == seq and again.reason == "daily"
        assert len(list(session.exec(select(TrailCheckpoint)))) == 1

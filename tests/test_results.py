"""Inspection results through the database: every transition, versions, follow-up, replies.

Runs on SQLite and PostgreSQL (fresh database per test). A small drawn task is built
with the draw tests' province; time is fixed with time-machine so dates are exact.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlalchemy import text
from sqlmodel import select
from test_tasks_draw import SEED, _task, province  # noqa: F401  (fixture)

from supervision import trail
from supervision.db import Database
from supervision.draw.commit import commit_task
from supervision.draw.service import draw_task
from supervision.errors import SupervisionError
from supervision.models import Assignment, ComplianceRecord, DrawPick, Task, TaskStatus
from supervision.results.entry import correct_results, enter_results
from supervision.results.follow_ups import record_follow_up
from supervision.results.inputs import ItemInput
from supervision.results.replies import add_reply, review_reply
from supervision.results.service import (
    entity_results,
    list_results,
    publish_results,
    review_results,
)

ITEM = "SJ-01"
DRAW_DAY = "2025-09-22 10:00 +0800"
INSPECTED = date(2025, 9, 26)
ACTOR = "cli:tester"
REVIEWER = "cli:reviewer"  # separated duties: not the one who entered
TABLES = (
    "inspection_result",
    "evidence_file",
    "result_reply",
    "compliance_record",
    "trail_event",
    "task",
)


@pytest.fixture
def drawn(db: Database, province: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    with time_machine.travel(DRAW_DAY, tick=False):
        code = _task(db)
        with db.session() as session:
            # full disclosure: pseudonymous salts are random, so the picks (and the team of
            # entities[0], which the bad-team cases below rely on) would change every run
            commit_task(session, code=code, disclosure="full")
        with db.session() as session:
            draw_task(session, code=code, seed=SEED, workers=1)
        with db.session() as session:
            picks = sorted(session.exec(select(DrawPick.uscc).where(DrawPick.task_code == code)))
    return {"task": code, "entities": picks}


@pytest.fixture(autouse=True)
def _later() -> Any:
    """Results are entered on 2025-10-09 (after National Day), unless a test moves on."""
    with time_machine.travel("2025-10-09 10:00 +0800", tick=False) as traveller:
        yield traveller


def _dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    with db.engine.connect() as conn:
        return {
            t: sorted(map(tuple, conn.execute(text(f"SELECT * FROM {t}")).all()), key=repr)
            for t in TABLES
        }


def _item(**kw: Any) -> ItemInput:
    data = {"item": ITEM, "code": "1", "finding": "未发现问题", "inspected_on": INSPECTED} | kw
    return ItemInput.model_validate(data)


def _enter(db: Database, task: str, uscc: str, **kw: Any) -> None:
    with db.session() as session:
        enter_results(session, task_code=task, uscc=uscc, items=[_item(**kw)], actor=ACTOR)


def _review(db: Database, task: str, uscc: str, approve: bool, reason: str | None = None) -> None:
    with db.session() as session:
        review_results(
            session, task_code=task, uscc=uscc, approve=approve, reason=reason, actor=REVIEWER
        )


def _publish(db: Database, task: str, uscc: str | None = None) -> dict[str, Any]:
    with db.session() as session:
        return publish_results(session, task_code=task, uscc=uscc, actor=REVIEWER)


def _correct(db: Database, task: str, uscc: str, reason: str = "笔误更正", **kw: Any) -> None:
    with db.session() as session:
        correct_results(
            session,
            task_code=task,
            uscc=uscc,
            items=[ItemInput.model_validate({"item": ITEM} | kw)],
            reason=reason,
            actor=ACTOR,
        )


def _state(db: Database, task: str, uscc: str) -> tuple[str, int]:
    with db.session() as session:
        data = entity_results(session, task_code=task, uscc=uscc)
    item = data["items"][0]
    return item["state"], len(item["versions"])


def test_the_whole_life_of_a_result(db: Database, drawn: dict[str, Any]) -> None:
    task, uscc = drawn["task"], drawn["entities"][0]
    assert _state(db, task, uscc) == ("not_entered", 0)
    _enter(db, task, uscc, code="A", sub_code="b", finding="未按期公示年报", follow_up="routine")
    assert _state(db, task, uscc) == ("entered", 1)
    with db.session() as session:
        assert session.get(Task, task).status == TaskStatus.IN_PROGRESS  # type: ignore[union-attr]
        team = sorted(
            session.exec(
                select(Assignment.cert_no).where(
                    Assignment.task_code == task, Assignment.uscc == uscc
                )
            )
        )
    _review(db, task, uscc, approve=False, reason="发现描述不完整")
    assert _state(db, task, uscc) == ("returned", 1)
    _enter(
        db,
        task,
        uscc,
        code="A",
        sub_code="B",
        finding="未按期公示2024年度年报",
        follow_up="routine",
    )
    assert _state(db, task, uscc) == ("entered", 2)
    _review(db, task, uscc, approve=True)
    assert _state(db, task, uscc) == ("approved", 2)
    report = _publish(db, task, uscc)
    assert report["published"] == [{"uscc": uscc, "item": ITEM, "version": 2}]
    assert _state(db, task, uscc) == ("published", 2)
    _correct(db, task, uscc, finding="未按期公示2024年度年报（已补报）")
    assert _state(db, task, uscc) == ("entered", 3)
    _review(db, task, uscc, approve=True)
    _publish(db, task, uscc)
    with db.session() as session:
        data = entity_results(session, task_code=task, uscc=uscc)
        versions = data["items"][0]["versions"]
        assert [v["state"] for v in versions] == ["returned", "published", "published"]
        assert versions[0]["finding"] == "未发现问题" or versions[0]["sub_code"] == "B"
        assert versions[1]["finding"] == "未按期公示2024年度年报"  # the old version stays
        assert versions[2]["corrects_version"] == 2 and versions[2]["change_reason"] == "笔误更正"
        assert versions[2]["sub_code"] == "B" and versions[2]["inspectors"] == team
        records = session.exec(
            select(ComplianceRecord).where(ComplianceRecord.kind == "inspection_result")
        ).all()
        assert {r.payload["result_code"] for r in records} == {"B"}
        assert len(records) == 2  # one per approved version
        actions = [e.action for e in trail.events(session, obj=f"result:{task}/{uscc}")]
        assert actions == [
            "result.enter",
            "result.return",
            "result.enter",
            "result.approve",
            "result.publish",
            "result.correct",
            "result.approve",
            "result.publish",
        ]
        assert trail.verify(session)["ok"]


def _to_state(db: Database, task: str, uscc: str, state: str) -> None:
    if state == "not_entered":
        return
    _enter(db, task, uscc)
    if state == "returned":
        _review(db, task, uscc, approve=False, reason="退回")
    if state in ("approved", "published"):
        _review(db, task, uscc, approve=True)
    if state == "published":
        _publish(db, task, uscc)


ILLEGAL = [
    ("not_entered", "approve"),
    ("not_entered", "return"),
    ("not_entered", "publish"),
    ("not_entered", "correct"),
    ("entered", "enter"),
    ("entered", "publish"),
    ("entered", "correct"),
    ("returned", "approve"),
    ("returned", "return"),
    ("returned", "publish"),
    ("returned", "correct"),
    ("approved", "enter"),
    ("approved", "approve"),
    ("approved", "return"),
    ("approved", "correct"),
    ("published", "enter"),
    ("published", "approve"),
    ("published", "return"),
    ("published", "publish"),
]


@pytest.mark.parametrize("state, action", ILLEGAL)
def test_illegal_transitions_are_clear_errors_and_change_nothing(
    db: Database, drawn: dict[str, Any], state: str, action: str
) -> None:
    task, uscc = drawn["task"], drawn["entities"][0]
    _to_state(db, task, uscc, state)
    before = _dump(db)
    run = {
        "enter": lambda: _enter(db, task, uscc),
        "approve": lambda: _review(db, task, uscc, approve=True),
        "return": lambda: _review(db, task, uscc, approve=False, reason="退回"),
        "publish": lambda: _publish(db, task, uscc),
        "correct": lambda: _correct(db, task, uscc),
    }[action]
    with pytest.raises(SupervisionError) as error:
        run()
    assert error.value.zh and error.value.en
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error.value.zh)
    assert _dump(db) == before


def test_bad_input_names_the_field_and_writes_nothing(
    db: Database, drawn: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    task, uscc = drawn["task"], drawn["entities"][0]
    before = _dump(db)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"code": "Z"}, "Z"),
        ({"code": "1", "sub_code": "B"}, "sub-code"),
        ({"code": "A", "sub_code": "Q"}, "Q"),
        ({"item": "NOPE"}, "NOPE"),
        ({"inspected_on": date(2025, 10, 20)}, "future"),
        ({"inspected_on": date(2025, 9, 1)}, "before the draw"),
        ({"follow_up": "rectification"}, "due"),
        ({"follow_up": "rectification", "due": date(2025, 9, 1)}, "before the inspection"),
        ({"follow_up": "routine", "due": date(2025, 12, 1)}, "only a rectification"),
        ({"follow_up": "jail"}, "follow-up"),
        ({"inspectors": ["SJ0002", "SJ0003"]}, "reason"),
        ({"inspectors": ["NOBODY"], "team_change_reason": "x"}, "NOBODY"),
    ]
    for overrides, needle in cases:
        with pytest.raises(SupervisionError) as error:
            _enter(db, task, uscc, **overrides)
        assert needle in str(error.value) + " ".join(error.value.details), overrides
        assert _dump(db) == before
    with pytest.raises(SupervisionError, match="not drawn"):
        _enter(db, task, "91150102MA0000000X")
    big = tmp_path / "big.jpg"
    big.write_bytes(b"x" * 2048)
    monkeypatch.setenv("SUPERVISION_EVIDENCE_MAX_BYTES", "1024")
    with pytest.raises(SupervisionError, match="over the limit"):
        _enter(db, task, uscc, evidence=[str(big)])
    assert _dump(db) == before


def test_team_change_with_reason_and_evidence(
    db: Database, drawn: dict[str, Any], tmp_path: Path
) -> None:
    task, uscc = drawn["task"], drawn["entities"][1]
    photo = tmp_path / "现场照片.jpg"
    photo.write_bytes(b"\xff\xd8photo")
    with db.session() as session:
        team = sorted(
            session.exec(
                select(Assignment.cert_no).where(
                    Assignment.task_code == task, Assignment.uscc == uscc
                )
            )
        )
    other = next(c for c in ("SJ0002", "SJ0003", "SJ0004", "SJ0005") if c not in team)
    _enter(
        db,
        task,
        uscc,
        inspectors=[team[0], other],
        team_change_reason="原检查人员病假",
        evidence=[str(photo), str(photo)],
    )
    with db.session() as session:
        v = entity_results(session, task_code=task, uscc=uscc)["items"][0]["versions"][0]
        assert v["inspectors"] == sorted([team[0], other])
        assert v["team_change_reason"] == "原检查人员病假"
        import hashlib

        digest = hashlib.sha256(b"\xff\xd8photo").hexdigest()
        assert v["evidence"][0] == {"name": "现场照片.jpg", "sha256": digest, "size": 7}
        count = session.execute(text("SELECT COUNT(*) FROM evidence_file")).scalar()
        assert count == 1  # content-addressed: stored once
        changes = trail.events(session, obj=f"assignment:{task}/{uscc}")
        assert [e.action for e in changes] == ["assignment.change"]
        assert "原检查人员病假" in changes[0].payload


def test_rectification_record_deadline_and_case_transfer(
    db: Database, drawn: dict[str, Any], _later: Any
) -> None:
    from supervision.results.deadlines import list_deadlines

    task, a, b = drawn["task"], drawn["entities"][0], drawn["entities"][1]
    due = date(2025, 10, 20)
    for uscc in (a, b):
        _enter(
            db,
            task,
            uscc,
            code="E",
            finding="未亮照经营，已责令改正",
            follow_up="rectification",
            due=due,
        )
    with db.session() as session:
        orders = session.exec(
            select(ComplianceRecord).where(ComplianceRecord.kind == "rectification_order")
        ).all()
        assert {o.uscc for o in orders} == {a, b}
        assert all(o.payload["due_on"] == "2025-10-20" for o in orders)
        assert all(o.received_at.tzinfo is not None for o in orders)
        listing = list_deadlines(session, as_of=date(2025, 10, 22))
    rect = {d["uscc"]: d for d in listing["rectification"]}
    # 10-20 (Mon) → 10-22 (Wed): 21st and 22nd are working days → 2 over.
    assert rect[a]["overdue"] and rect[a]["recheck"] and rect[a]["workdays_over"] == 2
    pub = {d["uscc"]: d for d in listing["publication"]}
    # Inspection ended 2025-09-26 → due 2025-10-30 (hand count in test_deadlines.py).
    assert pub[a]["due"] == "2025-10-30" and pub[a]["workdays_left"] == 6
    _later.move_to("2025-10-23 10:00 +0800")
    with db.session() as session:
        record_follow_up(
            session, task_code=task, uscc=a, item=ITEM, not_rectified=True, actor=ACTOR
        )
        record_follow_up(
            session, task_code=task, uscc=b, item=ITEM, done_on=date(2025, 10, 18), actor=ACTOR
        )
        listing = list_deadlines(session, as_of=date(2025, 10, 23))
        order_b = next(
            o
            for o in session.exec(
                select(ComplianceRecord).where(ComplianceRecord.kind == "rectification_order")
            )
            if o.uscc == b
        )
        assert order_b.payload["rectified_on"] == "2025-10-18"
    rect = {d["uscc"]: d for d in listing["rectification"]}
    assert rect[a]["case_transfer"] and not rect[a]["recheck"]
    assert b not in rect
    with pytest.raises(SupervisionError), db.session() as session:
        record_follow_up(session, task_code=task, uscc=a, item=ITEM, done_on=None, actor=ACTOR)


def test_publish_is_all_or_nothing(db: Database, drawn: dict[str, Any]) -> None:
    task, a, b, c = drawn["task"], *drawn["entities"][:3]
    _to_state(db, task, a, "approved")
    _to_state(db, task, b, "approved")
    _to_state(db, task, c, "entered")
    with pytest.raises(SupervisionError):
        _publish(db, task, c)
    report = _publish(db, task)
    assert sorted(p["uscc"] for p in report["published"]) == sorted([a, b])
    with db.session() as session:
        states = {(r["uscc"], r["state"]) for r in list_results(session, task_code=task)}
        assert (c, "entered") in states and (a, "published") in states
        assert len(list_results(session, task_code=task, state="not_entered")) == (
            len(drawn["entities"]) - 3
        )


def test_replies(db: Database, drawn: dict[str, Any]) -> None:
    task, uscc = drawn["task"], drawn["entities"][0]
    with pytest.raises(SupervisionError, match="no published result"), db.session() as session:
        add_reply(
            session, task_code=task, uscc=uscc, text="有异议", received_on=INSPECTED, actor=ACTOR
        )
    _to_state(db, task, uscc, "published")
    with db.session() as session:
        add_reply(
            session,
            task_code=task,
            uscc=uscc,
            text="已于10月补报年报",
            received_on=date(2025, 10, 8),
            actor=ACTOR,
        )
    with pytest.raises(SupervisionError, match="reason"), db.session() as session:
        review_reply(session, task_code=task, uscc=uscc, approve=False, reason=None, actor=ACTOR)
    with db.session() as session:
        reply = review_reply(
            session, task_code=task, uscc=uscc, approve=True, reason=None, actor=ACTOR
        )
        assert reply.state == "published"
    with pytest.raises(SupervisionError), db.session() as session:
        review_reply(session, task_code=task, uscc=uscc, approve=True, reason=None, actor=ACTOR)
    with db.session() as session:
        data = entity_results(session, task_code=task, uscc=uscc)
        assert data["replies"][0]["text"] == "已于10月补报年报"
        assert data["replies"][0]["state"] == "published"

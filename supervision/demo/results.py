"""The demo's results: some drawn entities of the demo's drawn task get results in every
state (entered, returned, approved, published, corrected, with a reply), so every later
page has something real to show. Deterministic for a given demo seed and drawn task."""

from __future__ import annotations

import random
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from supervision import clock
from supervision.checklists.answers import CONFORMS, FAILS
from supervision.checklists.spec import Checklist
from supervision.db import Database
from supervision.models import DrawPick, Task, TaskStatus
from supervision.results.checklist import shipped_checklists
from supervision.results.entry import correct_results, enter_results
from supervision.results.inputs import ItemInput
from supervision.results.replies import add_reply, review_reply
from supervision.results.service import publish_results, review_results

INSPECTOR = "demo:王检查员"
REVIEWER = "demo:李科长"
# Separated duties: one person enters, another approves, a third publishes.
PUBLISHER = "demo:张主任"
STAFF = "demo:赵科员"

# What each of the first drawn entities gets, in draw order (rank within the task).
SCENARIOS = (
    "entered",
    "returned",
    "approved",
    "published",
    "published_rectification",
    "corrected_published",
    "corrected_pending",
    "published_reply",
    "reply_pending",
)
_FINDINGS = {
    "1": "经现场检查及核查公示信息，未发现问题。",
    "B": "2024年度年报未按规定期限公示。",
    "E": "即时信息未在规定期限内公示，已当场责令改正。",
}
#: Which check point fails for each outcome (一细则): the first point supporting A/B for B,
#: the first point about immediate information (即时信息) for E; none for 1.
_FAILS_FOR = {"B": ("A", "B"), "E": ("A", "B")}
_NOTES = {"B": "现场核对公示系统，年度报告未公示", "E": "股权变更信息逾期未公示，当场责令改正"}


def _drawn_task(db: Database) -> Task | None:
    with db.session() as session:
        rows = session.exec(
            select(Task)
            .where(col(Task.status).in_([TaskStatus.DRAWN, TaskStatus.IN_PROGRESS]))
            .order_by(col(Task.drawn_at), col(Task.code))
        )
        return rows.first()


def demo_results_step(db: Database, *, as_of: date, seed: int) -> dict[str, Any]:
    """Give drawn entities of the demo's drawn task results in several states.

    Inspections are dated today, whatever ``as_of`` is: the draw happened today (the
    clock's today) and an inspection cannot precede it. Returns the state per entity.
    """
    task = _drawn_task(db)
    if task is None:
        return {"task": None, "entities": {}}
    with db.session() as session:
        picks = list(
            session.exec(
                select(DrawPick.uscc)
                .where(DrawPick.task_code == task.code)
                .order_by(col(DrawPick.stratum), col(DrawPick.rank))
            )
        )
    rng = random.Random(f"demo-results-{seed}")
    day = clock.today()
    inspected = day
    items = [i["code"] for i in task.items]
    done: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as folder:
        evidence = Path(folder) / "现场检查笔录.txt"
        evidence.write_text(
            f"现场检查笔录（演示）\n任务：{task.code}\n检查日期：{inspected}\n", encoding="utf-8"
        )
        for scenario, uscc in zip(SCENARIOS, picks, strict=False):
            _play(db, task, uscc, items, scenario, inspected, evidence, rng)
            done[uscc] = scenario
    return {"task": task.code, "entities": done}


def _answers(checklist: Checklist | None, code: str) -> dict[str, Any] | None:
    """The inspector's checklist answers for an outcome: every point 符合 for 1; for B and
    E one point 不符合 (with a note): for B the first that supports A/B, for E the last
    such point (the immediate information of NMG-SJ-01). None without a checklist."""
    if checklist is None:
        return None
    answers: dict[str, Any] = {p.id: CONFORMS for p in checklist.points}
    wanted = _FAILS_FOR.get(code)
    if wanted is not None:
        fitting = [p for p in checklist.points if (p.code, p.sub_code) == wanted]
        failed = (fitting[0] if code == "B" else fitting[-1]) if fitting else checklist.points[0]
        answers[failed.id] = {"answer": FAILS, "note": _NOTES[code]}
    return answers


def _inputs(
    task: Task,
    items: list[str],
    inspected: date,
    code: str,
    evidence: Path,
    due: date | None = None,
) -> list[ItemInput]:
    """Each item's result as the inspector enters it: by checklist (一细则) where the item has
    one, the code of 1 and A/B proposed from the answers, E chosen (a correction ordered on
    the spot); by code otherwise."""
    versions = {i["code"]: int(i["version"]) for i in task.items}
    checklists = shipped_checklists()
    out = []
    for item in items:
        answers = _answers(checklists.get((item, versions[item])), code)
        data: dict[str, Any] = {
            "item": item,
            "finding": _FINDINGS[code],
            "inspected_on": inspected,
            "evidence": [str(evidence)],
            "follow_up": "none",
        }
        if answers is None or code == "E":
            data |= {"code": "A" if code == "B" else code, "sub_code": "B" if code == "B" else None}
        if answers is not None:
            data["checklist"] = answers
        if code == "B":
            data["follow_up"] = "routine"
        if due is not None:
            data |= {"follow_up": "rectification", "due": due}
        out.append(ItemInput.model_validate(data))
    return out


def _play(
    db: Database,
    drawn: Task,
    uscc: str,
    items: list[str],
    scenario: str,
    inspected: date,
    evidence: Path,
    rng: random.Random,
) -> None:
    task = drawn.code
    code = rng.choice(("1", "1", "B"))
    due = inspected + timedelta(days=30) if scenario == "published_rectification" else None
    if due is not None:
        code = "E"
    with db.session() as session:
        enter_results(
            session,
            task_code=task,
            uscc=uscc,
            items=_inputs(drawn, items, inspected, code, evidence, due),
            actor=INSPECTOR,
        )
    if scenario == "entered":
        return
    if scenario == "returned":
        with db.session() as session:
            review_results(
                session,
                task_code=task,
                uscc=uscc,
                approve=False,
                reason="检查发现描述不完整，请补充检查过程",
                actor=REVIEWER,
            )
        return
    with db.session() as session:
        review_results(
            session, task_code=task, uscc=uscc, approve=True, reason=None, actor=REVIEWER
        )
    if scenario == "approved":
        return
    with db.session() as session:
        publish_results(session, task_code=task, uscc=uscc, actor=PUBLISHER)
    if scenario.startswith("corrected"):
        with db.session() as session:
            correct_results(
                session,
                task_code=task,
                uscc=uscc,
                items=[
                    ItemInput.model_validate(
                        {"item": i, "finding": "（更正）检查发现表述修订，补充检查过程说明。"}
                    )
                    for i in items
                ],
                reason="原公示的检查发现表述有误，予以更正",
                actor=INSPECTOR,
            )
        if scenario == "corrected_published":
            with db.session() as session:
                review_results(
                    session, task_code=task, uscc=uscc, approve=True, reason=None, actor=REVIEWER
                )
                publish_results(session, task_code=task, uscc=uscc, actor=PUBLISHER)
        return
    if scenario in ("published_reply", "reply_pending"):
        with db.session() as session:
            add_reply(
                session,
                task_code=task,
                uscc=uscc,
                text="我公司对检查结果无异议，已按要求完成整改并补报相关信息。",
                received_on=inspected,
                actor=STAFF,
            )
        if scenario == "published_reply":
            with db.session() as session:
                review_reply(
                    session, task_code=task, uscc=uscc, approve=True, reason=None, actor=REVIEWER
                )

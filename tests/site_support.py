"""A small drawn province with published and unpublished results, for the site tests.

Built through the real import path and the real commit/draw; result rows are written
as the results tables store them (published, corrected, unpublished), with replies in
both states, and a review-queue finding whose text must never reach the site.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from factories import (
    make_department,
    make_entity,
    make_inspector,
    make_item,
    make_uscc,
    write_json,
)

from supervision.db import Database
from supervision.directories.importing import import_file
from supervision.draw.commit import commit_task
from supervision.draw.plans import create_plan
from supervision.draw.service import draw_task
from supervision.draw.tasks import create_task, parse_task_input

EVIL_NAME = '<script>alert("x")</script>&"\''
FORMULA_NAME = '=HYPERLINK("http://evil.example","点我")商行'
TASK = "蒙市监抽查〔2026〕1号"
UNDRAWN = "T/2026 #2"
DRAFT = "DRAFT-SECRET-TASK"
SEED = "27182818284590452353"
SECRETS = [
    "SECRET-UNPUBLISHED-FINDING",
    "SECRET-REJECTED-REPLY",
    "SECRET-REVIEW-NOTE",
    DRAFT,
    "SECRET-APPROVED-NOT-PUBLISHED",
]
# Natural persons of the directory: none may appear unmasked anywhere on the site.
PEOPLE = ["王建国", "李秀英", "欧阳娜娜", "赵磊", "孙丽", "周杰"]
PHONE = "13912345678"
ID_NUMBER = "11010519491231002X"


def _load(db: Database, tmp_path: Path, kind: str, rows: list[dict[str, Any]]) -> None:
    import_file(db, kind=kind, path=write_json(tmp_path / f"{kind}.json", rows))


def build(db: Database, tmp_path: Path) -> dict[str, Any]:
    """Directories, one drawn task, one committed task, one draft; results in every state."""
    _load(db, tmp_path, "departments", [make_department(1, code="SJ", name="市场监督管理局")])
    _load(db, tmp_path, "items", [make_item(1, code="SJ-01", department_code="SJ")])
    entities = []
    for n in range(1, 13):
        overrides: dict[str, Any] = {
            "uscc": make_uscc(n),
            "legal_rep": PEOPLE[n % len(PEOPLE)],
            "contact_phone": PHONE,
            "risk_class": "ABCD"[n % 4],
        }
        if n == 1:
            overrides["name"] = EVIL_NAME
        if n == 2:
            overrides["name"] = FORMULA_NAME
            overrides["entity_type"] = "个体工商户"
        entities.append(make_entity(n, **overrides))
    _load(db, tmp_path, "entities", entities)
    inspectors = [
        make_inspector(n, cert_no=f"SJ{n:04d}", name=f"执法员{n}", department_code="SJ",
                       qualifications="SJ-01")
        for n in range(1, 7)
    ]  # fmt: skip
    _load(db, tmp_path, "inspectors", inspectors)
    with db.session() as session:
        create_plan(session, code="P2026", year=2026, name="2026年度抽查计划", departments=["SJ"])
        base = {
            "plan": "P2026", "name": "企业公示信息抽查", "departments": ["SJ"],
            "items": ["SJ-01"], "ratios": "1", "period_start": "2026-03-01",
            "period_end": "2026-06-30",
        }  # fmt: skip
        create_task(session, spec=parse_task_input(base | {"code": TASK}))
        create_task(session, spec=parse_task_input(base | {"code": UNDRAWN, "name": "第二批抽查",
                                                      "ratios": "0.5"}))  # fmt: skip
        create_task(session, spec=parse_task_input(base | {"code": DRAFT, "name": DRAFT}))
    with db.session() as session:
        commit_task(session, code=TASK, as_of=date(2026, 2, 20))
    with db.session() as session:
        commit_task(session, code=UNDRAWN, as_of=date(2026, 2, 20))
    with db.session() as session:
        draw_task(session, code=TASK, seed=SEED, workers=1)
    usccs = [e["uscc"] for e in entities]
    _results(db, usccs)
    _review_queue(db, usccs[0])
    return {"entities": entities, "usccs": usccs}


def _results(db: Database, usccs: list[str]) -> None:
    from supervision.models.results import InspectionResult, ResultReply

    at = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)
    common: dict[str, Any] = {
        "task_code": TASK, "item_code": "SJ-01", "inspected_on": date(2026, 5, 10),
        "inspectors": ["SJ0001", "SJ0002"], "entered_by": "录入员", "entered_at": at,
    }  # fmt: skip
    rows = [
        # Entity 1: published, then corrected (version 2 published).
        InspectionResult(**common, uscc=usccs[0], version=1, state="published", result_code="1",
                         finding="现场检查未发现问题", published_at=at, published_by="审核员"),
        InspectionResult(**common, uscc=usccs[0], version=2, state="published", result_code="A",
                         sub_code="B", finding=f"经营者{PEOPLE[1]}（电话{PHONE}，身份证"
                         f"{ID_NUMBER}）未公示年报", follow_up="rectification",
                         follow_up_status="pending", follow_up_due=date(2026, 8, 1),
                         change_reason="录入错误", corrects_version=1,
                         published_at=datetime(2026, 7, 5, 2, 0, tzinfo=UTC), published_by="审核员"),
        # Entity 2: entered, not reviewed: must not appear.
        InspectionResult(**common, uscc=usccs[1], version=1, state="entered", result_code="E",
                         finding=SECRETS[0]),
        # Entity 3: approved but not published: must not appear.
        InspectionResult(**common, uscc=usccs[2], version=1, state="approved", result_code="E",
                         finding=SECRETS[4]),
    ]  # fmt: skip
    replies = [
        ResultReply(task_code=TASK, uscc=usccs[0], seq=1, state="published",
                    text=f"我公司已补报年报，联系人{PEOPLE[1]}，电话{PHONE}",
                    received_on=date(2026, 7, 8), entered_by="x", entered_at=at),
        ResultReply(task_code=TASK, uscc=usccs[0], seq=2, state="rejected",
                    text=SECRETS[1], received_on=date(2026, 7, 9), entered_by="x",
                    entered_at=at),
    ]  # fmt: skip
    with db.session() as session:
        session.add_all(rows)
        session.add_all(replies)


def _review_queue(db: Database, uscc: str) -> None:
    from supervision.models import CheckRun, Finding

    now = datetime(2026, 7, 1, tzinfo=UTC)
    with db.session() as session:
        run = CheckRun(started_at=now, as_of=date(2026, 7, 1), pack_digest="0" * 64, mode="full")
        session.add(run)
        session.flush()
        assert run.id is not None
        session.add(
            Finding(uscc=uscc, rule_id="annual-report-missing", rule_version=1, severity="high",
                    severity_rank=1, result_code="B", first_run_id=run.id, last_run_id=run.id,
                    opened_as_of=date(2026, 7, 1), opened_at=now, note=SECRETS[2],
                    matched=[{"note": SECRETS[2]}])
        )  # fmt: skip


# --------------------------------------------------------------------------- parsing
class Page(HTMLParser):
    """A parsed page: links, script/style sources, element ids, text, the html lang."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str, dict[str, str]]] = []  # (tag, url, attrs)
        self.ids: set[str] = set()
        self.text: list[str] = []
        self.lang = ""
        self.scripts: list[dict[str, str]] = []
        self._in_script = False
        self.script_bodies: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.lang = a.get("lang", "")
        if "id" in a:
            self.ids.add(a["id"])
        for key in ("href", "src"):
            if key in a:
                self.links.append((tag, a[key], a))
        if tag == "script":
            self.scripts.append(a)
            self._in_script = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_bodies.append(data)
        else:
            self.text.append(data)


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def soup(path: Path) -> Any:
    from bs4 import BeautifulSoup

    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def text_of(node: Any) -> str:
    return re.sub(r"\s+", " ", node.get_text(" ")).strip()


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))

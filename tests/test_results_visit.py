"""一表通查: a joint task's visit is entered as one combined checklist over every department's
items, filled once; each item's code follows from its own part; each department's part is
reviewed by a reviewer of that department. Through the service, the CLI, the JSON API and
the console form; SQLite and PostgreSQL, a fresh database per test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import test_tasks_draw
import time_machine
from conftest import CliRun
from sqlmodel import col, select
from test_results import DRAW_DAY, _dump
from test_results_checklist import CHECKLIST
from test_tasks_draw import SEED, _task

from supervision.accounts.users import add_user
from supervision.db import Database
from supervision.draw.commit import commit_task
from supervision.draw.service import draw_task
from supervision.errors import SupervisionError, ValidationFailed
from supervision.models import Assignment, DrawPick
from supervision.models.results import InspectionResult
from supervision.models.trail import TrailEvent
from supervision.models.users import Role
from supervision.results.service import publish_results, review_results
from supervision.results.visit import VisitInput, enter_visit

province = test_tasks_draw.province
pytestmark = pytest.mark.usefixtures("crew")

PASSWORD = "correct horse battery"
TASK = "蒙联合抽查〔2025〕1号"

CHECKLISTS = {
    "SJ.yaml": CHECKLIST,
    "SW.yaml": """\
department: SW
checklists:
  - item: SW-01
    version: 1
    points:
      - id: W1
        content_zh: 是否按期办理纳税申报
        content_en: whether tax returns were filed on time
        method: 书面检查
        legal_basis: 《税收征收管理法》第二十五条
        evidence: 申报记录
        fails_to: {code: A, sub_code: "5"}
      - id: W2
        content_zh: 发票使用是否规范
        content_en: whether invoices are used as required
        method: 实地核查
        legal_basis: 《发票管理办法》第二十二条
        evidence: 发票存根
        fails_to: {code: A, sub_code: "5"}
""",
}


@pytest.fixture(autouse=True)
def _later() -> Any:
    with time_machine.travel("2025-10-09 10:00 +0800", tick=False) as traveller:
        yield traveller


@pytest.fixture
def checklists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "checklists"
    folder.mkdir()
    for name, text in CHECKLISTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    monkeypatch.setenv("SUPERVISION_CHECKLISTS_DIR", str(folder))
    return folder


@pytest.fixture
def joint(db: Database, province: dict[str, Any], checklists: Path) -> dict[str, Any]:
    """A joint task (SJ-01 and SW-01) drawn on 2025-09-22; console users: an SJ officer of
    the first drawn entity's team, reviewers of SJ, of SW and of no department."""
    with time_machine.travel(DRAW_DAY, tick=False):
        code = _task(db, code=TASK, departments=["SJ", "SW"], items=["SJ-01", "SW-01"])
        with db.session() as session:
            commit_task(session, code=code, disclosure="full")
        with db.session() as session:
            draw_task(session, code=code, seed=SEED, workers=1)
        with db.session() as session:
            uscc = sorted(session.exec(select(DrawPick.uscc).where(DrawPick.task_code == code)))[0]
            sj = session.exec(
                select(Assignment.cert_no)
                .where(
                    Assignment.task_code == code,
                    Assignment.uscc == uscc,
                    Assignment.department_code == "SJ",
                )
                .order_by(col(Assignment.cert_no))
            ).first()
            assert sj is not None
            add_user(session, username="sj-officer", password=PASSWORD, role=Role.INSPECTOR,
                     display_name="市场监管检查员", cert_no=sj)  # fmt: skip
            for name, department in (("sj-rev", "SJ"), ("sw-rev", "SW"), ("rev", None)):
                add_user(session, username=name, password=PASSWORD, role=Role.REVIEWER,
                         display_name=name, department_code=department)  # fmt: skip
    return {"task": code, "uscc": uscc}


def _visit(db: Database, uscc: str, actor: str = "console:sj-officer", **kw: Any) -> None:
    data = {
        "inspected_on": "2025-09-26",
        "answers": {"P1": "符合", "P2": "符合", "W1": "不符合", "W2": "符合"},
        "items": {"SW-01": {"follow_up": "notify", "follow_up_ref": "某区税务局"}},
    } | kw
    with db.session() as session:
        enter_visit(session, task_code=TASK, uscc=uscc, visit=VisitInput.model_validate(data),
                    actor=actor)  # fmt: skip


def _rows(db: Database) -> dict[str, InspectionResult]:
    """The current version of each item."""
    with db.session() as session:
        rows = session.exec(select(InspectionResult).order_by(col(InspectionResult.version)))
        return {r.item_code: r for r in rows}


def _review(db: Database, uscc: str, who: str, approve: bool = True, **kw: Any) -> list[str]:
    with db.session() as session:
        rows = review_results(session, task_code=TASK, uscc=uscc, approve=approve,
                              actor=f"console:{who}", reason=kw.pop("reason", None), **kw)  # fmt: skip
        return [r.item_code for r in rows]


def test_one_sheet_enters_every_department_part(db: Database, joint: dict[str, Any]) -> None:
    """Filled once by the SJ officer: SJ-01 follows from its part (1), SW-01 from its own
    (A/5, its finding the failed point in words); the trail records one visit."""
    _visit(db, joint["uscc"])
    rows = _rows(db)
    assert (rows["SJ-01"].result_code, rows["SJ-01"].sub_code) == ("1", None)
    assert (rows["SW-01"].result_code, rows["SW-01"].sub_code) == ("A", "5")
    assert "是否按期办理纳税申报" in rows["SW-01"].finding
    assert {r.inspected_on.isoformat() for r in rows.values()} == {"2025-09-26"}
    assert {r.state for r in rows.values()} == {"entered"}
    with db.session() as session:
        visit = session.exec(select(TrailEvent).where(TrailEvent.action == "result.visit")).one()
    assert json.loads(visit.payload)["departments"] == ["SJ", "SW"]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"answers": {"P1": "符合", "P2": "符合", "W1": "符合"}}, "W2: 未作答"),
        ({"answers": {"P1": "符合", "P2": "符合", "W1": "符合", "W2": "符合", "X9": "符合"}},
         "X9: 待录入事项"),
        ({"items": {"SW-01": {"code": "1"}}}, "结果代码不能是 1"),
        ({"items": {"SW-01": {"inspectors": ["X"]}}}, "不能单独填写 inspectors"),
        ({"items": {"SW-99": {"finding": "某某某某某"}}}, "SW-99 不属于任务"),
        ({"items": {}}, "follow_up"),  # A needs a follow-up: the code table still applies
    ],
)  # fmt: skip
def test_the_sheet_is_all_or_nothing(
    db: Database, joint: dict[str, Any], change: dict[str, Any], words: str
) -> None:
    before = _dump(db)
    with pytest.raises(ValidationFailed) as caught:
        _visit(db, joint["uscc"], **change)
    assert any(words in d for d in caught.value.details), caught.value.details
    assert _dump(db) == before


def test_grouped_answers_and_an_officer_off_the_visit(db: Database, joint: dict[str, Any]) -> None:
    """Answers may be grouped by item; an inspector not on the visit's team is refused."""
    uscc = joint["uscc"]
    with db.session() as session:
        on_visit = set(session.exec(select(Assignment.cert_no).where(
            Assignment.task_code == TASK, Assignment.uscc == uscc)))  # fmt: skip
        other = session.exec(
            select(Assignment.cert_no).where(col(Assignment.cert_no).not_in(on_visit))
        ).first()
        assert other is not None
        add_user(session, username="stranger", password=PASSWORD, role=Role.INSPECTOR,
                 display_name="别的检查员", cert_no=other)  # fmt: skip
    grouped = {"SJ-01": {"P1": "符合", "P2": "不符合"}, "SW-01": {"W1": "符合", "W2": "符合"}}
    with pytest.raises(ValidationFailed) as caught:
        _visit(db, uscc, actor="console:stranger", answers=grouped,
               items={"SJ-01": {"follow_up": "abnormal_list"}})  # fmt: skip
    assert any("不在这次联合检查的检查人员中" in d for d in caught.value.details)
    _visit(db, uscc, answers=grouped, items={"SJ-01": {"follow_up": "abnormal_list"}})
    rows = _rows(db)
    assert (rows["SJ-01"].result_code, rows["SJ-01"].sub_code, rows["SW-01"].result_code) == (
        "A", "6", "1",
    )  # fmt: skip


def test_each_department_reviews_its_part(db: Database, joint: dict[str, Any]) -> None:
    uscc = joint["uscc"]
    _visit(db, uscc)
    with pytest.raises(SupervisionError) as caught:
        _review(db, uscc, "rev")
    assert "未登记所属部门" in caught.value.zh and "no department" in caught.value.en
    with pytest.raises(SupervisionError) as caught:
        _review(db, uscc, "sj-rev", items=["SW-01"])
    assert "SW-01（SW）" in caught.value.zh
    assert _review(db, uscc, "sj-rev") == ["SJ-01"]
    rows = _rows(db)
    assert (rows["SJ-01"].state, rows["SW-01"].state) == ("approved", "entered")
    with db.session() as session, pytest.raises(SupervisionError):
        publish_results(session, task_code=TASK, uscc=uscc, actor="console:sj-rev")
    # SW returns its part; the next sheet covers only SW's items.
    assert _review(db, uscc, "sw-rev", approve=False, reason="发票情况需补充") == ["SW-01"]
    with pytest.raises(ValidationFailed) as caught:
        _visit(db, uscc)
    assert any("P1: 待录入事项（SW-01）" in d for d in caught.value.details)
    _visit(db, uscc, answers={"W1": "不符合", "W2": "不符合"})
    rows = _rows(db)
    assert (rows["SW-01"].version, rows["SW-01"].state, rows["SJ-01"].version) == (2, "entered", 1)
    assert _review(db, uscc, "sw-rev") == ["SW-01"]
    with db.session() as session:
        done = publish_results(session, task_code=TASK, uscc=uscc, actor="console:sw-rev")
    assert sorted(p["item"] for p in done["published"]) == ["SJ-01", "SW-01"]


def test_the_command_line(cli: CliRun, db: Database, joint: dict[str, Any], tmp_path: Path) -> None:
    """`result enter --checklist SHEET` without --item is the combined sheet; `result review`
    by each department's reviewer approves its part; `user add --department`."""
    uscc = joint["uscc"]
    sheet = tmp_path / "visit.yaml"
    sheet.write_text(
        "answers:\n  P1: 符合\n  P2: 符合\n  W1: 符合\n  W2: 不符合\n"
        "items:\n  SW-01: {follow_up: routine}\n",
        encoding="utf-8",
    )
    missing = cli("result", "enter", TASK, uscc, "--checklist", sheet, "--as", "sj-officer",
                  expect=1)  # fmt: skip
    assert "inspected_on" in missing.stderr and "Traceback" not in missing.output
    done = cli("result", "enter", TASK, uscc, "--checklist", sheet, "--inspected-on",
               "2025-09-26", "--as", "sj-officer")  # fmt: skip
    assert "SW-01" in done.stdout and "A/5" in done.stdout
    refused = cli("result", "review", TASK, uscc, "--approve", "--as", "rev", expect=1)
    assert "未登记所属部门" in refused.stderr
    cli("user", "add", "sw-rev2", "--role", "reviewer", "--department", "SW",
        "--password-stdin", "--as", "cli-admin", input=PASSWORD + "\n")  # fmt: skip
    bad = cli("user", "add", "x-rev", "--role", "reviewer", "--department", "NOPE",
              "--password-stdin", "--as", "cli-admin", input=PASSWORD + "\n", expect=1)  # fmt: skip
    assert "未知部门 NOPE" in bad.stderr
    approved = cli("result", "review", TASK, uscc, "--approve", "--as", "sw-rev2")
    assert "SW-01" in approved.stdout and "SJ-01" not in approved.stdout
    rows = _rows(db)
    assert (rows["SJ-01"].state, rows["SW-01"].state) == ("entered", "approved")


def test_the_api_and_the_console_form(db: Database, joint: dict[str, Any]) -> None:
    import httpx
    from test_console_support import ConsoleServer, csrf_of, sign_in, soup

    uscc = joint["uscc"]
    with ConsoleServer(db) as url:
        with httpx.Client(base_url=url, timeout=30) as page:
            sign_in(page, "sj-officer", PASSWORD)
            entry = page.get("/inspector/result", params={"task": TASK, "uscc": uscc})
            assert soup(entry).select_one("p.visit-link a") is not None
            form = page.get("/inspector/visit", params={"task": TASK, "uscc": uscc})
            doc = soup(form)
            parts = doc.select("fieldset.part")
            assert [p["data-department"] for p in parts] == ["SJ", "SW"]
            assert [p["data-point"] for p in doc.select("div.point")] == ["P1", "P2", "W1", "W2"]
            data = {"task": TASK, "uscc": uscc, "csrf_token": csrf_of(form),
                    "inspected_on": "2025-09-26", "a|SJ-01|P1": "符合", "a|SJ-01|P2": "不符合",
                    "n|SJ-01|P2": "住所无人", "follow_up|SJ-01": "abnormal_list",
                    "a|SW-01|W1": "符合", "follow_up|SW-01": "none"}  # fmt: skip
            refused = page.post("/inspector/visit", data=data)
            assert "W2: 未作答" in soup(refused).get_text(" ")
            assert _rows(db) == {}
            page.post("/inspector/visit", data=data | {"a|SW-01|W2": "不涉及"})
        rows = _rows(db)
        assert (rows["SJ-01"].result_code, rows["SJ-01"].sub_code) == ("A", "6")
        assert rows["SW-01"].result_code == "1"
        with httpx.Client(base_url=url, timeout=30) as api:
            token = api.post("/api/session", json={"username": "sw-rev", "password": PASSWORD})
            headers = {"Authorization": f"Bearer {token.json()['token']}"}
            answer = api.post("/api/results/review", headers=headers,
                              json={"task": TASK, "uscc": uscc, "approve": True})  # fmt: skip
            assert answer.status_code == 200, answer.text
        rows = _rows(db)
        assert (rows["SJ-01"].state, rows["SW-01"].state) == ("entered", "approved")
        # The review page's form: a reviewer without a department is refused, SJ's approves.
        for who, refused in (("rev", True), ("sj-rev", False)):
            with httpx.Client(base_url=url, timeout=30) as page:
                sign_in(page, who, PASSWORD)
                form = page.get("/results/entity", params={"task": TASK, "uscc": uscc})
                shown = page.post("/results/review", data={
                    "task": TASK, "uscc": uscc, "decision": "approve",
                    "csrf_token": csrf_of(form)})  # fmt: skip
                assert ("未登记所属部门" in soup(shown).get_text(" ")) == refused
    rows = _rows(db)
    assert (rows["SJ-01"].state, rows["SW-01"].state) == ("approved", "approved")


def test_the_api_enters_a_visit(db: Database, joint: dict[str, Any]) -> None:
    import httpx
    from test_console_support import ConsoleServer

    uscc = joint["uscc"]
    body = {"task": TASK, "uscc": uscc, "inspected_on": "2025-09-26",
            "answers": {"P1": "符合", "P2": "符合", "W1": "符合"}}  # fmt: skip
    with ConsoleServer(db) as url, httpx.Client(base_url=url, timeout=30) as api:
        token = api.post("/api/session", json={"username": "sj-officer", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['token']}"}
        refused = api.post("/api/inspector/visit", json=body, headers=headers)
        assert refused.status_code == 400, refused.text
        assert any("W2: 未作答" in d for d in refused.json()["error"]["details"])
        files = body | {"items": {"SJ-01": {"evidence": ["/etc/passwd"]}}}
        refused = api.post("/api/inspector/visit", json=files, headers=headers)
        assert refused.status_code == 400 and "evidence" in refused.json()["error"]["en"]
        body["answers"] |= {"W2": "符合"}
        done = api.post("/api/inspector/visit", json=body, headers=headers)
        assert done.status_code == 200, done.text
    assert {r.result_code for r in _rows(db).values()} == {"1"}


def test_the_combined_sheet_is_filled_on_a_phone(
    browser: Any, db: Database, joint: dict[str, Any], artifacts: Path
) -> None:
    """Real Chromium at 390 px: every department's points fit the screen; one submission
    enters both departments' items."""
    from urllib.parse import quote

    from test_console_support import ConsoleServer

    uscc = joint["uscc"]
    with ConsoleServer(db) as base:
        context = browser.new_context(viewport={"width": 390, "height": 844},
                                      java_script_enabled=False)  # fmt: skip
        page = context.new_page()
        page.goto(f"{base}/login")
        page.fill("#username", "sj-officer")
        page.fill("#password", PASSWORD)
        page.click("form.login button[type=submit]")
        page.wait_for_load_state()
        page.goto(f"{base}/inspector/visit?task={quote(TASK)}&uscc={uscc}")
        points = page.locator("fieldset.part div.point")
        assert points.count() == 4
        for i in range(4):
            box = points.nth(i).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
        page.fill("#visit-date", "2025-09-26")
        for item, point, answer in (("SJ-01", "P1", "符合"), ("SJ-01", "P2", "符合"),
                                    ("SW-01", "W1", "不符合"), ("SW-01", "W2", "符合")):  # fmt: skip
            page.check(f"input[name='a|{item}|{point}'][value='{answer}']")
        page.select_option("#fu-SW-01", "routine")
        page.click("form.visit button[type=submit]")
        page.wait_for_load_state()
        assert "检查结果已录入" in page.locator("p.notice").inner_text()
        page.screenshot(path=str(artifacts / "console-visit-390.png"), full_page=True)
        context.close()
    rows = _rows(db)
    assert (rows["SJ-01"].result_code, rows["SW-01"].result_code, rows["SW-01"].sub_code) == (
        "1", "A", "5",
    )  # fmt: skip


def test_an_admin_gives_a_reviewer_a_department_in_the_console(
    db: Database, joint: dict[str, Any]
) -> None:
    """The users page and POST /api/users take the department (checked against the
    directory); GET /api/users shows it."""
    import httpx
    from test_console_support import ConsoleServer, csrf_of, sign_in, soup

    with db.session() as session:
        add_user(session, username="boss", password=PASSWORD, role=Role.ADMIN,
                 display_name="管理员")  # fmt: skip
    with ConsoleServer(db) as url:
        with httpx.Client(base_url=url, timeout=30) as page:
            sign_in(page, "boss", PASSWORD)
            form = page.get("/users")
            assert soup(form).select_one("input#u-dept[name=department_code]") is not None
            page.post("/users", data={"username": "sj-rev2", "password": PASSWORD,
                                      "role": "reviewer", "department_code": "SJ",
                                      "csrf_token": csrf_of(form)})  # fmt: skip
        with httpx.Client(base_url=url, timeout=30) as api:
            token = api.post("/api/session", json={"username": "boss", "password": PASSWORD})
            headers = {"Authorization": f"Bearer {token.json()['token']}"}
            body = {"username": "sw-rev3", "password": PASSWORD, "role": "reviewer",
                    "department_code": "SW"}  # fmt: skip
            assert api.post("/api/users", json=body, headers=headers).status_code == 200
            bad = api.post("/api/users", json=body | {"username": "x", "department_code": "NO"},
                           headers=headers)  # fmt: skip
            assert bad.status_code == 400 and any(
                "未知部门 NO" in d for d in bad.json()["error"]["details"]
            )
            shown = {u["username"]: u["department"] for u in
                     api.get("/api/users", headers=headers).json()}  # fmt: skip
    assert (shown["sj-rev2"], shown["sw-rev3"], shown["boss"]) == ("SJ", "SW", None)
    _visit(db, joint["uscc"])
    assert _review(db, joint["uscc"], "sj-rev2") == ["SJ-01"]

"""Results entered with checklist answers: the code is proposed from the answers, a code
that contradicts them is refused (nothing written), and the answers are kept with the version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlmodel import select
from test_results import ITEM, drawn  # noqa: F401  (fixtures)
from test_results_cli import users  # noqa: F401  (fixture)
from test_tasks_draw import province  # noqa: F401  (fixture)

from supervision.db import Database
from supervision.models import InspectionResult

CHECKLIST = """\
department: SJ
checklists:
  - item: SJ-01
    version: 1
    points:
      - id: P1
        content_zh: 是否按时公示年度报告
        content_en: whether the annual report was published on time
        method: 书面检查
        legal_basis: 《企业信息公示暂行条例》第八条
        evidence: 公示页截图
        fails_to: {code: A, sub_code: B}
      - id: P2
        content_zh: 能否在登记住所联系到企业
        content_en: whether the company is reached at its registered address
        method: 实地核查
        legal_basis: 《企业信息公示暂行条例》第十七条
        evidence: 现场照片
        fails_to: {code: A, sub_code: "6"}
"""


@pytest.fixture(autouse=True)
def _later(time_machine: Any) -> None:
    time_machine.move_to("2025-10-09 10:00 +0800", tick=False)


@pytest.fixture
def checklists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "checklists"
    folder.mkdir()
    (folder / "SJ.yaml").write_text(CHECKLIST, encoding="utf-8")
    monkeypatch.setenv("SUPERVISION_CHECKLISTS_DIR", str(folder))
    return folder


def _answers(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "answers.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _rows(db: Database) -> list[InspectionResult]:
    with db.session() as session:
        return list(session.exec(select(InspectionResult)).all())


def test_code_is_proposed_from_the_answers_and_kept(
    cli: Any, db: Database, drawn: dict[str, Any], users: dict[str, str],  # noqa: F811
    checklists: Path, tmp_path: Path,
) -> None:  # fmt: skip
    task, a = drawn["task"], drawn["entities"][0]
    answers = _answers(
        tmp_path, "P1: 符合\nP2: {answer: 不符合, note: 住所无人, evidence: [p.jpg]}\n"
    )
    cli("result", "enter", task, a, "--item", ITEM, "--checklist", answers,
        "--finding", "登记住所无法联系", "--inspected-on", "2025-09-26",
        "--follow-up", "abnormal_list", "--as", "wang")  # fmt: skip
    (row,) = _rows(db)
    assert (row.result_code, row.sub_code) == ("A", "6")
    assert row.checklist is not None
    assert [(x["point"], x["answer"]) for x in row.checklist["answers"]] == [
        ("P1", "符合"), ("P2", "不符合"),
    ]  # fmt: skip
    shown = json.loads(cli("result", "list", task, "--json").stdout)
    assert shown[0]["result_code"] == "A"


@pytest.mark.parametrize(
    ("answers", "code", "words"),
    [
        ("P1: 符合\nP2: 不符合\n", ["--code", "1"], "不符合项（P2），结果代码不能是 1"),
        ("P1: 符合\nP2: 不涉及\n", ["--code", "A", "--sub-code", "B"], "没有不符合项"),
        ("P1: 不符合\nP2: 符合\n", ["--code", "A", "--sub-code", "6"], "子代码 6 与不符合项不符"),
        ("P1: 符合\n", ["--code", "1"], "P2: 未作答"),
        ("P1: 符合\nP2: 也许\n", ["--code", "1"], "P2: 答案 '也许'"),
    ],
)
def test_a_code_contradicting_the_answers_is_refused(
    cli: Any, db: Database, drawn: dict[str, Any], users: dict[str, str],  # noqa: F811
    checklists: Path, tmp_path: Path, answers: str, code: list[str], words: str,
) -> None:  # fmt: skip
    task, a = drawn["task"], drawn["entities"][0]
    result = cli("result", "enter", task, a, "--item", ITEM, "--checklist",
                 _answers(tmp_path, answers), *code, "--finding", "检查发现若干问题",
                 "--inspected-on", "2025-09-26", "--follow-up", "abnormal_list", "--as", "wang",
                 expect=1)  # fmt: skip
    assert words in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert _rows(db) == []


def test_an_item_without_a_checklist_is_named(
    cli: Any, db: Database, drawn: dict[str, Any], users: dict[str, str],  # noqa: F811
    checklists: Path, tmp_path: Path,
) -> None:  # fmt: skip
    (checklists / "SJ.yaml").write_text(CHECKLIST.replace("SJ-01", "SJ-99"), encoding="utf-8")
    task, a = drawn["task"], drawn["entities"][0]
    result = cli("result", "enter", task, a, "--item", ITEM, "--checklist",
                 _answers(tmp_path, "P1: 符合\nP2: 符合\n"), "--inspected-on", "2025-09-26",
                 "--as", "wang", expect=1)  # fmt: skip
    assert "没有检查实施细则" in result.stderr
    assert _rows(db) == []


def test_an_unsafe_answers_file_is_refused(
    cli: Any, db: Database, drawn: dict[str, Any], users: dict[str, str],  # noqa: F811
    checklists: Path, tmp_path: Path,
) -> None:  # fmt: skip
    task, a = drawn["task"], drawn["entities"][0]
    path = _answers(tmp_path, "P1: &x 符合\nP2: *x\n")
    result = cli("result", "enter", task, a, "--item", ITEM, "--checklist", path,
                 "--inspected-on", "2025-09-26", "--as", "wang", expect=1)  # fmt: skip
    assert "answers.yaml" in result.stderr and "别名" in result.stderr
    assert _rows(db) == []


def test_the_api_and_a_from_file_take_answers_too(
    cli: Any, db: Database, drawn: dict[str, Any], users: dict[str, str],  # noqa: F811
    checklists: Path, tmp_path: Path,
) -> None:  # fmt: skip
    import httpx
    from test_console_support import ConsoleServer

    task, a = drawn["task"], drawn["entities"][0]
    with ConsoleServer(db) as url, httpx.Client(base_url=url, timeout=30) as client:
        token = client.post(
            "/api/session", json={"username": "wang", "password": "correct horse battery"}
        )
        headers = {"Authorization": f"Bearer {token.json()['token']}"}
        item = {"item": ITEM, "inspected_on": "2025-09-26", "finding": "年报未公示，已责令",
                "follow_up": "abnormal_list", "checklist": {"P1": "不符合", "P2": "符合"}}  # fmt: skip
        refused = client.post(
            "/api/inspector/results",
            json={"task": task, "uscc": a, "items": [item | {"code": "1"}]},
            headers=headers,
        )
        assert refused.status_code == 400, refused.text
        details = refused.json()["error"]["details"]
        assert any("结果代码不能是 1" in d for d in details), details
        assert _rows(db) == []
        proposed = client.post(
            "/api/inspector/results", json={"task": task, "uscc": a, "items": [item]},
            headers=headers,
        )  # fmt: skip
        assert proposed.is_success, proposed.text
    (row,) = _rows(db)
    assert (row.result_code, row.sub_code) == ("A", "B")
    # a --from file: checklist: per item, a contradicting code refused
    b = drawn["entities"][1]
    file = tmp_path / "results.yaml"
    file.write_text(
        f"inspected_on: 2025-09-26\nitems:\n  - item: {ITEM}\n    code: A\n    sub_code: B\n"
        "    finding: 年报未公示情况\n    follow_up: abnormal_list\n"
        "    checklist: {P1: 符合, P2: 符合}\n",
        encoding="utf-8",
    )
    result = cli("result", "enter", task, b, "--from", file, "--as", "zhang", expect=1)
    assert "没有不符合项" in result.stderr


def test_the_console_form_is_the_checklist(
    db: Database, drawn: dict[str, Any], users: dict[str, str],  # noqa: F811
    checklists: Path,
) -> None:  # fmt: skip
    import httpx
    from test_console_support import ConsoleServer, csrf_of, sign_in, soup

    task, a = drawn["task"], drawn["entities"][0]
    with ConsoleServer(db) as url, httpx.Client(base_url=url, timeout=30) as page:
        sign_in(page, "wang", "correct horse battery")
        form = page.get("/inspector/result", params={"task": task, "uscc": a})
        doc = soup(form)
        points = doc.select("fieldset.checklist div.point")
        assert [p["data-point"] for p in points] == ["P1", "P2"]
        radios = points[0].select("input[type=radio]")
        assert [r["value"] for r in radios] == ["符合", "不符合", "不涉及"]
        base = {"task": task, "uscc": a, "csrf_token": csrf_of(form), "item_0": ITEM,
                "inspected_on_0": "2025-09-26", "finding_0": "登记住所无法联系",
                "follow_up_0": "abnormal_list", "check_0_P1": "符合", "check_0_P2": "不符合",
                "checknote_0_P2": "住所无人"}  # fmt: skip
        refused = page.post("/inspector/result", data=base | {"code_0": "1"})
        assert "结果代码不能是 1" in soup(refused).get_text(" ")
        assert _rows(db) == []
        page.post("/inspector/result", data=base)
    (row,) = _rows(db)
    assert (row.result_code, row.sub_code) == ("A", "6")
    assert row.checklist is not None
    assert row.checklist["answers"][1] == {
        "point": "P2", "answer": "不符合", "note": "住所无人", "evidence": [],
        "content_zh": "能否在登记住所联系到企业",
        "content_en": "whether the company is reached at its registered address",
    }  # fmt: skip


def test_a_checklist_is_filled_on_a_phone(
    browser: Any, db: Database, drawn: dict[str, Any], users: dict[str, str],  # noqa: F811
    checklists: Path, artifacts: Path,
) -> None:  # fmt: skip
    """Real Chromium at 390 px wide: the points fit the screen, answering them enters A/6."""
    from test_console_support import ConsoleServer

    task, a = drawn["task"], drawn["entities"][0]
    with ConsoleServer(db) as base:
        context = browser.new_context(viewport={"width": 390, "height": 844},
                                      java_script_enabled=False)  # fmt: skip
        page = context.new_page()
        page.goto(f"{base}/login")
        page.fill("#username", "wang")
        page.fill("#password", "correct horse battery")
        page.click("form.login button[type=submit]")
        page.wait_for_load_state()
        page.goto(f"{base}/inspector/result?task={quote(task)}&uscc={a}")
        points = page.locator("fieldset.checklist div.point")
        assert points.count() == 2
        for i in range(2):
            box = points.nth(i).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
        page.check("input[name='check_0_P1'][value='符合']")
        page.check("input[name='check_0_P2'][value='不符合']")
        page.fill("#checknote-0-P2", "住所无人")
        page.fill("#finding-0", "登记住所无法联系")
        page.fill("#date-0", "2025-09-26")
        page.select_option("#fu-0", "abnormal_list")
        page.click("form.enter-results button[type=submit]")
        page.wait_for_load_state()
        assert "检查结果已录入" in page.locator("p.notice").inner_text()
        path = artifacts / "console-checklist-390.png"
        page.screenshot(path=str(path), full_page=True)
        context.close()
    (row,) = _rows(db)
    assert (row.result_code, row.sub_code) == ("A", "6")

"""一细则: the shipped checklists cover every demo item; lint names the file, line and key
of each kind of broken checklist; answers propose a code and refuse a contradicting one."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CliRun
from factories import make_department, make_item, write_csv
from hypothesis import given
from hypothesis import strategies as st

from supervision.checklists.answers import (
    ANSWER_VALUES,
    FAILS,
    NOT_APPLICABLE,
    Answer,
    AnswerSheet,
    contradictions,
    parse_answers,
    propose_code,
)
from supervision.checklists.spec import (
    ITEM_LIST,
    Checklist,
    ChecklistError,
    ItemInForce,
    lint_checklists,
    load_checklists,
)
from supervision.cli import main
from supervision.demo.catalog import ITEMS
from supervision.errors import SupervisionError
from supervision.reference.result_codes import MAIN_CODES, SUB_CODES

ROOT = Path(__file__).resolve().parent.parent

GOOD = """\
department: D001
checklists:
  - item: NM-SC-001
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
        content_zh: 是否悬挂营业执照
        content_en: whether the licence is displayed
        method: 实地核查
        legal_basis: 《市场主体登记管理条例》第三十六条
        evidence: 现场照片
        fails_to: {code: E}
"""

ITEM = ItemInForce("NM-SC-001", 1, "D001", dt.date(2025, 1, 1), None)


def _checklist_from(text: str) -> Checklist:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "D001.yaml").write_text(text, encoding="utf-8")
        return load_checklists(folder)[("NM-SC-001", 1)]


_HYPO_CHECKLIST = _checklist_from(GOOD)


def line_of(text: str, marker: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if marker in line)


def write(tmp_path: Path, text: str, name: str = "D001.yaml") -> Path:
    folder = tmp_path / "checklists"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def only_checklist(tmp_path: Path) -> Checklist:
    return load_checklists(write(tmp_path, GOOD))[("NM-SC-001", 1)]


# ---------------------------------------------------------------- the shipped folder
def test_shipped_checklists_cover_every_demo_item() -> None:
    items = [ItemInForce(i.code, 1, i.department_code) for i in ITEMS]
    report = lint_checklists(items=items, day=dt.date(2026, 6, 1))
    assert report.ok, [str(i) for i in report.issues]
    assert {c.item for c in report.checklists} == {i.code for i in ITEMS}
    # one file per department, each checklist in its own department's file
    assert sorted(report.files) == sorted({f"{i.department_code}.yaml" for i in ITEMS})
    for checklist in report.checklists:
        assert checklist.file == f"{checklist.department}.yaml"


def test_shipped_checklists_let_every_item_fail_and_pass() -> None:
    """A demo inspector can reach both a clean result and a problem from each checklist."""
    for checklist in load_checklists().values():
        good = AnswerSheet(checklist.item, 1, tuple(_answers(checklist, "符合")))
        assert propose_code(good, checklist) == ("1", None)
        bad = AnswerSheet(checklist.item, 1, tuple(_answers(checklist, FAILS)))
        code, sub = propose_code(bad, checklist)
        assert code in ("A", "E") and not contradictions(bad, checklist, code, sub)


def _answers(checklist: Checklist, value: str) -> list[Answer]:
    return [Answer(p.id, value) for p in checklist.points]


# ---------------------------------------------------------------- lint: each broken kind
BROKEN = [
    # (name, replace this, with that, marker of the reported line, key)
    ("unknown key", "evidence: 现场照片", "evidence: 现场照片\n        colour: red",
     "colour: red", "checklists[0].points[1].colour"),
    ("bad method", "method: 实地核查", "method: 电话询问", "method: 电话询问",
     "checklists[0].points[1].method"),
    ("code reporting no problem", "fails_to: {code: E}", "fails_to: {code: '1'}",
     "fails_to: {code: '1'}", "checklists[0].points[1].fails_to.code"),
    ("unknown code", "fails_to: {code: E}", "fails_to: {code: Z}", "fails_to: {code: Z}",
     "checklists[0].points[1].fails_to.code"),
    ("A without sub-code", "fails_to: {code: A, sub_code: B}", "fails_to: {code: A}",
     "fails_to: {code: A}", "checklists[0].points[0].fails_to.sub_code"),
    ("unknown sub-code", "sub_code: B}", "sub_code: Q}", "sub_code: Q}",
     "checklists[0].points[0].fails_to.sub_code"),
    ("sub-code on E", "fails_to: {code: E}", "fails_to: {code: E, sub_code: B}",
     "fails_to: {code: E, sub_code: B}", "checklists[0].points[1].fails_to.sub_code"),
    ("duplicate point id", "id: P2", "id: P1 ", "id: P1 ", "checklists[0].points[1].id"),
    ("blank content", "content_zh: 是否悬挂营业执照", "content_zh: ''", "content_zh: ''",
     "checklists[0].points[1].content_zh"),
    ("version not a number", "version: 1", "version: one", "version: one",
     "checklists[0].version"),
    ("duplicate key", "    version: 1\n", "    version: 1\n    version: 2\n", "version: 2",
     "checklists[0].version"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "marker", "key"), [b[1:] for b in BROKEN],
                         ids=[b[0] for b in BROKEN])  # fmt: skip
def test_lint_names_file_line_and_key(
    tmp_path: Path, old: str, new: str, marker: str, key: str
) -> None:
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    report = lint_checklists(write(tmp_path, text))
    assert not report.ok
    expected_line = line_of(text, marker)
    found = [(i.file, i.line, i.key) for i in report.issues]
    assert ("D001.yaml", expected_line, key) in found, found
    for issue in report.issues:
        assert issue.zh and issue.en and issue.zh != issue.en


def test_lint_good_file_is_ok(tmp_path: Path) -> None:
    report = lint_checklists(write(tmp_path, GOOD), items=[ITEM], day=dt.date(2026, 1, 1))
    assert report.ok, [str(i) for i in report.issues]
    (checklist,) = report.checklists
    assert [p.id for p in checklist.points] == ["P1", "P2"]
    assert (checklist.points[0].code, checklist.points[0].sub_code) == ("A", "B")
    assert (checklist.points[1].code, checklist.points[1].sub_code) == ("E", None)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("department: D001\nchecklists: &a [*a]\n", 2, "别名"),
        ("department: D001\nchecklists: [\n", 3, "YAML"),
        ("- just\n- a list\n", 1, "映射"),
    ],
    ids=["alias", "syntax", "not a mapping"],
)
def test_lint_refuses_unsafe_or_broken_yaml(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    (issue, *_) = lint_checklists(write(tmp_path, text)).issues
    assert (issue.file, issue.line) == ("D001.yaml", line)
    assert words in issue.zh


def test_lint_refuses_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    folder = tmp_path / "checklists"
    folder.mkdir()
    (folder / "D001.yaml").write_bytes(GOOD.encode("gbk"))
    (issue,) = lint_checklists(folder).issues
    assert issue.file == "D001.yaml" and "UTF-8" in issue.zh


def test_lint_duplicate_checklist_across_files(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    folder = write(tmp_path, GOOD, "D001-copy.yaml")
    issues = lint_checklists(folder).issues
    # files are read in name order: D001-copy.yaml first, so D001.yaml holds the duplicate
    assert [(i.file, i.line, i.key) for i in issues] == [
        ("D001.yaml", line_of(GOOD, "- item:"), "item")
    ]
    assert "D001-copy.yaml" in issues[0].zh


def test_lint_empty_or_missing_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert "没有细则文件" in lint_checklists(tmp_path / "empty").issues[0].zh
    assert "不存在" in lint_checklists(tmp_path / "nowhere").issues[0].zh


# ---------------------------------------------------------------- lint against the item list
def test_every_item_in_force_needs_a_checklist(tmp_path: Path) -> None:
    folder = write(tmp_path, GOOD)
    missing = ItemInForce("NM-SC-002", 1, "D001", dt.date(2025, 1, 1), None)
    expired = ItemInForce("NM-SC-003", 1, "D001", dt.date(2020, 1, 1), dt.date(2024, 12, 31))
    future = ItemInForce("NM-SC-004", 1, "D001", dt.date(2027, 1, 1), None)
    report = lint_checklists(
        folder, items=[ITEM, missing, expired, future], day=dt.date(2026, 1, 1)
    )
    assert [(i.file, i.key) for i in report.issues] == [(ITEM_LIST, "NM-SC-002")]
    assert "没有检查实施细则" in report.issues[0].zh


def test_checklist_must_name_a_listed_item_of_its_department(tmp_path: Path) -> None:
    folder = write(tmp_path, GOOD)
    other = ItemInForce("NM-SC-001", 1, "D002", dt.date(2025, 1, 1), None)
    (issue,) = lint_checklists(folder, items=[other], day=dt.date(2026, 1, 1)).issues
    assert (issue.file, issue.line, issue.key) == ("D001.yaml", line_of(GOOD, "- item:"), "item")
    assert "D002" in issue.zh
    v2 = ItemInForce("NM-SC-001", 2, "D001", dt.date(2025, 1, 1), None)
    issues = lint_checklists(folder, items=[v2], day=dt.date(2026, 1, 1)).issues
    assert {i.key for i in issues} == {"NM-SC-001", "item"}
    assert any("事项清单中没有事项 NM-SC-001 第 1 版" in i.zh for i in issues)


def test_load_refuses_with_every_problem(tmp_path: Path) -> None:
    folder = write(tmp_path, GOOD.replace("method: 实地核查", "method: 电话"))
    with pytest.raises(ChecklistError) as caught:
        load_checklists(folder)
    assert any("D001.yaml:" in d and "method" in d for d in caught.value.details)


# ---------------------------------------------------------------- answers
def test_answers_read_short_and_long_forms(tmp_path: Path) -> None:
    checklist = only_checklist(tmp_path)
    sheet = parse_answers(
        {"answers": {"P1": "符合", "P2": {"answer": "不符合", "note": "未悬挂",
                                          "evidence": "p2.jpg"}}},
        checklist,
    )  # fmt: skip
    assert [(a.point, a.value, a.note, a.evidence) for a in sheet.answers] == [
        ("P1", "符合", "", ()),
        ("P2", "不符合", "未悬挂", ("p2.jpg",)),
    ]
    assert propose_code(sheet, checklist) == ("E", None)


@pytest.mark.parametrize(
    ("answers", "words"),
    [
        ({"P1": "符合"}, "P2: 未作答"),
        ({"P1": "符合", "P2": "符合", "P9": "符合"}, "P9: 细则 NM-SC-001 中没有"),
        ({"P1": "还行", "P2": "符合"}, "P1: 答案 '还行'"),
        ({"P1": {"answer": "符合", "photo": "x"}, "P2": "符合"}, "P1: 未知的键 photo"),
        ({"P1": {"answer": "符合", "evidence": [1]}, "P2": "符合"}, "P1: evidence"),
        (["P1", "P2"], "映射"),
    ],
)
def test_bad_answers_name_the_point(tmp_path: Path, answers: object, words: str) -> None:
    with pytest.raises(SupervisionError) as caught:
        parse_answers(answers, only_checklist(tmp_path), source="a.yaml")
    assert "a.yaml" in caught.value.zh
    assert any(words in d for d in [*caught.value.details, caught.value.zh]), caught.value.details


def test_contradicting_codes_are_named(tmp_path: Path) -> None:
    checklist = only_checklist(tmp_path)
    failed = parse_answers({"P1": "不符合", "P2": "符合"}, checklist)
    clean = parse_answers({"P1": "符合", "P2": "不涉及"}, checklist)
    assert propose_code(failed, checklist) == ("A", "B")
    assert "P1" in contradictions(failed, checklist, "1", None)[0][0]
    assert contradictions(failed, checklist, "A", "C")  # C is not what P1 supports
    assert not contradictions(failed, checklist, "A", "B")
    assert "没有不符合项" in contradictions(clean, checklist, "A", "B")[0][0]
    assert contradictions(clean, checklist, "E", None)
    assert not contradictions(clean, checklist, "1", None)
    nothing = parse_answers({"P1": "不涉及", "P2": "n/a"}, checklist)
    assert propose_code(nothing, checklist) == ("F", None)


@given(st.lists(st.sampled_from(ANSWER_VALUES), min_size=2, max_size=2))
def test_the_proposed_code_never_contradicts_the_answers(values: list[str]) -> None:
    checklist = _HYPO_CHECKLIST
    sheet = parse_answers(dict(zip(["P1", "P2"], values, strict=True)), checklist)
    code, sub = propose_code(sheet, checklist)
    assert not contradictions(sheet, checklist, code, sub)
    failed = FAILS in values
    for other in MAIN_CODES:
        subs = [None] if other != "A" else list(SUB_CODES)
        for s in subs:
            problems = contradictions(sheet, checklist, other, s)
            if other in ("1", "F") and failed:
                assert problems
            if other in ("A", "E") and not failed:
                assert problems
    if all(v == NOT_APPLICABLE for v in values):
        assert code == "F"


# ---------------------------------------------------------------- the command
def test_cli_lint_json_and_exit_code(tmp_path: Path) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'none.db'}"
    good = runner.invoke(main, ["--db", db, "checklists", "lint", "--json"])
    assert good.exit_code == 0, good.output
    out = json.loads(good.stdout)
    assert out["ok"] and out["checklists"] == len(ITEMS) and not out["checked_against_items"]
    assert not (tmp_path / "none.db").exists(), "lint must not create a database"
    bad = write(tmp_path, GOOD.replace("fails_to: {code: E}", "fails_to: {code: '1'}"))
    result = runner.invoke(main, ["--db", db, "checklists", "lint", str(bad)])
    assert result.exit_code == 1
    assert f"D001.yaml:{line_of(GOOD, 'fails_to: {code: E}')}" in result.stdout
    assert "traceback" not in result.output.lower()


def test_cli_lint_against_the_item_list(cli: CliRun, crew: dict[str, str], tmp_path: Path) -> None:
    admin = ("--as", crew["admin"])
    cli("import", "departments", write_csv(tmp_path / "d.csv", [make_department(1)]), *admin)
    items = [make_item(1), make_item(2), make_item(3, effective_to="2025-06-30",
                                                    effective_from="2025-01-01")]  # fmt: skip
    cli("import", "items", write_csv(tmp_path / "i.csv", items), *admin)
    folder = write(tmp_path, GOOD)
    out = json.loads(cli("checklists", "lint", str(folder), "--json", expect=1).stdout)
    assert out["checked_against_items"]
    # NM-SC-002 is in force without a checklist; NM-SC-003 expired and needs none
    assert [(i["file"], i["key"]) for i in out["issues"]] == [(ITEM_LIST, "NM-SC-002")]
    ok = json.loads(cli("checklists", "lint", str(folder), "--no-items", "--json").stdout)
    assert ok["ok"] and not ok["checked_against_items"]

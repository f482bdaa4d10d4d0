"""Task codes are forgiving: other brackets and spaces find the task; an unknown code
suggests the closest ones. At the service (get_task) and at the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from factories import make_department, make_item, write_json

from supervision.db import Database
from supervision.directories.importing import import_file
from supervision.draw.plans import create_plan
from supervision.draw.tasks import create_task, get_task, loose_code, parse_task_input
from supervision.errors import NotFoundError

CODES = ["蒙市监抽查〔2026〕3号", "蒙市监抽查〔2026〕12号", "T-2026-A"]


@pytest.fixture
def tasks(db: Database, tmp_path: Path) -> list[str]:
    for kind, rows in (
        ("departments", [make_department(1, code="SJ", name="市场监督管理局")]),
        ("items", [make_item(1, code="SJ-01", department_code="SJ")]),
    ):
        import_file(db, kind=kind, path=write_json(tmp_path / f"{kind}.json", rows))
    with db.session() as session:
        create_plan(session, code="P2026", year=2026, name="2026年度抽查计划", departments=["SJ"])
        for code in CODES:
            spec: dict[str, Any] = {
                "code": code, "plan": "P2026", "name": "抽查", "departments": ["SJ"],
                "items": ["SJ-01"], "ratios": "1", "period_start": "2026-03-01",
                "period_end": "2026-06-30",
            }  # fmt: skip
            create_task(session, spec=parse_task_input(spec))
    return CODES


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("蒙市监抽查〔2026〕3号", "蒙市监抽查〔2026〕3号"),
        ("蒙市监抽查[2026]3号", "蒙市监抽查〔2026〕3号"),
        ("蒙市监抽查(2026)3号", "蒙市监抽查〔2026〕3号"),
        ("蒙市监抽查（2026）3号", "蒙市监抽查〔2026〕3号"),
        ("蒙市监抽查【2026】12号", "蒙市监抽查〔2026〕12号"),
        (" 蒙市监抽查 〔2026〕 12号 ", "蒙市监抽查〔2026〕12号"),
        ("t-2026-a", "T-2026-A"),
    ],
)
def test_other_brackets_and_spaces_find_the_task(
    db: Database, tasks: list[str], typed: str, meant: str
) -> None:
    with db.session() as session:
        assert get_task(session, code=typed).code == meant


def test_an_unknown_code_suggests_the_closest(db: Database, tasks: list[str]) -> None:
    with db.session() as session, pytest.raises(NotFoundError) as caught:
        get_task(session, code="蒙市监抽查〔2026〕4号")
    assert "蒙市监抽查〔2026〕3号" in caught.value.zh and "did you mean" in caught.value.en
    with db.session() as session, pytest.raises(NotFoundError) as nothing:
        get_task(session, code="完全不同")
    assert "supervision task list" in nothing.value.en


def test_loose_form_is_idempotent() -> None:
    for code in CODES:
        assert loose_code(loose_code(code)) == loose_code(code)


def test_the_command_line_forgives_and_suggests(cli: Any, tasks: list[str]) -> None:
    shown = json.loads(cli("task", "show", "蒙市监抽查(2026)3号", "--json").stdout)
    assert shown["code"] == "蒙市监抽查〔2026〕3号"
    unknown = cli("task", "show", "蒙市监抽查[2026]4号", expect=1)
    assert "您要找的是不是" in unknown.stderr and "蒙市监抽查〔2026〕3号" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_reports_on_a_task_not_drawn_yet_say_so(cli: Any, tasks: list[str]) -> None:
    for argv in (("task", "report", CODES[0]), ("result", "list", CODES[0])):
        out = cli(*argv).stdout
        assert "尚未抽取（状态：草稿）" in out and "has not been drawn yet" in out, argv
        assert "supervision task commit" in out
    report = json.loads(cli("task", "report", CODES[0], "--json").stdout)
    assert report["drawn"] is False and "尚未抽取" in report["not_drawn"]["zh"]

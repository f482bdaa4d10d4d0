"""Import templates: written for every kind, and each, filled with its example row,
imports cleanly (in reference order, into an empty database)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from supervision.directories.import_templates import EXAMPLES, IMPORT_ORDER, column_rules
from supervision.directories.kinds import KINDS

pytestmark = pytest.mark.usefixtures("crew")


@pytest.mark.parametrize("suffix", ["xlsx", "csv"])
def test_every_template_imports_its_example_row(
    cli: Any, crew: dict[str, str], tmp_path: Path, suffix: str
) -> None:
    for kind in IMPORT_ORDER:
        path = tmp_path / f"{kind}模板.{suffix}"
        out = cli("template", kind, "-o", path)
        assert str(path) in out.stdout and path.exists()
        report = json.loads(cli("import", kind, path, "--as", crew["admin"], "--json").stdout)
        assert report["added"] == 1 and report["updated"] == 0, (kind, report)
        # Importing it again changes nothing.
        again = json.loads(cli("import", kind, path, "--as", crew["admin"], "--json").stdout)
        assert again["unchanged"] == 1, (kind, again)


def test_the_xlsx_template_explains_every_column(cli: Any, tmp_path: Path) -> None:
    assert set(EXAMPLES) == set(KINDS) == set(IMPORT_ORDER)
    for kind in KINDS:
        path = tmp_path / f"{kind}.xlsx"
        cli("template", kind, "-o", path)
        book = load_workbook(path)
        data, notes = book.worksheets
        headers = [c.value for c in data[1]]
        assert headers == [r["header"] for r in column_rules(kind)]
        assert all("(" in h and h.endswith(")") for h in headers)  # 中文(english)
        assert [c.value or "" for c in data[2]] == [
            EXAMPLES[kind].get(r["field"], "") for r in column_rules(kind)
        ]
        explained = {row[0].value: row for row in notes.iter_rows(min_row=2) if row[0].value}
        for rule in column_rules(kind):
            row = explained[rule["header"]]
            assert row[1].value == ("是 yes" if rule["required"] else "否 no")
            assert row[2].value and row[3].value  # Chinese and English


def test_import_help_lists_the_columns_of_its_kind(cli: Any) -> None:
    text = cli("import", "entities", "--help").stdout
    assert "统一社会信用代码(uscc) *" in text and "成立日期(established_on) *" in text
    assert "supervision template entities" in text
    general = cli("import", "--help").stdout
    assert all(kind in general for kind in KINDS)


def test_a_template_needs_xlsx_or_csv(cli: Any, tmp_path: Path) -> None:
    bad = cli("template", "entities", "-o", tmp_path / "t.txt", expect=1)
    assert "xlsx" in bad.stderr and "Traceback" not in bad.stderr


def test_the_example_task_file_creates_a_task_on_the_template_rows(
    cli: Any, crew: dict[str, str], tmp_path: Path
) -> None:
    for kind in ("departments", "items"):
        path = tmp_path / f"{kind}.xlsx"
        cli("template", kind, "-o", path)
        cli("import", kind, path, "--as", crew["admin"])
    cli("plan", "create", "--code", "P2026", "--year", "2026", "--name", "2026年度计划",
        "--department", "SJ0102", "--as", crew["planner"])  # fmt: skip
    example = cli("task", "create", "--example").stdout
    assert example.startswith("# ") and "code:" in example and "--as" in example
    task_file = tmp_path / "任务.yaml"
    task_file.write_text(example, encoding="utf-8")
    made = cli("task", "create", "--from", task_file, "--as", crew["planner"])
    assert "蒙市监抽查〔2026〕1号" in made.stdout
    shown = json.loads(cli("task", "show", "蒙市监抽查(2026)1号", "--json").stdout)
    assert [i["code"] for i in shown["items"]] == ["SJ-0102-01"] and shown["status"] == "draft"

"""Exports: CSV/XLSX/JSON that re-import unchanged, and cells neutralised for spreadsheets."""

from __future__ import annotations

import csv
import json
import string
from pathlib import Path

import pytest
from factories import (
    make_conflict,
    make_department,
    make_entity,
    make_inspector,
    make_item,
    make_record,
    make_uscc,
    write_csv,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from test_import import dump

from supervision.db import Database
from supervision.directories.exporting import export_file
from supervision.directories.importing import import_file
from supervision.directories.kinds import KINDS
from supervision.directories.tabular import neutralise, unneutralise
from supervision.errors import SupervisionError

DANGEROUS = ['=HYPERLINK("http://x")', "+86 471 1234567", "-1", "@SUM(A1)", "\tTAB", "'=already"]


def populate(db: Database, tmp_path: Path) -> None:
    def load(kind: str, rows: list[dict[str, object]]) -> None:
        import_file(db, kind=kind, path=write_csv(tmp_path / f"seed_{kind}.csv", rows))

    load("departments", [make_department(1), make_department(2, name="=部门")])
    entities = [make_entity(i) for i in range(1, 5)]
    entities[0] |= {"name": DANGEROUS[0], "contact_phone": DANGEROUS[1], "address": DANGEROUS[3]}
    entities[1] |= {
        "abnormal": "是",
        "abnormal_since": "2024-07-01",
        "size": "",
        "contact_phone": "",
    }
    entities[2] |= {"legal_rep": "-某", "address": "@home"}
    load("entities", entities)
    load("inspectors", [make_inspector(1), make_inspector(2, qualifications="=食品")])
    load(
        "items",
        [
            make_item(1),
            make_item(1, version="2", effective_to="2026-12-31"),
            make_item(2, kind="重点", legal_basis="+第十条"),
        ],
    )
    load("conflicts", [make_conflict("150100000001", make_uscc(1), reason="-近亲属")])
    load(
        "records",
        [
            make_record(k, i, uscc=make_uscc(1))
            for i, k in enumerate(
                ["annual_report", "licence", "inspection_result", "info_check"], 1
            )
        ],
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json", "jsonl"])
def test_every_kind_round_trips_unchanged(db: Database, tmp_path: Path, fmt: str) -> None:
    populate(db, tmp_path)
    before = dump(db)
    for kind in KINDS:
        path = tmp_path / f"{kind}.{fmt}"
        count = export_file(db, kind=kind, path=path)
        report = import_file(db, kind=kind, path=path)
        assert count > 0
        assert (report.added, report.updated, report.unchanged) == (0, 0, count), kind
    assert dump(db) == before  # updated_at untouched too


def test_csv_export_is_excel_friendly_and_neutralised(db: Database, tmp_path: Path) -> None:
    populate(db, tmp_path)
    path = tmp_path / "e.csv"
    export_file(db, kind="entities", path=path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0][0] == "统一社会信用代码(uscc)" and rows[0][1] == "企业名称(name)"
    cells = {c for r in rows[1:] for c in r}
    assert '\'=HYPERLINK("http://x")' in cells and "'+86 471 1234567" in cells
    assert "'@SUM(A1)" in cells and "'-某" in cells and "'@home" in cells
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    assert "是" in cells and "2024-07-01" in cells  # booleans and dates as people read them


def test_xlsx_export_cells_are_text_and_neutralised(db: Database, tmp_path: Path) -> None:
    populate(db, tmp_path)
    path = tmp_path / "e.xlsx"
    export_file(db, kind="entities", path=path)
    workbook = load_workbook(path, read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    cells = [c for r in rows[1:] for c in r if c is not None]
    assert all(isinstance(c, str) for c in cells)  # codes keep leading zeros; nothing is a formula
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    assert '\'=HYPERLINK("http://x")' in cells


def test_json_export_uses_english_keys_and_native_values(db: Database, tmp_path: Path) -> None:
    populate(db, tmp_path)
    path = tmp_path / "r.json"
    export_file(db, kind="records", path=path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data[0]["record_id"] == "R00000001" and isinstance(data[0]["payload"], dict)
    path = tmp_path / "c.json"
    export_file(db, kind="conflicts", path=path)
    assert json.loads(path.read_text(encoding="utf-8"))[0]["cert_no"] == "150100000001"
    path = tmp_path / "i.json"
    export_file(db, kind="inspectors", path=path)
    assert json.loads(path.read_text(encoding="utf-8"))[1]["qualifications"] == ["=食品"]


def test_export_format_from_name_or_option(db: Database, tmp_path: Path) -> None:
    populate(db, tmp_path)
    assert export_file(db, kind="departments", path=tmp_path / "d.out", fmt="json") == 2
    assert json.loads((tmp_path / "d.out").read_text(encoding="utf-8"))[0]["code"] == "D001"
    with pytest.raises(SupervisionError, match="导出格式"):
        export_file(db, kind="departments", path=tmp_path / "d.txt")


@pytest.mark.parametrize("text", [*DANGEROUS, "", "plain", "'", "'plain", "a=b"])
def test_neutralise_round_trip(text: str) -> None:
    assert unneutralise(neutralise(text)) == text
    assert not neutralise(text).startswith(("=", "+", "-", "@", "\t", "\r"))


_TEXT = (
    st.text(alphabet=string.ascii_letters + "=+-@'# 中文路号", min_size=1, max_size=30)
    .map(str.strip)
    .filter(bool)
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.lists(
        st.tuples(
            st.integers(1, 10**6),
            _TEXT,
            _TEXT,
            st.sampled_from("ABCD"),
            st.sampled_from(["企业", "个体工商户", "农民专业合作社"]),
            st.dates(),
            st.booleans(),
            st.sampled_from(["", "微型", "大型"]),
        ),
        min_size=1,
        max_size=8,
        unique_by=lambda t: t[0],
    )
)
def test_random_entities_round_trip(db: Database, tmp_path: Path, data: list[tuple]) -> None:  # type: ignore[type-arg]
    """Any valid entities: import, export as CSV, import again → every row unchanged."""
    rows = [
        make_entity(
            n,
            name=name,
            address=address,
            risk_class=risk,
            entity_type=etype,
            established_on=established.isoformat(),
            abnormal="是" if abnormal else "否",
            abnormal_since=established.isoformat() if abnormal else "",
            size=size,
        )
        for n, name, address, risk, etype, established, abnormal, size in data
    ]
    import_file(db, kind="entities", path=write_csv(tmp_path / "in.csv", rows))
    before = dump(db)
    out = tmp_path / "out.csv"
    count = export_file(db, kind="entities", path=out)
    report = import_file(db, kind="entities", path=out)
    assert (report.added, report.updated, report.unchanged) == (0, 0, count)
    assert dump(db) == before

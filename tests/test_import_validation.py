"""The fast column validator agrees with the XCreate models, row for row, error for error."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from factories import (
    make_department,
    make_entity,
    make_inspector,
    make_item,
    make_record,
    make_uscc,
    write_csv,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from stdnum.cn import uscc as stdnum_uscc

from supervision.directories.importing import import_file
from supervision.directories.kinds import KINDS
from supervision.directories.rows import column_validator, validate_rows
from supervision.directories.tabular import csv_blocks, parse_csv_block, read_table
from supervision.models.fields import check_uscc

_CELL_NOISE = st.sampled_from(
    [
        "",
        " ",
        "'=x",
        "2020-02-30",
        "是",
        "abc",
        "150102",
        "X" * 301,
        "  存续 ",
        "enterprise",
        "2021/3/4",
        "1",
        "0",
        "D001",
        "[]",
        "{}",
    ]
)


def _rows(
    kind: str, base: list[dict[str, str]], data: st.DataObject
) -> list[tuple[int, list[object]]]:
    headers = list(base[0])
    rows = []
    for number, row in enumerate(base, start=2):
        cells: list[object] = [row[h] for h in headers]
        for i in range(len(cells)):
            if data.draw(st.integers(0, 4)) == 0:
                cells[i] = data.draw(_CELL_NOISE)
        rows.append((number, cells))
    return rows


def _agree(kind: str, base: list[dict[str, str]], data: st.DataObject) -> None:
    headers = list(base[0])
    fields = [KINDS[kind].alias_map()[h] for h in headers]
    rows = _rows(kind, base, data)
    assert column_validator(KINDS[kind]) is not None
    fast = validate_rows(kind, headers, fields, rows)
    model = validate_rows(kind, headers, fields, rows, use_model=True)
    assert fast[0] == model[0]
    assert sorted(map(repr, fast[1])) == sorted(map(repr, model[1]))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_entities_agree(data: st.DataObject) -> None:
    _agree("entities", [make_entity(i) for i in range(1, 6)], data)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_inspectors_items_records_agree(data: st.DataObject) -> None:
    _agree("inspectors", [make_inspector(i) for i in range(1, 4)], data)
    _agree("items", [make_item(i) for i in range(1, 4)], data)
    _agree(
        "records",
        [
            make_record(k, i)
            for i, k in enumerate(["annual_report", "licence", "rectification_order"], 1)
        ],
        data,
    )


def test_repeated_values_hit_the_cache_and_stay_correct() -> None:
    kind = KINDS["entities"]
    headers = list(make_entity(1))
    fields = [kind.alias_map()[h] for h in headers]
    rows = [
        (n, list(make_entity(n, region_code="990102" if n % 3 == 0 else "150102").values()))
        for n in range(2, 200)
    ]
    good, errors = validate_rows("entities", headers, fields, rows)
    assert {e.row for e in errors} == {n for n in range(2, 200) if n % 3 == 0}
    assert len(good) + len(errors) == len(rows)


@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXYZIOSV -", min_size=0, max_size=20))
def test_fast_uscc_check_agrees_with_stdnum(text: str) -> None:
    try:
        expected: str | None = stdnum_uscc.validate(text.strip().upper())
    except Exception:
        expected = None
    try:
        got: str | None = check_uscc(text)
    except ValueError:
        got = None
    assert got == expected


@given(st.integers(0, 31**9 - 1))
def test_generated_usccs_are_valid(n: int) -> None:
    assert check_uscc(make_uscc(n)) == make_uscc(n)
    body = make_uscc(n)[:17]
    wrong = next(c for c in "0123456789" if c != make_uscc(n)[17])
    assert not stdnum_uscc.is_valid(body + wrong)
    json.dumps(make_record("complaint", n))


# ---------------------------------------------------------------- CSV blocks for worker processes
_CELL = st.text(alphabet='ab中文,"\n\r 号=-', max_size=8)


@settings(max_examples=80, deadline=None)
@given(
    rows=st.lists(st.lists(_CELL, min_size=3, max_size=3), min_size=0, max_size=12),
    block_size=st.integers(1, 64),
    encoding=st.sampled_from(["utf-8-sig", "gb18030"]),
    crlf=st.booleans(),
)
def test_csv_blocks_give_the_rows_the_reader_gives(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[list[str]],
    block_size: int,
    encoding: str,
    crlf: bool,
) -> None:
    path = tmp_path_factory.mktemp("blocks") / "t.csv"
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n" if crlf else "\n")
        writer.writerow(["a", "b", "c"])
        writer.writerows(rows)
    sheet = read_table(path)
    expected = list(sheet.rows)
    sheet.close()
    got = [
        row
        for line, block in csv_blocks(path, block_size=block_size)
        for row in parse_csv_block(block, sheet.encoding or "utf-8-sig", line)
    ]
    assert got == expected
    unnumbered = list(csv_blocks(path, block_size=block_size, numbered=False))
    assert [b for _, b in unnumbered] == [b for _, b in csv_blocks(path, block_size=block_size)]
    assert {n for n, _ in unnumbered} <= {0}


def test_stray_quote_in_an_unquoted_cell(tmp_path: Path) -> None:
    """A quote inside an unquoted cell moves block boundaries; the import still holds."""
    from supervision.db import Database

    rows = [make_entity(i, address=f'3"号楼{i}' if i % 7 == 0 else f"路{i}") for i in range(1, 60)]
    path = tmp_path / "q.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(rows[0]) + "\n")
        for row in rows:
            fh.write(
                ",".join(str(v) for v in row.values()) + "\n"
            )  # not quoted, as some tools write
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        import_file(
            db, kind="departments", path=write_csv(tmp_path / "d.csv", [make_department(1)])
        )
        report = import_file(db, kind="entities", path=path, workers=2)
        assert report.added == 59
        with db.engine.connect() as conn:
            address = conn.execute(
                text("SELECT address FROM entity WHERE uscc = :u"), {"u": make_uscc(7)}
            ).scalar_one()
        assert address == '3"号楼7'
    finally:
        db.dispose()


# ---------------------------------------------------------------- column by column
@settings(max_examples=25, deadline=None)
@given(st.data())
def test_entities_agree_in_bigger_tables(data: st.DataObject) -> None:
    """Enough rows that repeating columns are cached and distinct text is checked in bulk."""
    base = [
        make_entity(i, region_code="150102" if i % 2 else "150103", established_on="2001-02-03")
        for i in range(1, 41)
    ]
    headers = list(base[0])
    fields = [KINDS["entities"].alias_map()[h] for h in headers]
    rows = []
    for number, row in enumerate(base, start=2):
        cells: list[object] = [row[h] for h in headers]
        if data.draw(st.integers(0, 3)) == 0:
            cells[data.draw(st.integers(0, len(cells) - 1))] = data.draw(_CELL_NOISE)
        rows.append((number, cells))
    fast = validate_rows("entities", headers, fields, rows)
    model = validate_rows("entities", headers, fields, rows, use_model=True)
    assert fast[0] == model[0]
    assert sorted(map(repr, fast[1])) == sorted(map(repr, model[1]))


def test_cells_of_several_types_are_not_confused() -> None:
    """Excel and JSON give numbers and booleans: True == 1, yet a name must be text."""
    headers = list(make_entity(1))
    fields = [KINDS["entities"].alias_map()[h] for h in headers]
    odd: list[object] = [True, 1, 1.0, "1", None, "", " 是 ", "'=1", 2.5, False, 0]
    rows: list[tuple[int, list[object]]] = []
    for number, value in enumerate(odd * 3, start=2):
        cells: list[object] = list(make_entity(number).values())
        cells[headers.index("name")] = value
        cells[headers.index("abnormal")] = value
        cells[headers.index("contact_phone")] = value
        rows.append((number, cells))
    for _ in range(2):  # the second time from what the first remembered
        fast = validate_rows("entities", headers, fields, rows)
        model = validate_rows("entities", headers, fields, rows, use_model=True)
        assert fast[0] == model[0]
        assert sorted(map(repr, fast[1])) == sorted(map(repr, model[1]))


def test_distinct_text_columns_with_odd_cells_agree() -> None:
    """Mostly distinct names and codes with padded, empty, quoted and too long cells."""
    headers = list(make_entity(1))
    fields = [KINDS["entities"].alias_map()[h] for h in headers]
    rows: list[tuple[int, list[object]]] = []
    for number in range(2, 60):
        row = make_entity(number)
        special = {
            5: {"name": f"  名称{number} "},
            9: {"name": ""},
            13: {"address": "'=SUM(A1)"},
            17: {"address": "O'Brien 路"},
            21: {"uscc": make_uscc(number).lower()},
            25: {"uscc": make_uscc(number)[:17] + "0"},
            29: {"name": "名" * 201},
            33: {"contact_phone": " "},
        }.get(number, {})
        row.update(special)
        rows.append((number, list(row.values())))
    fast = validate_rows("entities", headers, fields, rows)
    model = validate_rows("entities", headers, fields, rows, use_model=True)
    assert fast[0] == model[0]
    assert sorted(map(repr, fast[1])) == sorted(map(repr, model[1]))
    assert {e.row for e in fast[1]} == {9, 25, 29}


@given(
    st.text(alphabet="0123456789", min_size=8, max_size=8),
    st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=9, max_size=9),
    st.sampled_from("0123456789ABCDEFGHJKLMNPQRTUWXY"),
)
def test_uscc_check_character_agrees_with_stdnum(head: str, body: str, last: str) -> None:
    """Every body and every last character: accepted exactly when stdnum's check says so."""
    code = head + body + last
    expected = stdnum_uscc.calc_check_digit(code[:17]) == last
    try:
        got = check_uscc(code) == code
    except ValueError:
        got = False
    assert got == expected

"""The fast column validator agrees with the XCreate models, row for row, error for error."""

from __future__ import annotations

import json

from factories import make_entity, make_inspector, make_item, make_record, make_uscc
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import uscc as stdnum_uscc

from supervision.importing import KINDS, column_validator, validate_rows
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

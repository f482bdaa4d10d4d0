"""Validating a file's rows for a kind: pure (no database), so it runs in worker processes.

Every row goes through the kind's XCreate model, the one definition of the rules: through
its ``ColumnValidator`` a column at a time, or through the model itself where the column
validator does not apply. Good rows come back as values in table column order, bad ones
as bilingual ``RowError``s. ``validate_block`` does the same for one raw CSV byte block.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from operator import itemgetter
from typing import Any

from pydantic import ValidationError

from supervision.directories.kinds import KINDS, Kind
from supervision.directories.report import RowError, translate
from supervision.directories.tabular import clean_cell, parse_csv_block
from supervision.directories.validation import ColumnValidator, UnsupportedModel

BEIJING = timezone(timedelta(hours=8), "CST")

_COLUMN_VALIDATORS: dict[str, ColumnValidator | None] = {}


def column_validator(kind: Kind) -> ColumnValidator | None:
    """The cached column validator of a kind, or None where the model must be used as is."""
    if kind.name not in _COLUMN_VALIDATORS:
        try:
            _COLUMN_VALIDATORS[kind.name] = ColumnValidator(kind.create)
        except UnsupportedModel:
            _COLUMN_VALIDATORS[kind.name] = None
    return _COLUMN_VALIDATORS[kind.name]


def _finish(kind: Kind, values: dict[str, Any]) -> dict[str, Any]:
    """Adjustments to a validated row before it is stored."""
    if kind.name == "records":
        received = values["received_at"]
        if isinstance(received, datetime) and received.utcoffset() is None:
            # A time without a zone is Beijing time, as the regime's files are written.
            values["received_at"] = received.replace(tzinfo=BEIJING)
    return values


def validate_rows(
    kind_name: str,
    headers: list[str],
    fields: list[str | None],
    rows: list[tuple[int, list[Any]]],
    *,
    use_model: bool = False,
) -> tuple[list[tuple[int, tuple[Any, ...]]], list[RowError]]:
    """Validate raw rows with the kind's XCreate model (through its ColumnValidator).

    Returns the good rows as (row number, values in table column order) and every error.
    Pure: no database, so it can run in a worker process. `use_model` skips the column
    validator (tests compare the two).
    """
    kind = KINDS[kind_name]
    fast = None if use_model else column_validator(kind)
    model_validator = kind.create.__pydantic_validator__
    header_of = {f: h for h, f in zip(headers, fields, strict=True) if f is not None}
    index_of = {f: i for i, f in enumerate(fields) if f is not None}
    pairs = [(i, f) for i, f in enumerate(fields) if f is not None]
    width = len(fields)
    store = _stored(kind)
    positions = [index_of.get(name, -1) for name in fast.names] if fast is not None else []
    good: list[tuple[int, tuple[Any, ...]]] = []
    errors: list[RowError] = []
    if rows and max(len(cells) for _, cells in rows) > width:
        rows = _within_headers(rows, width, errors)
    results: Iterable[tuple[dict[str, Any] | None, list[Any]]]
    if fast is not None:
        checked, problems = fast.validate_table([cells for _, cells in rows], positions)
        results = ((values, problems.get(i, [])) for i, values in enumerate(checked))
    else:
        results = (_model_check(model_validator, pairs, cells) for _, cells in rows)
    take = itemgetter(*store)
    for (number, cells), (values, found) in zip(rows, results, strict=True):
        if values is None:
            count = len(cells)
            for err in found:
                loc = err["loc"]
                name = str(loc[0]) if loc else (kind.whole_row_field or "")
                zh, en = translate(err)
                cell = index_of.get(name)
                raw = cells[cell] if cell is not None and cell < count else None
                errors.append(RowError(number, header_of.get(name, ""), _shown(raw), zh, en))
            continue
        good.append((number, take(_finish(kind, values))))
    errors.sort(key=lambda e: e.row)  # cells past the header were found first
    return good, errors


def _within_headers(
    rows: list[tuple[int, list[Any]]], width: int, errors: list[RowError]
) -> list[tuple[int, list[Any]]]:
    """The rows with no data past the last header; an error for each of the others."""
    kept = []
    for number, cells in rows:
        if any(clean_cell(c) is not None for c in cells[width:]):
            errors.append(
                RowError(
                    number,
                    "",
                    None,
                    "表头之外还有数据（多出的单元格）",
                    "cells beyond the last header",
                )
            )
        else:
            kept.append((number, cells))
    return kept


def _stored(kind: Kind) -> list[str]:
    """The table columns a validated row gives, in table order (the stamp is the writer's)."""
    return [c.name for c in kind.table.columns if c.name != kind.stamp]


def _model_check(
    model_validator: Any, pairs: list[tuple[int, str]], cells: list[Any]
) -> tuple[dict[str, Any] | None, list[Any]]:
    """One row through the model itself: (values, []) or (None, errors)."""
    count = len(cells)
    data: dict[str, Any] = {}
    for i, name in pairs:
        value = clean_cell(cells[i]) if i < count else None
        if value is not None:
            data[name] = value
    try:
        return model_validator.validate_python(data).__dict__, []
    except ValidationError as exc:
        return None, list(exc.errors())


def _shown(raw: Any) -> Any:
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, datetime):
        return raw.isoformat()
    return raw


def validate_block(
    kind_name: str,
    headers: list[str],
    fields: list[str | None],
    encoding: str,
    block: tuple[int, bytes],
) -> tuple[int, list[tuple[Any, ...]], bool]:
    """Worker: parse one CSV byte block (first line number, bytes) and validate it.

    Returns (rows read, good rows, failed): failed means the block did not decode or parse,
    or had a bad row; the parent then redoes the file with the exact sequential reader,
    which reports every problem, so only the good rows travel back (no row numbers, and
    the first line number may be 0: the parent does not count lines in block mode).
    """
    first_line, data = block
    try:
        cells = list(filter(any, csv.reader(io.StringIO(data.decode(encoding), newline=""))))
    except (UnicodeDecodeError, csv.Error):
        return 0, [], True
    kind = KINDS[kind_name]
    fast = column_validator(kind)
    if fast is None or (cells and max(map(len, cells)) > len(fields)):
        numbered = list(parse_csv_block(data, encoding, first_line))
        good, errors = validate_rows(kind_name, headers, fields, numbered)
        return len(numbered), [values for _, values in good], bool(errors)
    index_of = {f: i for i, f in enumerate(fields) if f is not None}
    checked, problems = fast.validate_table(cells, [index_of.get(n, -1) for n in fast.names])
    if problems:
        return len(cells), [], True
    take = itemgetter(*_stored(kind))
    good = [take(_finish(kind, values)) for values in checked]  # type: ignore[arg-type]
    return len(cells), good, False  # no problems: every row of `checked` is a dict

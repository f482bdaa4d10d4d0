"""Validating a table of raw cells with an XCreate model, column by column.

The XCreate models are the one definition of the import rules. `ColumnValidator` takes a
model's own pydantic core schema apart into one validator per field and validates a whole
table a column at a time, so that big files are validated much faster than row by row
through the model, with the same results (tests compare the two on random input).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlmodel import SQLModel

from supervision.directories.tabular import clean_cell
from supervision.models.fields import COLUMN_CHECKS

_IMMUTABLE = frozenset({str, int, float, bool, date, datetime, type(None)})
_CACHE_LIMIT = 50_000  # distinct raw values remembered per field, across tables
_PLAIN_CONFIG = frozenset({"title", "from_attributes", "validate_default", "extra_fields_behavior"})
_TEXT = frozenset({str, type(None)})


class UnsupportedModel(Exception):
    """The model uses a feature the column validator does not reproduce; use the model itself."""


@dataclass(frozen=True)
class _TextPlan:
    """A field that is plain text after its own "before" functions: str with length bounds.

    For such a field a column of ordinary text cells (no surrounding space, not empty, not
    starting with the neutralising quote) is validated with C-speed maps: the functions
    over the column, then the lengths. Anything else takes the exact path, cell by cell.
    """

    functions: tuple[Callable[[Any], Any], ...]
    min_length: int
    max_length: int | None

    @classmethod
    def of(cls, schema: Any, config: dict[str, Any]) -> _TextPlan | None:
        if set(config) - _PLAIN_CONFIG:
            return None  # str_strip_whitespace, strict, ...: leave it to pydantic
        functions: list[Callable[[Any], Any]] = []
        while schema["type"] == "function-before" and schema["function"]["type"] == "no-info":
            functions.append(schema["function"]["function"])
            schema = schema["schema"]
        if schema["type"] == "nullable":
            schema = schema["schema"]  # a text result is validated as text either way
        if schema["type"] != "str" or set(schema) - {"type", "min_length", "max_length"}:
            return None
        return cls(tuple(functions), schema.get("min_length", 0), schema.get("max_length"))

    def column(self, cells: Sequence[Any]) -> list[str] | None:
        """The validated values of a column of cells, or None: use the exact path."""
        if set(map(type, cells)) != {str}:
            return None
        texts: list[Any] = list(map(str.strip, cells))
        if "" in texts or ("'" in "".join(texts) and any(t[0] == "'" for t in texts)):
            return None  # empty cells and quoted ones mean more than their text
        try:
            for function in self.functions:
                whole_column = COLUMN_CHECKS.get(function)
                if whole_column is not None:  # a check that changes nothing: once per column
                    if not whole_column(texts):
                        return None
                    continue
                texts = list(map(function, texts))
        except Exception:  # a bad value: the exact path reports it as pydantic would
            return None
        if set(map(type, texts)) != {str}:
            return None
        lengths = list(map(len, texts))
        if min(lengths) < self.min_length:
            return None
        if self.max_length is not None and max(lengths) > self.max_length:
            return None
        return texts


@dataclass
class _Field:
    name: str
    validator: Any  # pydantic_core.SchemaValidator of the field's own schema
    required: bool
    default: Callable[[], Any]
    validate_default: bool
    text: _TextPlan | None
    good: dict[Any, Any]  # raw cell -> value, for values that repeat
    bad: dict[Any, list[Any]]  # raw cell -> errors

    def one(self, raw: Any) -> tuple[bool, Any]:
        """(True, value) or (False, pydantic-style errors) for one raw cell: the exact path."""
        value = clean_cell(raw)
        if value is None:
            if self.required:
                return False, [{"type": "missing", "loc": (self.name,), "msg": "Field required"}]
            if not self.validate_default:
                return True, self.default()
            value = self.default()
        try:
            return True, self.validator.validate_python(value)
        except ValidationError as exc:
            return False, [e | {"loc": (self.name, *e["loc"])} for e in exc.errors()]


class ColumnValidator:
    """Validates rows exactly as ``Model.model_validate`` would, a column at a time.

    Built from the model's own pydantic core schema, so the XCreate model stays the one
    definition of the rules: each field's schema (its validators, type and constraints)
    becomes a validator of its own. A column whose values repeat (region codes, dates,
    types, statuses) is validated once per distinct value, remembered across tables; a
    column of mostly distinct text (codes, names, addresses) that is plain text after its
    own functions is checked with maps over the whole column. Then the model-level "after"
    validators run on each assembled row. A model this does not understand (aliases,
    validators that read other fields, nested definitions) raises UnsupportedModel and the
    caller falls back to the model. Tests check the two agree.
    """

    def __init__(self, model: type[SQLModel]) -> None:
        from pydantic_core import SchemaValidator

        self.model = model
        schema: Any = model.__pydantic_core_schema__
        self.after: list[Callable[[Any], Any]] = []
        while schema["type"] != "model":
            if schema["type"] != "function-after" or schema["function"]["type"] != "no-info":
                raise UnsupportedModel(schema["type"])
            self.after.insert(0, schema["function"]["function"])
            schema = schema["schema"]
        config = schema.get("config") or {}
        fields_schema = schema["schema"]
        if (
            fields_schema["type"] != "model-fields"
            or fields_schema.get("computed_fields")
            or "with-info" in repr(fields_schema)
        ):
            raise UnsupportedModel("model-fields")
        self.fields: list[_Field] = []
        for name, field_schema in fields_schema["fields"].items():
            if field_schema.get("validation_alias") or field_schema.get("serialization_alias"):
                raise UnsupportedModel(name)
            inner = field_schema["schema"]
            required, default, validate_default = True, _constant(None), False
            if inner["type"] == "default":
                required = False
                validate_default = bool(
                    inner.get("validate_default", config.get("validate_default"))
                )
                default = inner.get("default_factory") or _constant(inner.get("default"))
                inner = inner["schema"]
            validator = SchemaValidator(inner, config)  # type: ignore[arg-type]
            text = _TextPlan.of(inner, config)
            self.fields.append(
                _Field(name, validator, required, default, validate_default, text, {}, {})
            )
        self._row: Any = None  # one instance that the after validators see, row after row

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def validate(self, data: dict[str, Any]) -> tuple[dict[str, Any] | None, list[Any]]:
        """Validate one row given as {field: raw cell}: (values, []) or (None, errors)."""
        values, problems = self.validate_table([[data.get(n) for n in self.names]], None)
        return values[0], problems.get(0, [])

    def validate_table(
        self, rows: Sequence[Sequence[Any]], positions: Sequence[int] | None
    ) -> tuple[list[dict[str, Any] | None], dict[int, list[Any]]]:
        """Each row's field values (None for a bad row) and the errors of each bad row.

        `rows` are raw cells as read; positions[k] is the cell of the k-th model field
        (-1: not in the file; None: the k-th cell). Errors are pydantic-style, each row's
        in field order, as the model reports them.
        """
        count = len(rows)
        if not count:
            return [], {}
        if positions is None:
            positions = range(len(self.fields))
        width = max(positions, default=-1) + 1
        table: list[Sequence[Any]] = []
        if width:
            if len(set(map(len, rows))) != 1 or len(rows[0]) < width:
                pad = [None] * width
                rows = [[*r[:width], *pad[len(r) :]] for r in rows]
            table = list(zip(*rows, strict=False))
        columns: list[Sequence[Any]] = []
        problems: dict[int, list[Any]] = {}
        for field, position in zip(self.fields, positions, strict=True):
            cells = table[position] if position >= 0 else [None] * count
            columns.append(self._column(field, cells, problems))
        names = self.names
        out: list[dict[str, Any] | None] = []
        for index, values in enumerate(zip(*columns, strict=True)):
            if index in problems:
                out.append(None)
                continue
            row = dict(zip(names, values, strict=True))
            out.append(self._after(row, index, problems) if self.after else row)
        return out, problems

    def _column(
        self, field: _Field, cells: Sequence[Any], problems: dict[int, list[Any]]
    ) -> Sequence[Any]:
        """A column's values; errors go to problems[row] (values there are placeholders)."""
        try:
            distinct = set(cells)
        except TypeError:  # JSON lists and objects: cell by cell
            return self._cells(field, cells, {}, {}, problems)
        kinds = set(map(type, distinct))
        if bool in kinds and (int in kinds or float in kinds):  # True == 1: no cache by value
            return self._cells(field, cells, {}, {}, problems)
        repeating = len(distinct) * 2 <= len(cells)
        if not repeating and field.text is not None:
            texts = field.text.column(cells)
            if texts is not None:
                return texts
        if repeating and kinds <= _TEXT:  # remembered across tables (CSV cells are text)
            good, bad = field.good, field.bad
            if len(good) + len(bad) > _CACHE_LIMIT:
                good.clear()
                bad.clear()
        else:  # for this table only (Excel and JSON cells of several types: 1 == True)
            good, bad = {}, {}
        for raw in distinct.difference(good, bad):
            ok, result = field.one(raw)
            if not ok:
                bad[raw] = result
            elif result.__class__ in _IMMUTABLE:
                good[raw] = result
        if len(good) >= len(distinct) and good.keys() >= distinct:
            return list(map(good.__getitem__, cells))  # every cell good and remembered
        return self._cells(field, cells, good, bad, problems)

    @staticmethod
    def _cells(
        field: _Field,
        cells: Sequence[Any],
        good: dict[Any, Any],
        bad: dict[Any, list[Any]],
        problems: dict[int, list[Any]],
    ) -> list[Any]:
        values: list[Any] = []
        for index, raw in enumerate(cells):
            try:
                if raw in good:
                    values.append(good[raw])
                    continue
                result = bad.get(raw)
            except TypeError:  # unhashable
                result = None
            if result is None:
                ok, result = field.one(raw)
                if ok:
                    values.append(result)
                    continue
            values.append(None)
            problems.setdefault(index, []).extend(result)
        return values

    def _after(
        self, row: dict[str, Any], index: int, problems: dict[int, list[Any]]
    ) -> dict[str, Any] | None:
        """The model-level "after" validators on one assembled row."""
        obj = self._row
        if obj is None:  # what model_construct does, minus per-field defaults (row is complete)
            obj = self._row = self.model.__new__(self.model)
            object.__setattr__(obj, "__pydantic_extra__", None)
        object.__setattr__(obj, "__dict__", row)
        object.__setattr__(obj, "__pydantic_fields_set__", set(row))
        try:
            for function in self.after:
                obj = function(obj)
        except (ValueError, AssertionError) as exc:
            problems[index] = [{"type": "value_error", "loc": (), "msg": f"Value error, {exc}"}]
            return None
        result: dict[str, Any] = obj.__dict__
        return result


def _constant(value: Any) -> Callable[[], Any]:
    return lambda: value

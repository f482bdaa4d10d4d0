"""Validating a table of raw cells with an XCreate model, column by column.

The XCreate models are the one definition of the import rules. `ColumnValidator` takes a
model's own pydantic core schema apart into one validator per field, so that big files
can be validated much faster than row by row through the model, with the same results
(tests compare the two on random input).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlmodel import SQLModel

from supervision.tabular import clean_cell

_IMMUTABLE = frozenset({str, int, float, bool, date, datetime, type(None)})
_CACHE_LIMIT = 20_000  # distinct values kept per column before a mostly-unique column stops caching


class UnsupportedModel(Exception):
    """The model uses a feature the column validator does not reproduce; use the model itself."""


class ColumnValidator:
    """Validates rows exactly as ``Model.model_validate`` would, faster for big files.

    Built from the model's own pydantic core schema, so the XCreate model stays the one
    definition of the rules: each field's schema (its validators, type and constraints)
    becomes a validator of its own, whose results are cached per distinct cell value
    (a directory repeats its region codes, dates, types and statuses endlessly); then the
    model-level "after" validators run on the assembled row. A model this does not
    understand (aliases, validators that read other fields, nested definitions) raises
    UnsupportedModel and the caller falls back to the model. Tests check the two agree.
    Measured on entity rows: about 13 µs a row against 17-20 µs through the model.
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
        self.fields: list[
            tuple[Any, ...]
        ] = []  # name, validator, cache, required, default, validate_default
        for name, field_schema in fields_schema["fields"].items():
            if field_schema.get("validation_alias") or field_schema.get("serialization_alias"):
                raise UnsupportedModel(name)
            inner = field_schema["schema"]
            required, default, validate_default = True, None, False
            if inner["type"] == "default":
                required = False
                validate_default = bool(
                    inner.get("validate_default", config.get("validate_default"))
                )
                default = inner.get("default_factory") or _constant(inner.get("default"))
                inner = inner["schema"]
            validator = SchemaValidator(inner, config)  # type: ignore[arg-type]
            self.fields.append((name, validator, {}, required, default, validate_default))

    @property
    def names(self) -> list[str]:
        return [slot[0] for slot in self.fields]

    def validate(self, data: dict[str, Any]) -> tuple[dict[str, Any] | None, list[Any]]:
        """Validate one row given as {field: raw cell}; see validate_cells."""
        return self.validate_cells([data.get(n) for n in self.names], range(len(self.fields)))

    def _one(self, slot: tuple[Any, ...], raw: Any) -> tuple[bool, Any]:
        name, validator, _cache, required, default, validate_default = slot
        value = clean_cell(raw)
        if value is None:
            if required:
                return False, [{"type": "missing", "loc": (name,), "msg": "Field required"}]
            if not validate_default:
                return True, default()
            value = default()
        try:
            return True, validator.validate_python(value)
        except ValidationError as exc:
            return False, [e | {"loc": (name, *e["loc"])} for e in exc.errors()]

    def validate_cells(
        self, cells: list[Any], positions: Sequence[int]
    ) -> tuple[dict[str, Any] | None, list[Any]]:
        """(field values, []) for a good row; (None, pydantic-style errors) for a bad one.

        `cells` are raw cells as read; positions[k] is the cell of the k-th model field
        (-1: not in the file). Results are cached per raw cell value and field.
        """
        values: dict[str, Any] = {}
        errors: list[Any] = []
        count = len(cells)
        for index, (slot, position) in enumerate(zip(self.fields, positions, strict=True)):
            raw = cells[position] if 0 <= position < count else None
            cache = slot[2]
            if cache is not None:
                cacheable = raw.__class__ in _IMMUTABLE
                if cacheable:
                    hit = cache.get(raw)
                    if hit is not None:  # the common case: a value seen before
                        if hit[0]:
                            values[slot[0]] = hit[1]
                        else:
                            errors.extend(hit[1])
                        continue
            elif raw.__class__ is str:
                # A mostly-unique text column (code, name, address): the short path of _one.
                text = raw.strip()
                if text and text[0] != "'":
                    try:
                        values[slot[0]] = slot[1].validate_python(text)
                    except ValidationError as exc:
                        errors.extend(e | {"loc": (slot[0], *e["loc"])} for e in exc.errors())
                    continue
            hit = self._one(slot, raw)
            if cache is not None and cacheable and (not hit[0] or hit[1].__class__ in _IMMUTABLE):
                cache[raw] = hit
                if len(cache) > _CACHE_LIMIT:  # mostly unique values: caching only costs
                    self.fields[index] = (*slot[:2], None, *slot[3:])
            if hit[0]:
                values[slot[0]] = hit[1]
            else:
                errors.extend(hit[1])
        if errors:
            return None, errors
        if not self.after:
            return values, []
        # What model_construct does, minus its per-field default handling (values is complete).
        obj = self.model.__new__(self.model)
        object.__setattr__(obj, "__dict__", values)
        object.__setattr__(obj, "__pydantic_fields_set__", set(values))
        object.__setattr__(obj, "__pydantic_extra__", None)
        try:
            for function in self.after:
                obj = function(obj)
        except (ValueError, AssertionError) as exc:
            return None, [{"type": "value_error", "loc": (), "msg": f"Value error, {exc}"}]
        return obj.__dict__, []


def _constant(value: Any) -> Callable[[], Any]:
    return lambda: value

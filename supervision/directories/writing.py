"""Writing validated rows (main process only): each row is classified against the
database by its key as added, updated or unchanged (values compared) and written with
Core executemany in the import's one transaction; ``updated_at`` moves only when
something changed. A big file into an empty SQLite table drops the table's plain indexes
and builds them once, at the end of the same transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, and_, bindparam, select, tuple_

from supervision.credit.classes import ClassGuard
from supervision.db import drop_plain_indexes, table_of
from supervision.db.bulk import DriverStatement
from supervision.directories.kinds import Kind, Reference
from supervision.directories.report import ImportReport

LOOKUP_CHUNK = 2_000


class Writer:
    """Classifies validated rows against the database and writes them with executemany."""

    def __init__(self, conn: Connection, kind: Kind, now: datetime, *, bulk: bool = False) -> None:
        self.conn = conn
        self.kind = kind
        self.table = kind.table
        self.now = now
        self.store = [c.name for c in self.table.columns if c.name != kind.stamp]
        self.key_index = [self.store.index(k) for k in kind.key]
        self.compare = [c for c in self.store if c not in kind.key]
        self.was_empty = conn.execute(select(1).select_from(self.table).limit(1)).first() is None
        keys = [self.table.c[k] for k in kind.key]
        self.key_expr: Any = keys[0] if len(keys) == 1 else tuple_(*keys)
        where = and_(*(self.table.c[k] == bindparam(f"k_{k}") for k in kind.key))
        values: dict[str, Any] = {c: bindparam(f"v_{c}") for c in self.compare}
        if kind.stamp:
            values[kind.stamp] = bindparam(f"v_{kind.stamp}")
        self.update_stmt = self.table.update().where(where).values(values)
        self.known: dict[str, dict[Any, bool]] = {r.field: {} for r in kind.references}
        self._fast_insert: DriverStatement | None = None
        # A big file into an empty SQLite table: indexes are built once at the end.
        self.defer_indexes = bulk and self.was_empty and conn.dialect.name == "sqlite"
        self.rebuild: list[str] = []
        primary = {c.name for c in self.table.primary_key.columns}
        self.key_is_primary = primary == set(kind.key)
        #: SHA-256 of the keys added or updated, in file order (see ``changed_keys_digest``).
        self.changed_keys = hashlib.sha256()
        #: Entities: what the import may change of classes a decision set (``ClassGuard``).
        self.guard: ClassGuard | None = None

    def _insert(self, rows: list[tuple[Any, ...]]) -> None:
        """Insert rows (values in `self.store` order) with one executemany: Core's on
        PostgreSQL, the driver's on SQLite (``db.bulk.DriverStatement``)."""
        if self.conn.dialect.paramstyle != "qmark":
            extra = {self.kind.stamp: self.now} if self.kind.stamp else {}
            dicts = [dict(zip(self.store, row, strict=True)) | extra for row in rows]
            self.conn.execute(self.table.insert(), dicts)
            return
        if self._fast_insert is None:
            columns = self.store + ([self.kind.stamp] if self.kind.stamp else [])
            statement = self.table.insert().values({c: bindparam(c) for c in columns})
            self._fast_insert = DriverStatement(statement, self.table, columns, self.conn.dialect)
        self._fast_insert.run(self.conn, rows, (self.now,) if self.kind.stamp else ())
        if self.defer_indexes:
            self._drop_indexes()

    def _drop_indexes(self) -> None:
        """Drop the table's plain indexes for the rest of this bulk load (only on an empty
        table: unique ones and the key keep enforcing); ``finish`` rebuilds them. Measured
        on entities: 7.7 s inserting with indexes, 3.3 s without plus 1.4 s rebuilding.
        See ``db.drop_plain_indexes``: the first INSERT has opened the transaction."""
        self.defer_indexes = False
        self.rebuild += drop_plain_indexes(self.conn, self.table.name)

    def finish(self) -> None:
        """Rebuild the indexes dropped for a bulk load, in the same transaction."""
        for sql in self.rebuild:
            self.conn.exec_driver_sql(sql)
        self.rebuild = []

    def key_of(self, values: tuple[Any, ...]) -> Any:
        if len(self.key_index) == 1:
            return values[self.key_index[0]]
        return tuple(values[i] for i in self.key_index)

    def keys_of(self, rows: list[tuple[Any, ...]]) -> list[Any]:
        """The key of each row: the value, or a tuple for a key of several columns."""
        return list(map(itemgetter(*self.key_index), rows))

    def missing_references(
        self, numbers: Sequence[int], rows: list[tuple[Any, ...]]
    ) -> list[tuple[int, Reference, Any]]:
        """(row, reference, value) for every reference to a row not in the database."""
        found: list[tuple[int, Reference, Any]] = []
        for ref in self.kind.references:
            idx = self.store.index(ref.field)
            known = self.known[ref.field]
            wanted = {values[idx] for values in rows} - known.keys()
            column = table_of(ref.model).c[ref.column]
            wanted_list = sorted(wanted)
            for start in range(0, len(wanted_list), LOOKUP_CHUNK):
                part = wanted_list[start : start + LOOKUP_CHUNK]
                present = set(self.conn.execute(select(column).where(column.in_(part))).scalars())
                for value in part:
                    known[value] = value in present
            found.extend(
                (n, ref, values[idx])
                for n, values in zip(numbers, rows, strict=True)
                if not known[values[idx]]
            )
        return found

    def existing(self, keys: list[Any]) -> dict[Any, tuple[Any, ...]]:
        if self.was_empty:
            return {}
        cols = [self.table.c[c] for c in self.store]
        result: dict[Any, tuple[Any, ...]] = {}
        for start in range(0, len(keys), LOOKUP_CHUNK):
            part = keys[start : start + LOOKUP_CHUNK]
            for row in self.conn.execute(select(*cols).where(self.key_expr.in_(part))):
                result[self.key_of(tuple(row))] = tuple(row)
        return result

    def _changed(self, keys: Sequence[Any]) -> None:
        """Feed the digest of changed keys: each key as text (the parts of a key of several
        columns joined by a tab), followed by a line feed."""
        if len(self.key_index) == 1:
            if keys and set(map(type, keys)) == {str}:  # text keys (most): one C-speed join
                text = "\n".join(keys) + "\n"
            else:
                text = "".join(f"{key}\n" for key in keys)
        else:
            text = "".join("\t".join(map(str, key)) + "\n" for key in keys)
        self.changed_keys.update(text.encode("utf-8"))

    def _guarded(
        self,
        keys: list[Any],
        rows: list[tuple[Any, ...]],
        old: dict[Any, tuple[Any, ...]],
        numbers: Sequence[int] | None,
    ) -> list[tuple[Any, ...]]:
        """Rows as the guard lets them be stored (a decided class kept, see ``ClassGuard``)."""
        if self.guard is None:
            return rows
        at = [i for i, key in enumerate(keys) if key in old and old[key] != rows[i]]
        if not at:
            return rows
        pairs = [
            (numbers[i] if numbers is not None else None,
             dict(zip(self.store, old[keys[i]], strict=True)),
             dict(zip(self.store, rows[i], strict=True)))
            for i in at
        ]  # fmt: skip
        out = list(rows)
        for i, values in zip(at, self.guard.check(self.conn, pairs), strict=True):
            out[i] = tuple(values[c] for c in self.store)
        return out

    def write(
        self,
        rows: list[tuple[Any, ...]],
        report: ImportReport,
        numbers: Sequence[int] | None = None,
    ) -> None:
        """Insert the new rows, update the changed ones, count the unchanged."""
        if self.was_empty:  # nothing to compare with (duplicates were removed before)
            inserts = rows
            updates: list[dict[str, Any]] = []
            self._changed(self.keys_of(rows))
        else:
            keys = self.keys_of(rows)
            old = self.existing(keys)
            rows = self._guarded(keys, rows, old, numbers)
            inserts = []
            updates = []
            changed = []
            for key, values in zip(keys, rows, strict=True):
                before = old.get(key)
                if before is None:
                    inserts.append(values)
                    changed.append(key)
                elif before == values:
                    report.unchanged += 1
                else:
                    changed.append(key)
                    params = {f"v_{c}": v for c, v in zip(self.store, values, strict=True)}
                    for k in self.kind.key:
                        params[f"k_{k}"] = params.pop(f"v_{k}")
                    if self.kind.stamp:
                        params[f"v_{self.kind.stamp}"] = self.now
                    updates.append(params)
            self._changed(changed)
        if inserts:
            self._insert(inserts)
            report.added += len(inserts)
        if updates:
            self.conn.execute(self.update_stmt, updates)
            report.updated += len(updates)

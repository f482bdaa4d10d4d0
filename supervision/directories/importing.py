"""Importing the item list and the directories (一单两库) from CSV, XLSX, JSON and JSONL.

An import is all-or-nothing: every row is validated by the kind's XCreate model (the one
definition of the rules), checked for duplicates inside the file and for references to
rows already in the database; if any row is bad nothing is written and the error lists
every bad row with its row number, column, value and reason in Chinese and English.
With ``skip_invalid`` the good rows are written and the bad ones go to a rejects file.

Rows are upserted by their key and counted as added, updated or unchanged (values are
compared); ``updated_at`` moves only when something changed. Rows missing from a later
file are never deleted. Writes go through SQLAlchemy Core executemany in one transaction.
Big files are validated in worker processes, chunk by chunk, while the main process
writes; the database is still touched by one connection only. A big file into an empty
SQLite table builds the table's plain indexes once, at the end of the same transaction.

The parts: what each kind looks like (``kinds``), validating rows (``rows``, pure),
writing them (``writing``), errors and the report (``report``); this module is the
service that reads the file, runs them chunk by chunk and records the import.
"""

from __future__ import annotations

import gc
import hashlib
import os
from collections import deque
from collections.abc import Callable, Generator, Iterator
from contextlib import closing, contextmanager
from functools import partial
from itertools import islice, repeat
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from supervision import clock, pools, trail
from supervision.credit.classes import ClassGuard
from supervision.db import Database, busy_is_an_error, hold_write, refresh_statistics
from supervision.directories.kinds import Kind, kind_spec, map_headers
from supervision.directories.report import ImportRejected, ImportReport, RowError, write_rejects
from supervision.directories.rows import validate_block, validate_rows
from supervision.directories.tabular import Sheet, csv_blocks, read_table
from supervision.directories.writing import Writer

CHUNK = 10_000
PARALLEL_FROM = 50_000  # rows; below this a process pool costs more than it saves
BULK_FROM = 50_000  # rows; from here an import into an empty table builds its indexes last

Advance = Callable[[int], None]
Raw = list[tuple[int, list[Any]]]  # rows as read: (row number, raw cells)
Rejected = dict[int, tuple[list[Any], list[RowError]]]  # row number -> (cells, errors)


# ---------------------------------------------------------------- validated chunks
def _chunks(
    rows: Iterator[tuple[int, list[Any]]], size: int
) -> Iterator[list[tuple[int, list[Any]]]]:
    while chunk := list(islice(rows, size)):
        yield chunk


Validated = tuple[
    int,
    list[tuple[int, list[Any]]] | None,
    list[int] | None,
    list[tuple[Any, ...]],
    list[RowError],
]  # (rows read, raw rows if kept, row numbers if known, good rows, errors)


class _Recheck(Exception):
    """A block-parallel CSV import met a problem: redo it with the exact sequential reader."""


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while an import makes millions of small objects.

    The collector runs every 700 new objects and rescans the growing older generations
    over and over (measured on a million entities: 18% of the main process's time and a
    quarter of the workers'); rows hold no cycles, and whatever else there is is collected
    afterwards as usual. Workers run with the collector off (`_validated_chunks`).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _split(
    good: list[tuple[int, tuple[Any, ...]]],
) -> tuple[list[int], list[tuple[Any, ...]]]:
    return [n for n, _ in good], [v for _, v in good]


def _remembered(chunks: Iterator[Raw], sent: deque[Raw]) -> Iterator[Raw]:
    """`chunks`, each also kept in `sent` until its result is taken (in submission order)."""
    for chunk in chunks:
        sent.append(chunk)
        yield chunk


def _validated_chunks(
    kind: Kind, sheet: Sheet, fields: list[str | None], workers: int, blocks: bool
) -> Generator[Validated, None, None]:
    """Validated rows in file order: in this process, in a pool by chunks, or by CSV blocks.

    Block mode sends raw bytes to the workers, which parse and validate them, so the main
    process only writes; any problem there raises _Recheck for an exact sequential pass.
    The pool forks: workers start at once and need no importable __main__ (a script
    calling import_file without a __main__ guard would break under spawn); they only
    validate, never touch the parent's database connection, and live for one import, with
    the garbage collector off (see `_gc_paused`). At most 2 tasks per worker are in flight.
    """
    if workers <= 1:
        for chunk in _chunks(sheet.rows, CHUNK):
            good, errors = validate_rows(kind.name, sheet.headers, fields, chunk)
            yield (len(chunk), chunk, *_split(good), errors)
        return
    ahead = 2 * workers
    with pools.process_pool(workers, method="fork", initializer=gc.disable) as pool:
        if blocks:
            encoding = sheet.encoding or "utf-8-sig"
            check_block = partial(validate_block, kind.name, sheet.headers, fields, encoding)
            raw_blocks = csv_blocks(sheet.path, numbered=False)
            for count, rows, failed in pools.in_order(pool, check_block, raw_blocks, ahead=ahead):
                if failed:
                    raise _Recheck
                yield count, None, None, rows, []
            return
        check_chunk = partial(validate_rows, kind.name, sheet.headers, fields)
        sent: deque[Raw] = deque()
        chunks = _remembered(_chunks(sheet.rows, CHUNK), sent)
        for good, errors in pools.in_order(pool, check_chunk, chunks, ahead=ahead):
            chunk = sent.popleft()
            yield (len(chunk), chunk, *_split(good), errors)


# ---------------------------------------------------------------- the service
def import_file(
    db: Database,
    *,
    kind: str,
    path: Path,
    encoding: str | None = None,
    ignore_unknown_columns: bool = False,
    skip_invalid: bool = False,
    workers: int | None = None,
    progress: Callable[[int | None], Any] | None = None,
    actor: str | None = None,
) -> ImportReport:
    """Import `path` into the `kind` table (see the module docstring for the rules).

    `progress(total)` may return a context manager yielding advance(n); `workers` = None
    picks a process pool for big files. Raises ImportRejected listing every bad row.
    """
    spec = kind_spec(kind)
    path = Path(path)
    file_sha256 = _file_sha256(path)
    for blocks in (True, False):
        sheet = read_table(path, encoding=encoding)
        try:
            with busy_is_an_error(), _gc_paused():
                return _import_sheet(
                    db,
                    spec,
                    sheet,
                    ignore_unknown_columns=ignore_unknown_columns,
                    skip_invalid=skip_invalid,
                    workers=workers,
                    progress=progress,
                    blocks=blocks,
                    actor=actor,
                    file_sha256=file_sha256,
                )
        except _Recheck:
            continue  # rolled back; the exact reader finds and reports every problem
        finally:
            sheet.close()
    raise AssertionError("unreachable: the sequential pass never rechecks")


def _file_sha256(path: Path) -> str:
    """The SHA-256 of the file as imported (recorded in the trail); '' if it cannot be
    read (``read_table`` then says why)."""
    try:
        with path.open("rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return ""


def _workers(workers: int | None, total: int | None) -> int:
    """The pool size asked for, else every core for a big file and none for a small one."""
    if workers is not None:
        return workers
    cores = os.cpu_count() or 1
    return cores if cores > 1 and (total or 0) >= PARALLEL_FROM else 1


def _import_sheet(
    db: Database,
    spec: Kind,
    sheet: Sheet,
    *,
    ignore_unknown_columns: bool,
    skip_invalid: bool,
    workers: int | None,
    progress: Callable[[int | None], Any] | None,
    blocks: bool,
    actor: str | None,
    file_sha256: str,
) -> ImportReport:
    path = sheet.path
    fields = map_headers(spec, sheet.headers, ignore_unknown=ignore_unknown_columns)
    workers = _workers(workers, sheet.total)
    report = ImportReport(kind=spec.name, file=path.name)
    with db.session() as session, _progress(progress, sheet.total) as advance:
        conn = session.connection()
        now = hold_write(conn)  # stamps taken inside the transaction, lock held (checks)
        writer = Writer(conn, spec, now, bulk=(sheet.total or 0) >= BULK_FROM)
        if spec.name == "entities":
            writer.guard = ClassGuard(path.name)
        blocks = blocks and workers > 1 and sheet.format == "csv" and _has_newlines(path)
        run = _Run(spec, sheet.headers, fields, writer, report, skip_invalid, blocks)
        # closing: a _Recheck shuts the pool down now, not whenever the generator is freed
        with closing(_validated_chunks(spec, sheet, fields, workers, blocks)) as chunks:
            for chunk in chunks:
                run.take(*chunk)
                advance(chunk[0])
        writer.finish()
        report.errors.sort(key=lambda e: e.row)
        if report.errors and not skip_invalid:
            raise ImportRejected(path.name, report.errors)  # rolls the transaction back
        refresh_statistics(conn, {writer.table.name: report.added + report.updated})
        report.rejected = len(run.rejected)
        if writer.guard is not None:
            report.kept = writer.guard.kept
            writer.guard.record(conn, actor=trail.current_actor(actor), now=now,
                                today=clock.today())  # fmt: skip
        _record(
            session, spec, report, actor=actor, file_sha256=file_sha256,
            changed_keys_sha256=writer.changed_keys.hexdigest(),
        )  # fmt: skip
    if run.rejected:
        report.rejects_file = str(write_rejects(path, sheet.headers, run.rejected))
    return report


def _record(
    session: Session,
    spec: Kind,
    report: ImportReport,
    *,
    file_sha256: str,
    changed_keys_sha256: str,
    actor: str | None,
) -> None:
    """The import in the audit trail: the file (name and SHA-256), the counts, and the
    SHA-256 of the keys it added or updated (each key as text, the parts of a key of
    several columns joined by a tab, followed by a line feed, in file order), so anyone
    holding the file can check what this import changed."""
    trail.record(
        session,
        action="import",
        obj=f"import:{spec.name}",
        payload={
            "file": report.file,
            "file_sha256": file_sha256,
            "changed_keys_sha256": changed_keys_sha256,
            "rows": report.rows,
            "added": report.added,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "rejected": report.rejected,
            "kept": len(report.kept),
        },
        actor=actor,
    )


class _Run:
    """One import in progress: the validated chunks go through here, one after another,
    to be checked for duplicate keys and missing references, set aside if bad, and
    written if good (``skip_invalid``) or while nothing is bad."""

    def __init__(
        self,
        spec: Kind,
        headers: list[str],
        fields: list[str | None],
        writer: Writer,
        report: ImportReport,
        skip_invalid: bool,
        blocks: bool,
    ) -> None:
        self.headers = headers
        self.fields = fields
        self.writer = writer
        self.report = report
        self.skip_invalid = skip_invalid
        self.blocks = blocks
        self.rejected: Rejected = {}
        self.first_row: dict[Any, int] = {}
        self.key_header = next(
            (h for h, f in zip(headers, fields, strict=True) if f == spec.key[0]), ""
        )
        # Into an empty table every row is inserted, so in block mode the table's primary
        # key (the import key) finds a duplicate itself, and the sequential pass names it.
        self.key_checks = blocks and writer.was_empty and writer.key_is_primary

    def _header_of(self, field: str) -> str:
        """The header as written in the file of the column that feeds `field`."""
        return next(h for h, f in zip(self.headers, self.fields, strict=True) if f == field)

    def take(
        self,
        count: int,
        raw: Raw | None,
        numbers: list[int] | None,
        rows: list[tuple[Any, ...]],
        errors: list[RowError],
    ) -> None:
        """One validated chunk (see ``Validated``): checked, set aside if bad, written."""
        self.report.rows += count
        if not self.key_checks:
            numbers, rows = self._first_of_each_key(numbers, rows, errors)
        missing = self.writer.missing_references(numbers or range(len(rows)), rows)
        if self.blocks and (errors or missing):
            raise _Recheck
        for number, ref, value in missing:
            errors.append(
                RowError(
                    number,
                    self._header_of(ref.field),
                    value,
                    f"数据库中没有这个{ref.zh}",
                    f"no such {ref.en} in the database",
                )
            )
        if errors and numbers is not None:
            rows = self._set_aside(raw, numbers, rows, errors)
        if rows and (self.skip_invalid or not self.report.errors):
            try:
                aligned = numbers if numbers is not None and len(numbers) == len(rows) else None
                self.writer.write(rows, self.report, aligned)
            except IntegrityError:
                if self.key_checks:
                    raise _Recheck from None  # rolled back by the session
                raise

    def _first_of_each_key(
        self, numbers: list[int] | None, rows: list[tuple[Any, ...]], errors: list[RowError]
    ) -> tuple[list[int] | None, list[tuple[Any, ...]]]:
        """The rows whose key is new to the file; an error for each later one."""
        keys = self.writer.keys_of(rows)
        if len(set(keys)) == len(keys) and self.first_row.keys().isdisjoint(keys):
            self.first_row.update(zip(keys, numbers or repeat(0), strict=False))
            return numbers, rows
        if numbers is None:
            raise _Recheck  # a duplicate: the sequential pass names both rows
        return _first_of_each(self.first_row, keys, numbers, rows, self.key_header, errors)

    def _set_aside(
        self,
        raw: Raw | None,
        numbers: list[int],
        rows: list[tuple[Any, ...]],
        errors: list[RowError],
    ) -> list[tuple[Any, ...]]:
        """The good rows; the errors go to the report, the bad rows' cells to the rejects."""
        bad_rows = {e.row for e in errors}
        kept = [(n, v) for n, v in zip(numbers, rows, strict=True) if n not in bad_rows]
        self.report.errors.extend(errors)
        if self.skip_invalid and raw is not None:
            cells = dict(raw)
            for e in errors:
                self.rejected.setdefault(e.row, (cells[e.row], []))[1].append(e)
        return [v for _, v in kept]


def _first_of_each(
    first_row: dict[Any, int],
    keys: list[Any],
    numbers: list[int],
    rows: list[tuple[Any, ...]],
    key_header: str,
    errors: list[RowError],
) -> tuple[list[int], list[tuple[Any, ...]]]:
    """The rows whose key is new; an error for each later row with a key seen before."""
    kept_numbers: list[int] = []
    kept_rows: list[tuple[Any, ...]] = []
    for key, number, values in zip(keys, numbers, rows, strict=True):
        first = first_row.setdefault(key, number)
        if first == number:
            kept_numbers.append(number)
            kept_rows.append(values)
        else:
            shown = key if isinstance(key, str) else "/".join(map(str, key))
            errors.append(
                RowError(
                    number, key_header, shown, f"与第 {first} 行重复", f"duplicates row {first}"
                )
            )
    return kept_numbers, kept_rows


def _no_progress(n: int = 1) -> None:
    return None


class _progress:
    """Adapts an optional progress(total) factory into a context yielding advance(n)."""

    def __init__(self, factory: Callable[[int | None], Any] | None, total: int | None) -> None:
        self._cm = factory(total) if factory is not None else None

    def __enter__(self) -> Advance:
        if self._cm is None:
            return _no_progress
        advance: Advance = self._cm.__enter__()
        return advance

    def __exit__(self, *exc: Any) -> None:
        if self._cm is not None:
            self._cm.__exit__(*exc)


def _has_newlines(path: Path) -> bool:
    with path.open("rb") as fh:
        return b"\n" in fh.read(1 << 16)

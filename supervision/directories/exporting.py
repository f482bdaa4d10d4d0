"""Exporting the item list and the directories to CSV, XLSX, JSON or JSONL.

CSV and XLSX carry Chinese headers with the English key in brackets (统一社会信用代码(uscc)),
every cell as text (codes keep their leading zeros), dates as YYYY-MM-DD, yes/no as 是/否,
lists joined with 、 and record payloads as JSON text; CSV is UTF-8 with a BOM so Excel
opens it. Text that a spreadsheet would run as a formula is prefixed with ' (see
supervision.directories.tabular). JSON and JSONL use the English keys and native values.
Every export re-imports cleanly: importing it again reports every row unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select

from supervision.db import Database
from supervision.directories.kinds import Kind, kind_spec
from supervision.directories.tabular import write_table
from supervision.errors import SupervisionError

EXPORT_FORMATS = ("csv", "xlsx", "json", "jsonl")


def export_format(path: Path, fmt: str | None) -> str:
    """The format asked for, else the one the file name implies."""
    chosen = (fmt or path.suffix.lstrip(".")).lower()
    if chosen not in EXPORT_FORMATS:
        raise SupervisionError(
            f"无法确定导出格式（{chosen or '无扩展名'}），请用 --format csv|xlsx|json|jsonl",
            f"cannot tell the export format ({chosen or 'no extension'}): "
            "pass --format csv|xlsx|json|jsonl",
        )
    return chosen


def _rows(db: Database, kind: Kind) -> Iterator[tuple[Any, ...]]:
    table = kind.table
    cols = [table.c[c.field] for c in kind.columns]
    order = [table.c[k] for k in kind.key]
    with db.engine.connect() as conn:
        result = conn.execution_options(yield_per=5_000).execute(select(*cols).order_by(*order))
        for row in result:
            yield tuple(row)


def count_rows(db: Database, *, kind: str) -> int:
    from sqlalchemy import func

    spec = kind_spec(kind)
    with db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(spec.table)).scalar_one())


def export_file(
    db: Database,
    *,
    kind: str,
    path: Path,
    fmt: str | None = None,
    advance: Callable[[int], None] | None = None,
) -> int:
    """Write every row of `kind` to `path`, ordered by key; returns the number of rows."""
    spec = kind_spec(kind)
    path = Path(path)
    chosen = export_format(path, fmt)
    headers = [c.export_header for c in spec.columns]
    keys = [c.export_key for c in spec.columns]
    try:
        return write_table(path, chosen, headers, _rows(db, spec), json_keys=keys, advance=advance)
    except OSError as exc:
        raise SupervisionError(
            f"无法写入 {path}：{exc.strerror}", f"cannot write {path}: {exc.strerror}"
        ) from None

"""Bulk imports into an empty table: indexes are rebuilt at the end, and only if it commits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from factories import make_entity, write_csv
from sqlalchemy import func, select, text

from supervision.db import Database
from supervision.directories import importing
from supervision.directories.importing import import_file
from supervision.directories.kinds import KINDS
from supervision.directories.report import ImportRejected

TESTS = Path(__file__).resolve().parent


def indexes(db: Database) -> list[tuple[str, str]]:
    """The entity table's indexes as the database defines them."""
    with db.engine.connect() as conn:
        if db.is_sqlite:
            sql = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'entity'"
        else:
            sql = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'entity'"
        return sorted((str(n), str(d)) for n, d in conn.execute(text(sql)))


def entity_count(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(KINDS["entities"].table)).scalar())


@pytest.fixture
def small_bulk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bulk mode from the first row, several chunks per file."""
    monkeypatch.setattr(importing, "BULK_FROM", 1)
    monkeypatch.setattr(importing, "CHUNK", 4)


@pytest.mark.usefixtures("small_bulk")
def test_bulk_import_keeps_the_indexes_and_the_rows(db: Database, tmp_path: Path) -> None:
    before = indexes(db)
    assert len(before) >= 4
    rows = [make_entity(i, region_code="150102" if i % 2 else "150103") for i in range(1, 20)]
    report = import_file(db, kind="entities", path=write_csv(tmp_path / "e.csv", rows), workers=1)
    assert report.added == 19
    assert indexes(db) == before
    with db.engine.connect() as conn:
        by_region = dict(
            conn.execute(
                text(
                    "SELECT region_code, count(*) FROM entity WHERE region_code IN"
                    " ('150102', '150103') GROUP BY region_code"
                )
            ).all()
        )
    assert by_region == {"150102": 10, "150103": 9}
    report = import_file(db, kind="entities", path=tmp_path / "e.csv", workers=1)
    assert (report.added, report.unchanged) == (0, 19)  # not empty any more: no bulk mode
    assert indexes(db) == before


@pytest.mark.usefixtures("small_bulk")
def test_a_rejected_bulk_import_keeps_the_indexes(db: Database, tmp_path: Path) -> None:
    before = indexes(db)
    rows = [make_entity(i) for i in range(1, 20)] + [make_entity(30, region_code="1")]
    with pytest.raises(ImportRejected):
        import_file(db, kind="entities", path=write_csv(tmp_path / "e.csv", rows), workers=1)
    assert indexes(db) == before and entity_count(db) == 0


@pytest.mark.usefixtures("small_bulk")
def test_a_failure_after_the_inserts_rolls_the_index_drop_back(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = indexes(db)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("trail unavailable")

    monkeypatch.setattr(importing.trail, "record", broken)
    rows = [make_entity(i) for i in range(1, 20)]
    with pytest.raises(RuntimeError, match="trail unavailable"):
        import_file(db, kind="entities", path=write_csv(tmp_path / "e.csv", rows), workers=1)
    assert indexes(db) == before and entity_count(db) == 0


KILLED_CHILD = """
import os, signal, sys
sys.path.insert(0, {tests!r})
from pathlib import Path
from supervision.directories import importing, writing
from supervision.db import Database

importing.BULK_FROM = 1
importing.CHUNK = 4

def die(self):  # after every insert and the index drop, before the rebuild and the commit
    assert not self.defer_indexes and self.rebuild, "the indexes were not dropped"
    os.kill(os.getpid(), signal.SIGKILL)

writing.Writer.finish = die
db = Database({url!r})
importing.import_file(db, kind="entities", path=Path({path!r}), workers=1)
"""


def test_a_killed_bulk_import_leaves_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    db = Database(url)
    before = indexes(db)
    path = write_csv(tmp_path / "e.csv", [make_entity(i) for i in range(1, 20)])
    child = KILLED_CHILD.format(tests=str(TESTS), url=url, path=str(path))
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()
    try:
        assert indexes(db) == before and entity_count(db) == 0
    finally:
        db.dispose()
    assert os.path.exists(tmp_path / "k.db")


def test_a_duplicate_in_a_parallel_import_is_named(db: Database, tmp_path: Path) -> None:
    """Block mode leaves duplicates to the primary key; the recheck names both rows."""
    rows = [make_entity(i) for i in range(1, 30)] + [make_entity(7)]
    path = write_csv(tmp_path / "d.csv", rows)
    with pytest.raises(ImportRejected) as info:
        import_file(db, kind="entities", path=path, workers=2)
    assert [(e.row, e.zh, e.en) for e in info.value.errors] == [
        (31, "与第 8 行重复", "duplicates row 8")
    ]
    assert entity_count(db) == 0
    report = import_file(
        db, kind="entities", path=write_csv(tmp_path / "g.csv", rows[:29]), workers=2
    )
    assert report.added == 29

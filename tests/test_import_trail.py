"""What an import's trail event proves: the file's SHA-256 and a digest of the keys it
added or updated (one key per line, in file order; a key of several columns joined by a
tab), at the CLI and the console's upload, sequential and in parallel, on both backends."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import CliRun
from factories import make_department, make_entity, make_item, make_uscc, write_csv
from sqlalchemy import select
from test_console_support import ConsoleServer, build_console, csrf_of, sign_in

from supervision.db import Database
from supervision.directories.importing import import_file
from supervision.models import TrailEvent
from supervision.models.users import Role

pytestmark = pytest.mark.usefixtures("crew")

_T = TrailEvent.__table__  # type: ignore[attr-defined]


def _imports(db: Database) -> list[dict[str, Any]]:
    with db.engine.connect() as conn:
        rows = conn.execute(select(_T.c.payload).where(_T.c.action == "import").order_by(_T.c.seq))
        return [json.loads(p) for p in rows.scalars()]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _keys(*keys: str) -> str:
    return _sha("".join(f"{k}\n" for k in keys).encode())


def test_cli_import_records_file_and_changed_keys(
    cli: CliRun, db: Database, tmp_path: Path
) -> None:
    first = write_csv(tmp_path / "d1.csv", [make_department(1), make_department(2)])
    cli("import", "--as", "cli-admin", "departments", str(first))
    cli("import", "--as", "cli-admin", "departments", str(first))  # nothing changes
    second = write_csv(
        tmp_path / "d2.csv",
        [make_department(1), make_department(2, name="改名科"), make_department(3)],
    )
    cli("import", "--as", "cli-admin", "departments", str(second))
    items = write_csv(tmp_path / "items.csv", [make_item(7), make_item(7, version="2")])
    cli("import", "--as", "cli-admin", "items", str(items))
    events = _imports(db)
    assert [e["file_sha256"] for e in events] == [
        _sha(first.read_bytes()), _sha(first.read_bytes()), _sha(second.read_bytes()),
        _sha(items.read_bytes()),
    ]  # fmt: skip
    assert [e["changed_keys_sha256"] for e in events] == [
        _keys("D001", "D002"), _keys(), _keys("D002", "D003"),
        _keys("NM-SC-007\t1", "NM-SC-007\t2"),
    ]  # fmt: skip
    assert [(e["added"], e["updated"], e["unchanged"]) for e in events] == [
        (2, 0, 0), (0, 0, 2), (1, 1, 1), (2, 0, 0)
    ]  # fmt: skip


@pytest.mark.parametrize("workers", [1, 2])
def test_parallel_and_sequential_imports_record_the_same_digest(
    db: Database, tmp_path: Path, workers: int
) -> None:
    import_file(db, kind="departments", path=write_csv(tmp_path / "d.csv", [make_department(1)]))
    rows = [make_entity(n, uscc=make_uscc(n)) for n in range(1, 41)]
    path = write_csv(tmp_path / "e.csv", rows)
    import_file(db, kind="entities", path=path, workers=workers)
    changed = [*rows[5:9], make_entity(50, uscc=make_uscc(50))]
    edited = [r | {"name": r["name"] + "（变更）"} for r in changed[:4]] + changed[4:]
    again = write_csv(tmp_path / "e2.csv", rows[:5] + edited)
    import_file(db, kind="entities", path=again, workers=workers)
    first, second = _imports(db)[1:]
    assert first["changed_keys_sha256"] == _keys(*(r["uscc"] for r in rows))
    assert second["changed_keys_sha256"] == _keys(*(r["uscc"] for r in edited))
    assert second["file_sha256"] == _sha(again.read_bytes())


def test_console_upload_records_file_and_changed_keys(db: Database, tmp_path: Path) -> None:
    build_console(db, tmp_path)
    content = write_csv(tmp_path / "e.csv", [make_entity(901, uscc=make_uscc(901))]).read_bytes()
    with ConsoleServer(db) as url, httpx.Client(base_url=url, timeout=60) as client:
        token = csrf_of(sign_in(client, Role.ADMIN))
        done = client.post(
            "/admin/directories/entities/import",
            files={"file": ("新主体.csv", content, "text/csv")},
            data={"csrf_token": token},
        )
        assert done.status_code == 303, done.text[:500]
    event = _imports(db)[-1]
    assert event["file"] == "新主体.csv"
    assert event["file_sha256"] == _sha(content)
    assert event["changed_keys_sha256"] == _keys(make_uscc(901))

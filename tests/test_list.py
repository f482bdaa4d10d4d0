"""`supervision list`: a page of rows plus the total, filtered by region and status."""

from __future__ import annotations

import json
from pathlib import Path

from factories import make_department, make_entity, make_inspector, make_item, write_csv

from supervision.db import Database
from supervision.directories.importing import import_file


def populate(db: Database, tmp_path: Path) -> None:
    import_file(
        db,
        kind="departments",
        path=write_csv(
            tmp_path / "d.csv", [make_department(1), make_department(2, region_code="150202")]
        ),
    )
    entities = [make_entity(i, region_code="150102") for i in range(1, 6)]
    entities += [make_entity(i, region_code="150203", status="注销") for i in range(6, 9)]
    entities += [make_entity(9, region_code="110105")]
    import_file(db, kind="entities", path=write_csv(tmp_path / "e.csv", entities))
    import_file(
        db,
        kind="inspectors",
        path=write_csv(
            tmp_path / "i.csv",
            [make_inspector(1), make_inspector(2, status="退休", region_code="150202")],
        ),
    )
    import_file(db, kind="items", path=write_csv(tmp_path / "it.csv", [make_item(1), make_item(2)]))


def test_list_entities_page_and_total(cli, db: Database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    populate(db, tmp_path)
    out = json.loads(cli("list", "entities", "--limit", "3", "--json").stdout)
    assert out["total"] == 9 and len(out["rows"]) == 3
    assert out["rows"] == sorted(out["rows"], key=lambda r: r["uscc"])
    page2 = json.loads(cli("list", "entities", "--limit", "3", "--offset", "3", "--json").stdout)
    assert {r["uscc"] for r in page2["rows"]}.isdisjoint(r["uscc"] for r in out["rows"])


def test_list_filters(cli, db: Database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    populate(db, tmp_path)

    def total(*args: str) -> int:
        return int(json.loads(cli("list", *args, "--json").stdout)["total"])

    assert total("entities", "--region", "150102") == 5
    assert total("entities", "--region", "150200") == 3  # the prefecture
    assert total("entities", "--region", "150000") == 8  # the province
    assert total("entities", "--status", "注销") == 3
    assert total("entities", "--status", "cancelled", "--region", "150203") == 3
    assert total("inspectors", "--status", "在岗") == 1
    assert total("departments", "--region", "150200") == 1
    assert total("items") == 2


def test_list_table_output_and_errors(cli, db: Database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    populate(db, tmp_path)
    result = cli("list", "inspectors")
    assert "150100000001" in result.stdout and "共 2 条" in result.stdout
    # Piped: the header line is bilingual, the rows tab-separated and whole.
    assert result.stdout.splitlines()[1].split("\t")[:2] == ["执法证号 / cert_no", "姓名 / name"]
    bad = cli("list", "items", "--status", "在岗", expect=1)
    assert "--status" in bad.stderr
    bad = cli("list", "entities", "--status", "歇业", expect=1)
    assert "存续" in bad.stderr
    bad = cli("list", "entities", "--region", "15", expect=1)
    assert "6位数字" in bad.stderr

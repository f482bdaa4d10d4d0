"""Importing the item list and the directories: formats, checks, upserts, all-or-nothing."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from factories import (
    make_conflict,
    make_department,
    make_entity,
    make_inspector,
    make_item,
    make_record,
    make_uscc,
    write_csv,
    write_json,
    write_xlsx,
)
from sqlalchemy import select, text

from supervision.db import Database
from supervision.directories.importing import import_file
from supervision.directories.kinds import KINDS
from supervision.directories.report import ImportRejected, RowError, rejects_path
from supervision.errors import SupervisionError

ZH_ENTITY = {
    "uscc": "统一社会信用代码", "name": "企业名称", "entity_type": "主体类型",
    "industry_code": "行业代码", "region_code": "行政区划代码", "address": "住所",
    "legal_rep": "法定代表人", "contact_phone": "联系电话", "status": "登记状态",
    "risk_class": "信用风险分类", "size": "企业规模", "abnormal": "是否列入经营异常名录",
    "abnormal_since": "列入日期", "established_on": "成立日期",
}  # fmt: skip


def dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table this module writes, for before/after comparisons."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with db.engine.connect() as conn:
        for kind in KINDS.values():
            rows = conn.execute(select(kind.table)).all()
            out[kind.table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def seed(db: Database, tmp_path: Path, *, entities: int = 0, inspectors: int = 0) -> None:
    """Departments D001-D002, plus entities 1..n and inspectors 1..m."""
    run(
        db,
        "departments",
        write_csv(tmp_path / "seed_d.csv", [make_department(1), make_department(2)]),
    )
    if entities:
        run(
            db,
            "entities",
            write_csv(tmp_path / "seed_e.csv", [make_entity(i) for i in range(1, entities + 1)]),
        )
    if inspectors:
        run(
            db,
            "inspectors",
            write_csv(
                tmp_path / "seed_i.csv", [make_inspector(i) for i in range(1, inspectors + 1)]
            ),
        )


def run(db: Database, kind: str, path: Path, **kwargs: Any) -> Any:
    return import_file(db, kind=kind, path=path, **kwargs)


def rejected(db: Database, kind: str, path: Path, **kwargs: Any) -> list[RowError]:
    before = dump(db)
    with pytest.raises(ImportRejected) as info:
        run(db, kind, path, **kwargs)
    assert dump(db) == before, "a rejected import must not change the database"
    return info.value.errors


def find(errors: list[RowError], row: int, column: str) -> RowError:
    matches = [e for e in errors if e.row == row and e.column == column]
    assert matches, f"no error at row {row} column {column}: {errors}"
    return matches[0]


# ---------------------------------------------------------------- every kind, every format
def test_every_kind_imports_with_chinese_headers(db: Database, tmp_path: Path) -> None:
    seed(db, tmp_path, entities=3, inspectors=2)
    items = write_csv(
        tmp_path / "items.csv",
        [make_item(i) for i in (1, 2)],
        headers={
            "code": "事项编码",
            "version": "版本",
            "name": "事项名称",
            "department_code": "所属部门",
            "legal_basis": "法律依据",
            "object_type": "检查对象",
            "methods": "检查方式",
            "kind": "事项类别",
            "effective_from": "生效日期",
            "effective_to": "失效日期",
        },
    )
    assert run(db, "items", items).added == 2
    conflicts = write_csv(
        tmp_path / "c.csv",
        [make_conflict("150100000001", make_uscc(1))],
        headers={
            "cert_no": "执法证号",
            "uscc": "统一社会信用代码",
            "reason": "回避原因",
            "declared_on": "申报日期",
        },
    )
    assert run(db, "conflicts", conflicts).added == 1
    records = write_csv(
        tmp_path / "r.csv",
        [
            make_record(k, i, uscc=make_uscc(1))
            for i, k in enumerate(["annual_report", "licence", "complaint"], 1)
        ],
        headers={
            "record_id": "记录编号",
            "uscc": "统一社会信用代码",
            "kind": "记录类型",
            "event_date": "日期",
            "payload": "内容",
            "source": "来源",
            "received_at": "接收时间",
        },
    )
    report = run(db, "records", records)
    assert (report.added, report.updated, report.unchanged) == (3, 0, 0)
    with db.engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT payload, event_date, received_at FROM compliance_record "
                "WHERE record_id = 'R00000001'"
            )
        ).one()
    payload = row[0] if isinstance(row[0], dict) else json.loads(row[0])
    assert payload == {"year": 2024, "filed_on": "2025-05-20"}
    assert str(row[1]) == "2025-05-20"  # event_date defaults to the payload's date
    with db.engine.connect() as conn:
        quals = conn.execute(
            text("SELECT qualifications FROM inspector WHERE cert_no='150100000001'")
        ).scalar_one()
    assert (quals if isinstance(quals, list) else json.loads(quals)) == ["广告监管", "食品安全"]


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_csv_encodings_are_detected(db: Database, tmp_path: Path, encoding: str) -> None:
    path = write_csv(
        tmp_path / "e.csv",
        [make_entity(1, name="内蒙古鄂尔多斯羊绒制品有限公司")],
        encoding=encoding,
        headers=ZH_ENTITY,
    )
    assert run(db, "entities", path).added == 1
    with db.engine.connect() as conn:
        assert (
            conn.execute(text("SELECT name FROM entity")).scalar_one()
            == "内蒙古鄂尔多斯羊绒制品有限公司"
        )


def test_committed_fixtures_gbk_and_bom(db: Database, tmp_path: Path) -> None:
    fixtures = Path(__file__).parent / "fixtures"
    assert (fixtures / "entities_gbk.csv").read_bytes()[:2] != b"\xef\xbb"
    assert (fixtures / "entities_utf8_bom.csv").read_bytes()[:3] == b"\xef\xbb\xbf"
    assert run(db, "entities", fixtures / "entities_gbk.csv").added == 2
    report = run(db, "entities", fixtures / "entities_utf8_bom.csv")
    assert (report.added, report.unchanged) == (0, 2)


def test_explicit_encoding_and_wrong_encoding(db: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "e.csv", [make_entity(1)], encoding="gbk", headers=ZH_ENTITY)
    assert run(db, "entities", path, encoding="GBK").added == 1
    with pytest.raises(SupervisionError, match="utf-8"):
        run(db, "entities", path, encoding="utf-8")
    with pytest.raises(SupervisionError, match="未知的编码"):
        run(db, "entities", path, encoding="no-such-codec")


def test_xlsx_with_excel_typed_cells(db: Database, tmp_path: Path) -> None:
    rows = [
        make_entity(
            1,
            region_code=150102,
            established_on=datetime(2019, 5, 6),
            abnormal=True,
            abnormal_since=datetime(2024, 7, 1),
        ),
        make_entity(2, contact_phone=None, size=None),
    ]
    path = write_xlsx(tmp_path / "e.xlsx", rows, headers=ZH_ENTITY)
    assert run(db, "entities", path).added == 2
    with db.engine.connect() as conn:
        got = conn.execute(
            text(
                "SELECT region_code, established_on, abnormal, abnormal_since, "
                "contact_phone, size FROM entity ORDER BY uscc"
            )
        ).all()
    assert got[0][0] == "150102" and str(got[0][1]) == "2019-05-06" and bool(got[0][2])
    assert str(got[0][3]) == "2024-07-01"
    assert got[1][4] is None and got[1][5] is None


def test_xlsx_errors_use_spreadsheet_row_numbers(db: Database, tmp_path: Path) -> None:
    rows = [make_entity(1), make_entity(2, region_code="99"), make_entity(3)]
    path = write_xlsx(tmp_path / "e.xlsx", rows)
    errors = rejected(db, "entities", path)
    assert [(e.row, e.column) for e in errors] == [(3, "region_code")]


def test_json_and_jsonl_row_numbers(db: Database, tmp_path: Path) -> None:
    items = [make_entity(1), make_entity(2, established_on="2020-13-01"), make_entity(3)]
    errors = rejected(db, "entities", write_json(tmp_path / "e.json", items))
    assert [(e.row, e.column) for e in errors] == [(2, "established_on")]
    lines = tmp_path / "e.jsonl"
    lines.write_text(
        "\n".join(
            [json.dumps(items[0], ensure_ascii=False), "", json.dumps(items[1], ensure_ascii=False)]
        )
        + "\n",
        encoding="utf-8",
    )
    errors = rejected(db, "entities", lines)
    assert [(e.row, e.column) for e in errors] == [(3, "established_on")]  # the line number


def test_json_native_values(db: Database, tmp_path: Path) -> None:
    seed(db, tmp_path, entities=1)
    inspector = make_inspector(5, qualifications=["食品安全", "特种设备"])
    assert run(db, "inspectors", write_json(tmp_path / "i.json", [inspector])).added == 1
    record = make_record(
        "address_check",
        1,
        uscc=make_uscc(1),
        payload={"checked_on": "2025-06-01", "reachable": False},
    )
    record["payload"] = json.loads(record["payload"])  # an object, not text, in JSON files
    assert run(db, "records", write_json(tmp_path / "r.jsonl", [record], lines=True)).added == 1


def test_malformed_json_files(db: Database, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"uscc": 1}', encoding="utf-8")
    with pytest.raises(SupervisionError, match="对象数组"):
        run(db, "entities", bad)
    bad.write_text("[1, 2", encoding="utf-8")
    with pytest.raises(SupervisionError, match="不是合法的 JSON"):
        run(db, "entities", bad)
    lines = tmp_path / "bad.jsonl"
    lines.write_text('{"uscc": "x"}\n[1]\n', encoding="utf-8")
    with pytest.raises(SupervisionError, match="第 2 行"):
        run(db, "entities", lines)
    with pytest.raises(SupervisionError, match="不支持的文件类型"):
        run(db, "entities", write_csv(tmp_path / "e.txt", [make_entity(1)]))


# ---------------------------------------------------------------- headers
def test_header_variants_match(db: Database, tmp_path: Path) -> None:
    headers = dict(
        ZH_ENTITY,
        uscc=" ＵＳＣＣ ",
        legal_rep="法定代表人（负责人）",
        name="Name",
        region_code="所属区域",
        risk_class="风险等级",
        status="状态",
    )
    assert (
        run(db, "entities", write_csv(tmp_path / "e.csv", [make_entity(1)], headers=headers)).added
        == 1
    )


def test_unknown_columns_are_named_unless_ignored(db: Database, tmp_path: Path) -> None:
    rows = [make_entity(1) | {"备注": "x", "extra col": "y"}]
    path = write_csv(tmp_path / "e.csv", rows)
    with pytest.raises(SupervisionError) as info:
        run(db, "entities", path)
    assert "备注" in info.value.details[0] and "extra col" in info.value.details[0]
    assert run(db, "entities", path, ignore_unknown_columns=True).added == 1


def test_missing_required_columns_are_named(db: Database, tmp_path: Path) -> None:
    rows = [
        {k: v for k, v in make_entity(1).items() if k not in ("industry_code", "established_on")}
    ]
    with pytest.raises(SupervisionError) as info:
        run(db, "entities", write_csv(tmp_path / "e.csv", rows, headers=ZH_ENTITY))
    detail = " ".join(info.value.details)
    assert "行业代码" in detail and "成立日期" in detail and "established_on" in detail


def test_two_columns_for_one_field(db: Database, tmp_path: Path) -> None:
    rows = [make_entity(1) | {"名称": "另一个名字"}]
    with pytest.raises(SupervisionError, match="表头"):
        run(db, "entities", write_csv(tmp_path / "e.csv", rows, headers=ZH_ENTITY))


# ---------------------------------------------------------------- bad rows
def test_every_bad_entity_row_is_reported(db: Database, tmp_path: Path) -> None:
    seed(db, tmp_path, entities=2)
    good_uscc = make_uscc(10)
    rows = [
        make_entity(10),  # 2 ok
        make_entity(
            11, uscc=good_uscc[:-1] + ("0" if good_uscc[-1] != "0" else "1")
        ),  # 3 check char
        make_entity(12, uscc="91150102ABC"),  # 4 length
        make_entity(13, region_code="1501"),  # 5 region format
        make_entity(14, region_code="990102"),  # 6 region province
        make_entity(15, established_on="2021/02/30"),  # 7 no such date
        make_entity(16, established_on="yesterday"),  # 8 date format
        make_entity(17, entity_type="公司"),  # 9 enum
        make_entity(18, name=""),  # 10 required
        make_entity(19, name="长" * 201),  # 11 too long
        make_entity(20, abnormal="是", abnormal_since=""),  # 12 cross-field
        make_entity(10, name="重复"),  # 13 duplicate of row 2
        make_entity(21, status="歇业", risk_class="Z", abnormal="也许"),  # 14 three errors
        make_entity(22, industry_code="52"),  # 15 industry
    ]
    path = write_csv(tmp_path / "bad.csv", rows, headers=ZH_ENTITY)
    errors = rejected(db, "entities", path)
    assert find(errors, 3, "统一社会信用代码").zh == "统一社会信用代码校验位错误"
    assert "18位" in find(errors, 4, "统一社会信用代码").zh
    assert "6位数字" in find(errors, 5, "行政区划代码").zh
    assert "省级" in find(errors, 6, "行政区划代码").zh
    assert "不存在的日期" in find(errors, 7, "成立日期").zh
    assert "YYYY-MM-DD" in find(errors, 8, "成立日期").en
    assert "企业" in find(errors, 9, "主体类型").zh and find(errors, 9, "主体类型").value == "公司"
    assert find(errors, 10, "企业名称").en == "required value is missing"
    assert find(errors, 11, "企业名称").en == "at most 200 characters"
    assert "abnormal_since" in find(errors, 12, "列入日期").en
    dup = find(errors, 13, "统一社会信用代码")
    assert "第 2 行" in dup.zh and "row 2" in dup.en
    assert {e.column for e in errors if e.row == 14} == {
        "登记状态",
        "信用风险分类",
        "是否列入经营异常名录",
    }
    assert find(errors, 15, "行业代码")
    assert 2 not in {e.row for e in errors}
    for error in errors:  # every reason in both languages, with the file and row in the line
        assert error.zh and error.en and error.zh != error.en
        assert f"第 {error.row} 行" in error.line("bad.csv") and "bad.csv" in error.line("bad.csv")


def test_references_must_exist_in_the_database(db: Database, tmp_path: Path) -> None:
    seed(db, tmp_path, entities=1, inspectors=1)
    errors = rejected(
        db,
        "inspectors",
        write_csv(
            tmp_path / "i.csv", [make_inspector(7), make_inspector(8, department_code="D999")]
        ),
    )
    assert [(e.row, e.column) for e in errors] == [(3, "department_code")]
    assert "部门" in errors[0].zh and errors[0].value == "D999"
    errors = rejected(
        db, "items", write_csv(tmp_path / "it.csv", [make_item(1, department_code="X")])
    )
    assert [(e.row, e.column) for e in errors] == [(2, "department_code")]
    errors = rejected(
        db,
        "conflicts",
        write_csv(
            tmp_path / "c.csv",
            [
                make_conflict("150100000001", make_uscc(1)),
                make_conflict("NOPE0001", make_uscc(1)),
                make_conflict("150100000001", make_uscc(999)),
            ],
        ),
    )
    assert [(e.row, e.column) for e in errors] == [(3, "cert_no"), (4, "uscc")]
    errors = rejected(
        db,
        "records",
        write_csv(
            tmp_path / "r.csv",
            [
                make_record("complaint", 1, uscc=make_uscc(1)),
                make_record("complaint", 2, uscc=make_uscc(2)),
            ],
        ),
    )
    assert [(e.row, e.column) for e in errors] == [(3, "uscc")]
    assert "检查对象" in errors[0].zh


def test_item_and_record_checks(db: Database, tmp_path: Path) -> None:
    seed(db, tmp_path, entities=1)
    errors = rejected(
        db,
        "items",
        write_csv(
            tmp_path / "it.csv",
            [
                make_item(1, methods="飞行检查"),
                make_item(2, effective_from="2025-06-01", effective_to="2025-01-01"),
                make_item(3, kind="特别"),
                make_item(4, version="0"),
                make_item(4, version="1"),
                make_item(4, version="1"),
            ],
        ),
    )
    assert find(errors, 2, "methods") and find(errors, 4, "kind")
    assert "失效日期" in find(errors, 3, "effective_to").zh
    assert find(errors, 5, "version").en == "must be ≥ 1"
    assert "第 6 行" in find(errors, 7, "code").zh
    errors = rejected(
        db,
        "records",
        write_csv(
            tmp_path / "r.csv",
            [
                make_record("annual_report", 1, uscc=make_uscc(1), payload={"year": 1900}),
                make_record("annual_report", 2, uscc=make_uscc(1), payload="{not json"),  # type: ignore[arg-type]
                make_record("no_such_kind", 3, uscc=make_uscc(1), payload={}),
            ],
        ),
    )
    assert "year" in find(errors, 2, "payload").en
    assert "JSON" in find(errors, 3, "payload").zh
    assert find(errors, 4, "kind")


def test_cells_past_the_header(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    row = make_entity(1)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(list(row))
        writer.writerow([*row.values(), "stray"])
    errors = rejected(db, "entities", path)
    assert errors[0].row == 2 and "表头" in errors[0].zh


# ---------------------------------------------------------------- all or nothing, upserts
def test_a_bad_row_leaves_the_database_exactly_as_it_was(db: Database, tmp_path: Path) -> None:
    seed(db, tmp_path, entities=3, inspectors=2)
    rows = [make_entity(1, name="改了名字"), make_entity(50), make_entity(51, region_code="x")]
    rejected(db, "entities", write_csv(tmp_path / "e.csv", rows))  # dump compared inside
    rows = [
        make_inspector(1, status="退休"),
        make_inspector(9),
        make_inspector(10, qualifications=""),
    ]
    errors = rejected(db, "inspectors", write_csv(tmp_path / "i.csv", rows))
    assert [(e.row, e.column) for e in errors] == [(4, "qualifications")]


def _stamps(db: Database) -> dict[str, datetime]:
    with db.engine.connect() as conn:
        return {r[0]: r[1] for r in conn.execute(text("SELECT uscc, updated_at FROM entity"))}


def test_reimport_upserts_and_counts(db: Database, tmp_path: Path) -> None:
    seed(db, tmp_path)
    first = [make_entity(i) for i in range(1, 6)]
    report = run(db, "entities", write_csv(tmp_path / "a.csv", first))
    assert (report.added, report.updated, report.unchanged) == (5, 0, 0)
    stamps = _stamps(db)
    second = [
        make_entity(1, risk_class="D" if first[0]["risk_class"] != "D" else "A"),
        make_entity(2),
        make_entity(3, address="新地址"),
        make_entity(6),
    ]
    report = run(db, "entities", write_csv(tmp_path / "b.csv", second))
    assert (report.added, report.updated, report.unchanged) == (1, 2, 1)
    after = _stamps(db)
    assert len(after) == 6  # entities 4 and 5 are not in the second file and are kept
    u = [make_entity(i)["uscc"] for i in range(1, 7)]
    assert after[u[0]] > stamps[u[0]] and after[u[2]] > stamps[u[2]]
    assert after[u[1]] == stamps[u[1]] and after[u[3]] == stamps[u[3]]
    report = run(db, "entities", write_csv(tmp_path / "b.csv", second))
    assert (report.added, report.updated, report.unchanged) == (0, 0, 4)
    assert _stamps(db) == after


def test_reimport_other_kinds(db: Database, tmp_path: Path) -> None:
    seed(db, tmp_path, entities=1, inspectors=1)
    items = [make_item(1), make_item(1, version="2", name="第二版")]
    assert run(db, "items", write_csv(tmp_path / "it.csv", items)).added == 2
    items[1]["legal_basis"] = "新依据"
    report = run(db, "items", write_csv(tmp_path / "it.csv", items))
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
    conflict = [make_conflict("150100000001", make_uscc(1))]
    run(db, "conflicts", write_csv(tmp_path / "c.csv", conflict))
    conflict[0]["reason"] = "曾在该企业任职"
    assert run(db, "conflicts", write_csv(tmp_path / "c.csv", conflict)).updated == 1
    record = [make_record("complaint", 1, uscc=make_uscc(1))]
    run(db, "records", write_csv(tmp_path / "r.csv", record))
    report = run(db, "records", write_csv(tmp_path / "r.csv", record))
    assert report.unchanged == 1
    departments = [make_department(1, name="新名称"), make_department(2)]
    report = run(db, "departments", write_csv(tmp_path / "d.csv", departments))
    assert (report.updated, report.unchanged) == (1, 1)


# ---------------------------------------------------------------- --skip-invalid
def test_skip_invalid_imports_good_rows_and_writes_rejects(db: Database, tmp_path: Path) -> None:
    seed(db, tmp_path)
    rows = [
        make_entity(1),
        make_entity(2, region_code="1"),
        make_entity(3, name="=cmd|'/C calc'!A0"),
        make_entity(4, established_on="", entity_type="公司"),
        make_entity(1),
    ]
    path = write_csv(tmp_path / "in.csv", rows, headers=ZH_ENTITY)
    report = run(db, "entities", path, skip_invalid=True)
    assert (report.added, report.rejected) == (2, 3)
    assert report.rejects_file == str(rejects_path(path)) == str(tmp_path / "in.rejects.csv")
    raw = Path(report.rejects_file).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert table[0] == [*ZH_ENTITY.values(), "错误原因/reason"]
    assert [r[0] for r in table[1:]] == [rows[1]["uscc"], rows[3]["uscc"], rows[4]["uscc"]]
    assert (
        "行政区划代码" in table[1][-1] and "6位数字" in table[1][-1] and "6 digits" in table[1][-1]
    )
    assert "成立日期" in table[2][-1] and "主体类型" in table[2][-1]
    assert "第 2 行" in table[3][-1]
    # Fix the rejected rows in the rejects file and import it as it is: the reason column is ignored.
    fixed = [make_entity(2), make_entity(4)]
    fixed_path = write_csv(tmp_path / "fixed.csv", [r | {"错误原因/reason": "x"} for r in fixed])
    assert run(db, "entities", fixed_path).added == 2


def test_parallel_validation_matches_serial(db: Database, tmp_path: Path) -> None:
    seed(db, tmp_path)
    rows = [make_entity(i) for i in range(1, 40)] + [
        make_entity(5),
        make_entity(77, region_code="1"),
    ]
    path = write_csv(tmp_path / "p.csv", rows)
    serial = rejected(db, "entities", path, workers=1)
    parallel = rejected(db, "entities", path, workers=2)
    assert serial == parallel and {e.row for e in serial} == {41, 42}
    good = write_csv(tmp_path / "g.csv", rows[:39])
    assert run(db, "entities", good, workers=2).added == 39
    assert run(db, "entities", good, workers=1).unchanged == 39


def test_received_at_without_zone_is_beijing_time(db: Database, tmp_path: Path) -> None:
    seed(db, tmp_path, entities=1)
    run(
        db,
        "records",
        write_csv(
            tmp_path / "r.csv",
            [make_record("complaint", 1, uscc=make_uscc(1), received_at="2025-06-02 09:00:00")],
        ),
    )
    with db.engine.connect() as conn:
        value = conn.execute(select(KINDS["records"].table.c.received_at)).scalar_one()
    assert value.isoformat() == "2025-06-02T01:00:00+00:00"
    assert value.date() == date(2025, 6, 2)


def test_progress_is_reported_and_header_only_files_import_nothing(
    db: Database, tmp_path: Path
) -> None:
    seed(db, tmp_path)
    seen: list[int | None] = []
    advanced: list[int] = []

    class Bar:
        def __init__(self, total: int | None) -> None:
            seen.append(total)

        def __enter__(self) -> Any:
            return advanced.append

        def __exit__(self, *exc: object) -> None:
            return None

    rows = [make_entity(i) for i in range(1, 8)]
    report = run(db, "entities", write_csv(tmp_path / "e.csv", rows), progress=Bar)
    assert seen == [7] and sum(advanced) == 7 == report.added
    header_only = tmp_path / "h.csv"
    header_only.write_text(",".join(ZH_ENTITY.values()) + "\n", encoding="utf-8")
    report = run(db, "entities", header_only)
    assert (report.rows, report.added) == (0, 0)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(SupervisionError, match="空文件"):
        run(db, "entities", empty)
    with pytest.raises(SupervisionError, match="找不到文件"):
        run(db, "entities", tmp_path / "missing.csv")

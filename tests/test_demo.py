"""The demo province: deterministic, realistic, valid, and loaded safely."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

import pytest
import time_machine
from sqlalchemy import func, inspect, select
from stdnum.cn import uscc as stdnum_uscc

from supervision.checks.run import run_check
from supervision.db import Database
from supervision.demo.load import DEMO_TABLES, DatabaseNotEmpty, load_demo
from supervision.demo.province import DEPARTMENTS, ITEMS, DemoProvince, Row
from supervision.models import (
    ComplianceRecordCreate,
    ConflictCreate,
    DepartmentCreate,
    EntityCreate,
    InspectionItemCreate,
    InspectorCreate,
)
from supervision.reference.regions import INNER_MONGOLIA_PREFECTURES, prefecture_of

AS_OF = date(2026, 11, 26)


@cache
def _generate(n: int, seed: int = 2026, as_of: date = AS_OF, size: int = 1000) -> dict[str, Any]:
    province = DemoProvince(entities=n, seed=seed, as_of=as_of)
    out: dict[str, Any] = {
        "departments": province.departments(), "items": province.items(),
        "inspectors": province.inspectors(), "entities": [], "conflicts": [], "records": [],
    }  # fmt: skip
    for batch in province.batches(size):
        out["entities"] += batch.entities
        out["conflicts"] += batch.conflicts
        out["records"] += batch.records
    out["stats"] = province.stats
    return out


def _org_code_valid(code: str) -> bool:
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    c = 11 - sum(int(ch, 36) * w for ch, w in zip(code[:8], weights, strict=True)) % 11
    return code[8] == ("X" if c == 10 else "0" if c == 11 else str(c))


# ---------------------------------------------------------------- determinism
def test_same_seed_same_rows_and_batching_does_not_matter() -> None:
    a = _generate(400)
    b = _generate(400, size=37)
    for key in ("departments", "items", "inspectors", "entities", "conflicts", "records"):
        assert a[key] == b[key], key
    again = DemoProvince(entities=400, seed=2026, as_of=AS_OF)
    assert [r for batch in again.batches() for r in batch.records] == a["records"]


def test_different_seed_or_day_gives_different_rows() -> None:
    a = _generate(400)
    other_seed = _generate(400, seed=7)
    assert {e["uscc"] for e in a["entities"]} != {e["uscc"] for e in other_seed["entities"]}
    assert a["inspectors"] != other_seed["inspectors"]
    later = _generate(400, as_of=AS_OF + timedelta(days=200))
    assert a["entities"] != later["entities"]


# ---------------------------------------------------------------- realism
def test_counts_and_distributions() -> None:
    data = _generate(5000)
    entities: list[Row] = data["entities"]
    n = len(entities)
    assert n == 5000
    types = Counter(e["entity_type"] for e in entities)
    assert 0.50 < types["个体工商户"] / n < 0.60
    assert 0.37 < types["企业"] / n < 0.47
    assert 0.015 < types["农民专业合作社"] / n < 0.05
    risk = Counter(e["risk_class"] for e in entities)
    for cls, share, tol in (
        ("A", 0.50, 0.04),
        ("B", 0.35, 0.04),
        ("C", 0.12, 0.03),
        ("D", 0.03, 0.015),
    ):
        assert abs(risk[cls] / n - share) < tol, (cls, risk)
    abnormal = [e for e in entities if e["abnormal"]]
    assert 0.012 < len(abnormal) / n < 0.03
    assert all(e["abnormal_since"] is not None and e["abnormal_since"] <= AS_OF for e in abnormal)
    three_years_ago = AS_OF.replace(year=AS_OF.year - 3)
    assert any(e["abnormal_since"] < three_years_ago for e in abnormal)
    statuses = Counter(e["status"] for e in entities)
    assert 0.85 < statuses["存续"] / n < 0.95 and statuses["注销"] and statuses["吊销"]
    prefectures = Counter(prefecture_of(e["region_code"]) for e in entities)
    assert set(prefectures) == set(INNER_MONGOLIA_PREFECTURES)
    assert prefectures["150400"] > prefectures["150300"] > prefectures["152900"]
    established = [e["established_on"] for e in entities]
    assert min(established) < AS_OF - timedelta(days=15 * 365) and max(established) <= AS_OF
    per_entity = len(data["records"]) / n
    assert 6 < per_entity < 10
    assert 20 < len(data["conflicts"]) < 60
    stats = data["stats"]
    assert stats.entities == n and stats.records == len(data["records"])
    assert stats.abnormal == len(abnormal)


def test_every_department_can_staff_a_draw_in_every_prefecture() -> None:
    data = _generate(400)
    assert len(data["departments"]) >= 4
    assert 15 <= len(data["items"]) <= 25
    active: Counter[tuple[str, str]] = Counter(
        (i["department_code"], prefecture_of(i["region_code"]))
        for i in data["inspectors"] if i["status"] == "在岗"
    )  # fmt: skip
    for dept in DEPARTMENTS:
        item_codes = {i.code for i in ITEMS if i.department_code == dept.code}
        assert item_codes
        for pref in INNER_MONGOLIA_PREFECTURES:
            assert active[(dept.code, pref)] >= 3, (dept.code, pref)
        quals = [set(i["qualifications"]) for i in data["inspectors"]
                 if i["department_code"] == dept.code]  # fmt: skip
        assert all(q and q <= item_codes for q in quals)


def test_inspectors_scale_with_entities_but_are_capped() -> None:
    big = DemoProvince(entities=1_000_000, seed=1, as_of=AS_OF).inspectors()
    assert 2_900 <= len(big) <= 3_300
    assert len({i["cert_no"] for i in big}) == len(big)


def test_the_stories_the_rules_should_find_are_there() -> None:
    records: list[Row] = _generate(5000)["records"]
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        by_kind.setdefault(r["kind"], []).append(r["payload"])
    reports = by_kind["annual_report"]
    filed = [p for p in reports if p["filed_on"] is not None]
    on_time = [p for p in filed if p["filed_on"] <= f"{p['year'] + 1}-06-30"]
    assert 0.78 < len(on_time) / len(reports) < 0.95
    assert len(filed) > len(on_time)  # some late
    assert any(p["filed_on"] is None for p in reports)  # some missing, with a record
    assert any(p["published_on"] is None for p in by_kind["immediate_info"])
    assert any(
        p["published_on"]
        and date.fromisoformat(p["published_on"]) - date.fromisoformat(p["arose_on"])
        > timedelta(days=40)
        for p in by_kind["immediate_info"]
    )
    assert any(
        p["valid_to"] < AS_OF.isoformat() and p["business_active"] for p in by_kind["licence"]
    )
    assert any(p["rectified_on"] is None and p["due_on"] < AS_OF.isoformat()
               for p in by_kind["rectification_order"])  # fmt: skip
    assert any(not p["reachable"] for p in by_kind["address_check"])
    assert any(p["false_info"] for p in by_kind["info_check"])
    assert {p["result_code"] for p in by_kind["inspection_result"]} >= {"1", "E", "F"}
    # Several complaints within 90 days for some entities.
    recent = Counter(r["uscc"] for r in records if r["kind"] == "complaint"
                     and r["event_date"] >= AS_OF - timedelta(days=90))  # fmt: skip
    assert any(count >= 3 for count in recent.values())


# ---------------------------------------------------------------- validity
def test_every_uscc_is_valid_and_unique() -> None:
    entities = _generate(5000)["entities"]
    codes = [e["uscc"] for e in entities]
    assert len(set(codes)) == len(codes)
    for e in entities:
        code = e["uscc"]
        assert stdnum_uscc.is_valid(code), code
        assert _org_code_valid(code[8:17]), code
        assert (
            code[:2] == {"企业": "91", "个体工商户": "92", "农民专业合作社": "93"}[e["entity_type"]]
        )
        assert code[2:8] == e["region_code"]


def _same(model: Any, row: Row, *, ignore: tuple[str, ...] = ()) -> None:
    validated = model.model_validate(row).model_dump()
    for key, value in row.items():
        if key not in ignore:
            assert validated[key] == value, (model.__name__, key, validated[key], value)


def test_samples_of_every_kind_validate_through_the_create_models() -> None:
    data = _generate(2000)
    for row in data["departments"]:
        _same(DepartmentCreate, row)
    for row in data["items"]:
        _same(InspectionItemCreate, row)
    for row in data["inspectors"][::7]:
        _same(InspectorCreate, row, ignore=("updated_at",))
    entities = data["entities"]
    for row in entities[::13] + [e for e in entities if e["abnormal"]]:
        _same(EntityCreate, row, ignore=("updated_at",))
    for row in data["conflicts"]:
        _same(ConflictCreate, row)
    seen: Counter[str] = Counter()
    for row in data["records"]:
        if seen[row["kind"]] < 200 or row["payload"].get("filed_on", "x") is None:
            _same(ComplianceRecordCreate, row, ignore=("stored_at",))
            seen[row["kind"]] += 1
    assert len(seen) == 8
    assert len({r["record_id"] for r in data["records"]}) == len(data["records"])


# ---------------------------------------------------------------- loading
def _counts(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in DEMO_TABLES}  # fmt: skip


def test_load_writes_exactly_what_was_generated(db: Database) -> None:
    province = DemoProvince(entities=150, seed=3, as_of=AS_OF)
    result = load_demo(db, province, chunk_size=100)
    counts = _counts(db)
    assert counts == result.rows
    assert counts["entity"] == 150 and counts["department"] == len(DEPARTMENTS)
    data = _generate(150, seed=3)
    assert counts["compliance_record"] == len(data["records"])
    from supervision.models import ComplianceRecord, Entity

    with db.session() as session:
        stored = {e.uscc: e for e in session.exec(select(Entity)).scalars()}
        for row in data["entities"]:
            entity = stored[row["uscc"]]
            assert (entity.name, entity.established_on, entity.abnormal_since) == (
                row["name"], row["established_on"], row["abnormal_since"])  # fmt: skip
        record = data["records"][5]
        got = session.get(ComplianceRecord, record["record_id"])
        assert got is not None and got.payload == record["payload"]
        assert got.event_date == record["event_date"]


def test_demo_rows_are_not_stamped_in_the_future(db: Database) -> None:
    """Loaded after 16:00 UTC, when it is already tomorrow in China: the rows' stamps
    are not ahead of the clock, so an incremental check after the first finds nothing
    changed (a stamp ahead of it made every entity count as changed until then)."""
    with time_machine.travel(datetime(2026, 11, 26, 17, 40, tzinfo=UTC), tick=False):
        province = DemoProvince(entities=120, seed=5)
        assert province.as_of == date(2026, 11, 27)  # today in China
        load_demo(db, province)
        first = run_check(db)
        assert first.entities_checked == 120
        again = run_check(db)
        assert (again.mode, again.entities_checked) == ("incremental", 0)


def _index_names(db: Database) -> dict[str, list[str]]:
    found = inspect(db.engine)
    return {
        t: sorted(i["name"] for i in found.get_indexes(t)) for t in ("entity", "compliance_record")
    }


def test_load_keeps_every_index_and_a_failed_load_leaves_them(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _index_names(db)
    assert before["entity"] and before["compliance_record"]
    import supervision.demo.load as demo_load

    original = demo_load._Writer.insert

    def insert(self: Any, table: Any, rows: Any) -> None:
        if table.name == "compliance_record":
            raise RuntimeError("disk full")
        original(self, table, rows)

    monkeypatch.setattr(demo_load._Writer, "insert", insert)
    with pytest.raises(RuntimeError):
        load_demo(db, DemoProvince(entities=60, seed=1, as_of=AS_OF))
    assert _index_names(db) == before
    assert all(n == 0 for n in _counts(db).values())
    monkeypatch.setattr(demo_load._Writer, "insert", original)
    load_demo(db, DemoProvince(entities=60, seed=1, as_of=AS_OF))
    assert _index_names(db) == before


def test_refuses_a_database_with_data_unless_fresh(db: Database) -> None:
    load_demo(db, DemoProvince(entities=60, seed=1, as_of=AS_OF))
    before = _counts(db)
    with pytest.raises(DatabaseNotEmpty) as excinfo:
        load_demo(db, DemoProvince(entities=80, seed=2, as_of=AS_OF))
    assert "--fresh" in excinfo.value.zh and "--fresh" in excinfo.value.en
    assert _counts(db) == before
    result = load_demo(db, DemoProvince(entities=80, seed=2, as_of=AS_OF), fresh=True)
    assert result.cleared["entity"] == 60
    assert _counts(db)["entity"] == 80
    fresh_usccs = {e["uscc"] for e in _generate(80, seed=2)["entities"]}
    from supervision.models import Entity

    with db.session() as session:
        assert set(session.exec(select(Entity.uscc)).scalars()) == fresh_usccs


def test_cli_demo_through_the_entry_point(cli: Any, db: Database) -> None:
    first = cli("demo", "--entities", "300", "--seed", "5", "--as-of", "2026-11-26", "--json")
    _items_are_scoped_and_results_entered_by_checklist(db)
    data = json.loads(first.stdout)
    assert data["entities"] == 300 and data["seed"] == 5
    assert data["rows_written"]["entity"] == 300
    assert sum(v["entities"] for v in data["entities_by_prefecture"].values()) == 300
    assert data["records"] == sum(data["records_by_kind"].values())
    assert any("152200" in s["command"] for s in data["next_steps"])

    refused = cli("demo", "--entities", "300", expect=1)
    assert "--fresh" in refused.stderr and "错误" in refused.stderr

    text = cli("demo", "--entities", "300", "--seed", "6", "--fresh").stdout
    assert "检查对象 / entities: 300" in text
    assert "接下来可以试试 / what to try next" in text
    assert text.index("兴安盟") > 0


def _items_are_scoped_and_results_entered_by_checklist(db: Database) -> None:
    """Every demo item declares its object scope (licence kinds where the activity is
    licensed), its tasks still commit, and its results are entered by checklist: some
    points 不符合, the codes of 1 and A/B proposed from the answers."""
    from supervision.models import InspectionItem, InspectionResult, Task

    with db.session() as session:
        items = {i.code: i for i in session.exec(select(InspectionItem)).scalars()}
        tasks = list(session.exec(select(Task)).scalars())
        results = list(session.exec(select(InspectionResult)).scalars())
    assert all(i.scope_entity_types for i in items.values())
    assert items["NMG-SJ-03"].scope_licences == ["食品经营许可证"]
    assert items["NMG-STHJ-01"].scope_licences == ["排污许可证"]
    assert all(t.status != "draft" for t in tasks) and len(tasks) == 2
    first = [r for r in results if r.version == 1]
    assert first and all(r.checklist for r in first)
    failed = [
        r for r in first if any(a["answer"] == "不符合" for a in (r.checklist or {})["answers"])
    ]
    assert failed and all(r.result_code in ("A", "E") for r in failed)
    assert all(r.result_code == "1" for r in first if r not in failed)


def test_parallel_load_writes_the_same_rows_as_in_process(tmp_path: Any) -> None:
    """The SQLite producer-process path stores exactly what the in-process path stores."""
    dumps = []
    for parallel in (False, True):
        database = Database(f"sqlite:///{tmp_path / f'p{parallel}.db'}")
        try:
            province = DemoProvince(entities=250, seed=9, as_of=AS_OF)
            result = load_demo(database, province, parallel=parallel, chunk_size=64)
            with database.engine.connect() as conn:
                tables = {
                    t.name: sorted(tuple(map(str, row)) for row in conn.execute(select(t)))
                    for t in DEMO_TABLES
                }
                raw = conn.exec_driver_sql(
                    "SELECT record_id, event_date, payload, received_at FROM compliance_record"
                ).fetchall()
            dumps.append((tables, sorted(raw), result.stats.as_dict()))
        finally:
            database.dispose()
    assert dumps[0] == dumps[1]

"""Items that know what they apply to: an item version's scope (entity types, industry
prefixes, licence kinds) is imported, bounds the population a task draws from, and a task
whose filter reaches outside its items' scope cannot be committed, from the service or the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import CliRun
from factories import (
    make_department,
    make_entity,
    make_item,
    make_record,
    make_uscc,
    write_csv,
    write_json,
)
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import select

from supervision.db import Database
from supervision.directories.importing import import_file
from supervision.draw.commit import commit_task
from supervision.draw.plans import create_plan
from supervision.draw.scope import scope_problems
from supervision.draw.tasks import create_task, parse_task_input
from supervision.errors import SupervisionError
from supervision.models import InspectionItem, TaskPopulation

INDUSTRIES = ["H6210", "H6110", "F5211", "F5212", "C1441"]


def _load(db: Database, tmp_path: Path, kind: str, rows: list[dict[str, Any]]) -> None:
    import_file(db, kind=kind, path=write_json(tmp_path / f"{kind}.json", rows))


@pytest.fixture
def scoped(db: Database, tmp_path: Path) -> list[dict[str, Any]]:
    """Food items scoped to catering (H62) and supermarkets (F5212); an item with no scope;
    40 entities over five industries and two entity types."""
    _load(db, tmp_path, "departments", [make_department(1, code="SJ", name="市场监督管理局")])
    _load(
        db,
        tmp_path,
        "items",
        [
            make_item(1, code="FOOD", department_code="SJ", scope_entity_types="企业、个体工商户",
                      scope_industries="H62、F5212", scope_licences="食品经营许可证"),
            make_item(2, code="ANY", department_code="SJ"),
            make_item(3, code="FIRMS", department_code="SJ", scope_entity_types="企业"),
            make_item(4, code="LICENSED", department_code="SJ", scope_licences=FOOD_LICENCE),
        ],
    )  # fmt: skip
    entities = [
        make_entity(
            n,
            uscc=make_uscc(n, prefix="92" if n % 2 else "91"),
            entity_type="个体工商户" if n % 2 else "企业",
            industry_code=INDUSTRIES[n % len(INDUSTRIES)],
        )
        for n in range(1, 41)
    ]
    _load(db, tmp_path, "entities", entities)
    _load(db, tmp_path, "records", [_licence(e["uscc"], n) for n, e in enumerate(entities, 1)])
    with db.session() as session:
        create_plan(session, code="P2026", year=2026, name="2026年度抽查计划", departments=["SJ"])
    return entities


def _licence(uscc: str, n: int) -> dict[str, Any]:
    """Entity n's licence: 食品经营许可证 valid for years, except every sixth entity (expired)
    and every seventh (a licence of another kind)."""
    kind = "药品经营许可证" if n % 7 == 0 else FOOD_LICENCE
    valid_to = "2020-12-31" if n % 6 == 0 else "2099-12-31"
    payload = {"licence_no": f"JY{n:011d}", "licence_type": kind, "valid_to": valid_to}
    return make_record("licence", 9000 + n, uscc=uscc, payload=payload)


FOOD_LICENCE = "食品经营许可证"


def _licensed(entities: list[dict[str, Any]]) -> set[str]:
    """The entities holding a food licence valid today (see ``_licence``)."""
    return {e["uscc"] for n, e in enumerate(entities, 1) if n % 7 and n % 6}


def _task(db: Database, items: list[str], **target: Any) -> str:
    data = {
        "code": "T1", "plan": "P2026", "name": "食品经营抽查", "departments": ["SJ"],
        "items": items, "ratios": "0.5", "period_start": "2026-03-01",
        "period_end": "2026-06-30", "target": target,
    }  # fmt: skip
    with db.session() as session:
        return create_task(session, spec=parse_task_input(data)).code


def _population(db: Database) -> set[str]:
    with db.session() as session:
        return {row.uscc for row in session.exec(select(TaskPopulation)).all()}


def test_scope_is_imported(db: Database, scoped: list[dict[str, Any]]) -> None:
    with db.session() as session:
        food = session.get(InspectionItem, ("FOOD", 1))
        other = session.get(InspectionItem, ("ANY", 1))
    assert food is not None and other is not None
    assert food.scope_entity_types == ["个体工商户", "企业"]
    assert food.scope_industries == ["F5212", "H62"]
    assert food.scope_licences == ["食品经营许可证"]
    assert (other.scope_entity_types, other.scope_industries) == ([], [])


def test_population_is_the_entities_in_scope(db: Database, scoped: list[dict[str, Any]]) -> None:
    commit_task_code = _task(db, ["FOOD"])
    with db.session() as session:
        commit_task(session, code=commit_task_code)
    in_industry = {e["uscc"] for e in scoped if e["industry_code"].startswith(("H62", "F5212"))}
    expected = in_industry & _licensed(scoped)
    assert expected and expected != in_industry and _population(db) == expected


def test_population_is_the_union_of_the_items_scopes(
    db: Database, scoped: list[dict[str, Any]]
) -> None:
    code = _task(db, ["FOOD", "FIRMS"])
    with db.session() as session:
        commit_task(session, code=code)
    licensed = _licensed(scoped)
    expected = {
        e["uscc"]
        for e in scoped
        if (e["industry_code"].startswith(("H62", "F5212")) and e["uscc"] in licensed)
        or e["entity_type"] == "企业"
    }
    assert _population(db) == expected


def test_a_licence_scope_draws_only_holders_of_a_valid_licence(
    db: Database, scoped: list[dict[str, Any]]
) -> None:
    """An item scoped by licence kind alone: holders of such a licence valid on the commit
    day, neither expired licences nor licences of another kind."""
    code = _task(db, ["LICENSED"])
    with db.session() as session:
        commit_task(session, code=code)
    assert _population(db) == _licensed(scoped)
    assert 0 < len(_licensed(scoped)) < len(scoped)


def test_an_item_without_scope_bounds_nothing(db: Database, scoped: list[dict[str, Any]]) -> None:
    code = _task(db, ["FOOD", "ANY"])
    with db.session() as session:
        commit_task(session, code=code)
    assert _population(db) == {e["uscc"] for e in scoped}


def test_filters_narrow_inside_the_scope(db: Database, scoped: list[dict[str, Any]]) -> None:
    code = _task(db, ["FOOD"], industries=["H6210"], entity_types=["企业"])
    with db.session() as session:
        commit_task(session, code=code)
    expected = {
        e["uscc"] for e in scoped if e["industry_code"] == "H6210" and e["entity_type"] == "企业"
    } & _licensed(scoped)
    assert _population(db) == expected


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ({"industries": ["F52"]}, "行业 F52 超出"),
        ({"industries": ["C1441"]}, "行业 C1441 超出"),
        ({"entity_types": ["农民专业合作社"]}, "主体类型 农民专业合作社 不在"),
    ],
)
def test_commit_outside_the_scope_is_refused_and_writes_nothing(
    db: Database, scoped: list[dict[str, Any]], target: dict[str, Any], words: str
) -> None:
    code = _task(db, ["FOOD"], **target)
    with db.session() as session, pytest.raises(SupervisionError) as caught:
        commit_task(session, code=code)
    assert "检查对象范围" in caught.value.zh
    assert any(words in d for d in caught.value.details), caught.value.details
    assert _population(db) == set()


def test_cli_commit_outside_the_scope_is_refused(
    cli: CliRun, crew: dict[str, str], tmp_path: Path
) -> None:
    admin, planner = ("--as", crew["admin"]), ("--as", crew["planner"])
    cli(
        "import",
        "departments",
        write_csv(tmp_path / "d.csv", [make_department(1, code="SJ")]),
        *admin,
    )
    item = make_item(1, code="FOOD", department_code="SJ", scope_industries="H62")
    cli("import", "items", write_csv(tmp_path / "i.csv", [item],
                                     headers={"scope_industries": "适用行业代码"}), *admin)  # fmt: skip
    entities = [make_entity(n, industry_code="H6210" if n % 2 else "F5211") for n in range(1, 9)]
    cli("import", "entities", write_csv(tmp_path / "e.csv", entities), *admin)
    cli("plan", "create", "--code", "P2026", "--year", "2026", "--name", "计划", "--department",
        "SJ", *planner)  # fmt: skip
    task = {"code": "T1", "plan": "P2026", "name": "餐饮", "departments": ["SJ"],
            "items": ["FOOD"], "ratios": "1", "period_start": "2026-03-01",
            "period_end": "2026-06-30", "target": {"industries": ["F"]}}  # fmt: skip
    path = tmp_path / "task.json"
    path.write_text(json.dumps(task, ensure_ascii=False), encoding="utf-8")
    cli("task", "create", "--from", str(path), *planner)
    result = cli("task", "commit", "T1", *planner, expect=1)
    assert "检查对象范围" in result.stderr and "industry F reaches outside" in result.stderr
    assert "Traceback" not in result.output


def test_bad_scope_cell_names_row_and_column(
    cli: CliRun, crew: dict[str, str], tmp_path: Path
) -> None:
    admin = ("--as", crew["admin"])
    cli(
        "import",
        "departments",
        write_csv(tmp_path / "d.csv", [make_department(1, code="SJ")]),
        *admin,
    )
    rows = [make_item(1, department_code="SJ", scope_industries="餐饮")]
    result = cli("import", "items", write_csv(tmp_path / "i.csv", rows), *admin, expect=1)
    assert "scope_industries" in result.output + result.stderr
    assert "行业代码" in result.output + result.stderr


_PREFIX = st.sampled_from(["F", "F52", "F5211", "F5212", "H", "H62", "H6210", "C1441"])


@given(st.lists(_PREFIX, min_size=1, max_size=3), st.lists(_PREFIX, max_size=3))
def test_accepted_filters_lie_inside_the_scope(scope: list[str], filters: list[str]) -> None:
    """Every industry a committed filter names is inside some item's scope prefix."""
    items = [{"scope": {"entity_types": [], "industries": scope}}]
    problems = scope_problems(items, entity_types=[], industries=filters)
    for prefix in filters:
        inside = any(prefix.startswith(s) for s in scope)
        assert inside or any(f"行业 {prefix} " in p for p in problems)
    assert len(problems) == sum(1 for f in filters if not any(f.startswith(s) for s in scope))


def test_migration_0019_gives_old_items_an_empty_scope_and_goes_back_down(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    """Items from before 0019 apply to every entity; downgrading drops the scope columns."""
    from alembic import command
    from sqlalchemy import inspect, text

    from supervision.db import alembic_config, make_engine

    _load(db, tmp_path, "departments", [make_department(1, code="SJ")])
    db.dispose()
    engine = make_engine(db_url)
    columns = {"scope_entity_types", "scope_industries", "scope_licences"}
    try:
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0019-1")  # the revision before 0019
        with engine.connect() as conn:
            assert not columns & {c["name"] for c in inspect(conn).get_columns("inspection_item")}
        with engine.begin() as conn:  # an item written by the old schema
            conn.execute(
                text(
                    "INSERT INTO inspection_item (code, version, name, department_code, "
                    "legal_basis, object_type, methods, kind, effective_from) VALUES "
                    "('OLD', 1, '旧事项', 'SJ', '《条例》第一条', '企业', '[\"书面检查\"]', '一般', "
                    "'2025-01-01')"
                )
            )
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
    finally:
        engine.dispose()
    fresh = Database(db_url)
    try:
        with fresh.session() as session:
            old = session.get(InspectionItem, ("OLD", 1))
            assert old is not None
            scopes = (old.scope_entity_types, old.scope_industries, old.scope_licences)
    finally:
        fresh.dispose()
    assert scopes == ([], [], [])


def test_console_page_and_api_refuse_a_commit_outside_the_scope(
    db: Database, scoped: list[dict[str, Any]]
) -> None:
    import httpx
    from test_console_support import PASSWORD, ConsoleServer, csrf_of, sign_in, soup

    from supervision.accounts.users import add_user

    code = _task(db, ["FOOD"], industries=["F"])
    with db.session() as session:
        add_user(session, username="planner", password=PASSWORD, role="planner",
                 display_name="计划")  # fmt: skip
    with ConsoleServer(db) as url:
        api = httpx.Client(base_url=url, timeout=30)
        token = api.post("/api/session", json={"username": "planner", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['token']}"}
        refused = api.post("/api/tasks/commit", json={"code": code}, headers=headers)
        assert refused.status_code == 400, refused.text
        error = refused.json()["error"]
        assert "检查对象范围" in error["zh"] and "scope" in error["en"]
        assert any("行业 F 超出" in d for d in error.get("details", [])), error
        api.close()
        page = httpx.Client(base_url=url, timeout=30)
        sign_in(page, "planner")
        form = page.get("/task", params={"code": code})
        shown = page.post("/task/commit", data={"code": code, "csrf_token": csrf_of(form)})
        text = soup(shown).get_text(" ")
        assert "检查对象范围" in text and "行业 F 超出" in text
        page.close()
    assert _population(db) == set()

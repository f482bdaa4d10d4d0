"""重点检查事项 carry a higher minimum ratio: with $SUPERVISION_KEY_ITEM_MIN_RATIO set, a task
with a key item cannot be committed while any risk class's ratio is below it; the refusal
names the items and classes at every door (service, CLI, console page, JSON API) and writes
nothing. General items, and a province that sets no minimum, are not bound."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import CliRun
from factories import make_department, make_entity, make_item, write_json
from sqlmodel import select

from supervision.db import Database
from supervision.directories.importing import import_file
from supervision.draw.commit import commit_task
from supervision.draw.plans import create_plan
from supervision.draw.tasks import create_task, parse_task_input
from supervision.errors import SupervisionError, ValidationFailed
from supervision.models import Task, TaskPopulation

pytestmark = pytest.mark.usefixtures("crew")

MIN = "SUPERVISION_KEY_ITEM_MIN_RATIO"


def _load(db: Database, tmp_path: Path, kind: str, rows: list[dict[str, Any]]) -> None:
    import_file(db, kind=kind, path=write_json(tmp_path / f"{kind}.json", rows))


@pytest.fixture
def items(db: Database, tmp_path: Path) -> None:
    """A key item (重点) and a general one (一般) of SJ, 20 entities, a plan."""
    _load(db, tmp_path, "departments", [make_department(1, code="SJ", name="市场监督管理局")])
    _load(db, tmp_path, "items", [
        make_item(1, code="KEY", department_code="SJ", kind="重点"),
        make_item(2, code="GEN", department_code="SJ", kind="一般"),
    ])  # fmt: skip
    _load(db, tmp_path, "entities", [make_entity(n) for n in range(1, 21)])
    with db.session() as session:
        create_plan(session, code="P2026", year=2026, name="2026年度抽查计划", departments=["SJ"])


def _task(db: Database, items: list[str], ratios: Any, code: str = "T1") -> str:
    data = {
        "code": code, "plan": "P2026", "name": "重点抽查", "departments": ["SJ"],
        "items": items, "ratios": ratios, "period_start": "2026-03-01",
        "period_end": "2026-06-30", "target": {},
    }  # fmt: skip
    with db.session() as session:
        return create_task(session, spec=parse_task_input(data)).code


def _committed(db: Database) -> tuple[list[str], int]:
    with db.session() as session:
        statuses = [t.status for t in session.exec(select(Task)).all()]
        return statuses, len(session.exec(select(TaskPopulation)).all())


def test_a_key_item_below_the_minimum_is_refused_and_nothing_written(
    db: Database, items: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MIN, "0.1")
    code = _task(db, ["GEN", "KEY"], {"A": "0.03", "B": "0.1", "C": "0.2", "D": "0.05"})
    with db.session() as session, pytest.raises(ValidationFailed) as caught:
        commit_task(session, code=code)
    assert "重点检查事项 KEY" in caught.value.zh and "key item(s) KEY" in caught.value.en
    details = " ".join(caught.value.details)
    assert "风险类别 A 的比例 0.03" in details and "risk class D" in details
    assert "类别 B" not in details and "类别 C" not in details
    assert _committed(db) == (["draft"], 0)


@pytest.mark.parametrize(
    ("items_", "ratios", "minimum"),
    [
        (["KEY"], "0.1", "0.1"),  # at the minimum
        (["KEY"], {"A": "0.5", "B": "1", "C": "1", "D": "1"}, "0.1"),
        (["GEN"], "0.01", "0.1"),  # a general item is not bound
        (["KEY"], "0.01", None),  # no minimum set in this province
    ],
)
def test_what_is_accepted(
    db: Database,
    items: None,
    monkeypatch: pytest.MonkeyPatch,
    items_: list[str],
    ratios: Any,
    minimum: str | None,
) -> None:
    if minimum is not None:
        monkeypatch.setenv(MIN, minimum)
    code = _task(db, items_, ratios)
    with db.session() as session:
        commit_task(session, code=code)
    statuses, size = _committed(db)
    assert statuses == ["committed"] and size == 20


def test_a_bad_setting_names_the_variable(
    db: Database, items: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MIN, "1.5")
    code = _task(db, ["KEY"], "0.5")
    with db.session() as session, pytest.raises(SupervisionError) as caught:
        commit_task(session, code=code)
    assert MIN in str(caught.value)
    assert _committed(db) == (["draft"], 0)


def test_cli_refuses_it(
    cli: CliRun, db: Database, items: None, crew: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MIN, "0.05")
    code = _task(db, ["KEY"], "0.03")
    result = cli("task", "commit", code, "--as", crew["planner"], expect=1)
    assert "重点检查事项 KEY" in result.stderr and "below the key items' minimum" in result.stderr
    assert "Traceback" not in result.output
    assert _committed(db) == (["draft"], 0)


def test_console_page_and_api_refuse_it(
    db: Database, items: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx
    from test_console_support import PASSWORD, ConsoleServer, csrf_of, sign_in, soup

    from supervision.accounts.users import add_user

    monkeypatch.setenv(MIN, "0.05")
    code = _task(db, ["KEY"], "0.03")
    with db.session() as session:
        add_user(session, username="planner", password=PASSWORD, role="planner",
                 display_name="计划")  # fmt: skip
    with ConsoleServer(db) as url:
        with httpx.Client(base_url=url, timeout=30) as api:
            token = api.post("/api/session", json={"username": "planner", "password": PASSWORD})
            headers = {"Authorization": f"Bearer {token.json()['token']}"}
            refused = api.post("/api/tasks/commit", json={"code": code}, headers=headers)
            assert refused.status_code == 400, refused.text
            error = refused.json()["error"]
            assert "重点检查事项" in error["zh"] and "key item" in error["en"]
            assert any("风险类别 A 的比例 0.03" in d for d in error["details"]), error
        with httpx.Client(base_url=url, timeout=30) as page:
            sign_in(page, "planner")
            form = page.get("/task", params={"code": code})
            shown = page.post("/task/commit", data={"code": code, "csrf_token": csrf_of(form)})
            text = soup(shown).get_text(" ")
            assert "重点检查事项 KEY" in text and "0.03" in text
    assert _committed(db) == (["draft"], 0)

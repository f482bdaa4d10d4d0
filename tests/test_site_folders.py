"""Folder names of tasks on the site are injective, and one bad task never stops a publish.

The attack: a planner codes a task ``A_B-23519a43``, the folder of another task coded
``A\\nB``; publishing then failed for every task while the database said "published".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from conftest import CliRun
from hypothesis import given
from hypothesis import strategies as st
from test_tasks_draw import _task, province  # noqa: F401  (the fixture)

from supervision.db import Database
from supervision.draw.commit import commit_task
from supervision.errors import SupervisionError
from supervision.reference.folders import folder_name
from supervision.site import publish_site, urls

pytestmark = pytest.mark.usefixtures("crew")

CODES = st.text(
    alphabet=st.sampled_from([*"aAbB_-/ \n.%0123456789cdef", "〔", "号", "Ａ"]),
    max_size=14,
)


@given(CODES, CODES)
def test_distinct_codes_get_distinct_folders(a: str, b: str) -> None:
    if a != b:
        assert folder_name(a) != folder_name(b)


@given(CODES)
def test_a_folder_name_used_as_a_code_gets_a_folder_of_its_own(code: str) -> None:
    name = folder_name(code)
    if name != code:
        assert folder_name(name) != name


def _title_of(page: Path) -> str:
    soup = BeautifulSoup(page.read_bytes(), "html.parser")
    heading = soup.find("h1")
    assert heading is not None
    return heading.get_text(" ", strip=True)


def test_a_code_equal_to_another_tasks_folder_publishes_both(
    db: Database,
    province: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    # The attack used "A\nB"; control characters are refused in codes now, so the
    # same clash is built from a code with a character no folder name may hold.
    first = _task(db, code="A/B")
    second = _task(db, code=folder_name("A/B"))
    assert second.startswith("A_B-") and len(second) == len("A_B-") + 8
    for code in (first, second):
        with db.session() as session:
            commit_task(session, code=code)
    report = publish_site(db, out_dir=tmp_path / "site", languages="zh")
    assert report.withheld == []
    folders = {urls.task_path(first), urls.task_path(second)}
    assert len(folders) == 2
    for path in folders:
        assert (tmp_path / "site" / path).is_file()


def test_codes_differing_only_in_case_are_refused_at_creation(
    db: Database,
    province: dict[str, Any],  # noqa: F811
) -> None:
    _task(db, code="t2026-1")
    with pytest.raises(SupervisionError, match="大小写"):
        _task(db, code="T2026-1")


def test_a_clashing_old_task_is_withheld_and_the_rest_is_published(
    db: Database,
    province: dict[str, Any],  # noqa: F811
    cli: CliRun,
    tmp_path: Path,
) -> None:
    """A clash already in the database (made before the rule) stops nothing but itself."""
    keep = _task(db, code="t2026-1")
    other = _task(db, code="OTHER-2026")
    for code in (keep, other):
        with db.session() as session:
            commit_task(session, code=code)
    _rename_task(db, other, "T2026-1")  # an old database: the clash slipped in before the rule
    site = tmp_path / "site"
    done = cli("publish", "--as", "cli-reviewer", "--out", str(site), "--lang", "zh", expect=1)
    assert "T2026-1" in done.stderr and "t2026-1" in done.stderr
    assert "left off the public site" in done.stderr and "Traceback" not in done.output
    assert (site / urls.task_path(keep)).is_file()
    assert (site / "index.html").is_file()
    listing = BeautifulSoup((site / "tasks/index.html").read_bytes(), "html.parser").get_text()
    assert "t2026-1" in listing and "T2026-1" not in listing


def _rename_task(db: Database, code: str, new: str) -> None:
    """Give a task another code behind the service's back (as an old database might have)."""
    from sqlmodel import SQLModel

    tables = SQLModel.metadata.tables
    task = tables["task"]
    children = [
        (table, fk.parent)
        for table in tables.values()
        for fk in table.foreign_keys
        if fk.column.table is task
    ]
    with db.engine.begin() as conn:
        row = dict(conn.execute(task.select().where(task.c.code == code)).mappings().one())
        conn.execute(task.insert().values({**row, "code": new}))
        for table, column in children:
            conn.execute(table.update().where(column == code).values({column.name: new}))
        conn.execute(task.delete().where(task.c.code == code))


def test_console_publish_says_what_the_site_lacks(db: Database, tmp_path: Path) -> None:
    """The console's (and the API's) publish: the results are published in the database and
    on the site; a withheld task is named to the reviewer, not hidden."""
    import httpx
    import site_support as s
    from sqlmodel import select
    from test_console_support import PASSWORD, ConsoleServer, build_console

    from supervision.draw.tasks import create_task, parse_task_input
    from supervision.models.results import InspectionResult

    built = build_console(db, tmp_path)
    for code in ("ABC-1", "OTHER-1"):
        with db.session() as session:
            create_task(session, spec=parse_task_input(
                {"code": code, "plan": "P2026", "name": "冲突测试", "departments": ["SJ"],
                 "items": ["SJ-01"], "ratios": "0.5", "exclusion_days": 0,
                 "period_start": "2026-03-01", "period_end": "2026-12-31"}))  # fmt: skip
            commit_task(session, code=code)
    _rename_task(db, "OTHER-1", "abc-1")
    site = tmp_path / "served-site"
    publish_site(db, out_dir=site, languages="all")
    uscc = built["usccs"][2]  # its result is approved, not yet published
    with ConsoleServer(db, site_dir=site) as url, httpx.Client(base_url=url, timeout=60) as api:
        token = api.post("/api/session", json={"username": "reviewer", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['token']}"}
        answer = api.post("/api/results/publish", json={"task": s.TASK, "uscc": uscc},
                          headers=headers)  # fmt: skip
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert "结果已公示" in error["zh"] and "abc-1" in error["en"], error
    with db.session() as session:
        states = session.exec(
            select(InspectionResult.state).where(InspectionResult.uscc == uscc)
        ).all()
    assert set(states) == {"published"}
    assert (site / urls.task_results_path(s.TASK)).is_file()
    assert s.SECRETS[4] in (site / urls.task_results_path(s.TASK)).read_text(encoding="utf-8")
    assert (site / urls.task_path("ABC-1")).is_file()

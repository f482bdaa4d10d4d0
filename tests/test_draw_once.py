"""A task is drawn once, and a seed follows one rule, at every door.

The race is made deterministic with two sessions: the first draw is held open (not yet
committed) while a second draw of the same task starts in a thread; the second must wait
for the first and then be refused with "already drawn", writing nothing. The seed rule
(verbatim; whitespace at either end refused, never trimmed) is checked through the service,
the CLI, the console form, the JSON API and `seed enter`.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import site_support as s
from conftest import CliRun
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from test_console_support import PASSWORD, ConsoleServer, build_console, csrf_of, sign_in, soup
from test_tasks_draw import _task, province  # noqa: F401  (the fixture)

from supervision.db import Database
from supervision.draw.commit import commit_task
from supervision.draw.sampling import DrawError, entered_seed
from supervision.draw.seeding import AlreadyDrawn
from supervision.draw.service import draw_task
from supervision.draw.verify import verify_task
from supervision.models import DrawPick, Task, TrailEvent

pytestmark = pytest.mark.usefixtures("crew")

SEED_A = "31415926535897932384"
SEED_B = "27182818284590452353"


def _counts(db: Database, code: str) -> tuple[int, int]:
    with db.session() as session:
        picks = session.execute(
            select(func.count()).select_from(DrawPick).where(DrawPick.task_code == code)
        ).scalar_one()
        draws = session.execute(
            select(func.count())
            .select_from(TrailEvent)
            .where(TrailEvent.action == "task.draw", TrailEvent.object == f"task:{code}")
        ).scalar_one()
    return int(picks), int(draws)


def test_a_second_draw_waits_for_the_first_and_is_refused(
    db: Database,
    province: dict[str, Any],  # noqa: F811
) -> None:
    code = _task(db)
    with db.session() as session:
        commit_task(session, code=code)
    outcome: dict[str, Any] = {}

    def second() -> None:
        try:
            with db.session() as other:
                outcome["result"] = draw_task(other, code=code, seed=SEED_B, workers=1)
        except Exception as exc:  # the test inspects it
            outcome["error"] = exc

    with db.session() as session:
        first = draw_task(session, code=code, seed=SEED_A, workers=1)
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(1.0)  # the second draw is now waiting for this transaction's claim
        assert thread.is_alive(), outcome
    thread.join(60)
    assert not thread.is_alive()
    error = outcome.get("error")
    assert isinstance(error, AlreadyDrawn), outcome
    assert "已经抽取" in error.zh and "already been drawn" in error.en
    assert _counts(db, code) == (first["picked"], 1)
    with db.session() as session:
        assert session.get(Task, code).seed == SEED_A  # type: ignore[union-attr]
        assert verify_task(session, code=code) == []


def test_cli_draw_of_a_drawn_task_says_already_drawn(
    db: Database,
    province: dict[str, Any],  # noqa: F811
    cli: CliRun,
) -> None:
    code = _task(db)
    cli("task", "commit", "--as", "cli-planner", code)
    cli("task", "draw", "--as", "cli-planner", code, "--seed", SEED_A)
    again = cli("task", "draw", "--as", "cli-planner", code, "--seed", SEED_B, expect=1)
    assert "已经抽取" in again.stderr and "already been drawn" in again.stderr
    assert "Traceback" not in again.output


@given(st.text(min_size=1, max_size=20))
def test_entered_seed_is_verbatim_or_refused(seed: str) -> None:
    """Never trimmed: either the very string comes back, or a bilingual error."""
    try:
        assert entered_seed(seed) == seed
    except DrawError as exc:
        assert exc.zh and exc.en
    else:
        assert seed == seed.strip()


@pytest.mark.parametrize("seed", [" 123", "123 ", "123\u3000", "\u00a0123"])
def test_seed_with_whitespace_at_an_end_is_refused_by_service_and_cli(
    db: Database,
    province: dict[str, Any],  # noqa: F811
    cli: CliRun,
    seed: str,
) -> None:
    code = _task(db)
    with db.session() as session:
        commit_task(session, code=code)
    with db.session() as session, pytest.raises(DrawError, match="空白"):
        draw_task(session, code=code, seed=seed)
    refused = cli("task", "draw", "--as", "cli-planner", code, "--seed", seed, expect=1)
    assert "空白" in refused.stderr and "whitespace" in refused.stderr
    assert _counts(db, code) == (0, 0)
    cli(
        "task", "draw", "--as", "cli-planner", code, "--seed", "12 3"
    )  # a space inside is part of the seed
    with db.session() as session:
        assert session.get(Task, code).seed == "12 3"  # type: ignore[union-attr]


@pytest.fixture
def console(db: Database, tmp_path: Path) -> Any:
    build_console(db, tmp_path)
    with ConsoleServer(db) as url:
        yield url


def test_console_and_api_take_the_seed_verbatim_and_draw_once(db: Database, console: str) -> None:
    code = s.UNDRAWN  # committed, not drawn
    with httpx.Client(base_url=console, timeout=60) as browser:
        sign_in(browser, "planner")
        page = browser.get("/task", params={"code": code})
        form = {"code": code, "seed": f" {SEED_A} ", "csrf_token": csrf_of(page)}
        refused = browser.post("/task/draw", data=form)
        assert refused.status_code == 400
        assert "空白" in soup(refused).get_text()
        assert _counts(db, code) == (0, 0)
    with httpx.Client(base_url=console, timeout=60) as api:
        token = api.post("/api/session", json={"username": "planner", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['token']}"}
        bad = api.post("/api/tasks/draw", json={"code": code, "seed": SEED_A + " "},
                       headers=headers)  # fmt: skip
        assert bad.status_code == 400 and "whitespace" in bad.json()["error"]["en"]
        good = api.post("/api/tasks/draw", json={"code": code, "seed": SEED_A}, headers=headers)
        assert good.status_code == 200, good.text
        again = api.post("/api/tasks/draw", json={"code": code, "seed": SEED_B}, headers=headers)
        assert again.status_code == 409
        assert "已经抽取" in again.json()["error"]["zh"]
    with db.session() as session:
        assert session.get(Task, code).seed == SEED_A  # type: ignore[union-attr]
    assert _counts(db, code)[1] == 1


def test_seed_enter_refuses_whitespace_at_an_end(db: Database, tmp_path: Path) -> None:
    import time_machine
    from test_scheduler import _scheduled_task, at, config, drive, service

    from supervision.errors import SupervisionError
    from supervision.scheduling.seeds import enter_seed

    with time_machine.travel(at("2026-12-01T08:00"), tick=False) as traveller:
        code = _scheduled_task(db, tmp_path)
        scheduler = service(db, config())
        scheduler.start()
        drive([scheduler], traveller, at("2026-12-01T09:30"))  # committed
        scheduler.stop()
        with db.session() as session, pytest.raises(SupervisionError, match="空白"):
            enter_seed(session, task_code=code, seed="31415926 ")
        with db.session() as session:
            assert enter_seed(session, task_code=code, seed="3141 5926").seed_value == "3141 5926"


def test_a_scheduled_draw_that_loses_the_race_is_drawn_elsewhere_not_a_failure(
    db: Database, tmp_path: Path
) -> None:
    """The scheduler's door: a draw by hand holds the task when the draw job runs; the job
    waits, then records the task as drawn elsewhere (no second draw, no failure alert)."""
    import time_machine
    from scheduler_support import config, draft_task, service, small_province
    from test_scheduler import alerts, at, runs

    from supervision.scheduling.schedules import set_schedule
    from supervision.scheduling.seeds import enter_seed

    with time_machine.travel(at("2026-12-01T08:00"), tick=False) as traveller:
        small_province(db, tmp_path)
        code = draft_task(db)
        with db.session() as session:
            commit_task(session, code=code)
            set_schedule(session, task_code=code, draw_at=at("2026-12-01T10:00"),
                         seed_deadline=at("2026-12-01T10:00"))  # fmt: skip
        traveller.move_to(at("2026-12-01T09:55"))
        with db.session() as session:
            enter_seed(session, task_code=code, seed="2718281828")
        traveller.move_to(at("2026-12-01T10:01"))
        scheduler = service(db, config())
        scheduler.start()
        scheduler.scheduler._process_jobs()  # adds the draw job, due now
        failures: list[BaseException] = []

        def job() -> None:
            try:
                scheduler.scheduler._process_jobs()  # runs the draw job (in this thread)
            except BaseException as exc:  # the test reports it
                failures.append(exc)

        with db.session() as session:
            draw_task(session, code=code, seed=SEED_A, workers=1)  # by hand, not committed yet
            thread = threading.Thread(target=job)
            thread.start()
            time.sleep(1.0)
        thread.join(60)
        scheduler.stop()
    assert not failures and not thread.is_alive()
    with db.session() as session:
        assert session.get(Task, code).seed == SEED_A  # type: ignore[union-attr]
    assert _counts(db, code)[1] == 1
    assert ("draw", code, "failed") not in runs(db, "draw")
    assert not [a for a in alerts(db) if a[0] == "job_failed"], alerts(db)

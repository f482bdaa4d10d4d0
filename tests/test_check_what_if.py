"""A check as of a day before the last completed run's is a what-if: it reports which
findings would open or close and writes nothing, unless --rewind --reason (and --as)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select
from test_check_support import AS_OF, dump, load, province

from supervision import trail
from supervision.checks.run import EarlierThanLastRun, run_check
from supervision.db import Database
from supervision.models.findings import CheckRun

pytestmark = pytest.mark.usefixtures("crew")
EARLIER = AS_OF - dt.timedelta(days=400)


@pytest.fixture
def checked(db: Database) -> Database:
    _, entities, records = province()
    load(db, entities, records)
    run_check(db, as_of=AS_OF)
    return db


def _runs(db: Database) -> list[Any]:
    with db.engine.connect() as conn:
        return list(conn.execute(select(CheckRun.__table__)).all())  # type: ignore[attr-defined]


def test_the_service_refuses_to_write_an_earlier_run(checked: Database) -> None:
    before = dump(checked)
    with pytest.raises(EarlierThanLastRun) as caught:
        run_check(checked, as_of=EARLIER)
    assert caught.value.last_as_of == AS_OF and "--rewind" in caught.value.en
    assert dump(checked) == before
    # The same day, or a later one, is an ordinary run.
    run_check(checked, as_of=AS_OF)
    assert len(_runs(checked)) == 2


def test_the_command_reports_a_what_if_and_writes_nothing(cli: Any, checked: Database) -> None:
    before = dump(checked)
    out = cli("check", "--as-of", EARLIER.isoformat())
    assert "假设分析 / what-if" in out.stdout and "nothing written" in out.stdout
    assert dump(checked) == before
    data = json.loads(cli("check", "--as-of", EARLIER.isoformat(), "--json").stdout)
    assert data["what_if"]["last_as_of"] == AS_OF.isoformat()
    assert data["as_of"] == EARLIER.isoformat()
    # What would change: open findings the earlier day would resolve are counted as gone.
    assert sum(r["gone"] + r["new"] for r in data["rules"].values()) > 0
    assert dump(checked) == before


def test_a_rewind_needs_a_reason_and_a_person_and_is_recorded(
    cli: Any, checked: Database, crew: dict[str, str]
) -> None:
    before = dump(checked)
    cli("check", "--as-of", EARLIER.isoformat(), "--rewind", expect=1)
    cli("check", "--as-of", EARLIER.isoformat(), "--reason", "x", expect=1)
    refused = cli("check", "--as-of", EARLIER.isoformat(), "--rewind", "--reason", "补录", expect=1)
    assert "--as" in refused.stderr
    assert dump(checked) == before
    cli("check", "--as-of", EARLIER.isoformat(), "--rewind", "--reason", "补录了 2024 年的记录",
        "--as", crew["reviewer"])  # fmt: skip
    runs = _runs(checked)
    assert len(runs) == 2 and runs[-1].as_of == EARLIER
    with checked.session() as session:
        (event,) = [e for e in trail.events(session) if e.action == "check.rewind"]
    assert event.actor == f"console:{crew['reviewer']}"
    assert "补录了 2024 年的记录" in event.payload and AS_OF.isoformat() in event.payload

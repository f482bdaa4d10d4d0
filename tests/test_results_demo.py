"""The demo's results step gives drawn entities results in every state."""

from __future__ import annotations

from typing import Any

from test_results import drawn  # noqa: F401  (fixture)
from test_tasks_draw import province  # noqa: F401  (fixture)

from supervision import trail
from supervision.db import Database
from supervision.demo.results import SCENARIOS, demo_results_step
from supervision.results.service import entity_results


def test_demo_results_cover_every_state(
    db: Database,
    drawn: dict[str, Any],  # noqa: F811
    time_machine: Any,
) -> None:
    time_machine.move_to("2025-10-09 10:00 +0800", tick=False)
    report = demo_results_step(db, as_of=drawn_day(), seed=7)
    assert report["task"] == drawn["task"]
    assert sorted(report["entities"].values()) == sorted(SCENARIOS)
    seen = {}
    with db.session() as session:
        for uscc, scenario in report["entities"].items():
            data = entity_results(session, task_code=drawn["task"], uscc=uscc)
            seen[scenario] = (
                data["items"][0]["state"],
                len(data["items"][0]["versions"]),
                [r["state"] for r in data["replies"]],
            )
        assert trail.verify(session)["ok"]
    assert seen["entered"] == ("entered", 1, [])
    assert seen["returned"] == ("returned", 1, [])
    assert seen["approved"] == ("approved", 1, [])
    assert seen["published"] == ("published", 1, [])
    published = next(u for u, sc in report["entities"].items() if sc == "published")
    with db.session() as session:
        version = entity_results(session, task_code=drawn["task"], uscc=published)["items"][0][
            "versions"
        ][0]
    people = (version["entered_by"], version["reviewed_by"], version["published_by"])
    assert len(set(people)) == 3, people  # entered, approved and published by three users
    assert seen["corrected_published"] == ("published", 2, [])
    assert seen["corrected_pending"] == ("entered", 2, [])
    assert seen["published_reply"] == ("published", 1, ["published"])
    assert seen["reply_pending"] == ("published", 1, ["entered"])


def drawn_day() -> Any:
    from datetime import date

    return date(2025, 10, 9)

"""Random sequences of actions against the database (hypothesis): the stored state always
matches the pure state machine, refused actions change nothing, versions only grow, and
every version ever written stays."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_results import (  # noqa: F401  (fixtures)
    _correct,
    _dump,
    _enter,
    _publish,
    _review,
    _state,
    drawn,
)
from test_tasks_draw import province  # noqa: F401  (fixture)

from supervision.db import Database
from supervision.errors import SupervisionError
from supervision.results.states import ACTIONS, IllegalTransition, next_version


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=10))
def test_random_sequences_against_the_database(
    db: Database,
    drawn: dict[str, Any],  # noqa: F811
    actions: list[str],
) -> None:
    task = drawn["task"]
    # Each example gets a drawn entity of its own (the database is shared by examples).
    counter = drawn.setdefault("_next", itertools.count())
    index = next(counter)
    if index >= len(drawn["entities"]):
        return
    uscc = drawn["entities"][index]
    run = {
        "enter": lambda: _enter(db, task, uscc),
        "approve": lambda: _review(db, task, uscc, approve=True),
        "return": lambda: _review(db, task, uscc, approve=False, reason="退回"),
        "publish": lambda: _publish(db, task, uscc),
        "correct": lambda: _correct(db, task, uscc),
    }
    state, version = "not_entered", 0
    for action in actions:
        try:
            expected = next_version(state, version, action)
        except IllegalTransition:
            expected = None
        before = _dump(db)
        if expected is None:
            try:
                run[action]()
            except SupervisionError:
                pass
            else:
                raise AssertionError(f"{action} from {state} was accepted")
            assert _dump(db) == before
        else:
            run[action]()
            state, version = expected
        assert _state(db, task, uscc) == (state, version)

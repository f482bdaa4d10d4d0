"""The pure result state machine: every transition, and random sequences (hypothesis)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supervision.reference.result_codes import (
    MAIN_CODES,
    RESULT_STATES,
    SUB_CODES,
    check_code,
    result_label,
)
from supervision.results.states import (
    ACTIONS,
    TRANSITIONS,
    IllegalTransition,
    next_state,
    next_version,
)

LEGAL = {
    ("not_entered", "enter"): "entered",
    ("returned", "enter"): "entered",
    ("entered", "approve"): "approved",
    ("entered", "return"): "returned",
    ("approved", "publish"): "published",
    ("published", "correct"): "entered",
}


@pytest.mark.parametrize("state", list(RESULT_STATES))
@pytest.mark.parametrize("action", ACTIONS)
def test_every_pair(state: str, action: str) -> None:
    if (state, action) in LEGAL:
        assert next_state(state, action) == LEGAL[(state, action)]
    else:
        with pytest.raises(IllegalTransition) as error:
            next_state(state, action)
        assert error.value.zh and error.value.en


def test_the_table_is_the_documented_one() -> None:
    assert TRANSITIONS == LEGAL


@given(st.lists(st.sampled_from(ACTIONS), max_size=60))
def test_random_sequences_keep_states_legal_and_versions_monotonic(actions: list[str]) -> None:
    state, version = "not_entered", 0
    published_versions: list[int] = []
    for action in actions:
        try:
            new_state, new_version = next_version(state, version, action)
        except IllegalTransition:
            continue  # refused: nothing changes
        assert new_state in RESULT_STATES and new_state != "not_entered"
        assert new_version in (version, version + 1)
        assert (new_version == version + 1) == (action in ("enter", "correct"))
        if new_state == "published":
            published_versions.append(new_version)
        state, version = new_state, new_version
    assert published_versions == sorted(set(published_versions))


def test_codes_and_wording() -> None:
    assert check_code("a", "b") == ("A", "B")
    assert result_label("A", "B").zh == "发现问题待后续处理：未按规定公示应当公示的信息"
    assert set(MAIN_CODES) == {"1", "A", "E", "F", "7", "8", "9", "10", "11", "12"}
    assert set(SUB_CODES) == {"B", "C", "6", "D", "3", "4", "5"}


def test_the_state_machine_needs_no_database() -> None:
    """results.states is a pure core: importing it loads no ORM, web framework or db."""
    code = (
        "import sys, supervision.results.states\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'sqlmodel', 'fastapi') or m.startswith(('supervision.db', "
        "'supervision.models')))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""

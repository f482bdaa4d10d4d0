"""The result state machine (pure): which action each state allows, and what follows.

A result moves 未录入 → 待审核 (enter) → 通过 (approve) or 退回 (return); a returned
result is entered again; an approved one is published (已公示); a published one can only
be corrected, which makes it 待审核 again. Enter and correct write a new version; the
other actions move the state of the current one.

This module knows no database: the services in supervision.results apply it to rows.
"""

from __future__ import annotations

from supervision.errors import SupervisionError
from supervision.reference.result_codes import RESULT_STATES, ResultState

__all__ = [
    "ACTIONS",
    "ACTION_ZH",
    "NEW_VERSION",
    "STATE_ZH",
    "TRANSITIONS",
    "IllegalTransition",
    "ResultState",
    "next_state",
    "next_version",
]

S = ResultState
ACTIONS = ("enter", "approve", "return", "publish", "correct")
#: (state, action) → new state. Anything else is illegal.
TRANSITIONS: dict[tuple[str, str], str] = {
    (S.NOT_ENTERED, "enter"): S.ENTERED,
    (S.RETURNED, "enter"): S.ENTERED,  # re-entered after return: a new version
    (S.ENTERED, "approve"): S.APPROVED,
    (S.ENTERED, "return"): S.RETURNED,
    (S.APPROVED, "publish"): S.PUBLISHED,
    (S.PUBLISHED, "correct"): S.ENTERED,  # a correction: a new version, reviewed again
}
#: Actions that write a new version.
NEW_VERSION = frozenset({"enter", "correct"})

#: State → its Chinese name (未录入, 待审核, ...).
STATE_ZH = {state: wording.zh for state, wording in RESULT_STATES.items()}
#: Action → its Chinese verb.
ACTION_ZH = {
    "enter": "录入",
    "approve": "审核通过",
    "return": "退回",
    "publish": "公示",
    "correct": "更正",
}
#: What to do instead, for the illegal moves people try most (Chinese, English).
_HINT = {
    (S.PUBLISHED, "enter"): ("已公示的结果只能更正（result correct）", "use `result correct`"),
    (S.ENTERED, "enter"): (
        "请等待审核，或由审核人退回后再录入",
        "wait for review or have it returned",
    ),
    (S.APPROVED, "enter"): (
        "已审核通过，请公示；公示后可更正",
        "publish it; correct it afterwards",
    ),
}


class IllegalTransition(SupervisionError):
    """An action the result's state does not allow."""


def next_state(state: str, action: str) -> str:
    """The state after ``action``; IllegalTransition when the state does not allow it."""
    new = TRANSITIONS.get((state, action))
    if new is None:
        hint = _HINT.get((state, action))
        raise IllegalTransition(
            f"状态为“{STATE_ZH.get(state, state)}”的结果不能{ACTION_ZH.get(action, action)}"
            + (f"：{hint[0]}" if hint else ""),
            f"a result that is {state} cannot be {action}ed" + (f": {hint[1]}" if hint else ""),
        )
    return new


def next_version(state: str, version: int, action: str) -> tuple[str, int]:
    """(state, version) after ``action``: a new version for enter and correct."""
    return next_state(state, action), version + 1 if action in NEW_VERSION else version

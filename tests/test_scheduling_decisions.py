"""The scheduled draw's decision table (supervision.scheduling.decisions): pure, no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supervision.models import TaskStatus
from supervision.models.scheduling import SeedState
from supervision.scheduling import decisions
from supervision.scheduling.decisions import OUTCOMES, STATE_AFTER, decide_draw, seed_needed

DRAW_AT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
DEADLINE = DRAW_AT + timedelta(hours=4)
COMMITTED_AT = DRAW_AT - timedelta(days=1)
GRACE = timedelta(minutes=15)


@dataclass
class Schedule:
    state: str | None = None
    draw_at: datetime = DRAW_AT
    seed_deadline: datetime = DEADLINE
    seed_entered_at: datetime | None = None
    seed_missing_since: datetime | None = None


@dataclass
class Task:
    status: str = TaskStatus.COMMITTED
    committed_at: datetime | None = COMMITTED_AT


def decide(
    schedule: Schedule | None = None,
    task: Task | None = None,
    *,
    now: datetime = DRAW_AT,
    seed: str | None = "骰子 3 5",
) -> decisions.Decision:
    schedule = (
        Schedule(seed_entered_at=COMMITTED_AT + timedelta(hours=1))
        if schedule is None
        else schedule
    )
    return decide_draw(schedule, task or Task(), now=now, grace=GRACE, seed=seed)


def test_the_state_names_are_the_models() -> None:
    assert set(decisions.FINAL_STATES) == {SeedState.DRAWN, SeedState.MISSED, SeedState.ABANDONED}
    assert set(STATE_AFTER.values()) <= {
        SeedState.DRAWN,
        SeedState.MISSED,
        SeedState.ABANDONED,
        SeedState.WAITING,
    }
    assert set(STATE_AFTER) <= set(OUTCOMES)


def test_no_schedule_or_no_task() -> None:
    assert decide_draw(None, Task(), now=DRAW_AT, grace=GRACE, seed="s").outcome == "no_schedule"
    assert (
        decide_draw(Schedule(), None, now=DRAW_AT, grace=GRACE, seed="s").outcome == "no_schedule"
    )


@pytest.mark.parametrize("state", [SeedState.DRAWN, SeedState.MISSED, SeedState.ABANDONED])
def test_a_finished_draw_is_over(state: str) -> None:
    assert decide(Schedule(state=state)).outcome == "over"


def test_task_state_outside_the_scheduler() -> None:
    assert decide(task=Task(status=TaskStatus.DRAWN)).outcome == "drawn_elsewhere"
    assert decide(task=Task(status=TaskStatus.CANCELLED)).outcome == "cancelled"


def test_before_the_draw_time_nothing_happens() -> None:
    assert decide(now=DRAW_AT - timedelta(seconds=1)).outcome == "too_early"


def test_on_time_with_a_seed_draws_and_says_how_late() -> None:
    decision = decide(now=DRAW_AT + timedelta(minutes=3))
    assert decision.outcome == "draw"
    assert decision.late == timedelta(minutes=3)


def test_beyond_grace_the_draw_is_missed_not_late() -> None:
    decision = decide(now=DRAW_AT + GRACE + timedelta(seconds=1))
    assert decision.outcome == "missed"
    assert decision.late == GRACE + timedelta(seconds=1)
    assert decide(now=DRAW_AT + GRACE).outcome == "draw"


def test_waiting_for_a_seed_retries_until_the_seed_deadline() -> None:
    first = decide(Schedule(), seed=None)
    assert (first.outcome, first.reason) == ("waiting", decisions.NO_SEED)
    waiting = Schedule(seed_missing_since=DRAW_AT, seed_entered_at=DEADLINE - timedelta(minutes=1))
    # Long after the draw time, but an on-time attempt found no seed: still drawn.
    assert decide(waiting, now=DEADLINE - timedelta(seconds=1)).outcome == "draw"
    # A seed entered in time may still be used within the grace after the deadline.
    assert decide(waiting, now=DEADLINE + GRACE).outcome == "draw"
    assert decide(waiting, now=DEADLINE + GRACE + timedelta(seconds=1)).outcome == (
        "seed_deadline_passed"
    )
    no_seed = Schedule(seed_missing_since=DRAW_AT)
    assert decide(no_seed, now=DEADLINE + timedelta(seconds=1), seed=None).outcome == (
        "seed_deadline_passed"
    )


def test_not_ready_reasons() -> None:
    draft = decide(Schedule(), Task(status=TaskStatus.DRAFT, committed_at=None))
    assert (draft.outcome, draft.reason) == ("waiting", decisions.NOT_COMMITTED)
    early_seed = decide(Schedule(seed_entered_at=COMMITTED_AT))
    assert (early_seed.outcome, early_seed.reason) == ("waiting", decisions.SEED_BEFORE_COMMIT)


moments = st.datetimes(
    min_value=datetime(2026, 3, 1), max_value=datetime(2026, 3, 4), timezones=st.just(UTC)
)
maybe_moment = st.none() | moments
statuses = st.sampled_from(
    [
        TaskStatus.DRAFT,
        TaskStatus.COMMITTED,
        TaskStatus.DRAWN,
        TaskStatus.IN_PROGRESS,
        TaskStatus.CLOSED,
        TaskStatus.CANCELLED,
    ]
)
states = st.sampled_from([None, *decisions.FINAL_STATES, SeedState.WAITING])
schedules = st.builds(
    Schedule,
    state=states,
    draw_at=moments,
    seed_deadline=moments,
    seed_entered_at=maybe_moment,
    seed_missing_since=maybe_moment,
)
tasks = st.builds(Task, status=statuses, committed_at=maybe_moment)
grace = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=2))
seeds = st.none() | st.text(min_size=1, max_size=5)


@given(schedule=schedules, task=tasks, now=moments, grace=grace, seed=seeds)
def test_the_table_is_total_and_never_draws_early_or_without_a_seed(
    schedule: Schedule, task: Task, now: datetime, grace: timedelta, seed: str | None
) -> None:
    decision = decide_draw(schedule, task, now=now, grace=grace, seed=seed)
    assert decision.outcome in OUTCOMES
    assert (decision.reason is not None) == (decision.outcome == "waiting")
    assert decision.late >= timedelta(0)
    if decision.outcome == "draw":
        assert seed is not None
        assert now >= schedule.draw_at
        assert now <= schedule.seed_deadline + grace
        assert task.status not in (TaskStatus.DRAFT, TaskStatus.DRAWN, TaskStatus.CANCELLED)
        assert schedule.state not in decisions.FINAL_STATES
        assert decision.late == now - schedule.draw_at
        if schedule.seed_missing_since is None:
            assert decision.late <= grace  # never silently late
    if now < schedule.draw_at:
        assert decision.outcome in ("over", "drawn_elsewhere", "cancelled", "too_early")


@given(schedule=schedules, task=tasks, now=moments, grace=grace, seed=seeds)
def test_the_seed_is_looked_up_only_when_it_matters(
    schedule: Schedule, task: Task, now: datetime, grace: timedelta, seed: str | None
) -> None:
    with_seed = decide_draw(schedule, task, now=now, grace=grace, seed=seed)
    without = decide_draw(schedule, task, now=now, grace=grace, seed=None)
    if not seed_needed(schedule, task, now=now, grace=grace):
        assert with_seed == without
    else:
        assert with_seed.outcome in ("seed_deadline_passed", "waiting", "draw")

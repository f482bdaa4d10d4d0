"""What the scheduled draw does now: the decision table of ``jobs.run_task_draw`` as a pure
function of the schedule, the task, the time, the grace and the seed (no database, no I/O).

In order, the first that applies:

==========================  =========================================  ===============
outcome                     when                                       schedule state
==========================  =========================================  ===============
``no_schedule``             no schedule or no task                     (unchanged)
``over``                    state is drawn, missed or abandoned        (unchanged)
``drawn_elsewhere``         the task was drawn outside the scheduler   drawn
``cancelled``               the task was cancelled                     abandoned
``too_early``               before the draw time                       (unchanged)
``missed``                  later than the grace, no seed awaited      missed
``seed_deadline_passed``    past the seed deadline (plus grace, if     abandoned
                            the seed came in time) without a draw
``waiting``                 not committed, no seed, or a seed entered  waiting
                            before the commit
``draw``                    otherwise: draw now with the seed          drawn
==========================  =========================================  ===============

The first six do not depend on the seed (``seed_needed`` says whether to look it up).
The state names are those of ``models.scheduling.SeedState`` and ``models.tasks.TaskStatus``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

Outcome = Literal[
    "no_schedule",
    "over",
    "drawn_elsewhere",
    "cancelled",
    "too_early",
    "missed",
    "seed_deadline_passed",
    "waiting",
    "draw",
]
OUTCOMES: tuple[Outcome, ...] = (
    "no_schedule",
    "over",
    "drawn_elsewhere",
    "cancelled",
    "too_early",
    "missed",
    "seed_deadline_passed",
    "waiting",
    "draw",
)
#: The schedule's state after each outcome (absent: left as it is).
STATE_AFTER: dict[Outcome, str] = {
    "drawn_elsewhere": "drawn",
    "cancelled": "abandoned",
    "missed": "missed",
    "seed_deadline_passed": "abandoned",
    "waiting": "waiting",
    "draw": "drawn",
}
FINAL_STATES = ("drawn", "missed", "abandoned")

# Why a draw at draw time could not be made (Chinese, English).
NOT_COMMITTED = ("任务尚未锁定", "the task is not committed")
NO_SEED = ("尚未录入随机种子", "no seed has been entered")
SEED_BEFORE_COMMIT = (
    "随机种子早于锁定录入，不能使用",
    "the seed was entered before the commit and cannot be used",
)


class ScheduleView(Protocol):
    """What the table reads of a ``TaskSchedule``."""

    @property
    def state(self) -> str | None: ...
    @property
    def draw_at(self) -> datetime: ...
    @property
    def seed_deadline(self) -> datetime: ...
    @property
    def seed_entered_at(self) -> datetime | None: ...
    @property
    def seed_missing_since(self) -> datetime | None: ...


class TaskView(Protocol):
    """What the table reads of a ``Task``."""

    @property
    def status(self) -> str: ...
    @property
    def committed_at(self) -> datetime | None: ...


@dataclass(frozen=True)
class Decision:
    """An outcome, how late the draw is (zero before the draw time), and for ``waiting``
    why (Chinese, English)."""

    outcome: Outcome
    late: timedelta = timedelta(0)
    reason: tuple[str, str] | None = None


def _before_seed(
    schedule: ScheduleView | None, task: TaskView | None, *, now: datetime, grace: timedelta
) -> Decision | None:
    """The outcomes that do not depend on the seed, or None."""
    if schedule is None or task is None:
        return Decision("no_schedule")
    if schedule.state in FINAL_STATES:
        return Decision("over")
    if task.status == "drawn":
        return Decision("drawn_elsewhere")
    if task.status == "cancelled":
        return Decision("cancelled")
    if now < schedule.draw_at:
        return Decision("too_early")
    late = now - schedule.draw_at
    if schedule.seed_missing_since is None and late > grace:
        return Decision("missed", late)
    return None


def seed_needed(
    schedule: ScheduleView | None, task: TaskView | None, *, now: datetime, grace: timedelta
) -> bool:
    """True if the decision depends on the seed (look it up only then)."""
    return _before_seed(schedule, task, now=now, grace=grace) is None


def decide_draw(
    schedule: ScheduleView | None,
    task: TaskView | None,
    *,
    now: datetime,
    grace: timedelta,
    seed: str | None,
) -> Decision:
    """What the draw job does for this task at ``now`` (see the module's table)."""
    early = _before_seed(schedule, task, now=now, grace=grace)
    if early is not None:
        return early
    assert schedule is not None and task is not None  # _before_seed decided otherwise
    late = now - schedule.draw_at
    entered_in_time = seed is not None and (
        schedule.seed_entered_at is None or schedule.seed_entered_at <= schedule.seed_deadline
    )
    if now > schedule.seed_deadline + grace or (
        now > schedule.seed_deadline and not entered_in_time
    ):
        return Decision("seed_deadline_passed", late)
    reason = _not_ready(schedule, task, seed)
    if reason is not None:
        return Decision("waiting", late, reason)
    return Decision("draw", late)


def _not_ready(schedule: ScheduleView, task: TaskView, seed: str | None) -> tuple[str, str] | None:
    if task.status == "draft":
        return NOT_COMMITTED
    if seed is None:
        return NO_SEED
    if (
        task.committed_at is not None
        and schedule.seed_entered_at is not None
        and schedule.seed_entered_at <= task.committed_at
    ):
        # Cannot happen through `seed enter`; refuse rather than draw with a pre-commit seed.
        return SEED_BEFORE_COMMIT
    return None

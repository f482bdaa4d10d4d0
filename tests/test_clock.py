"""The one clock: the start of a China day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import time_machine
from hypothesis import given
from hypothesis import strategies as st

from supervision import clock


def test_day_start_is_midnight_in_china() -> None:
    assert clock.day_start(date(2026, 11, 27)) == datetime(2026, 11, 26, 16, 0, tzinfo=UTC)
    assert clock.local(clock.day_start(date(2026, 11, 27))).hour == 0


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)))
def test_the_start_of_today_is_never_ahead_of_now(moment: datetime) -> None:
    with time_machine.travel(moment.replace(tzinfo=UTC), tick=False):
        start = clock.day_start(clock.today())
        assert start <= clock.now() < start + timedelta(days=1)

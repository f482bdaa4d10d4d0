"""The one clock. Times are stored as aware UTC datetimes and shown in Asia/Shanghai.

Tests move time with time-machine; nothing else in the code calls datetime.now().
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def today() -> date:
    """Today's date in China (Asia/Shanghai), which is what deadlines count from."""
    return now().astimezone(LOCAL_TZ).date()


def day_start(day: date) -> datetime:
    """The moment ``day`` begins in China, in UTC (16:00 UTC the evening before): the
    earliest time that is on ``day`` in China, so never ahead of ``now()`` when ``day``
    is ``today()``."""
    return datetime(day.year, day.month, day.day, tzinfo=LOCAL_TZ).astimezone(UTC)


def as_utc(moment: datetime) -> datetime:
    """A stored time as an aware datetime: drivers that drop the zone (SQLite's) hand
    back naive values, and every stored time is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def local(moment: datetime) -> datetime:
    """A stored time as Beijing time, for display."""
    return as_utc(moment).astimezone(LOCAL_TZ)


#: The one way a time is shown to a person (console pages, command-line tables): Beijing
#: time to the minute. JSON keeps ISO 8601 with the offset.
SHOWN_FORMAT = "%Y-%m-%d %H:%M"


def shown(moment: datetime | str) -> str:
    """A stored time (or its ISO text) as a person reads it: Beijing time,
    ``YYYY-MM-DD HH:MM``. Text that is not an ISO time is returned as it is."""
    if isinstance(moment, datetime):
        return local(moment).strftime(SHOWN_FORMAT)
    try:
        return local(datetime.fromisoformat(moment)).strftime(SHOWN_FORMAT)
    except ValueError:
        return moment

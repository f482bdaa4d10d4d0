"""The demo's check step: a full check of the demo province as of its date."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from sqlalchemy import func, select

from supervision.checks.review import flagged_by_rule
from supervision.checks.run import run_check
from supervision.db import Database, table_of
from supervision.models import Entity

#: The demo checks with two worker processes from this many entities on.
DEMO_WORKERS_FROM = 100_000


def demo_check_step(db: Database, *, as_of: dt.date) -> dict[str, Any]:
    """The demo's check step: a full check of the demo province as of its date.

    Returns the run summary plus the number of flagged entities per rule (``by_rule``)
    and in total (``flagged``), for ``supervision demo`` to print.
    """
    with db.engine.connect() as conn:
        entities = conn.execute(select(func.count()).select_from(table_of(Entity))).scalar_one()
    # Worker processes pay off on a big province (each costs a second or two to start).
    workers = min(2, os.cpu_count() or 1) if entities >= DEMO_WORKERS_FROM else 1
    summary = run_check(db, as_of=as_of, full=True, workers=workers)
    total, per_rule = flagged_by_rule(db)
    return {**summary.to_dict(), "flagged": total, "by_rule": per_rule}

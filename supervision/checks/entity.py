"""Checking one entity: its facts derived as of a day, then evaluated by the rules engine.

The unit of a check run. It lives with the facts rather than in the engine, so the
engine (``supervision.rules``) knows nothing of entities, records or calendars.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from supervision.checks.facts import derive_facts
from supervision.errors import SupervisionError
from supervision.reference.workdays import WorkCalendar
from supervision.rules.engine import EngineError, EntityOutcome, RuleEngine

__all__ = ["check_entity"]


def check_entity(
    engine: RuleEngine,
    entity: Mapping[str, Any],
    records: Iterable[Mapping[str, Any]],
    as_of: dt.date,
    *,
    calendar: WorkCalendar | None = None,
) -> EntityOutcome:
    """Derive an entity's facts as of a day and evaluate them on ``engine``.

    A fact that cannot be derived (e.g. a deadline in a year the official calendar
    does not cover) is an error of this entity, not of the run.
    """
    uscc = str(entity["uscc"])
    try:
        facts = derive_facts(entity, records, as_of, calendar=calendar)
    except SupervisionError as exc:
        outcome = EntityOutcome(uscc)
        outcome.errors.append(EngineError(uscc, None, exc.zh, exc.en))
        return outcome
    return engine.evaluate(uscc, facts, as_of=as_of)

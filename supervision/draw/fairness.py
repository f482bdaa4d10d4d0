"""The fairness report of a drawn task: realised against declared ratios, inspector loads,
exclusions.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlmodel import Session, col, select

from supervision.draw.population import exclusion_label
from supervision.draw.service import stored_picks
from supervision.draw.tasks import get_task, not_drawn_note
from supervision.models import Assignment, TaskEligibleInspector, TaskStratum

__all__ = ["fairness_report"]


def fairness_report(session: Session, *, code: str) -> dict[str, Any]:
    """Per stratum N, n, declared and realised ratio; inspector load histogram; exclusions."""
    task = get_task(session, code=code)
    picks = stored_picks(session, code=code)
    counts = Counter(p.stratum for p in picks)
    strata = []
    for s in session.exec(
        select(TaskStratum).where(TaskStratum.task_code == code).order_by(col(TaskStratum.stratum))
    ):
        picked = counts.get(s.stratum, 0)
        strata.append(
            {
                "stratum": s.stratum,
                "size": s.size,
                "picked": picked,
                "ratio": s.ratio,
                "realised": f"{picked / s.size:.4f}" if s.size else "0",
            }
        )
    loads: dict[str, Counter[str]] = defaultdict(Counter)
    for a in session.exec(select(Assignment).where(Assignment.task_code == code)):
        loads[a.department_code][a.cert_no] += 1
    # The inspectors eligible somewhere, per department, as the draw summed them up (the
    # eligibility itself has a row per entity, department and inspector: millions).
    eligible_by_department: dict[str, set[str]] = defaultdict(set)
    for dept, cert_no in session.exec(
        select(TaskEligibleInspector.department_code, TaskEligibleInspector.cert_no).where(
            TaskEligibleInspector.task_code == code
        )
    ):
        eligible_by_department[dept].add(cert_no)
    histogram: dict[str, dict[str, int]] = {}
    for dept in task.departments:
        per_inspector = loads.get(dept, Counter())
        hist: Counter[int] = Counter(per_inspector.values())
        idle = len(eligible_by_department[dept] - set(per_inspector))
        if idle:
            hist[0] += idle
        histogram[dept] = {str(k): v for k, v in sorted(hist.items())}
    return {
        "task": code,
        "status": task.status,
        # A task not drawn yet has strata (N) but no picks: the report says so first.
        "drawn": not_drawn_note(task) is None,
        "not_drawn": not_drawn_note(task),
        "population": task.population_size,
        "picked": len(picks),
        "strata": strata,
        "load_histogram": histogram,
        "exclusions": task.exclusions,
        # How many were excluded and why, in words (status, recent inspection, yearly cap).
        "exclusion_reasons": [
            {"reason": reason, "label": exclusion_label(reason), "count": n}
            for reason, n in sorted(task.exclusions.items())
        ],
    }

"""The plan coverage warning: a plan's target whose projected coverage falls short while the
plan year runs out (from ``[plans] warn_from_month``, October by default). Bilingual
messages built from the plan report (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from supervision.scheduling.alerts import AlertKind, AlertMessage


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def coverage_short(report: Mapping[str, Any], target: Mapping[str, Any]) -> AlertMessage:
    """The alert for one short target of a plan (object ``PLAN/TARGET``)."""
    plan, tid = report["plan"], target["id"]
    ratio = _pct(float(target["ratio"]))
    return AlertMessage(
        AlertKind.PLAN_COVERAGE_SHORT,
        f"{plan}/{tid}",
        f"计划 {plan} 的目标 {tid}（不低于 {ratio}）预计只能检查 {target['projected']:g} 户"
        f"（{_pct(target['projected_rate'])}），需 {target['needed']} 户，已检查 {target['inspected']} 户；"
        f"{report['year']} 年已过 {report['year_elapsed']:.0%}，请安排任务"
        f"（supervision plan report {plan}）",
        f"plan {plan}, target {tid} (at least {ratio}): the committed tasks project "
        f"{target['projected']:g} entities ({_pct(target['projected_rate'])}) of the "
        f"{target['needed']} needed, {target['inspected']} inspected; {report['year']} is "
        f"{report['year_elapsed']:.0%} over: plan more tasks (supervision plan report {plan})",
    )

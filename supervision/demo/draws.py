"""The demo's plan and tasks: one single-department task and one joint task, committed,
and the first drawn with a printed seed, so every later step has a real draw to show."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from supervision.db import Database
from supervision.demo.plan import demo_plan_contents
from supervision.draw.commit import commit_task
from supervision.draw.plans import create_plan
from supervision.draw.service import draw_task
from supervision.draw.tasks import create_task, parse_task_input


def demo_seed(seed: int) -> str:
    """A 20-digit seed, as if from ten-sided dice rolled in public; fixed by the demo seed."""
    rng = random.Random(f"demo-draw-{seed}")
    return "".join(str(rng.randrange(10)) for _ in range(20))


def demo_draw_step(db: Database, *, as_of: date, seed: int) -> dict[str, Any]:
    """Create the demo plan and two tasks, commit both, draw the single-department one."""
    year = as_of.year
    plan_code = f"蒙市监〔{year}〕抽查计划"
    single = f"蒙市监抽查〔{year}〕1号"
    joint = f"蒙联合抽查〔{year}〕2号"
    start, end = as_of + timedelta(days=7), as_of + timedelta(days=97)
    tasks: list[dict[str, Any]] = [
        {
            "code": single, "plan": plan_code, "name": "企业公示信息情况抽查",
            "departments": ["NMG-SJ"], "items": ["NMG-SJ-01"],
            "target": {"entity_types": ["企业"]},
            "ratios": {"A": "0.03", "B": "0.05", "C": "0.10", "D": "0.30"},
            "period_start": start, "period_end": end,
        },
        {
            "code": joint, "plan": plan_code, "name": "市场监管、税务部门联合抽查（进一次门、查多项事）",
            "departments": ["NMG-SJ", "NMG-SW"], "items": ["NMG-SJ-02", "NMG-SW-02"],
            "target": {"risk_classes": ["C", "D"]},
            "ratios": "0.05", "strata": "risk_class,region",
            "period_start": start, "period_end": end,
        },
    ]  # fmt: skip
    with db.session() as session:
        create_plan(
            session,
            code=plan_code,
            year=year,
            name=f"{year}年度双随机抽查工作计划",
            departments=["NMG-SJ", "NMG-SW"],
            notes="演示数据 / demo data",
        )
        demo_plan_contents(session, code=plan_code, year=year, tasks=tasks)
        for data in tasks:
            create_task(session, spec=parse_task_input(data))
    salts = random.Random(f"demo-salts-{seed}")  # demo data only: real salts come from secrets
    for data in tasks:
        with db.session() as session:
            commit_task(
                session,
                code=data["code"],
                as_of=as_of,
                salt_source=lambda: f"{salts.getrandbits(128):032x}",
            )
    drawn_seed = demo_seed(seed)
    with db.session() as session:
        outcome = draw_task(session, code=single, seed=drawn_seed)
    return {
        "plan": plan_code,
        "tasks": [single, joint],
        "drawn": single,
        "seed": drawn_seed,
        "picked": outcome["picked"],
        "assignments": outcome["assignments"],
        "committed_only": joint,
    }

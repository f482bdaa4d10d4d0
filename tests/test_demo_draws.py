"""The demo's draw step: a plan with two tasks, both committed, one drawn and verifiable."""

from __future__ import annotations

import json
from typing import Any

from supervision.demo.draws import demo_seed


def test_demo_draws_a_task_anyone_can_verify(cli: Any) -> None:
    data = json.loads(cli("demo", "--entities", "800", "--as-of", "2026-03-02", "--json").stdout)
    draw = data["draw"]
    assert draw["drawn"] == "蒙市监抽查〔2026〕1号"
    assert draw["seed"] == demo_seed(data["seed"]) and len(draw["seed"]) == 20
    assert draw["picked"] > 0 and draw["assignments"] == 2 * draw["picked"]
    assert "一致" in cli("verify", draw["drawn"]).stdout
    joint = json.loads(cli("task", "show", draw["committed_only"], "--json").stdout)
    assert joint["status"] == "committed"
    assert joint["members"] == {"NMG-SJ": 1, "NMG-SW": 1}
    commands = [step["command"] for step in data["next_steps"]]
    assert any(c.endswith(f"verify '{draw['drawn']}'") for c in commands)


def test_demo_seed_is_fixed_by_the_demo_seed() -> None:
    assert demo_seed(2026) == demo_seed(2026)
    assert demo_seed(2026) != demo_seed(2027)

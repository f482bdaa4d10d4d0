"""Evaluation on the real durable-rules engine: findings, errors, session hygiene."""

from __future__ import annotations

import datetime as dt
import pickle
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from supervision import pools
from supervision.rules.engine import Finding, RuleEngine
from supervision.rules.pack import Example, Rule, RulePack, load_pack

SHIPPED = load_pack()


@pytest.fixture(scope="module")
def engine() -> Iterator[RuleEngine]:
    e = RuleEngine(SHIPPED)
    yield e
    e.close()


def _examples() -> list[tuple[Rule, Example]]:
    return [(r, e) for r in SHIPPED.rules for e in r.examples]


@pytest.mark.parametrize(
    ("rule", "example"), _examples(), ids=[f"{r.id}:{e.name}" for r, e in _examples()]
)
def test_each_shipped_rule_fires_on_its_examples_and_stays_silent_otherwise(
    engine: RuleEngine, rule: Rule, example: Example
) -> None:
    outcome = engine.evaluate("91110000100000000A", example.facts)
    assert outcome.errors == []
    got = sorted(f.fact_ids for f in outcome.findings if f.rule_id == rule.id)
    assert got == sorted(example.expect or [])


def entity_facts(uscc: str, *, overdue: int = 0, complaints: int = 0) -> list[dict[str, Any]]:
    facts: list[dict[str, Any]] = [
        {
            "id": f"{uscc}:entity",
            "t": "entity",
            "uscc": uscc,
            "entity_type": "企业",
            "active": True,
            "abnormal": False,
        },
        {
            "id": f"{uscc}:annual_report:2024",
            "t": "annual_report",
            "uscc": uscc,
            "year": 2024,
            "filed": overdue == 0,
            "days_overdue": overdue,
        },
    ]
    facts += [
        {"id": f"{uscc}:c{i}:complaint", "t": "complaint", "uscc": uscc, "age_days": i}
        for i in range(complaints)
    ]
    return facts


def test_no_match_is_not_an_error(engine: RuleEngine) -> None:
    outcome = engine.evaluate("U", [{"id": "x", "t": "nothing"}])
    assert outcome.findings == [] and outcome.errors == []
    assert engine.evaluate("U", []).findings == []


def test_finding_content(engine: RuleEngine) -> None:
    (finding,) = engine.evaluate("U1", entity_facts("U1", overdue=5)).findings
    assert finding.uscc == "U1" and finding.rule_id == "samr.annual-report-not-filed"
    assert (finding.rule_version, finding.severity, finding.result_code) == (1, "medium", "B")
    assert finding.on_confirm["add_to_abnormal_list"] is True
    assert finding.fact_ids == ("U1:annual_report:2024", "U1:entity")
    report = next(m for m in finding.matched if m.alias == "r")
    assert report.t == "annual_report" and report.values["days_overdue"] == 5
    assert finding.to_dict()["matched"][0]["id"] == "U1:annual_report:2024"
    assert pickle.loads(pickle.dumps(finding)) == finding


def test_count_rule_gives_one_finding_per_entity(engine: RuleEngine) -> None:
    # durable-rules fires once per full group of N=3: 7 complaints → 2 firings (6 facts),
    # merged into one finding.
    findings = engine.evaluate("U2", entity_facts("U2", complaints=7)).findings
    (finding,) = [f for f in findings if f.rule_id == "samr.frequent-complaints"]
    assert len(finding.matched) == 6
    assert len(set(finding.fact_ids)) == 6


def test_count_rule_over_a_join_lists_each_fact_once(tmp_path: Path) -> None:
    rule = SHIPPED.rule("samr.frequent-complaints")
    condition = {
        "count": 2,
        "all": [
            {"e": {"t": "entity"}},
            {"c": {"$and": [{"t": "complaint"}, {"uscc": {"e": "uscc"}}]}},
        ],
    }
    pack = RulePack("test", (replace(rule, condition=condition),), "0" * 64)
    e = RuleEngine(pack)
    try:
        (finding,) = e.evaluate("U", entity_facts("U", complaints=4)).findings
    finally:
        e.close()
    assert finding.fact_ids == (
        "U:c0:complaint",
        "U:c1:complaint",
        "U:c2:complaint",
        "U:c3:complaint",
        "U:entity",
    )


def test_rules_not_in_force_are_dropped_with_as_of(engine: RuleEngine) -> None:
    facts = entity_facts("U3", overdue=5)
    assert engine.evaluate("U3", facts, as_of=dt.date(2025, 7, 5)).findings
    # The annual-report rule is effective from 2014-10-01.
    assert engine.evaluate("U3", facts, as_of=dt.date(2014, 7, 5)).findings == []


def test_bad_facts_are_reported_and_the_run_goes_on(engine: RuleEngine) -> None:
    outcomes = list(
        engine.evaluate_many(
            [
                (
                    "A",
                    [{"id": "same", "t": "complaint", "age_days": 1}] * 2 + [{"id": "z", "t": "x"}],
                ),
                ("B", [{"t": "complaint", "age_days": 1}]),
                ("C", [{"id": "c", "t": "complaint", "age_days": 1, "odd": object()}]),
                ("D", entity_facts("D", overdue=3)),
            ]
        )
    )
    assert "duplicate fact id" in outcomes[0].errors[0].en
    assert "has no id" in outcomes[1].errors[0].en
    assert "cannot be written as JSON" in outcomes[2].errors[0].en
    assert outcomes[3].errors == [] and len(outcomes[3].findings) == 1
    # Date values from other callers are accepted as ISO strings.
    dated = [{"id": "l", "t": "licence", "valid_to": dt.date(2025, 1, 1)}]
    assert engine.evaluate("E", dated).errors == []


def test_an_action_that_raises_is_reported_and_the_run_continues() -> None:
    seen: list[Finding] = []

    def hook(finding: Finding) -> None:
        if finding.uscc == "BAD":
            raise RuntimeError("下游写入失败 downstream write failed")
        seen.append(finding)

    engine = RuleEngine(SHIPPED, on_finding=hook)
    try:
        batch = [(u, entity_facts(u, overdue=1)) for u in ("OK1", "BAD", "OK2")]
        outcomes = list(engine.evaluate_many(batch))
        assert [o.uscc for o in outcomes] == ["OK1", "BAD", "OK2"]
        assert outcomes[0].errors == [] and outcomes[2].errors == []
        (error,) = outcomes[1].errors
        assert error.uscc == "BAD" and error.rule_id == "samr.annual-report-not-filed"
        assert "BAD" in error.zh and "samr.annual-report-not-filed" in error.en
        assert "downstream write failed" in error.en
        assert [f.uscc for f in seen] == ["OK1", "OK2"]
        # The failed entity's session was deleted too: thousands more still run.
        for i in range(3000):
            uscc = "BAD" if i % 100 == 0 else f"E{i}"
            outcome = engine.evaluate(uscc, entity_facts(uscc, overdue=1))
            assert len(outcome.errors) == (1 if uscc == "BAD" else 0)
    finally:
        engine.close()


def test_100000_entities_never_hit_the_session_limit(engine: RuleEngine) -> None:
    # durable-rules allows 1024 live sessions per ruleset; each entity's session is
    # deleted right after evaluation, so a long run never gets near it.
    start = time.perf_counter()
    findings = 0
    for i in range(100_000):
        uscc = f"U{i:06d}"
        outcome = engine.evaluate(uscc, entity_facts(uscc, overdue=i % 2))
        assert not outcome.errors
        findings += len(outcome.findings)
    assert findings == 50_000
    assert time.perf_counter() - start < 120


def _worker(args: tuple[bytes, list[str]]) -> list[tuple[str, str]]:
    # One engine (one Host) per worker process, built from the pickled pack.
    pack: RulePack = pickle.loads(args[0])
    engine = RuleEngine(pack)
    out = []
    for uscc in args[1]:
        for f in engine.evaluate(uscc, entity_facts(uscc, overdue=3)).findings:
            out.append((f.uscc, f.rule_id))
    engine.close()
    return out


def test_pack_pickles_for_worker_processes() -> None:
    blob = pickle.dumps(SHIPPED)
    assert pickle.loads(blob) == SHIPPED
    chunks = [["W1", "W2"], ["W3"]]
    with pools.process_pool(2, method="spawn") as pool:
        results = list(pools.in_order(pool, _worker, [(blob, c) for c in chunks], ahead=2))
    assert [sorted(r) for r in results] == [
        [("W1", "samr.annual-report-not-filed"), ("W2", "samr.annual-report-not-filed")],
        [("W3", "samr.annual-report-not-filed")],
    ]


def test_engine_use_after_close_is_an_error(tmp_path: Path) -> None:
    e = RuleEngine(SHIPPED)
    e.close()
    with pytest.raises(Exception, match="closed"):
        e.evaluate("U", [])


def test_first_entity_matching_nothing_does_not_crash_the_process() -> None:
    """durable-rules 2.0.28 segfaults when the first session deleted saw no action; the
    engine warms up with a firing example. Run in a subprocess: a segfault would kill pytest."""
    import subprocess
    import sys

    code = (
        "from supervision.rules.pack import load_pack\n"
        "from supervision.rules.engine import RuleEngine\n"
        "engine = RuleEngine(load_pack())\n"
        "out = engine.evaluate('X', [{'id': 'X:e', 't': 'entity', 'uscc': 'X'}])\n"
        "print('findings', len(out.findings))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "findings 0" in result.stdout

"""Run every rule's examples through the real engine (``supervision rules test``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from supervision.rules.engine import RuleEngine
from supervision.rules.pack import RulePack

__all__ = ["ExampleResult", "run_examples"]


@dataclass(frozen=True)
class ExampleResult:
    file: str
    line: int
    rule_id: str
    example: str
    passed: bool
    expected: str
    got: str
    errors: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _describe(groups: list[tuple[str, ...]] | None) -> str:
    if not groups:
        return "none"
    return "; ".join("[" + ", ".join(g) + "]" for g in sorted(groups))


def run_examples(pack: RulePack) -> list[ExampleResult]:
    """Evaluate each example's facts as one entity and compare the rule's findings.

    The whole pack is loaded (as in a check run), but only findings of the rule the
    example belongs to count. Each expected finding is the set of fact ids matched.
    """
    engine = RuleEngine(pack)
    results: list[ExampleResult] = []
    try:
        for rule in pack.rules:
            for example in rule.examples:
                outcome = engine.evaluate(f"example:{rule.id}:{example.name}", example.facts)
                got = sorted(f.fact_ids for f in outcome.findings if f.rule_id == rule.id)
                expected = sorted(example.expect) if example.expect is not None else []
                errors = tuple(str(e) for e in outcome.errors)
                results.append(
                    ExampleResult(
                        file=rule.file,
                        line=example.line,
                        rule_id=rule.id,
                        example=example.name,
                        passed=got == expected and not errors,
                        expected=_describe(expected),
                        got=_describe(got),
                        errors=errors,
                    )
                )
    finally:
        engine.close()
    return results

"""Run every rule's examples through the real engine (``supervision rules test``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from supervision.rules.engine import Finding, RuleEngine
from supervision.rules.explain import ExplainError
from supervision.rules.pack import Example, Rule, RulePack

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
    #: The explanations of the findings it gave (zh, en), in ``got`` order.
    explained: tuple[dict[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _describe(groups: list[tuple[str, ...]] | None) -> str:
    if not groups:
        return "none"
    return "; ".join("[" + ", ".join(g) + "]" for g in sorted(groups))


def _explained(
    rule: Rule, example: Example, findings: list[Finding]
) -> tuple[list[dict[str, str]], list[str]]:
    """Render the rule's explanation for each finding; the errors, and every expected
    text (``expect: [{matched, explain}]``) that the rendered one does not equal."""
    out: list[dict[str, str]] = []
    errors: list[str] = []
    wanted = dict(zip(example.expect or (), example.explains, strict=False))
    for finding in findings:
        stored = finding.to_dict()["matched"]
        try:
            text = rule.explain(stored)
        except ExplainError as exc:
            errors.append(str(exc))
            continue
        if text is None:
            continue
        out.append(text)
        expected = wanted.get(finding.fact_ids)
        for lang in ("zh", "en"):
            if expected is not None and expected[lang].strip() != text[lang]:
                errors.append(
                    f"说明（{lang}）不符 / explanation ({lang}) differs: "
                    f"expected {expected[lang].strip()!r}, got {text[lang]!r}"
                )
    return out, errors


def run_examples(pack: RulePack) -> list[ExampleResult]:
    """Evaluate each example's facts as one entity and compare the rule's findings.

    The whole pack is loaded (as in a check run), but only findings of the rule the
    example belongs to count. Each expected finding is the set of fact ids matched; the
    rule's explanation is rendered for each finding it gave (a template that cannot be
    rendered fails the example), and compared with the text the example expects, if any.
    """
    engine = RuleEngine(pack)
    results: list[ExampleResult] = []
    try:
        for rule in pack.rules:
            for example in rule.examples:
                outcome = engine.evaluate(f"example:{rule.id}:{example.name}", example.facts)
                mine = sorted(
                    (f for f in outcome.findings if f.rule_id == rule.id), key=lambda f: f.fact_ids
                )
                got = [f.fact_ids for f in mine]
                expected = sorted(example.expect) if example.expect is not None else []
                explained, explain_errors = _explained(rule, example, mine)
                errors = tuple(str(e) for e in outcome.errors) + tuple(explain_errors)
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
                        explained=tuple(explained),
                    )
                )
    finally:
        engine.close()
    return results

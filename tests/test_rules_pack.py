"""Rule packs: lint and example tests catch each kind of broken rule file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from supervision.cli.rules import rules_group
from supervision.errors import SupervisionError
from supervision.rules.pack import PackError, default_rules_dir, lint_pack, load_pack

GOOD = """\
# a minimal valid rule (注释可以写中文)
rules:
  - id: t.sample
    version: 1
    title: {zh: 示例, en: Sample}
    legal_basis:
      - {law: 企业信息公示暂行条例, article: 第八条}
    department: 市场监督管理部门
    severity: low
    result_code: B
    effective_from: 2020-01-01
    params: {limit: 5}
    when:
      all:
        - m:
            $and:
              - t: x
              - $gt: {v: "${params.limit}"}
    examples:
      - name: fires
        facts: [{id: a, t: x, v: 6}]
        expect: [{matched: [a]}]
      - name: silent
        facts: [{id: a, t: x, v: 5}]
        expect: none
"""


def line_of(text: str, marker: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if marker in line)


def write_pack(tmp_path: Path, text: str, name: str = "dept/rules.yaml") -> Path:
    path = tmp_path / "pack" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return tmp_path / "pack"


def run_cli(*args: str) -> tuple[int, Any]:
    result = CliRunner().invoke(rules_group, [*args, "--json"])
    return result.exit_code, json.loads(result.output)


def test_shipped_pack_lints_clean_and_its_examples_pass() -> None:
    code, out = run_cli("lint")
    assert code == 0, out["issues"]
    assert out["rules"] >= 9 and out["digest"]
    code, out = run_cli("test")
    assert code == 0, [e for e in out["examples"] if not e["passed"]]
    assert out["failed"] == 0 and out["passed"] >= 18
    # Every shipped rule has examples that fire and examples that stay silent.
    for rule in load_pack().rules:
        assert any(e.expect for e in rule.examples), rule.id
        assert any(e.expect is None for e in rule.examples), rule.id
        assert rule.legal_basis, rule.id


def test_plain_output_when_not_a_terminal() -> None:
    result = CliRunner().invoke(rules_group, ["test"])
    assert result.exit_code == 0
    assert "通过 PASS\tsamr.annual-report-not-filed" in result.output
    assert "0 个失败 / " in result.output


def test_good_pack_passes(tmp_path: Path) -> None:
    root = write_pack(tmp_path, GOOD)
    assert run_cli("lint", str(root))[0] == 0
    code, out = run_cli("test", str(root))
    assert code == 0 and out["passed"] == 2


Mutation = Callable[[str], str]

# (name, mutation of GOOD, line marker in the mutated text, key fragment, English fragment)
BROKEN: list[tuple[str, Mutation, str | None, str, str]] = [
    (
        "syntax error",
        lambda s: s.replace("title: {zh: 示例, en: Sample}", "title: {zh: 示例, en: Sample"),
        None,
        "",
        "YAML syntax error",
    ),
    (
        "unknown operator $in",
        lambda s: s.replace('$gt: {v: "${params.limit}"}', "$in: {v: 1}"),
        "$in:",
        "rules[0].when.all[0].m.$and[1].$in",
        "no operator $in: use $or",
    ),
    (
        "missing legal basis",
        lambda s: s.replace(
            "    legal_basis:\n      - {law: 企业信息公示暂行条例, article: 第八条}\n", ""
        ),
        "- id: t.sample",
        "rules[0]",
        "missing legal_basis",
    ),
    (
        "empty article",
        lambda s: s.replace("article: 第八条", "article: ''"),
        "article:",
        "rules[0].legal_basis[0].article",
        "article must be non-empty",
    ),
    (
        "unknown key",
        lambda s: s.replace("    severity: low\n", "    severity: low\n    severty: high\n"),
        "severty:",
        "rules[0].severty",
        "unknown key 'severty'",
    ),
    (
        "duplicate yaml key",
        lambda s: s.replace("    severity: low\n", "    severity: low\n    severity: high\n"),
        "severity: high",
        "rules[0].severity",
        "duplicate key 'severity'",
    ),
    (
        "bad result code",
        lambda s: s.replace("result_code: B", "result_code: Z"),
        "result_code:",
        "rules[0].result_code",
        "not an official code",
    ),
    (
        "bad date",
        lambda s: s.replace("effective_from: 2020-01-01", "effective_from: 2025-02-30"),
        "effective_from:",
        "rules[0].effective_from",
        "cannot be read",
    ),
    (
        "effective_to before effective_from",
        lambda s: s.replace(
            "effective_from: 2020-01-01", "effective_from: 2020-01-01\n    effective_to: 2019-12-31"
        ),
        "effective_to:",
        "rules[0].effective_to",
        "before effective_from",
    ),
    (
        "undefined parameter",
        lambda s: s.replace("${params.limit}", "${params.nope}"),
        "$gt:",
        "rules[0].when.all[0].m.$and[1].$gt.v",
        "undefined parameter params.nope",
    ),
    (
        "reference to unknown alias",
        lambda s: s.replace('$gt: {v: "${params.limit}"}', "$gt: {v: {zz: v}}"),
        "zz:",
        "rules[0].when.all[0].m.$and[1].$gt.v.zz",
        "unknown alias 'zz'",
    ),
    (
        "count is not a number",
        lambda s: s.replace("      all:\n", "      count: many\n      all:\n"),
        "count: many",
        "rules[0].when.count",
        "count must be a positive integer",
    ),
    (
        "timer operator",
        lambda s: s.replace('$gt: {v: "${params.limit}"}', "$t: {v: 1}"),
        "$t:",
        "rules[0].when.all[0].m.$and[1].$t",
        "$t timers never fire",
    ),
    (
        "missing examples",
        lambda s: s[: s.index("    examples:")],
        "- id: t.sample",
        "rules[0]",
        "missing required key examples",
    ),
    (
        "no silent example",
        lambda s: s[: s.index("      - name: silent")],
        "examples:",
        "rules[0].examples",
        "no example where the rule stays silent",
    ),
    (
        "expect names an unknown fact",
        lambda s: s.replace("expect: [{matched: [a]}]", "expect: [{matched: [b]}]"),
        "matched: [b]",
        "rules[0].examples[0].expect[0]",
        "ids of facts of this example",
    ),
    (
        "bad severity",
        lambda s: s.replace("severity: low", "severity: urgent"),
        "severity:",
        "rules[0].severity",
        "severity must be one of",
    ),
    (
        "unknown on_confirm action",
        lambda s: s.replace(
            "params: {limit: 5}", "params: {limit: 5}\n    on_confirm: {jail: true}"
        ),
        "on_confirm:",
        "rules[0].on_confirm.jail",
        "unknown key 'jail' in on_confirm",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "marker", "key", "en"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN]
)
def test_lint_catches_broken_rule_files(
    tmp_path: Path, mutate: Mutation, marker: str | None, key: str, en: str
) -> None:
    text = mutate(GOOD)
    assert text != GOOD
    root = write_pack(tmp_path, text)
    code, out = run_cli("lint", str(root))
    assert code == 1
    issues = out["issues"]
    match = [i for i in issues if en in i["en"]]
    assert match, issues
    issue = match[0]
    assert issue["file"] == "dept/rules.yaml"
    assert issue["key"] == key
    assert issue["zh"]  # bilingual, Chinese first
    if marker is not None:
        assert issue["line"] == line_of(text, marker), issue
    else:
        assert issue["line"] > 1
    # A broken pack cannot be tested or loaded either.
    assert run_cli("test", str(root))[0] == 1
    with pytest.raises(PackError) as info:
        load_pack(root)
    assert isinstance(info.value, SupervisionError) and info.value.issues


def test_real_compile_catches_what_the_structural_check_lets_through(tmp_path: Path) -> None:
    # A list value passes PyYAML and looks like a value, but durable-rules refuses it
    # (error 102); the structural check reports it too, and the engine compile is the backstop.
    root = write_pack(tmp_path, GOOD.replace('"${params.limit}"', "[1, 2]"))
    report = lint_pack(root)
    assert not report.ok
    assert any("no list values" in i.en for i in report.issues)

    from supervision.rules.compiler import engine_compile

    assert engine_compile({"r": {"all": [{"m": {"$in": {"a": 1}}}]}}) is not None
    assert engine_compile({"r": {"all": [{"m": {"$gt": {"a": 1}}}]}}) is None


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    root = write_pack(tmp_path, GOOD, "a/first.yaml")
    write_pack(tmp_path, "\n\n" + GOOD, "b/second.yaml")
    code, out = run_cli("lint", str(root))
    assert code == 1
    (issue,) = out["issues"]
    assert issue["file"] == "b/second.yaml" and issue["line"] == 5 and issue["key"] == "id"
    assert "a/first.yaml:3" in issue["en"] and "duplicate rule id 't.sample'" in issue["en"]


def test_failing_example_is_reported_by_rules_test(tmp_path: Path) -> None:
    text = GOOD.replace("facts: [{id: a, t: x, v: 5}]", "facts: [{id: a, t: x, v: 50}]")
    root = write_pack(tmp_path, text)
    assert run_cli("lint", str(root))[0] == 0  # lint cannot know
    code, out = run_cli("test", str(root))
    assert code == 1 and out["failed"] == 1
    failed = next(e for e in out["examples"] if not e["passed"])
    assert failed["example"] == "silent" and failed["expected"] == "none"
    assert failed["got"] == "[a]" and failed["line"] == line_of(text, "- name: silent")
    plain = CliRunner().invoke(rules_group, ["test", str(root)])
    assert plain.exit_code == 1 and "失败 FAIL\tt.sample\tsilent" in plain.output


def test_lint_human_output_and_missing_dir(tmp_path: Path) -> None:
    root = write_pack(tmp_path, GOOD.replace("result_code: B", "result_code: Z"))
    result = CliRunner().invoke(rules_group, ["lint", str(root)])
    assert result.exit_code == 1
    assert "dept/rules.yaml:10" in result.output and "not an official code" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    assert CliRunner().invoke(rules_group, ["lint", str(empty)]).exit_code == 1


def test_digest_follows_content_not_comments(tmp_path: Path) -> None:
    root = write_pack(tmp_path, GOOD)
    digest = load_pack(root).digest
    write_pack(tmp_path, "# another comment\n" + GOOD)
    assert load_pack(root).digest == digest
    write_pack(
        tmp_path,
        GOOD.replace("limit: 5", "limit: 6").replace("v: 6", "v: 7").replace("v: 5", "v: 6"),
    )
    assert load_pack(root).digest != digest
    assert len(digest) == 64


def test_default_rules_dir_is_the_shipped_pack() -> None:
    assert (default_rules_dir() / "samr").is_dir()


def test_supervision_rules_test_command_on_the_shipped_pack() -> None:
    from supervision.cli import main

    result = CliRunner().invoke(main, ["rules", "test"])
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output
    assert CliRunner().invoke(main, ["rules", "lint"]).exit_code == 0


def test_the_other_durable_operators_lint_and_run(tmp_path: Path) -> None:
    when = """\
    when:
      all:
        - r:
            $and:
              - t: inspection_result
              - $iany: {inspectors: {$i: "11000001"}}
              - $mt: {item_code: "SAMR-.*"}
              - $or:
                  - result_code: "C"
                  - result_code: "6"
              - $gt: {age_days: {$add: {$l: {$m: grace}, $r: 1}}}
              - $ex: {task_code: 1}
    examples:
      - name: fires
        facts: [{id: a, t: inspection_result, inspectors: ["11000001"], item_code: SAMR-01,
                 result_code: "C", age_days: 9, grace: 2, task_code: T}]
        expect: [{matched: [a]}]
      - name: silent
        facts: [{id: a, t: inspection_result, inspectors: ["11000002"], item_code: SAMR-01,
                 result_code: "C", age_days: 9, grace: 2, task_code: T}]
        expect: none
"""
    text = GOOD[: GOOD.index("    when:")] + when
    root = write_pack(tmp_path, text)
    code, out = run_cli("test", str(root))
    assert code == 0, out


def test_current_pack_follows_the_files_at_once_or_after_the_recheck_window(
    tmp_path: Path,
) -> None:
    """Decisions see a changed pack at once; a page that only explains may take the files'
    listing of up to ``recheck_after`` seconds ago, never older."""
    import os
    import time

    from supervision.rules.pack import current_pack

    root = write_pack(tmp_path, GOOD)
    first = current_pack(root)
    assert current_pack(root, recheck_after=0.5).digest == first.digest
    changed = GOOD.replace("limit: 5", "limit: 6").replace("v: 6", "v: 7").replace("v: 5", "v: 6")
    path = write_pack(tmp_path, changed) / "dept/rules.yaml"
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))  # the mtime surely moves
    assert current_pack(root).digest != first.digest  # no window: the change is seen
    started = time.monotonic()
    windowed = current_pack(root, recheck_after=0.5).digest
    if time.monotonic() - started < 0.5:
        assert windowed == first.digest  # inside the window: the listing of before
    time.sleep(0.6)
    assert current_pack(root, recheck_after=0.5).digest == load_pack(root).digest != first.digest

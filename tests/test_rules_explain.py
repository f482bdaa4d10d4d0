"""Explain templates: a finding in words, linted against the examples and tested through them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from supervision.cli.rules import rules_group
from supervision.rules.examples import run_examples
from supervision.rules.explain import ExplainError, render_explain
from supervision.rules.pack import lint_pack, load_pack

RULE = """\
rules:
  - id: t.abnormal
    version: 1
    title: {zh: 届满, en: Three years}
    legal_basis:
      - {law: 企业信息公示暂行条例, article: 第十七条}
    department: 市场监督管理部门
    severity: high
    result_code: D
    effective_from: 2020-01-01
    params: {limit: 0}
    explain:
      zh: '%(zh)s'
      en: '%(en)s'
    when:
      all:
        - e:
            $and:
              - t: entity
              - $lte: {days_to_serious_list: "${params.limit}"}
    examples:
      - name: fires
        facts:
          - {id: e, t: entity, abnormal_since: "2022-07-11", serious_list_due_on: "2025-07-11", days_to_serious_list: 0, name: "<b>甲</b>"}
        expect:
          - matched: [e]
%(expect_explain)s      - name: silent
        facts: [{id: e, t: entity, days_to_serious_list: 1}]
        expect: none
"""
ZH = "{{ e.abnormal_since }} 列入经营异常名录，已满 3 年（届满日 {{ e.serious_list_due_on }}）"
EN = "On the abnormal list since {{ e.abnormal_since }}: three years on {{ e.serious_list_due_on }}"


def write(tmp_path: Path, zh: str = ZH, en: str = EN, expect_explain: str = "") -> Path:
    folder = tmp_path / "pack"
    folder.mkdir(exist_ok=True)
    text = RULE % {"zh": zh, "en": en, "expect_explain": expect_explain}
    (folder / "r.yaml").write_text(text, encoding="utf-8")
    return folder


def issues(folder: Path) -> list[tuple[str, str]]:
    return [(i.key, i.en) for i in lint_pack(folder).issues]


def test_every_shipped_rule_explains_its_findings_in_both_languages() -> None:
    pack = load_pack()
    assert all(r.explain_zh and r.explain_en for r in pack.rules)
    results = run_examples(pack)
    assert all(r.passed for r in results), [r for r in results if not r.passed]
    fired = [r for r in results if r.got != "none"]
    # Every example where a rule fires gets a rendered explanation per finding.
    assert fired and all(len(r.explained) == r.got.count("[") for r in fired)
    three_years = next(r for r in fired if r.rule_id == "samr.abnormal-three-years-serious-list")
    assert three_years.explained[0]["zh"] == (
        "2022-07-11 列入经营异常名录，已满 3 年（届满日 2025-07-11）"
    )
    assert "{{" not in json.dumps([r.explained for r in fired], ensure_ascii=False)


def test_a_good_template_lints_clean_and_renders_through_the_examples(tmp_path: Path) -> None:
    expect = (
        "            explain:\n"
        "              zh: 2022-07-11 列入经营异常名录，已满 3 年（届满日 2025-07-11）\n"
        '              en: "On the abnormal list since 2022-07-11: three years on 2025-07-11"\n'
    )
    folder = write(tmp_path, expect_explain=expect)
    assert issues(folder) == []
    [fires, silent] = run_examples(load_pack(folder))
    assert fires.passed and silent.passed
    assert (
        fires.explained[0]["en"]
        == "On the abnormal list since 2022-07-11: three years on 2025-07-11"
    )


@pytest.mark.parametrize(
    ("zh", "needle"),
    [
        (
            "{{ e.no_such_field }}",
            "e.no_such_field: no example fact of e has a field no_such_field",
        ),
        ("{{ x.year }}", "x in the explain template is not an alias of this rule"),
        ("{{ params.nope }}", "params.nope: the rule has no such parameter"),
        ("{{ matched.q | length }}", "matched.q: no alias q"),
        (
            '{{ matched.e | map(attribute="ghost") | join }}',
            "reads ghost, a field no example fact has",
        ),
        ("{{ e.abnormal_since ", "explain template syntax error"),
        ("{{ e.__class__ }}", "no example fact of e has a field __class__"),
    ],
)
def test_lint_names_each_placeholder_the_examples_do_not_have(
    tmp_path: Path, zh: str, needle: str
) -> None:
    found = issues(write(tmp_path, zh=zh))
    assert any(key == "rules[0].explain.zh" and needle in en for key, en in found), found


def test_lint_warns_about_a_rule_without_a_template(tmp_path: Path) -> None:
    folder = write(tmp_path)
    path = folder / "r.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("    explain:")
    path.write_text(text[:start] + text[text.index("    when:") :], encoding="utf-8")
    report = lint_pack(folder)
    assert report.ok
    assert any(w.key == "explain" for w in report.warnings)


def test_rules_test_fails_an_example_whose_text_differs(tmp_path: Path) -> None:
    expect = "            explain: {zh: 别的说法, en: something else}\n"
    folder = write(tmp_path, expect_explain=expect)
    result = CliRunner().invoke(rules_group, ["test", str(folder), "--json"])
    assert result.exit_code != 0
    out = json.loads(result.output)
    failed = [e for e in out["examples"] if not e["passed"]]
    assert failed and "explanation (zh) differs" in failed[0]["errors"][0]


def test_rules_test_fails_a_template_its_facts_cannot_fill(tmp_path: Path) -> None:
    # The silent example lends the field to lint; the firing one lacks it.
    folder = write(tmp_path, zh="{{ e.only_in_other }}")
    path = folder / "r.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "[{id: e, t: entity, days_to_serious_list: 1}]",
        "[{id: e, t: entity, days_to_serious_list: 1, only_in_other: 1}]",
    )
    path.write_text(text, encoding="utf-8")
    assert issues(folder) == []
    [fires, _] = run_examples(load_pack(folder))
    assert not fires.passed and "cannot be rendered" in fires.errors[0]


def test_the_sandbox_escapes_values_and_refuses_python_internals() -> None:
    when = {"all": [{"e": {"t": "entity"}}]}
    matched = [{"alias": "e", "id": "e", "t": "entity", "values": {"name": "<b>甲</b>"}}]
    html = render_explain("{{ e.name }}", when, {}, matched)
    assert str(html) == "&lt;b&gt;甲&lt;/b&gt;" and html.unescape() == "<b>甲</b>"
    with pytest.raises(ExplainError):
        render_explain("{{ e.__class__.__mro__ }}", when, {}, matched)
    with pytest.raises(ExplainError):
        render_explain("{{ e.missing }}", when, {}, matched)
    # A count rule's facts come without their alias: the rule's only alias reads them.
    bare = [{"alias": "m", "id": f"c{i}", "t": "complaint", "values": {}} for i in range(3)]
    assert (
        render_explain("{{ matched.c | length }}", {"count": 3, "all": [{"c": {}}]}, {}, bare)
        == "3"
    )


_DAYS = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 12, 31)).map(str)
_FACT = st.fixed_dictionaries(
    {"abnormal_since": _DAYS, "serious_list_due_on": _DAYS, "name": st.text(max_size=8)}
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(_FACT, st.just({"name": "lacks the dates"})), min_size=1, max_size=12))
def test_a_remembered_explanation_is_what_rendering_gives(
    tmp_path_factory: pytest.TempPathFactory, facts: list[dict[str, str]]
) -> None:
    # A console page explains row after row through Rule.explain, which remembers its
    # words per matched facts: repeated, interleaved and failing facts must read exactly
    # as a fresh rendering does (or fail as it does), never as another row's words.
    rule = load_pack(write(tmp_path_factory.mktemp("p"))).rule("t.abnormal")
    for values in facts + facts[::-1]:
        matched = [{"alias": "e", "id": "e", "t": "entity", "values": values}]
        try:
            fresh = {
                lang: render_explain(template, rule.when, rule.params, matched).unescape()
                for lang, template in (("zh", rule.explain_zh), ("en", rule.explain_en))
            }
        except ExplainError as exc:
            for facts_or_text in (matched, json.dumps(matched, ensure_ascii=False)):
                with pytest.raises(ExplainError) as again:
                    rule.explain(facts_or_text)
                assert (again.value.zh, again.value.en) == (exc.zh, exc.en)
            continue
        got = rule.explain(matched)
        assert got == fresh and values["abnormal_since"] in got["zh"]
        got["zh"] = "changed by a caller"
        assert rule.explain(matched) == fresh
        # The queue's door: the facts' stored JSON text reads the same words.
        stored = json.dumps(matched, ensure_ascii=False)
        assert rule.explain(stored) == fresh and rule.explain(stored) == fresh

"""Rule packs: a directory of YAML rule files, loaded, checked and digested.

A rule file holds ``rules:``, a list of rules: ``schema`` describes them (the shipped
pack's ``rules/README.md`` documents it), ``compiler`` checks their conditions.
``lint_pack`` reports every problem with file, line and key; ``load_pack`` returns a
``RulePack`` or raises ``PackError`` listing them.
The pack is plain frozen dataclasses: it pickles, so worker processes can each
build their own engine from it.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from supervision import paths
from supervision.rules.compiler import (
    CompileProblem,
    compile_condition,
    engine_compile,
    substitute_params,
)
from supervision.rules.errors import RuleError
from supervision.rules.explain import (
    LANGS,
    ExplainError,
    aliases_of,
    explain_context,
    render_in_context,
    template_problems,
)
from supervision.rules.schema import (
    ON_CONFIRM_KEYS,
    RESULT_CODES,
    SEVERITIES,
    RuleSpec,
    SpecProblem,
    example_facts,
    file_problems,
    rule_problems,
)
from supervision.rules.yamlsrc import Located, Path_, load_located, path_str, plain
from supervision.yamlsafe import YamlRefused

__all__ = [
    "ON_CONFIRM_KEYS",
    "RESULT_CODES",
    "SEVERITIES",
    "Example",
    "LegalBasis",
    "LintIssue",
    "LintReport",
    "PackError",
    "Rule",
    "RulePack",
    "current_pack",
    "default_rules_dir",
    "lint_pack",
    "load_pack",
]


@dataclass(frozen=True)
class LegalBasis:
    law: str
    article: str


@dataclass(frozen=True)
class Example:
    name: str
    facts: tuple[dict[str, Any], ...]
    #: ``None`` means "none": the rule must stay silent; otherwise one tuple of
    #: matched fact ids per expected finding.
    expect: tuple[tuple[str, ...], ...] | None
    line: int
    #: Per expected finding (in ``expect`` order): the explanation it must read,
    #: ``{"zh": ..., "en": ...}``, or None when the example does not say.
    explains: tuple[dict[str, str] | None, ...] = ()


#: How many explanations each rule remembers before it starts afresh: twenty pages of
#: 50 rows of one rule, about 1.3 KB each (the facts' text and the words), so a pack of
#: a dozen rules holds at most ~16 MB per console worker.
_EXPLAINED_PER_RULE = 1024


@dataclass(frozen=True)
class Rule:
    id: str
    version: int
    title_zh: str
    title_en: str
    legal_basis: tuple[LegalBasis, ...]
    department: str
    severity: str
    result_code: str
    effective_from: dt.date
    effective_to: dt.date | None
    params: dict[str, Any]
    on_confirm: dict[str, bool]
    when: dict[str, Any]
    #: ``when`` after parameter substitution: the durable-rules rule (without ``run``).
    condition: dict[str, Any]
    examples: tuple[Example, ...]
    file: str
    line: int
    description: str = ""
    #: What is not confirmed about the legal basis (a revised text's article...).
    basis_note: str = ""
    #: The explain templates (``supervision.rules.explain``); empty when not written.
    explain_zh: str = ""
    explain_en: str = ""
    #: Explanations already rendered, by the matched facts' ``repr`` or their stored JSON
    #: text: a queue page shows the same rule over similar facts row after row, and
    #: rendering a sandboxed template costs far more than the lookup. Not part of the
    #: rule's identity.
    _explained: dict[tuple[bool, str], dict[str, str] | tuple[str, str]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def explain(self, matched: Any) -> dict[str, str] | None:
        """The finding in words, ``{"zh", "en"}`` (plain text), over its matched facts as
        stored, or over their JSON text as stored (a ``str``: the review queue reads the
        column as text and it is decoded only when no explanation is remembered for it,
        since decoding and keying 50 rows cost more than rendering the rest of a page);
        None when the rule has no template. Raises ``ExplainError``.

        The result is remembered per rule, keyed by that text or by the facts' ``repr``:
        for the JSON values stored facts are made of, equal text means equal facts (a
        different key order only misses), and the rule's templates, ``when`` and
        parameters are fixed for the life of this object. ``repr`` costs a third of a
        sorted ``json.dumps``."""
        if not self.explain_zh:
            return None
        as_text = isinstance(matched, str)
        key = (as_text, matched if as_text else repr(matched))
        known = self._explained.get(key)
        if known is None:
            try:
                known = self._render_explain(json.loads(matched) if as_text else matched)
            except ExplainError as exc:
                known = (exc.zh, exc.en)
            if len(self._explained) >= _EXPLAINED_PER_RULE:
                self._explained.clear()
            self._explained[key] = known
        if isinstance(known, tuple):
            raise ExplainError(*known)
        return dict(known)

    def _render_explain(self, matched: Any) -> dict[str, str]:
        context = explain_context(self.when, self.params, matched, self._aliases)
        return {
            lang: render_in_context(template, context).unescape()
            for lang, template in (("zh", self.explain_zh), ("en", self.explain_en))
        }

    @functools.cached_property
    def _aliases(self) -> tuple[str, ...]:
        """The aliases of ``when``, in order: walked once, not per explanation."""
        return tuple(aliases_of(self.when))

    def in_force(self, day: dt.date) -> bool:
        """True when the rule applies on ``day``."""
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )


@dataclass(frozen=True)
class RulePack:
    root: str
    rules: tuple[Rule, ...]
    digest: str

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)


@dataclass(frozen=True)
class LintIssue:
    file: str
    line: int
    key: str
    zh: str
    en: str
    rule_id: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        rid = f" [{self.rule_id}]" if self.rule_id else ""
        return f"{where}{rid} {self.key}: {self.zh} / {self.en}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class LintReport:
    root: str
    files: list[str] = field(default_factory=list)
    issues: list[LintIssue] = field(default_factory=list)
    pack: RulePack | None = None
    #: What does not stop the pack from running but should be said (see ``_warnings``).
    warnings: list[LintIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.issues

    def to_dict(self, label: str | None = None) -> dict[str, Any]:
        """The report as plain data (``rules lint --json``, the console). ``label`` names
        the pack instead of its folder (an upload's name, not a temporary path), in the
        root and in problems of the folder itself."""
        issues = [i.to_dict() for i in self.issues]
        if label is not None:
            for issue in issues:
                if issue["file"] == self.root:
                    issue["file"] = label
        return {
            "root": label or self.root,
            "ok": self.ok,
            "files": self.files,
            "rules": len(self.pack.rules) if self.pack else None,
            "digest": self.pack.digest if self.pack else None,
            "issues": issues,
            "warnings": [w.to_dict() for w in self.warnings],
        }


class PackError(RuleError):
    """The pack has errors; ``issues`` lists them all."""

    def __init__(self, issues: list[LintIssue]) -> None:
        first = str(issues[0]) if issues else ""
        super().__init__(
            f"规则包有 {len(issues)} 个错误，第一个：{first}",
            f"the rule pack has {len(issues)} error(s); first: {first}",
        )
        self.issues = issues
        self.details = [str(i) for i in issues]


def default_rules_dir() -> Path:
    """The shipped pack (``supervision.paths.rules_dir()``)."""
    try:
        return paths.rules_dir()
    except FileNotFoundError as exc:
        raise RuleError(
            "找不到随包提供的规则目录 rules/", "the shipped rules/ folder is missing"
        ) from exc


def _rule_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def _issue(rel: str, located: Located, problem: SpecProblem, rule_id: str | None) -> LintIssue:
    path, zh, en = problem
    return LintIssue(rel, located.line_of(path), path_str(path), zh, en, rule_id)


def _compile_when(raw: dict[str, Any], path: Path_) -> tuple[dict[str, Any], list[SpecProblem]]:
    """Substitute the parameters into ``when``, check it, and compile it for real."""
    params = raw.get("params") or {}
    if not isinstance(params, dict):
        params = {}
    problems: list[CompileProblem] = []
    substituted = substitute_params(raw["when"], params, (*path, "when"), problems)
    condition, more = compile_condition(substituted, (*path, "when"))
    out: list[SpecProblem] = [(p.path, p.zh, p.en) for p in problems + more]
    if not out:
        rid = raw.get("id")
        failure = engine_compile({rid if isinstance(rid, str) and rid else "rule": condition})
        if failure:
            out.append(
                (
                    (*path, "when"),
                    f"durable-rules 无法编译该条件：{failure}",
                    f"durable-rules cannot compile this condition: {failure}",
                )
            )
    return condition, out


def _rule(
    spec: RuleSpec,
    raw: dict[str, Any],
    condition: dict[str, Any],
    path: Path_,
    rel: str,
    where: Located,
) -> Rule:
    """The loaded rule: the validated values, and the examples' facts as the engine sees them."""
    examples = tuple(
        Example(
            name=example.name,
            facts=tuple(example_facts(raw["examples"][j].get("facts"))),
            expect=None
            if example.expect is None
            else tuple(tuple(sorted(str(m) for m in f.matched)) for f in example.expect),
            line=where.line_of((*path, "examples", j)),
            explains=tuple(
                None if f.explain is None else {"zh": f.explain.zh, "en": f.explain.en}
                for f in example.expect or ()
            ),
        )
        for j, example in enumerate(spec.examples)
    )
    return Rule(
        id=spec.id,
        version=spec.version,
        title_zh=spec.title.zh,
        title_en=spec.title.en,
        legal_basis=tuple(LegalBasis(b.law, b.article) for b in spec.legal_basis),
        department=spec.department,
        severity=spec.severity,
        result_code=spec.result_code,
        effective_from=spec.effective_from,
        effective_to=spec.effective_to,
        params=dict(spec.params),
        on_confirm={k: bool(v) for k, v in (raw.get("on_confirm") or {}).items()},
        when=dict(raw["when"]),
        condition=condition,
        examples=examples,
        file=rel,
        line=where.line_of(path),
        description=str(raw.get("description") or ""),
        basis_note=str(raw.get("basis_note") or "").strip(),
        explain_zh=spec.explain.zh if spec.explain else "",
        explain_en=spec.explain.en if spec.explain else "",
    )


def _explain_problems(raw: dict[str, Any], path: Path_) -> list[SpecProblem]:
    """Each explain template must parse and read only aliases, parameters and fields
    that the rule's examples give (``supervision.rules.explain.template_problems``)."""
    explain = raw.get("explain")
    if not isinstance(explain, dict):
        return []
    examples: list[Any] = raw["examples"] if isinstance(raw.get("examples"), list) else []
    facts = [
        fact
        for example in examples
        if isinstance(example, dict)
        for fact in example_facts(example.get("facts"))
    ]
    params: dict[str, Any] = raw["params"] if isinstance(raw.get("params"), dict) else {}
    out: list[SpecProblem] = []
    for lang in LANGS:
        if lang not in explain:
            continue  # the schema says it is missing
        for zh, en in template_problems(
            explain[lang], when=raw.get("when"), params=params, example_facts=facts
        ):
            out.append(((*path, "explain", lang), zh, en))
    return out


def _lint_file(root: Path, file: Path) -> tuple[list[Rule], list[LintIssue], Any]:
    rel = file.relative_to(root).as_posix()
    try:
        located = load_located(file.read_text(encoding="utf-8"))
    except YamlRefused as exc:
        return [], [LintIssue(rel, exc.line, "", exc.zh, exc.en)], None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        return (
            [],
            [
                LintIssue(
                    rel,
                    line,
                    "",
                    f"YAML 语法错误：{exc.problem}",
                    f"YAML syntax error: {exc.problem}",
                )
            ],
            None,
        )
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
        return (
            [],
            [LintIssue(rel, 1, "", f"无法读取文件：{exc}", f"cannot read the file: {exc}")],
            None,
        )
    issues = [LintIssue(rel, p.line, p.key, p.zh, p.en) for p in located.problems]
    data = located.value
    issues += [_issue(rel, located, p, None) for p in file_problems(data)]
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        return [], issues, data
    rules: list[Rule] = []
    rule_id: str | None = None  # a rule that is not a mapping keeps the one before's
    for i, raw in enumerate(data["rules"]):
        path: Path_ = ("rules", i)
        spec, problems = rule_problems(raw, path)
        condition: dict[str, Any] = {}
        if isinstance(raw, dict):
            rule_id = raw["id"] if isinstance(raw.get("id"), str) else None
            if "when" in raw:
                condition, more = _compile_when(raw, path)
                problems += more
            problems += _explain_problems(raw, path)
        issues += [_issue(rel, located, p, rule_id) for p in problems]
        if spec is not None and not problems:
            assert isinstance(raw, dict)
            rules.append(_rule(spec, raw, condition, path, rel, located))
    return rules, issues, data


#: Facts whose rules differ by kind of entity (年报 and 经营异常名录: 个体工商户 are marked
#: 经营异常状态 instead, and never moved to the 严重违法失信名单 by the three-year rule).
_REGIME_FACTS = ("annual_report", "abnormal")


def _warnings(rel: str, data: Any) -> list[LintIssue]:
    """A warning for each rule without an ``explain`` template, and for each rule that
    reads annual-report or abnormal-list facts in a file that does not say which entity
    types it covers (``entity_types:``)."""
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        return []
    says_types = bool(data.get("entity_types"))
    out = []
    for raw in data["rules"]:
        if not isinstance(raw, dict):
            continue
        if "explain" not in raw:
            out.append(
                LintIssue(
                    rel,
                    1,
                    "explain",
                    "规则没有 explain 说明模板：复核人员只能看到规则名称和原始事实",
                    "the rule has no explain template: reviewers see only its title and raw facts",
                    raw.get("id") if isinstance(raw.get("id"), str) else None,
                )
            )
        when = json.dumps(raw.get("when"), ensure_ascii=False, default=str)
        read = [f for f in _REGIME_FACTS if f in when]
        if read and not says_types:
            out.append(
                LintIssue(
                    rel,
                    1,
                    "entity_types",
                    f"规则读取{'、'.join(read)}事实，但文件没有写明适用的主体类型（entity_types）："
                    "个体工商户适用不同的制度",
                    f"the rule reads {', '.join(read)} facts but the file does not say which "
                    "entity types it covers (entity_types): 个体工商户 have a different regime",
                    raw.get("id") if isinstance(raw.get("id"), str) else None,
                )
            )
    return out


def lint_pack(root: str | Path | None = None) -> LintReport:
    """Check every rule file under ``root`` (default: the shipped pack)."""
    base = Path(root) if root is not None else default_rules_dir()
    report = LintReport(root=str(base))
    if not base.is_dir():
        report.issues.append(
            LintIssue(str(base), 0, "", "规则目录不存在", "the rules directory does not exist")
        )
        return report
    files = _rule_files(base)
    if not files:
        report.issues.append(
            LintIssue(
                str(base),
                0,
                "",
                "目录中没有规则文件（*.yaml）",
                "no rule files (*.yaml) in the directory",
            )
        )
    rules: list[Rule] = []
    digest = hashlib.sha256()
    seen: dict[str, Rule] = {}
    for file in files:
        file_rules, issues, data = _lint_file(base, file)
        rel = file.relative_to(base).as_posix()
        report.files.append(rel)
        report.issues += issues
        report.warnings += _warnings(rel, data)
        for rule in file_rules:
            first = seen.get(rule.id)
            if first is not None:
                report.issues.append(
                    LintIssue(
                        rel,
                        rule.line,
                        "id",
                        f"重复的规则 id {rule.id!r}（已在 {first.file}:{first.line} 定义）",
                        f"duplicate rule id {rule.id!r} (first defined at {first.file}:{first.line})",
                        rule.id,
                    )
                )
                continue
            seen[rule.id] = rule
            rules.append(rule)
        # Canonical content: path + parsed data as sorted JSON, so comments and
        # formatting do not change the digest but any value does.
        digest.update(rel.encode() + b"\0")
        digest.update(json.dumps(plain(data), sort_keys=True, ensure_ascii=False).encode())
        digest.update(b"\0")
    report.issues.sort(key=lambda i: (i.file, i.line, i.key))
    if not report.issues:
        report.pack = RulePack(root=str(base), rules=tuple(rules), digest=digest.hexdigest())
    return report


def load_pack(root: str | Path | None = None) -> RulePack:
    """Load and check a pack; raises ``PackError`` listing every problem."""
    report = lint_pack(root)
    if report.pack is None:
        raise PackError(report.issues)
    return report.pack


@functools.lru_cache(maxsize=8)
def _pack_as_of(root: Path, files: tuple[tuple[str, int, int], ...]) -> RulePack:
    return load_pack(root)


#: When each rules folder's files were last listed, and what they were (``current_pack``).
_LISTED: dict[tuple[str | None, float], tuple[float, Path, tuple[tuple[str, int, int], ...]]] = {}


def current_pack(root: str | Path | None = None, *, recheck_after: float = 0.0) -> RulePack:
    """``load_pack``, kept while no rule file under ``root`` changes (name, size, mtime):
    pages that explain findings load and compile the pack once, not per request.

    ``recheck_after`` (seconds): a caller that only shows explanations may take the files'
    listing of that long ago (the review queue: listing and stating every rule file was a
    tenth of the page's cost); decisions always look again."""
    key = (None if root is None else str(root), recheck_after)
    now = time.monotonic()
    listed = _LISTED.get(key) if recheck_after > 0 else None
    if listed is not None and now - listed[0] < recheck_after:
        return _pack_as_of(listed[1], listed[2])
    base = (Path(root) if root is not None else default_rules_dir()).resolve()
    if not base.is_dir():
        return load_pack(base)  # the error says the folder is missing
    files = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in _rule_files(base))
    pack = _pack_as_of(base, files)  # raises for a broken pack: nothing remembered then
    if recheck_after > 0:
        if len(_LISTED) > 32:
            _LISTED.clear()
        _LISTED[key] = (now, base, files)
    return pack

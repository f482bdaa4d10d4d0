"""Rule packs: a directory of YAML rule files, loaded, checked and digested.

A rule file holds ``rules:``, a list of rules (schema in ``docs`` of the shipped
pack: ``rules/README.md``). ``lint_pack`` reports every problem with file, line and
key; ``load_pack`` returns a ``RulePack`` or raises ``PackError`` listing them.
The pack is plain frozen dataclasses: it pickles, so worker processes can each
build their own engine from it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from supervision import paths
from supervision.rules.compiler import compile_condition, engine_compile, substitute_params
from supervision.rules.errors import RuleError
from supervision.rules.yamlsrc import Located, Path_, load_located, path_str

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
    "default_rules_dir",
    "lint_pack",
    "load_pack",
]

#: Official result codes a finding can support (see domain.md, "Results").
RESULT_CODES = frozenset(
    ["1", "A", "B", "C", "6", "D", "3", "4", "5", "E", "F", "7", "8", "9", "10", "11", "12"]
)
SEVERITIES = ("low", "medium", "high", "critical")
#: What a confirmed finding may trigger; all flags, all optional.
ON_CONFIRM_KEYS = frozenset(
    {
        "raise_risk_class",
        "mark_for_targeted_draw",
        "add_to_abnormal_list",
        "add_to_serious_violation_list",
        "notify_entity",
        "order_rectification",
        "transfer_to_case_handling",
        "notify_department",
    }
)
RULE_KEYS_REQUIRED = (
    "id",
    "version",
    "title",
    "legal_basis",
    "department",
    "severity",
    "result_code",
    "effective_from",
    "when",
    "examples",
)
RULE_KEYS_OPTIONAL = ("effective_to", "params", "on_confirm", "description")
FILE_KEYS = frozenset({"rules"})
EXAMPLE_KEYS = frozenset({"name", "facts", "expect"})
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


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


def _canonical(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


class _Checker:
    """Collects issues for one file while validating its rules."""

    def __init__(self, rel: str, located: Located) -> None:
        self.rel = rel
        self.located = located
        self.issues: list[LintIssue] = []
        self.rule_id: str | None = None

    def add(self, path: Path_, zh: str, en: str, line: int | None = None) -> None:
        self.issues.append(
            LintIssue(
                self.rel,
                line if line is not None else self.located.line_of(path),
                path_str(path),
                zh,
                en,
                self.rule_id,
            )
        )

    def text(self, obj: dict[str, Any], key: str, path: Path_) -> str:
        value = obj.get(key)
        if not isinstance(value, str) or not value.strip():
            self.add((*path, key), f"{key} 必须是非空文本", f"{key} must be non-empty text")
            return ""
        return value.strip()

    def date(self, obj: dict[str, Any], key: str, path: Path_, required: bool) -> dt.date | None:
        value = obj.get(key)
        if value is None and not required:
            return None
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            self.add(
                (*path, key),
                f"{key} 必须是 YYYY-MM-DD 格式的有效日期，而不是 {value!r}",
                f"{key} must be a valid YYYY-MM-DD date, not {value!r}",
            )
            return None
        return value


def _check_rule(ck: _Checker, raw: Any, path: Path_) -> Rule | None:
    if not isinstance(raw, dict):
        ck.add(path, "每条规则必须是映射", "each rule must be a mapping")
        return None
    rid = raw.get("id")
    ck.rule_id = rid if isinstance(rid, str) else None
    before = len(ck.issues)
    for key in raw:
        if key not in RULE_KEYS_REQUIRED and key not in RULE_KEYS_OPTIONAL:
            ck.add(
                (*path, key),
                f"未知的键 {key!r}",
                f"unknown key {key!r} (allowed: {', '.join(RULE_KEYS_REQUIRED + RULE_KEYS_OPTIONAL)})",
            )
    for key in RULE_KEYS_REQUIRED:
        if key not in raw:
            zh, en = f"缺少必填键 {key}", f"missing required key {key}"
            if key == "legal_basis":
                zh, en = (
                    "缺少法律依据 legal_basis（法规名称和条款）",
                    "missing legal_basis (law and article)",
                )
            ck.add(path, zh, en)

    if not isinstance(rid, str) or not _ID.match(rid):
        if "id" in raw:
            ck.add(
                (*path, "id"), "id 只能含小写字母、数字、_ . -", "id may only hold a-z 0-9 _ . -"
            )
        rid = ""
    version = raw.get("version")
    if "version" in raw and (
        isinstance(version, bool) or not isinstance(version, int) or version < 1
    ):
        ck.add((*path, "version"), "version 必须是正整数", "version must be a positive integer")

    title = raw.get("title")
    title_zh = title_en = ""
    if isinstance(title, dict):
        for key in title:
            if key not in ("zh", "en"):
                ck.add(
                    (*path, "title", key),
                    f"未知的键 {key!r}",
                    f"unknown key {key!r} (allowed: zh, en)",
                )
        title_zh = ck.text(title, "zh", (*path, "title"))
        title_en = ck.text(title, "en", (*path, "title"))
    elif "title" in raw:
        ck.add((*path, "title"), "title 需要 zh 和 en", "title needs zh and en")

    bases: list[LegalBasis] = []
    lb = raw.get("legal_basis")
    if "legal_basis" in raw:
        if not isinstance(lb, list) or not lb:
            ck.add(
                (*path, "legal_basis"),
                "legal_basis 必须是非空列表",
                "legal_basis must be a non-empty list",
            )
        else:
            for i, item in enumerate(lb):
                here = (*path, "legal_basis", i)
                if not isinstance(item, dict):
                    ck.add(
                        here,
                        "每项法律依据需要 law 和 article",
                        "each legal basis needs law and article",
                    )
                    continue
                for key in item:
                    if key not in ("law", "article"):
                        ck.add(
                            (*here, key),
                            f"未知的键 {key!r}",
                            f"unknown key {key!r} (allowed: law, article)",
                        )
                bases.append(LegalBasis(ck.text(item, "law", here), ck.text(item, "article", here)))

    department = ck.text(raw, "department", path) if "department" in raw else ""
    severity = raw.get("severity")
    if "severity" in raw and severity not in SEVERITIES:
        ck.add(
            (*path, "severity"),
            f"severity 必须是 {'/'.join(SEVERITIES)} 之一",
            f"severity must be one of {', '.join(SEVERITIES)}",
        )
    result_code = str(raw.get("result_code"))
    if "result_code" in raw and (
        isinstance(raw["result_code"], bool) or result_code not in RESULT_CODES
    ):
        ck.add(
            (*path, "result_code"),
            f"结果代码 {raw.get('result_code')!r} 不是官方代码（{', '.join(sorted(RESULT_CODES))}）",
            f"result code {raw.get('result_code')!r} is not an official code",
        )
    eff_from = ck.date(raw, "effective_from", path, required="effective_from" in raw)
    eff_to = ck.date(raw, "effective_to", path, required=False)
    if eff_from and eff_to and eff_to < eff_from:
        ck.add(
            (*path, "effective_to"),
            "effective_to 早于 effective_from",
            "effective_to is before effective_from",
        )

    params = raw.get("params") or {}
    if not isinstance(params, dict):
        ck.add((*path, "params"), "params 必须是映射", "params must be a mapping")
        params = {}
    for name, value in params.items():
        if not isinstance(value, (str, int, float, bool)):
            ck.add(
                (*path, "params", name), "参数值必须是标量", "a parameter value must be a scalar"
            )

    on_confirm = raw.get("on_confirm") or {}
    if not isinstance(on_confirm, dict):
        ck.add((*path, "on_confirm"), "on_confirm 必须是映射", "on_confirm must be a mapping")
        on_confirm = {}
    for key, value in on_confirm.items():
        if key not in ON_CONFIRM_KEYS:
            ck.add(
                (*path, "on_confirm", key),
                f"on_confirm 中未知的键 {key!r}",
                f"unknown key {key!r} in on_confirm (allowed: {', '.join(sorted(ON_CONFIRM_KEYS))})",
            )
        elif not isinstance(value, bool):
            ck.add(
                (*path, "on_confirm", key),
                "on_confirm 的值必须是 true/false",
                "on_confirm values must be true/false",
            )

    condition: dict[str, Any] = {}
    when = raw.get("when")
    if "when" in raw:
        problems: list[Any] = []
        substituted = substitute_params(when, params, (*path, "when"), problems)
        condition, more = compile_condition(substituted, (*path, "when"))
        for p in problems + more:
            ck.add(p.path, p.zh, p.en)
        if not problems and not more:
            failure = engine_compile({rid or "rule": condition})
            if failure:
                ck.add(
                    (*path, "when"),
                    f"durable-rules 无法编译该条件：{failure}",
                    f"durable-rules cannot compile this condition: {failure}",
                )

    examples = _check_examples(ck, raw.get("examples"), (*path, "examples"), "examples" in raw)

    if len(ck.issues) > before:
        return None
    assert eff_from is not None
    return Rule(
        id=rid,
        version=int(version),  # type: ignore[arg-type]
        title_zh=title_zh,
        title_en=title_en,
        legal_basis=tuple(bases),
        department=department,
        severity=str(severity),
        result_code=result_code,
        effective_from=eff_from,
        effective_to=eff_to,
        params=dict(params),
        on_confirm={k: bool(v) for k, v in on_confirm.items()},
        when=dict(when),  # type: ignore[arg-type]
        condition=condition,
        examples=examples,
        file=ck.rel,
        line=ck.located.line_of(path),
        description=str(raw.get("description") or ""),
    )


def _check_examples(ck: _Checker, raw: Any, path: Path_, present: bool) -> tuple[Example, ...]:
    if not present:
        return ()
    if not isinstance(raw, list) or not raw:
        ck.add(path, "examples 必须是非空列表", "examples must be a non-empty list")
        return ()
    out: list[Example] = []
    fires = silent = False
    for i, item in enumerate(raw):
        here = (*path, i)
        if not isinstance(item, dict):
            ck.add(here, "每个示例必须是映射", "each example must be a mapping")
            continue
        for key in item:
            if key not in EXAMPLE_KEYS:
                ck.add(
                    (*here, key),
                    f"未知的键 {key!r}",
                    f"unknown key {key!r} (allowed: name, facts, expect)",
                )
        name = ck.text(item, "name", here)
        facts = item.get("facts")
        if not isinstance(facts, list) or not all(isinstance(f, dict) for f in facts):
            ck.add(
                (*here, "facts"),
                "facts 必须是事实（映射）的列表",
                "facts must be a list of facts (mappings)",
            )
            facts = []
        ids: list[str] = []
        clean_facts: list[dict[str, Any]] = []
        for j, fact in enumerate(facts):
            fact = _canonical(fact)
            fact.setdefault("id", f"example-fact-{j}")
            if "t" not in fact:
                ck.add(
                    (*here, "facts", j), "每个事实需要类型字段 t", "each fact needs a type field t"
                )
            ids.append(str(fact["id"]))
            clean_facts.append(fact)
        if len(set(ids)) != len(ids):
            ck.add((*here, "facts"), "事实的 id 重复", "duplicate fact ids")
        expect_raw = item.get("expect")
        expect: tuple[tuple[str, ...], ...] | None = None
        if expect_raw == "none":
            silent = True
        elif isinstance(expect_raw, list) and expect_raw:
            groups = []
            for k, finding in enumerate(expect_raw):
                matched = finding.get("matched") if isinstance(finding, dict) else None
                if (
                    not isinstance(finding, dict)
                    or set(finding) != {"matched"}
                    or not isinstance(matched, list)
                    or not all(str(m) in ids for m in matched)
                ):
                    ck.add(
                        (*here, "expect", k),
                        "预期结果应写成 {matched: [本示例中事实的 id, ...]}",
                        "an expected finding is {matched: [ids of facts of this example, ...]}",
                    )
                    continue
                groups.append(tuple(sorted(str(m) for m in matched)))
            expect = tuple(groups)
            fires = True
        else:
            ck.add(
                (*here, "expect"),
                'expect 必须是 "none" 或预期结果的列表',
                'expect must be "none" or a list of expected findings',
            )
        out.append(Example(name, tuple(clean_facts), expect, ck.located.line_of(here)))
    if out and not fires:
        ck.add(path, "缺少会触发规则的示例", "no example where the rule fires")
    if out and not silent:
        ck.add(path, "缺少规则不触发的示例", "no example where the rule stays silent")
    return tuple(out)


def _lint_file(root: Path, file: Path) -> tuple[list[Rule], list[LintIssue], Any]:
    rel = file.relative_to(root).as_posix()
    try:
        located = load_located(file.read_text(encoding="utf-8"))
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
    ck = _Checker(rel, located)
    for p in located.problems:
        ck.issues.append(LintIssue(rel, p.line, p.key, p.zh, p.en))
    data = located.value
    rules: list[Rule] = []
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        ck.add((), "文件顶层需要 rules: 规则列表", "the file needs a top-level rules: list")
        return rules, ck.issues, data
    for key in data:
        if key not in FILE_KEYS:
            ck.add(
                (key,), f"未知的顶层键 {key!r}", f"unknown top-level key {key!r} (allowed: rules)"
            )
    for i, raw in enumerate(data["rules"]):
        rule = _check_rule(ck, raw, ("rules", i))
        if rule is not None:
            rules.append(rule)
    return rules, ck.issues, data


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
        digest.update(json.dumps(_canonical(data), sort_keys=True, ensure_ascii=False).encode())
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

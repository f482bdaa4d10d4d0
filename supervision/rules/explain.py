"""A finding explained in words: each rule's ``explain`` template over the facts it matched.

A rule writes ``explain: {zh: ..., en: ...}``, two Jinja templates rendered in a
sandboxed, autoescaping environment with strict undefined values: no attribute of a
Python object, no import, no call but the built-in filters and tests. What a template
can read:

- ``<alias>``: the first fact the rule matched under that alias in its ``when``
  (``e.abnormal_since``, ``r.year``); its ``id`` and ``t`` too;
- ``matched.<alias>``: every fact matched under that alias, by id (a rule that fired
  several times for one entity is one finding: ``matched.r | map(attribute="year")``);
- ``params.<name>``: the rule's parameters.

``template_problems`` is what ``rules lint`` says about a template: it must parse, and
every field it reads must be an alias of the rule, a parameter, or a field that the
rule's examples give a fact of that alias's type. ``rules test`` renders the template
for every example where the rule fires (and compares the text when the example writes
the ``explain`` it expects).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

__all__ = [
    "LANGS",
    "ExplainError",
    "aliases_of",
    "explain_context",
    "render_explain",
    "render_in_context",
    "template_problems",
]

LANGS = ("zh", "en")
#: durable-rules gives the facts of a ``count`` rule over one pattern without their alias.
_BARE_ALIAS = "m"

_ENV = ImmutableSandboxedEnvironment(
    autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True
)
#: Filters whose ``attribute=`` (or first argument) names a field of the listed facts.
_ATTRIBUTE_FILTERS = frozenset({"map", "sum", "max", "min", "sort", "unique", "groupby"})
_ATTR_TESTS = frozenset({"selectattr", "rejectattr"})


class ExplainError(Exception):
    """A template that cannot be rendered over these facts (zh, en)."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en


def _types_in(pattern: Any) -> set[str]:
    """The fact types (``t: X``) a pattern of ``when`` asks for, anywhere in it."""
    found: set[str] = set()
    if isinstance(pattern, Mapping):
        for key, value in pattern.items():
            if key == "t" and isinstance(value, str):
                found.add(value)
            else:
                found |= _types_in(value)
    elif isinstance(pattern, list):
        for item in pattern:
            found |= _types_in(item)
    return found


def aliases_of(when: Any) -> dict[str, set[str]]:
    """The aliases of a rule's ``when`` (``all:``/``any:`` items) and the fact types each
    asks for (empty: any type)."""
    out: dict[str, set[str]] = {}
    if not isinstance(when, Mapping):
        return out
    for key in ("all", "any"):
        for item in when.get(key) or []:
            if isinstance(item, Mapping):
                for alias, pattern in item.items():
                    out.setdefault(str(alias), set()).update(_types_in(pattern))
    return out


def _fact_values(fact: Mapping[str, Any]) -> dict[str, Any]:
    """A matched fact as a template reads it: its values, id and type."""
    values = dict(fact.get("values") or {})
    values["id"] = fact.get("id")
    values["t"] = fact.get("t")
    return values


def explain_context(
    when: Any,
    params: Mapping[str, Any],
    matched: Iterable[Mapping[str, Any]],
    aliases: Sequence[str] | None = None,
) -> dict[str, Any]:
    """What a template sees: each alias's first fact, ``matched`` and ``params``.

    ``matched`` is the finding's facts as stored (``{"alias", "id", "t", "values"}``);
    ``aliases`` is ``list(aliases_of(when))`` when the caller has it already.
    """
    aliases = list(aliases_of(when)) if aliases is None else list(aliases)
    by_alias: dict[str, list[dict[str, Any]]] = {a: [] for a in aliases}
    for fact in sorted(matched, key=lambda f: str(f.get("id"))):
        alias = str(fact.get("alias"))
        if alias not in by_alias and alias == _BARE_ALIAS and len(aliases) == 1:
            alias = aliases[0]
        by_alias.setdefault(alias, []).append(_fact_values(fact))
    context: dict[str, Any] = {a: facts[0] for a, facts in by_alias.items() if facts}
    context["matched"] = by_alias
    context["params"] = dict(params)
    return context


@functools.lru_cache(maxsize=1024)
def _compiled(template: str) -> Template:
    """A template compiled once: a queue page renders two explanations per row, and
    compiling costs far more than rendering."""
    return _ENV.from_string(template)


def render_explain(
    template: str, when: Any, params: Mapping[str, Any], matched: Iterable[Mapping[str, Any]]
) -> Markup:
    """The explanation as escaped HTML (``str(...)``); ``.unescape()`` gives plain text.

    Raises ``ExplainError`` when the template reads what these facts do not have.
    """
    return render_in_context(template, explain_context(when, params, matched))


def render_in_context(template: str, context: Mapping[str, Any]) -> Markup:
    """``render_explain`` over a context ``explain_context`` made: a rule's two languages
    read the same facts, so they share one context."""
    try:
        compiled = _compiled(template)
        return Markup(compiled.render(context).strip())
    except SecurityError as exc:
        raise ExplainError(
            f"说明模板访问了不允许的内容：{exc}", f"the explain template reached for {exc}"
        ) from None
    except TemplateError as exc:
        raise ExplainError(
            f"说明模板无法生成：{exc}", f"the explain template cannot be rendered: {exc}"
        ) from None


def _read_fields(tree: nodes.Template) -> tuple[set[str], set[tuple[str, str]], set[str]]:
    """Names the template reads; (alias, field) pairs; fields read through
    ``matched.<alias>`` with an attribute filter (alias-less: any of them)."""
    names = {n.name for n in tree.find_all(nodes.Name) if n.ctx == "load"}
    assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    pairs: set[tuple[str, str]] = set()
    for node in tree.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name):
            pairs.add((node.node.name, node.attr))
    for item in tree.find_all(nodes.Getitem):
        if isinstance(item.node, nodes.Name) and isinstance(item.arg, nodes.Const):
            pairs.add((item.node.name, str(item.arg.value)))
    attributes: set[str] = set()
    for flt in tree.find_all(nodes.Filter):
        if flt.name in _ATTRIBUTE_FILTERS:
            for kw in flt.kwargs:
                if kw.key == "attribute" and isinstance(kw.value, nodes.Const):
                    attributes.add(str(kw.value.value))
        if flt.name in _ATTR_TESTS and flt.args and isinstance(flt.args[0], nodes.Const):
            attributes.add(str(flt.args[0].value))
    return names - assigned, pairs, attributes


def template_problems(
    template: Any,
    *,
    when: Any,
    params: Mapping[str, Any],
    example_facts: Iterable[Mapping[str, Any]],
) -> list[tuple[str, str]]:
    """(zh, en) for each problem of one explain template: syntax, and every placeholder
    that is not an alias, a parameter or a field the examples' facts give."""
    if not isinstance(template, str) or not template.strip():
        return [("说明模板必须是非空文本", "an explain template must be non-empty text")]
    try:
        tree = _ENV.parse(template)
    except TemplateSyntaxError as exc:
        return [
            (
                f"说明模板语法错误（第 {exc.lineno} 行）：{exc.message}",
                f"explain template syntax error (line {exc.lineno}): {exc.message}",
            )
        ]
    aliases = aliases_of(when)
    facts = list(example_facts)

    def fields_of(types: set[str]) -> set[str]:
        return {
            str(k) for f in facts if not types or f.get("t") in types for k in f if k != "uscc"
        } | {"id", "t", "uscc"}

    every_field = fields_of(set())
    names, pairs, attributes = _read_fields(tree)
    out: list[tuple[str, str]] = []
    for name in sorted(names - set(aliases) - {"matched", "params"}):
        out.append(
            (
                f"说明模板中的 {name} 不是本规则的别名（{'、'.join(aliases)}）、matched 或 params",
                f"{name} in the explain template is not an alias of this rule "
                f"({', '.join(aliases)}), matched or params",
            )
        )
    for owner, field in sorted(pairs):
        if owner == "matched" and field not in aliases:
            out.append(
                (f"matched.{field}：本规则没有别名 {field}", f"matched.{field}: no alias {field}")
            )
        elif owner == "params" and field not in params:
            out.append(
                (
                    f"params.{field}：本规则没有该参数",
                    f"params.{field}: the rule has no such parameter",
                )
            )
        elif owner in aliases and field not in fields_of(aliases[owner]):
            out.append(
                (
                    f"{owner}.{field}：规则示例中 {owner} 的事实没有字段 {field}",
                    f"{owner}.{field}: no example fact of {owner} has a field {field}",
                )
            )
    for field in sorted(attributes - every_field):
        out.append(
            (
                f"说明模板读取的字段 {field} 不在规则示例的事实中",
                f"the explain template reads {field}, a field no example fact has",
            )
        )
    return out

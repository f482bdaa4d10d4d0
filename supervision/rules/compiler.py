"""Compile a rule's ``when`` (durable-rules' JSON ruleset form, written as YAML).

Three steps, each reporting the exact place of a problem:

1. ``${params.X}`` substitution (a value that is exactly ``${params.X}`` takes the
   parameter's type, e.g. an integer threshold; inside longer text it is formatted);
2. a structural check against the operators durable-rules 2.0 really has (there is
   no ``$in``: use ``$or``; no ``$t`` timers, which never fire in 2.x);
3. a real compile by the durable-rules C engine (``create_ruleset``), so that
   whatever step 2 misses is still caught before a check run.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from typing import Any

import durable_rules_engine

from supervision.rules.yamlsrc import Path_

__all__ = ["CompileProblem", "compile_condition", "engine_compile", "substitute_params"]

_PARAM = re.compile(r"\$\{params\.([A-Za-z_][A-Za-z0-9_]*)\}")

RULE_KEYS = frozenset({"all", "any", "pri", "count", "cap", "dist"})
LOGICAL = frozenset({"$and", "$or"})
COMPARISON = frozenset(
    {"$lt", "$lte", "$gt", "$gte", "$neq", "$eq", "$ex", "$nex", "$mt", "$imt", "$iall", "$iany"}
)
ARITHMETIC = frozenset({"$add", "$sub", "$mul", "$div"})
OPERANDS = frozenset({"$l", "$r"})
#: The suggestion printed for an operator that looks like one from another engine.
HINTS = {
    "$in": "用 $or 列出各个取值 / use $or over the values",
    "$nin": "用 $and + $neq / use $and with $neq",
    "$not": "用 $neq 或 $nex / use $neq or $nex",
    "$t": "durable-rules 2.x 的 $t 定时器不会触发 / $t timers never fire in durable-rules 2.x",
}

_compile_counter = itertools.count()


@dataclass
class CompileProblem:
    path: Path_
    zh: str
    en: str


def substitute_params(
    value: Any, params: dict[str, Any], path: Path_, problems: list[CompileProblem]
) -> Any:
    """Replace ``${params.X}`` everywhere in ``value`` (keys are left alone)."""
    if isinstance(value, dict):
        return {k: substitute_params(v, params, (*path, k), problems) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute_params(v, params, (*path, i), problems) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value
    for name in _PARAM.findall(value):
        if name not in params:
            problems.append(
                CompileProblem(
                    path, f"未定义的参数 params.{name}", f"undefined parameter params.{name}"
                )
            )
    whole = _PARAM.fullmatch(value)
    if whole:
        return params.get(whole.group(1), value)
    if "${" in _PARAM.sub("", value):
        problems.append(
            CompileProblem(
                path,
                f"无法识别的占位符 {value!r}（应为 ${{params.名称}}）",
                f"placeholder {value!r} not understood (expected ${{params.name}})",
            )
        )
    return _PARAM.sub(lambda m: str(params.get(m.group(1), m.group(0))), value)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool)) or value is None


def _check_value(value: Any, aliases: set[str], path: Path_, out: list[CompileProblem]) -> None:
    """A comparison value: scalar, reference ``{alias: field}`` or arithmetic."""
    if _is_scalar(value):
        return
    if isinstance(value, dict) and len(value) == 1:
        ((key, inner),) = value.items()
        if key in ARITHMETIC:
            if not isinstance(inner, dict) or set(inner) - OPERANDS or not inner:
                out.append(
                    CompileProblem(
                        (*path, key),
                        f"{key} 需要 $l 和 $r 两个操作数",
                        f"{key} takes the operands $l and $r",
                    )
                )
                return
            for side, operand in inner.items():
                _check_value(operand, aliases, (*path, key, side), out)
            return
        if key in ("$m", "$s") and isinstance(inner, str):
            return
        if not key.startswith("$"):
            if key not in aliases:
                out.append(
                    CompileProblem(
                        (*path, key),
                        f"引用了未定义的别名 {key!r}（只能引用本规则中在前面出现的别名）",
                        f"reference to unknown alias {key!r} (only aliases declared earlier in the rule)",
                    )
                )
            elif not isinstance(inner, str):
                out.append(
                    CompileProblem(
                        (*path, key),
                        "引用的字段名必须是字符串",
                        "a referenced field name must be a string",
                    )
                )
            return
    out.append(
        CompileProblem(
            path,
            "比较值必须是标量、{别名: 字段} 引用或算术表达式（durable-rules 不支持列表）",
            "a comparison value must be a scalar, an {alias: field} reference or arithmetic "
            "(durable-rules has no list values)",
        )
    )


def _unknown_operator(op: str, path: Path_, out: list[CompileProblem]) -> None:
    hint = HINTS.get(op)
    zh = f"durable-rules 没有运算符 {op}"
    en = f"durable-rules has no operator {op}"
    if hint:
        zh_hint, en_hint = hint.split(" / ")
        zh, en = f"{zh}：{zh_hint}", f"{en}: {en_hint}"
    out.append(CompileProblem(path, zh, en))


def _check_expression(expr: Any, aliases: set[str], path: Path_, out: list[CompileProblem]) -> None:
    """A pattern over one message: ``{field: value}``, ``{$op: {field: value}}``, ``$and/$or``."""
    if not isinstance(expr, dict) or not expr:
        out.append(
            CompileProblem(path, "条件必须是非空映射", "a condition must be a non-empty mapping")
        )
        return
    for key, value in expr.items():
        here = (*path, key)
        if key in LOGICAL:
            if not isinstance(value, list) or not value:
                out.append(
                    CompileProblem(here, f"{key} 需要非空列表", f"{key} needs a non-empty list")
                )
                continue
            for i, item in enumerate(value):
                _check_expression(item, aliases, (*here, i), out)
        elif key in ("$ex", "$nex"):
            if not isinstance(value, dict) or not value:
                out.append(
                    CompileProblem(here, f"{key} 需要 {{字段: 1}}", f"{key} needs {{field: 1}}")
                )
        elif key in ("$iall", "$iany"):
            if not isinstance(value, dict) or len(value) != 1:
                out.append(
                    CompileProblem(
                        here,
                        f"{key} 需要 {{数组字段: 条件}}",
                        f"{key} needs {{array_field: condition}}",
                    )
                )
        elif key in COMPARISON:
            if not isinstance(value, dict) or len(value) != 1:
                out.append(
                    CompileProblem(
                        here,
                        f"{key} 需要恰好一个 {{字段: 值}}",
                        f"{key} needs exactly one {{field: value}}",
                    )
                )
                continue
            ((field_name, operand),) = value.items()
            _check_value(operand, aliases, (*here, field_name), out)
        elif key.startswith("$"):
            _unknown_operator(key, here, out)
        else:
            _check_value(value, aliases, here, out)


def compile_condition(when: Any, path: Path_) -> tuple[dict[str, Any], list[CompileProblem]]:
    """Check a (parameter-substituted) ``when`` and return durable-rules' rule dict."""
    out: list[CompileProblem] = []
    if not isinstance(when, dict):
        return {}, [CompileProblem(path, "when 必须是映射", "when must be a mapping")]
    for key in when:
        if key not in RULE_KEYS:
            out.append(
                CompileProblem(
                    (*path, key),
                    f"when 中未知的键 {key!r}（允许：{', '.join(sorted(RULE_KEYS))}）",
                    f"unknown key {key!r} in when (allowed: {', '.join(sorted(RULE_KEYS))})",
                )
            )
    joins = [k for k in ("all", "any") if k in when]
    if len(joins) != 1:
        out.append(
            CompileProblem(path, "when 需要 all 或 any 之一", "when needs exactly one of all / any")
        )
        return dict(when), out
    join = joins[0]
    patterns = when[join]
    if not isinstance(patterns, list) or not patterns:
        out.append(
            CompileProblem((*path, join), f"{join} 需要非空列表", f"{join} needs a non-empty list")
        )
        return dict(when), out
    aliases: set[str] = set()
    for i, pattern in enumerate(patterns):
        here = (*path, join, i)
        if not isinstance(pattern, dict) or len(pattern) != 1:
            out.append(
                CompileProblem(
                    here, "每个模式必须是 {别名: 条件}", "each pattern must be {alias: condition}"
                )
            )
            continue
        ((alias, expr),) = pattern.items()
        if not isinstance(alias, str) or alias.startswith("$"):
            out.append(CompileProblem(here, f"无效的别名 {alias!r}", f"invalid alias {alias!r}"))
            continue
        _check_expression(expr, aliases, (*here, alias), out)
        aliases.add(alias)
    for key in ("pri", "count", "cap"):
        if key in when and (
            isinstance(when[key], bool) or not isinstance(when[key], int) or when[key] < 1
        ):
            out.append(
                CompileProblem(
                    (*path, key), f"{key} 必须是正整数", f"{key} must be a positive integer"
                )
            )
    if "dist" in when and not isinstance(when["dist"], bool):
        out.append(
            CompileProblem((*path, "dist"), "dist 必须是 true/false", "dist must be true or false")
        )
    return dict(when), out


def engine_compile(rules: dict[str, dict[str, Any]]) -> str | None:
    """Compile rules with the real durable-rules engine; ``None`` when it accepts them.

    The ruleset is created in the C engine and deleted right away.
    """
    name = f"lint_{next(_compile_counter)}"
    try:
        handle = durable_rules_engine.create_ruleset(name, json.dumps(rules, ensure_ascii=False))
    except Exception as exc:  # durable_rules_engine.error
        return str(exc)
    durable_rules_engine.delete_ruleset(handle)
    return None

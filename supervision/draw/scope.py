"""Item scope (检查对象范围): which entities an item applies to, and whether a task's
filter stays inside the scope of its items. Pure: no database.

An item version's scope is entity types, GB/T 4754 industry prefixes and licence kinds
(empty: any); an entity is in scope of an item when it matches every part the item sets
(for licence kinds: it holds a licence of one of them, valid on the day the population is
taken), and in scope of a task when it is in scope of at least one of the task's items.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["in_scope", "item_scope", "licence_kinds", "scope_problems", "task_scopes"]


def item_scope(item: Any) -> dict[str, list[str]]:
    """The scope of an item version as stored on a task (``task.items[i]["scope"]``)."""
    return {
        "entity_types": list(getattr(item, "scope_entity_types", None) or []),
        "industries": list(getattr(item, "scope_industries", None) or []),
        "licences": list(getattr(item, "scope_licences", None) or []),
    }


def task_scopes(items: Sequence[Mapping[str, Any]]) -> list[dict[str, list[str]]] | None:
    """The scopes of a task's items; ``None`` when some item applies to every entity (then
    the items put no bound on the population)."""
    scopes = []
    for item in items:
        scope = item.get("scope") or {}
        if not (scope.get("entity_types") or scope.get("industries") or scope.get("licences")):
            return None
        scopes.append(
            {
                "entity_types": list(scope.get("entity_types") or []),
                "industries": list(scope.get("industries") or []),
                "licences": list(scope.get("licences") or []),
            }
        )
    return scopes


def licence_kinds(scopes: Sequence[Mapping[str, Sequence[str]]] | None) -> set[str]:
    """Every licence kind some item's scope names (empty: no item asks for a licence)."""
    return {kind for s in scopes or [] for kind in s.get("licences") or []}


def in_scope(
    scopes: Sequence[Mapping[str, Sequence[str]]] | None,
    *,
    entity_type: str,
    industry: str,
    licences: Iterable[str] = (),
) -> bool:
    """Whether an entity (its type, industry code and the licence kinds it holds) is in
    scope of at least one item; ``scopes`` None (an item without scope) admits everyone."""
    if scopes is None:
        return True
    held = set(licences)
    return any(
        (not s["entity_types"] or entity_type in s["entity_types"])
        and (not s["industries"] or industry.startswith(tuple(s["industries"])))
        and (not s.get("licences") or bool(held & set(s["licences"])))
        for s in scopes
    )


def _inside(prefix: str, scope_prefixes: Sequence[str]) -> bool:
    """An industry filter ``prefix`` (F52) lies inside a scope prefix (F, F52), not a broader one."""
    return any(prefix.startswith(s) for s in scope_prefixes)


def scope_problems(
    items: Sequence[Mapping[str, Any]], *, entity_types: Sequence[str], industries: Sequence[str]
) -> list[str]:
    """Why a task's filter reaches outside its items' scope (bilingual lines); empty when it
    stays inside. A filtered entity type or industry must lie inside the scope of at least
    one item (an item with no scope on that part allows any)."""
    scopes = task_scopes(items)
    if scopes is None:
        return []
    out: list[str] = []
    for kind in entity_types:
        if not any(not s["entity_types"] or kind in s["entity_types"] for s in scopes):
            allowed = sorted({t for s in scopes for t in s["entity_types"]})
            out.append(
                f"筛选的主体类型 {kind} 不在任务事项的检查对象范围内（{'、'.join(allowed)}）/ "
                f"entity type {kind} is outside the scope of the task's items "
                f"({', '.join(allowed)})"
            )
    for prefix in industries:
        if not any(not s["industries"] or _inside(prefix, s["industries"]) for s in scopes):
            allowed = sorted({i for s in scopes for i in s["industries"]})
            out.append(
                f"筛选的行业 {prefix} 超出任务事项的检查对象范围（{'、'.join(allowed)}）/ "
                f"industry {prefix} reaches outside the scope of the task's items "
                f"({', '.join(allowed)})"
            )
    return out

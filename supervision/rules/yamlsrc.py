"""YAML with line numbers: every value of a rule file keeps where it was written.

PyYAML's compose step keeps a mark on every node; building the Python value from
the nodes ourselves lets lint name the file, line and key of each problem, catch
duplicate keys (which PyYAML silently collapses) and bad dates (2025-02-30).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import yaml

from supervision import yamlsafe

Path_ = tuple[str | int, ...]


def path_str(path: Path_) -> str:
    """``("rules", 0, "when")`` → ``rules[0].when``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass
class Problem:
    line: int
    key: str
    zh: str
    en: str


@dataclass
class Located:
    """A parsed YAML document plus the line of every path in it."""

    value: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line_of(self, path: Path_) -> int:
        """The line of ``path``, or of its nearest ancestor that has one."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), 1)


#: libyaml's composer when PyYAML was built with it (the wheels are): same nodes and
#: marks, several times faster than the pure-Python one.
_Composer = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_located(text: str) -> Located:
    """Parse one YAML document; raises ``yaml.YAMLError`` on a syntax error and
    ``yamlsafe.YamlRefused`` for an alias, too deep a nesting or too large a file."""
    yamlsafe.check(text)
    loader = _Composer(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    located = Located(value=None)
    if node is None:
        return located
    builder = yaml.SafeLoader("")
    located.value = _build(node, (), located, builder)
    return located


def _build(node: yaml.Node, path: Path_, located: Located, loader: yaml.SafeLoader) -> Any:
    located.lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, path, located, loader)
            if isinstance(key, (list, dict)):
                key = str(key)
            if key in out:
                located.problems.append(
                    Problem(
                        key_node.start_mark.line + 1,
                        path_str((*path, str(key))),
                        f"重复的键 {key!r}",
                        f"duplicate key {key!r}",
                    )
                )
            out[key] = _build(value_node, (*path, str(key)), located, loader)
            located.lines[(*path, str(key))] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), located, loader) for i, item in enumerate(node.value)]
    return _scalar(node, path, located, loader)


def _scalar(node: yaml.Node, path: Path_, located: Located, loader: yaml.SafeLoader) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        return _build(node, path, located, loader)
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, yaml.YAMLError) as exc:
        located.problems.append(
            Problem(
                node.start_mark.line + 1,
                path_str(path),
                f"无法解析的值 {node.value!r}（{exc}）",
                f"value {node.value!r} cannot be read ({exc})",
            )
        )
        return node.value


def plain(value: Any) -> Any:
    """A parsed value as JSON would hold it: dates as ISO text, mapping keys as text."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value

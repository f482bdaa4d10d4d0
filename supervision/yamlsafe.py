"""YAML from users, read safely: no aliases, bounded depth and size.

Every YAML the project reads (rule packs, task files, result files, the extra-days
calendar) comes through here. YAML aliases let a few hundred bytes expand to gigabytes
(the "billion laughs") and a self-referencing one (``a: &a [*a]``) makes a structure
that recursion never leaves; nothing the project reads needs them, so an alias (and a
merge key ``<<: *base``, which needs one) is refused with its line. So is nesting deeper
than ``MAX_DEPTH`` and a document over ``MAX_BYTES``. The check walks the parser's events
(libyaml's, when PyYAML has it), before anything is built.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

__all__ = ["MAX_BYTES", "MAX_DEPTH", "YamlRefused", "check", "load"]

#: The largest YAML document read (rule files, task and calendar files are a few KiB).
MAX_BYTES = 2 * 1024 * 1024
#: The deepest nesting of mappings and lists (rule conditions nest a few levels).
MAX_DEPTH = 64

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlRefused(yaml.YAMLError):
    """A YAML document refused before it was built: ``line`` (1-based), ``zh``, ``en``."""

    def __init__(self, line: int, zh: str, en: str) -> None:
        super().__init__(f"第 {line} 行：{zh} / line {line}: {en}")
        self.line = line
        self.zh = zh
        self.en = en


def check(text: str) -> None:
    """Raise ``YamlRefused`` for an alias, too deep a nesting or too large a document;
    a syntax error raises PyYAML's own ``MarkedYAMLError`` (with its line)."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        raise YamlRefused(
            1,
            f"YAML 文件过大（{size} 字节，上限 {MAX_BYTES} 字节）",
            f"the YAML document is too large ({size} bytes, limit {MAX_BYTES})",
        )
    depth = 0
    loader = _Loader(text)
    try:
        while loader.check_event():
            event = loader.get_event()
            line = event.start_mark.line + 1
            if isinstance(event, yaml.AliasEvent):
                raise YamlRefused(
                    line,
                    f"不允许使用 YAML 别名 *{event.anchor}（别名可被用来构造极大或自引用的数据）",
                    f"YAML aliases (*{event.anchor}) are not allowed (they can build huge "
                    "or self-referencing data)",
                )
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise YamlRefused(
                        line,
                        f"YAML 嵌套超过 {MAX_DEPTH} 层",
                        f"the YAML nests deeper than {MAX_DEPTH} levels",
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    finally:
        loader.dispose()


def load(text: str, *, loader: Any = _Loader) -> Any:
    """``yaml.safe_load`` after ``check``: the value, or ``YamlRefused`` / ``YAMLError``.
    ``loader``: a ``SafeLoader`` subclass for a format with its own scalar rules (the
    extra-days calendar reads dates as text)."""
    check(text)
    return yaml.load(text, Loader=loader)


def read_data(path: Path) -> Any:
    """A UTF-8 file's data: JSON when it is named ``*.json``, safe YAML (``load``) otherwise.
    Raises ``OSError``, ``ValueError`` (bad JSON or text) or ``yaml.YAMLError``: the caller
    names the file in its own words."""
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else load(text)

"""A plan file (年度抽查计划, YAML or JSON): read and checked in full, every problem named by
file, line and key. No database: whether the named departments and items exist is the
service's check (``supervision.plans.service``).

```yaml
code: 蒙市监〔2026〕抽查计划      # optional with `plan set CODE`; must match it if given
year: 2026
name: 2026年度双随机抽查工作计划
departments: [NMG-SJ, NMG-SW]
notes: 说明
items: [NMG-SJ-01, NMG-SJ-02, NMG-SW-02]   # the item codes the plan covers
targets:                                   # coverage targets
  - id: SJ-公示                            # optional: department/kind by default
    name: 企业公示信息抽查
    department: NMG-SJ                     # optional: the whole plan
    item_kind: 一般                        # optional: 一般 / 重点 (general / key)
    items: [NMG-SJ-01]                     # optional: every plan item of that department/kind
    entity_types: [企业]                   # optional: the denominator (every type in scope)
    ratio: 3%                              # or 0.03; a province may set 5%
tasks:                                     # planned tasks (计划内的抽查任务), with months
  - code: 蒙市监抽查〔2026〕1号            # optional: the task that carries it out
    name: 企业公示信息情况抽查
    departments: [NMG-SJ]
    items: [NMG-SJ-01]
    months: [3, 4]
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from supervision.errors import ValidationFailed
from supervision.models.fields import check_text, normalise_key
from supervision.plans.coverage import Target
from supervision.reference.vocab import EntityType, ItemKind
from supervision.rules.yamlsrc import Located, Path_, load_located, path_str
from supervision.yamlsafe import YamlRefused

__all__ = ["PlanSpec", "PlannedTask", "Target", "parse_plan", "ratio_value", "read_plan_file"]

_TOP_KEYS = {"code", "year", "name", "departments", "notes", "items", "targets", "tasks"}
_TARGET_KEYS = {"id", "name", "department", "item_kind", "items", "entity_types", "ratio"}
_TASK_KEYS = {"code", "name", "departments", "items", "months"}


@dataclass(frozen=True)
class PlannedTask:
    """A task the plan foresees, with the months it runs in (1-12)."""

    name: str
    departments: tuple[str, ...]
    items: tuple[str, ...]
    months: tuple[int, ...]
    code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "departments": list(self.departments),
            "items": list(self.items),
            "months": list(self.months),
        }


@dataclass
class PlanSpec:
    """A whole plan file; fields the file leaves out are None (kept as they are)."""

    code: str | None = None
    year: int | None = None
    name: str | None = None
    departments: list[str] | None = None
    notes: str | None = None
    items: list[str] | None = None
    targets: list[Target] | None = None
    tasks: list[PlannedTask] | None = None
    source: str = "plan"
    lines: dict[str, int] = field(default_factory=dict)

    def where(self, key: str) -> str:
        """``file:line: key`` of a key path (``targets[0].department``) for a message."""
        return f"{self.source}:{self.lines.get(key, 1)}: {key}"


def ratio_value(value: Any) -> Decimal:
    """A target ratio: ``0.03``, ``"0.03"`` or ``"3%"``, in (0, 1]; ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError(f"比例应为数字或百分数 / a ratio is a number or a percentage: {value!r}")
    text = str(value).strip()
    scale = Decimal(1)
    if text.endswith("%"):
        text, scale = text[:-1].strip(), Decimal(100)
    try:
        ratio = Decimal(text) / scale
    except InvalidOperation:
        raise ValueError(f"比例无效 / invalid ratio: {value!r}") from None
    if not ratio.is_finite() or not 0 < ratio <= 1:
        raise ValueError(
            f"比例须大于 0 且不超过 100% / a ratio is above 0 and at most 100%: {value!r}"
        )
    return ratio.normalize() if ratio != ratio.to_integral_value() else Decimal(int(ratio))


class _Reader:
    """Walks one parsed plan file, recording each problem with its line and key path."""

    def __init__(self, source: str, located: Located) -> None:
        self.source = source
        self.located = located
        self.problems: list[str] = [
            f"{source}:{p.line}: {p.key}: {p.zh} / {p.en}" for p in located.problems
        ]

    def problem(self, path: Path_, zh: str, en: str) -> None:
        line = self.located.line_of(path)
        self.problems.append(f"{self.source}:{line}: {path_str(path) or '(file)'}: {zh} / {en}")

    def unknown(self, data: dict[Any, Any], allowed: set[str], path: Path_) -> None:
        for key in data:
            if str(key) not in allowed:
                self.problem(
                    (*path, str(key)),
                    f"未知的键 {key!r}（可用：{'、'.join(sorted(allowed))}）",
                    f"unknown key {key!r} (allowed: {', '.join(sorted(allowed))})",
                )

    def key(self, value: Any, path: Path_) -> str | None:
        if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
            self.problem(path, "应为非空的编号", "must be a non-empty code")
            return None
        try:
            return normalise_key(str(value))
        except ValueError as exc:
            zh, _, en = str(exc).partition(" / ")
            self.problem(path, zh, en or zh)
            return None

    def keys(self, value: Any, path: Path_, *, required: bool = False) -> list[str] | None:
        if value is None and not required:
            return None
        if not isinstance(value, list):
            self.problem(path, "应为编号列表", "must be a list of codes")
            return None
        out = [k for i, v in enumerate(value) if (k := self.key(v, (*path, i))) is not None]
        if required and not value:
            self.problem(path, "不能为空", "must not be empty")
        if len(set(out)) != len(out):
            self.problem(path, "列表中有重复项", "the list has duplicates")
        return out

    def text(self, value: Any, path: Path_, *, limit: int, multiline: bool = False) -> str | None:
        if not isinstance(value, str) or (not multiline and not value.strip()):
            self.problem(path, "应为文字", "must be text")
            return None
        if len(value) > limit:
            self.problem(path, f"超过 {limit} 个字符", f"longer than {limit} characters")
            return None
        try:
            check_text(value, multiline=multiline)
        except ValueError as exc:
            zh, _, en = str(exc).partition(" / ")
            self.problem(path, zh, en or zh)
            return None
        return value.strip() if not multiline else value

    def plan(self, data: Any) -> PlanSpec:
        spec = PlanSpec(source=self.source)
        if not isinstance(data, dict):
            self.problem(
                (), "计划文件应为一个对象（键: 值）", "a plan file holds a mapping (key: value)"
            )
            return spec
        self.unknown(data, _TOP_KEYS, ())
        if "code" in data:
            spec.code = self.key(data["code"], ("code",))
        if "year" in data:
            year = data["year"]
            if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
                self.problem(
                    ("year",), "年度应为 2000-2100 的整数", "year is a whole number 2000-2100"
                )
            else:
                spec.year = year
        if "name" in data:
            spec.name = self.text(data["name"], ("name",), limit=200)
        if "notes" in data:
            spec.notes = self.text(data["notes"] or "", ("notes",), limit=2000, multiline=True)
        if "departments" in data:
            spec.departments = self.keys(data["departments"], ("departments",), required=True)
        if "items" in data:
            spec.items = self.keys(data["items"], ("items",))
        if "targets" in data:
            spec.targets = self.targets(data["targets"])
        if "tasks" in data:
            spec.tasks = self.tasks(data["tasks"])
        spec.lines = {path_str(p): line for p, line in self.located.lines.items()}
        return spec

    def targets(self, value: Any) -> list[Target]:
        if not isinstance(value, list):
            self.problem(("targets",), "应为目标列表", "must be a list of targets")
            return []
        out: list[Target] = []
        for i, raw in enumerate(value):
            target = self.target(raw, ("targets", i))
            if target is None:
                continue
            if any(t.target_id == target.target_id for t in out):
                self.problem(
                    ("targets", i),
                    f"目标 {target.target_id} 重复（同一部门和事项类别只能有一个目标，或写不同的 id）",
                    f"target {target.target_id} is given twice (one per department and item "
                    "kind, or give each its own id)",
                )
                continue
            out.append(target)
        return out

    def target(self, raw: Any, path: Path_) -> Target | None:
        if not isinstance(raw, dict):
            self.problem(path, "每个目标应为一个对象", "each target is a mapping")
            return None
        before = len(self.problems)
        self.unknown(raw, _TARGET_KEYS, path)
        department = (
            self.key(raw["department"], (*path, "department"))
            if raw.get("department") is not None
            else None
        )
        kind = None
        if raw.get("item_kind") is not None:
            try:
                kind = ItemKind.parse(raw["item_kind"]).value
            except ValueError as exc:
                zh, _, en = str(exc).partition(" / ")
                self.problem((*path, "item_kind"), zh, en)
        items = self.keys(raw.get("items"), (*path, "items")) or []
        types: list[str] = []
        raw_types = raw.get("entity_types")
        if raw_types is not None:
            if not isinstance(raw_types, list):
                self.problem(
                    (*path, "entity_types"), "应为主体类型列表", "must be a list of entity types"
                )
            for j, t in enumerate(raw_types if isinstance(raw_types, list) else []):
                try:
                    types.append(EntityType.parse(t).value)
                except ValueError as exc:
                    zh, _, en = str(exc).partition(" / ")
                    self.problem((*path, "entity_types", j), zh, en)
        ratio = None
        if "ratio" not in raw:
            self.problem((*path, "ratio"), "缺少覆盖比例 ratio", "the coverage ratio is missing")
        else:
            try:
                ratio = ratio_value(raw["ratio"])
            except ValueError as exc:
                zh, _, en = str(exc).partition(" / ")
                self.problem((*path, "ratio"), zh, en)
        name = ""
        if raw.get("name") is not None:
            name = self.text(raw["name"], (*path, "name"), limit=200) or ""
        default_id = f"{department or '全部'}/{kind or '全部'}"
        target_id = self.key(raw["id"], (*path, "id")) if raw.get("id") is not None else default_id
        if target_id is not None and len(target_id) > 64:
            self.problem((*path, "id"), "超过 64 个字符", "longer than 64 characters")
        if len(self.problems) > before or ratio is None or target_id is None:
            return None
        return Target(
            target_id=target_id,
            ratio=ratio,
            name=name,
            department=department,
            item_kind=kind,
            items=tuple(items),
            entity_types=tuple(sorted(set(types))),
        )

    def tasks(self, value: Any) -> list[PlannedTask]:
        if not isinstance(value, list):
            self.problem(("tasks",), "应为计划任务列表", "must be a list of planned tasks")
            return []
        out: list[PlannedTask] = []
        for i, raw in enumerate(value):
            path: Path_ = ("tasks", i)
            if not isinstance(raw, dict):
                self.problem(path, "每个计划任务应为一个对象", "each planned task is a mapping")
                continue
            before = len(self.problems)
            self.unknown(raw, _TASK_KEYS, path)
            name = self.text(raw.get("name"), (*path, "name"), limit=200)
            code = self.key(raw["code"], (*path, "code")) if raw.get("code") is not None else None
            departments = self.keys(raw.get("departments"), (*path, "departments"), required=True)
            items = self.keys(raw.get("items"), (*path, "items"), required=True)
            months = raw.get("months")
            if (
                not isinstance(months, list)
                or not months
                or not all(
                    isinstance(m, int) and not isinstance(m, bool) and 1 <= m <= 12 for m in months
                )
            ):
                self.problem(
                    (*path, "months"),
                    "月份应为 1-12 的整数列表，如 [3, 4]",
                    "months is a list of whole numbers 1-12, e.g. [3, 4]",
                )
                months = []
            if len(self.problems) > before or name is None:
                continue
            if code is not None and any(t.code == code for t in out):
                self.problem(
                    (*path, "code"), f"任务编号 {code} 重复", f"task code {code} is given twice"
                )
                continue
            out.append(
                PlannedTask(
                    name=name,
                    departments=tuple(departments or ()),
                    items=tuple(items or ()),
                    months=tuple(sorted(set(months))),
                    code=code,
                )
            )
        return out


def parse_plan(text: str, source: str = "plan") -> PlanSpec:
    """Check a plan file's text in full; ValidationFailed lists every problem (file:line: key)."""
    try:
        located = load_located(text)
    except YamlRefused as exc:
        raise ValidationFailed(
            f"计划文件 {source} 第 {exc.line} 行：{exc.zh}",
            f"plan file {source} line {exc.line}: {exc.en}",
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise ValidationFailed(
            f"计划文件 {source} 第 {line} 行 YAML 语法错误",
            f"plan file {source} line {line}: YAML syntax error",
            details=[str(exc)],
        ) from None
    reader = _Reader(source, located)
    spec = reader.plan(located.value)
    if reader.problems:
        raise ValidationFailed(
            f"计划文件 {source} 有 {len(reader.problems)} 处错误",
            f"plan file {source} has {len(reader.problems)} problem(s)",
            details=reader.problems,
        )
    return spec


def read_plan_file(path: Path) -> PlanSpec:
    """Read and check a plan file (UTF-8, with or without BOM; JSON is YAML too)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            f"无法读取计划文件 {path}", f"cannot read plan file {path}: {exc}"
        ) from None
    return parse_plan(text, str(path))

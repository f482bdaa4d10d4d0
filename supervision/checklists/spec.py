"""Checklist files: one YAML file per department, one checklist per item code and version.

A checklist file reads::

    department: NMG-SJ
    checklists:
      - item: NMG-SJ-01
        version: 1
        points:
          - id: SJ01-01
            content_zh: 是否按时报送上一年度年度报告
            content_en: whether last year's annual report was filed on time
            method: 书面检查            # 书面检查 / 实地核查 / 网络监测 / 抽样检测
            legal_basis: 《企业信息公示暂行条例》第八条
            evidence: 年度报告公示页截图
            fails_to: {code: A, sub_code: B}   # the result a failure of this point supports

``lint_checklists`` reports every problem with file, line and key (the way ``rules lint``
does); ``load_checklists`` returns the checklists or raises ``ChecklistError``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from supervision import paths
from supervision.errors import SupervisionError
from supervision.reference.result_codes import CODE_RULES, MAIN_CODES, SUB_CODES
from supervision.reference.vocab import InspectionMethod
from supervision.rules.yamlsrc import Located, Path_, load_located, path_str
from supervision.yamlsafe import YamlRefused

__all__ = [
    "FAILURE_CODES",
    "CheckPoint",
    "Checklist",
    "ChecklistError",
    "ChecklistIssue",
    "ChecklistLint",
    "ItemInForce",
    "lint_checklists",
    "load_checklists",
]

#: The result codes a failed check point can support: a problem found (A, with the
#: sub-code saying what) or a correction already ordered (E).
FAILURE_CODES = ("A", "E")

_FILE_KEYS = {"department", "checklists"}
_CHECKLIST_KEYS = {"item", "version", "points"}
_POINT_KEYS = {
    "id", "content_zh", "content_en", "method", "legal_basis", "evidence", "fails_to",
}  # fmt: skip
_POINT_TEXT = ("content_zh", "content_en", "legal_basis", "evidence")
_FAILS_KEYS = {"code", "sub_code"}
_MAX_ID = 32
#: Where a problem found against the item list (rather than in a file) is reported.
ITEM_LIST = "一单 / item list"


@dataclass(frozen=True)
class CheckPoint:
    """One check point (检查要点) of a checklist."""

    id: str
    content_zh: str
    content_en: str
    method: str
    legal_basis: str
    evidence: str
    code: str
    sub_code: str | None
    line: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Checklist:
    """The checklist of one item version, from one department's file."""

    item: str
    version: int
    department: str
    points: tuple[CheckPoint, ...]
    file: str = ""
    line: int = 0

    def point(self, point_id: str) -> CheckPoint | None:
        return next((p for p in self.points if p.id == point_id), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "version": self.version,
            "department": self.department,
            "file": self.file,
            "line": self.line,
            "points": [p.to_dict() for p in self.points],
        }


@dataclass(frozen=True)
class ItemInForce:
    """An item version that must have a checklist (from the item list, 一单)."""

    code: str
    version: int
    department_code: str
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None

    def in_force(self, day: dt.date) -> bool:
        starts = self.effective_from is None or self.effective_from <= day
        return starts and (self.effective_to is None or day <= self.effective_to)


@dataclass(frozen=True)
class ChecklistIssue:
    file: str
    line: int
    key: str
    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line} {self.key}: {self.zh} / {self.en}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ChecklistLint:
    root: str
    files: list[str] = field(default_factory=list)
    issues: list[ChecklistIssue] = field(default_factory=list)
    checklists: list[Checklist] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.issues

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "ok": self.ok,
            "files": self.files,
            "checklists": len(self.checklists),
            "points": sum(len(c.points) for c in self.checklists),
            "issues": [i.to_dict() for i in self.issues],
        }


class ChecklistError(SupervisionError):
    """A checklist folder with problems; ``details`` lists each with file, line and key."""

    def __init__(self, issues: list[ChecklistIssue]) -> None:
        super().__init__(
            f"检查实施细则有 {len(issues)} 处错误",
            f"the checklists have {len(issues)} problem(s)",
            details=[str(i) for i in issues],
        )
        self.issues = issues


def default_checklists_dir() -> Path:
    """The shipped ``checklists/`` folder."""
    return paths.checklists_dir()


def lint_checklists(
    root: str | Path | None = None,
    *,
    items: Iterable[ItemInForce] | None = None,
    day: dt.date | None = None,
) -> ChecklistLint:
    """Check every ``*.yaml`` under ``root`` (default: the shipped folder). With ``items``
    (the item list) and ``day``, every item in force that day must have a checklist for
    its version, in its own department's file, and every checklist must name a known item."""
    base = Path(root) if root is not None else default_checklists_dir()
    report = ChecklistLint(root=str(base))
    if not base.is_dir():
        report.issues.append(
            ChecklistIssue(
                str(base), 0, "", "细则目录不存在", "the checklists folder does not exist"
            )
        )
        return report
    files = sorted(p for p in base.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    if not files:
        report.issues.append(
            ChecklistIssue(
                str(base), 0, "", "目录中没有细则文件（*.yaml）", "no checklist files (*.yaml)"
            )
        )
    seen: dict[tuple[str, int], Checklist] = {}
    for file in files:
        rel = file.relative_to(base).as_posix()
        report.files.append(rel)
        for checklist in _lint_file(rel, file, report.issues):
            first = seen.get((checklist.item, checklist.version))
            if first is not None:
                report.issues.append(
                    ChecklistIssue(
                        rel,
                        checklist.line,
                        "item",
                        f"事项 {checklist.item} 第 {checklist.version} 版的细则重复（已在 "
                        f"{first.file}:{first.line} 定义）",
                        f"checklist for item {checklist.item} version {checklist.version} is "
                        f"defined twice (first at {first.file}:{first.line})",
                    )
                )
                continue
            seen[(checklist.item, checklist.version)] = checklist
            report.checklists.append(checklist)
    if items is not None:
        report.issues += _coverage(list(items), seen, day)
    report.issues.sort(key=lambda i: (i.file, i.line, i.key))
    return report


def load_checklists(
    root: str | Path | None = None,
    *,
    items: Iterable[ItemInForce] | None = None,
    day: dt.date | None = None,
) -> dict[tuple[str, int], Checklist]:
    """The checklists by (item code, version); ``ChecklistError`` listing every problem."""
    report = lint_checklists(root, items=items, day=day)
    if not report.ok:
        raise ChecklistError(report.issues)
    return {(c.item, c.version): c for c in report.checklists}


def _coverage(
    items: list[ItemInForce], seen: dict[tuple[str, int], Checklist], day: dt.date | None
) -> list[ChecklistIssue]:
    out: list[ChecklistIssue] = []
    known = {(i.code, i.version): i for i in items}
    for item in items:
        if day is not None and not item.in_force(day):
            continue
        checklist = seen.get((item.code, item.version))
        if checklist is None:
            out.append(
                ChecklistIssue(
                    ITEM_LIST,
                    0,
                    item.code,
                    f"现行事项 {item.code}（第 {item.version} 版）没有检查实施细则",
                    f"item {item.code} (version {item.version}) is in force but has no checklist",
                )
            )
        elif checklist.department != item.department_code:
            out.append(
                ChecklistIssue(
                    checklist.file,
                    checklist.line,
                    "item",
                    f"事项 {item.code} 属于 {item.department_code}，细则却写在 "
                    f"{checklist.department} 的文件里",
                    f"item {item.code} belongs to {item.department_code} but its checklist is "
                    f"in {checklist.department}'s file",
                )
            )
    for key, checklist in seen.items():
        if key not in known:
            out.append(
                ChecklistIssue(
                    checklist.file,
                    checklist.line,
                    "item",
                    f"事项清单中没有事项 {key[0]} 第 {key[1]} 版",
                    f"no item {key[0]} version {key[1]} in the item list",
                )
            )
    return out


def _lint_file(rel: str, file: Path, issues: list[ChecklistIssue]) -> list[Checklist]:
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        issues.append(
            ChecklistIssue(rel, 1, "", f"文件不是 UTF-8 编码（{exc}）", f"not UTF-8 ({exc})")
        )
        return []
    try:
        located = load_located(text)
    except YamlRefused as exc:
        issues.append(ChecklistIssue(rel, exc.line, "", exc.zh, exc.en))
        return []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        issues.append(
            ChecklistIssue(rel, line, "", f"YAML 语法错误：{exc}", f"YAML syntax error: {exc}")
        )
        return []
    for p in located.problems:
        issues.append(ChecklistIssue(rel, p.line, p.key, p.zh, p.en))
    return _Reader(rel, located, issues).file()


class _Reader:
    """Walks one parsed file, recording each problem with its line and key path."""

    def __init__(self, rel: str, located: Located, issues: list[ChecklistIssue]) -> None:
        self.rel = rel
        self.located = located
        self.issues = issues

    def problem(self, path: Path_, zh: str, en: str) -> None:
        self.issues.append(
            ChecklistIssue(self.rel, self.located.line_of(path), path_str(path), zh, en)
        )

    def unknown_keys(self, data: dict[Any, Any], allowed: set[str], path: Path_) -> None:
        for key in data:
            if key not in allowed:
                self.problem(
                    (*path, str(key)),
                    f"未知的键 {key!r}（可用：{'、'.join(sorted(allowed))}）",
                    f"unknown key {key!r} (allowed: {', '.join(sorted(allowed))})",
                )

    def text(self, data: dict[Any, Any], key: str, path: Path_, limit: int = 1000) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            self.problem((*path, key), f"缺少 {key} 或不是文字", f"{key} is missing or not text")
            return ""
        if len(value) > limit:
            self.problem(
                (*path, key), f"{key} 超过 {limit} 个字", f"{key} is longer than {limit} characters"
            )
        return value.strip()

    def file(self) -> list[Checklist]:
        data = self.located.value
        if not isinstance(data, dict):
            self.problem((), "文件应是一个映射（department、checklists）",
                         "the file must be a mapping (department, checklists)")  # fmt: skip
            return []
        self.unknown_keys(data, _FILE_KEYS, ())
        department = self.text(data, "department", (), 32)
        entries = data.get("checklists")
        if not isinstance(entries, list) or not entries:
            self.problem(("checklists",), "checklists 应是非空列表",
                         "checklists must be a non-empty list")  # fmt: skip
            return []
        out: list[Checklist] = []
        for n, entry in enumerate(entries):
            checklist = self.checklist(entry, ("checklists", n), department)
            if checklist is not None:
                out.append(checklist)
        return out

    def checklist(self, entry: Any, path: Path_, department: str) -> Checklist | None:
        if not isinstance(entry, dict):
            self.problem(path, "每份细则应是一个映射（item、version、points）",
                         "each checklist must be a mapping (item, version, points)")  # fmt: skip
            return None
        self.unknown_keys(entry, _CHECKLIST_KEYS, path)
        item = self.text(entry, "item", path, 32)
        version = entry.get("version", 1)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            self.problem(
                (*path, "version"), "version 应是正整数", "version must be a positive integer"
            )
            version = 1
        points_data = entry.get("points")
        if not isinstance(points_data, list) or not points_data:
            self.problem(
                (*path, "points"), "points 应是非空列表", "points must be a non-empty list"
            )
            return None
        points: list[CheckPoint] = []
        ids: dict[str, int] = {}
        before = len(self.issues)
        for n, point_data in enumerate(points_data):
            point = self.point(point_data, (*path, "points", n))
            if point is None:
                continue
            if point.id in ids:
                self.problem(
                    (*path, "points", n, "id"),
                    f"检查要点编号 {point.id} 重复（第 {ids[point.id]} 行已用）",
                    f"check point id {point.id} is used twice (first on line {ids[point.id]})",
                )
                continue
            ids[point.id] = point.line
            points.append(point)
        if len(self.issues) != before or not item or not department:
            return None
        return Checklist(
            item=item,
            version=version,
            department=department,
            points=tuple(points),
            file=self.rel,
            line=self.located.line_of(path),
        )

    def point(self, data: Any, path: Path_) -> CheckPoint | None:
        if not isinstance(data, dict):
            self.problem(path, "检查要点应是一个映射", "a check point must be a mapping")
            return None
        self.unknown_keys(data, _POINT_KEYS, path)
        point_id = data.get("id")
        if not isinstance(point_id, str) or not point_id.strip() or len(point_id) > _MAX_ID:
            self.problem((*path, "id"), f"id 应是不超过 {_MAX_ID} 字的文字",
                         f"id must be text of at most {_MAX_ID} characters")  # fmt: skip
            point_id = ""
        texts = {key: self.text(data, key, path) for key in _POINT_TEXT}
        method = data.get("method")
        methods = [m.value for m in InspectionMethod]
        if method not in methods:
            self.problem(
                (*path, "method"),
                f"检查方式 {method!r} 不在 {'、'.join(methods)} 之中",
                f"method {method!r} is not one of {', '.join(methods)}",
            )
        code, sub_code = self.fails_to(data.get("fails_to"), (*path, "fails_to"))
        return CheckPoint(
            id=point_id.strip(),
            method=str(method),
            code=code,
            sub_code=sub_code,
            line=self.located.line_of(path),
            **texts,
        )

    def fails_to(self, data: Any, path: Path_) -> tuple[str, str | None]:
        if not isinstance(data, dict):
            self.problem(path, "fails_to 应是映射（code、sub_code）",
                         "fails_to must be a mapping (code, sub_code)")  # fmt: skip
            return "", None
        self.unknown_keys(data, _FAILS_KEYS, path)
        code = str(data.get("code", "")).strip().upper()
        raw_sub = data.get("sub_code")
        sub = None if raw_sub is None else str(raw_sub).strip().upper()
        if code not in MAIN_CODES:
            self.problem((*path, "code"), f"结果代码 {code!r} 不是官方代码（{'、'.join(MAIN_CODES)}）",
                         f"result code {code!r} is not official ({', '.join(MAIN_CODES)})")  # fmt: skip
        elif code not in FAILURE_CODES:
            self.problem(
                (*path, "code"),
                f"结果代码 {code}（{MAIN_CODES[code].zh}）不表示发现问题，不符合项只能对应 "
                f"{'、'.join(FAILURE_CODES)}",
                f"result code {code} ({MAIN_CODES[code].en}) reports no problem; a failed point "
                f"supports only {', '.join(FAILURE_CODES)}",
            )
        elif sub is not None and sub not in CODE_RULES[code].sub_codes:
            allowed = "、".join(CODE_RULES[code].sub_codes) or "无 / none"
            self.problem((*path, "sub_code"), f"结果代码 {code} 不能带子代码 {sub}（可用：{allowed}）",
                         f"result code {code} cannot take sub-code {sub} "
                         f"(allowed: {', '.join(CODE_RULES[code].sub_codes)})")  # fmt: skip
        elif sub is None and CODE_RULES[code].sub_code_required:
            self.problem((*path, "sub_code"),
                         f"结果代码 {code} 必须带子代码（{'、'.join(SUB_CODES)}）",
                         f"result code {code} needs a sub-code ({', '.join(SUB_CODES)})")  # fmt: skip
        return code, sub

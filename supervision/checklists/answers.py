"""An inspector's answers to a checklist, and the result code they support.

Each check point is answered 符合 (conforms), 不符合 (does not conform) or 不涉及 (not
applicable), with an optional note and evidence files. ``propose_code`` says which result
code the answers support; ``contradictions`` says why a chosen code cannot stand with
them (code 1 with any 不符合; A or E without one; an A sub-code no failed point supports).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from supervision.checklists.spec import Checklist
from supervision.errors import SupervisionError

__all__ = [
    "ANSWER_VALUES",
    "CONFORMS",
    "FAILS",
    "NOT_APPLICABLE",
    "Answer",
    "AnswerSheet",
    "contradictions",
    "failed_in_words",
    "parse_answers",
    "propose_code",
]

CONFORMS = "符合"
FAILS = "不符合"
NOT_APPLICABLE = "不涉及"
ANSWER_VALUES = (CONFORMS, FAILS, NOT_APPLICABLE)
_ALIASES = {
    "符合": CONFORMS, "conforms": CONFORMS, "pass": CONFORMS, "yes": CONFORMS,
    "不符合": FAILS, "fails": FAILS, "fail": FAILS, "no": FAILS,
    "不涉及": NOT_APPLICABLE, "n/a": NOT_APPLICABLE, "na": NOT_APPLICABLE,
    "not_applicable": NOT_APPLICABLE,
}  # fmt: skip
#: Codes that say the check found no problem: no check point may have failed.
_NO_PROBLEM = ("1", "F")
#: Codes that say a problem was found: at least one check point must have failed.
_PROBLEM = ("A", "E")


@dataclass(frozen=True)
class Answer:
    point: str
    value: str
    note: str = ""
    evidence: tuple[str, ...] = ()
    # The point's content as the checklist said it when answered (public notices show the
    # failed points in words, even after the checklist changes).
    content_zh: str = ""
    content_en: str = ""


@dataclass(frozen=True)
class AnswerSheet:
    """Every point of one checklist answered, in the checklist's order."""

    item: str
    version: int
    answers: tuple[Answer, ...] = field(default_factory=tuple)

    def failed(self) -> tuple[Answer, ...]:
        return tuple(a for a in self.answers if a.value == FAILS)

    def to_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "version": self.version,
            "answers": [
                {
                    "point": a.point,
                    "answer": a.value,
                    "note": a.note,
                    "evidence": list(a.evidence),
                    "content_zh": a.content_zh,
                    "content_en": a.content_en,
                }
                for a in self.answers
            ],
        }


def _refuse(problems: list[str], source: str) -> SupervisionError:
    return SupervisionError(
        f"检查表答案有误（{source}）", f"the checklist answers are wrong ({source})",
        details=problems,
    )  # fmt: skip


def parse_answers(data: Any, checklist: Checklist, *, source: str = "answers") -> AnswerSheet:
    """Read answers ``{point id: 符合|不符合|不涉及 or {answer, note, evidence}}`` (or a
    mapping with ``answers:`` under it) against ``checklist``. Every point must be answered
    and no unknown point named; otherwise ``SupervisionError`` naming each point."""
    if isinstance(data, Mapping) and "answers" in data:
        data = data["answers"]
    if not isinstance(data, Mapping):
        raise _refuse(
            ["答案应是“要点编号: 符合/不符合/不涉及”的映射 / answers must map point ids to "
             "符合/不符合/不涉及"], source,
        )  # fmt: skip
    problems: list[str] = []
    known = {p.id for p in checklist.points}
    for key in data:
        if str(key) not in known:
            problems.append(
                f"{key}: 细则 {checklist.item} 中没有这个检查要点 / no such check point in the "
                f"checklist of {checklist.item}"
            )
    answers: list[Answer] = []
    for point in checklist.points:
        raw = data.get(point.id)
        if raw is None:
            problems.append(f"{point.id}: 未作答 / not answered")
            continue
        note: Any = ""
        evidence: Any = []
        value: Any = raw
        if isinstance(raw, Mapping):
            value = raw.get("answer")
            note = raw.get("note") or ""
            evidence = raw.get("evidence") or []
            extra = set(map(str, raw)) - {"answer", "note", "evidence"}
            if extra:
                problems.append(
                    f"{point.id}: 未知的键 {'、'.join(sorted(extra))} / unknown key(s) "
                    f"{', '.join(sorted(extra))} (answer, note, evidence)"
                )
        answer = _ALIASES.get(str(value).strip().lower()) if value is not None else None
        if answer is None:
            problems.append(
                f"{point.id}: 答案 {value!r} 应是 符合、不符合 或 不涉及 / answer {value!r} must "
                "be 符合 (conforms), 不符合 (fails) or 不涉及 (not applicable)"
            )
            continue
        if not isinstance(note, str):
            problems.append(f"{point.id}: note 应是文字 / note must be text")
            continue
        if isinstance(evidence, str):
            evidence = [evidence]
        if not isinstance(evidence, list) or not all(isinstance(e, str) for e in evidence):
            problems.append(f"{point.id}: evidence 应是文件名列表 / evidence must list file names")
            continue
        answers.append(
            Answer(
                point.id,
                answer,
                note.strip(),
                tuple(evidence),
                content_zh=point.content_zh,
                content_en=point.content_en,
            )
        )
    if problems:
        raise _refuse(problems, source)
    return AnswerSheet(checklist.item, checklist.version, tuple(answers))


def failed_in_words(sheet: AnswerSheet) -> str:
    """The failed points in words (their content), for a finding left empty:
    ``不符合：… / fails: …``; empty when no point failed."""
    failed = sheet.failed()
    if not failed:
        return ""
    zh = "；".join(a.content_zh or a.point for a in failed)
    en = "; ".join(a.content_en or a.point for a in failed)
    return f"不符合：{zh} / fails: {en}"


def propose_code(sheet: AnswerSheet, checklist: Checklist) -> tuple[str, str | None]:
    """The result code the answers support: with a failed point, the code (and sub-code)
    of the first failed point that supports A, else E; with none failed, 1 when anything
    was checked, F (no activity covered by the check) when every point was 不涉及."""
    failed = sheet.failed()
    if failed:
        points = [checklist.point(a.point) for a in failed]
        for point in points:
            if point is not None and point.code == "A":
                return "A", point.sub_code
        return "E", None
    if all(a.value == NOT_APPLICABLE for a in sheet.answers):
        return "F", None
    return "1", None


def contradictions(
    sheet: AnswerSheet, checklist: Checklist, code: str, sub_code: str | None
) -> list[tuple[str, str]]:
    """Why ``code``/``sub_code`` cannot stand with the answers, as (Chinese, English);
    empty when it can."""
    failed = sheet.failed()
    failed_ids = "、".join(a.point for a in failed)
    out: list[tuple[str, str]] = []
    if code in _NO_PROBLEM and failed:
        out.append(
            (
                f"检查表中有不符合项（{failed_ids}），结果代码不能是 {code}",
                f"the checklist has failed points ({', '.join(a.point for a in failed)}); "
                f"the result code cannot be {code}",
            )
        )
    if code in _PROBLEM and not failed:
        out.append(
            (
                f"结果代码 {code} 表示发现问题，但检查表没有不符合项",
                f"result code {code} reports a problem but no check point failed",
            )
        )
    if code == "A" and sub_code and failed:
        supported = {
            p.sub_code
            for p in (checklist.point(a.point) for a in failed)
            if p is not None and p.code == "A" and p.sub_code
        }
        if supported and sub_code not in supported:
            out.append(
                (
                    f"子代码 {sub_code} 与不符合项不符（不符合项支持：{'、'.join(sorted(supported))}）",
                    f"sub-code {sub_code} is not supported by the failed points (they support: "
                    f"{', '.join(sorted(supported))})",
                )
            )
    return out

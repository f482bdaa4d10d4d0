"""The one place that maps official result codes, follow-ups and result states to wording.

Codes are those of the provincial 双随机 platforms: a main code, and for ``A``
(发现问题待后续处理) an optional sub-code saying what was found.
Every other module (CLI, public pages, demo, rules) takes its wording from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from supervision.errors import SupervisionError

__all__ = [
    "CODE_RULES",
    "FINDING_MIN",
    "FOLLOW_UPS",
    "FOLLOW_UP_REFS",
    "FOLLOW_UP_STATUSES",
    "MAIN_CODES",
    "RESULT_STATES",
    "SUB_CODES",
    "CodeRule",
    "ResultState",
    "Wording",
    "check_code",
    "code_problems",
    "effective_code",
    "result_label",
]


@dataclass(frozen=True)
class Wording:
    zh: str
    en: str

    def label(self) -> str:
        return f"{self.zh} / {self.en}"


#: Main result codes (检查结果).
MAIN_CODES: dict[str, Wording] = {
    "1": Wording("未发现问题", "no problem found"),
    "A": Wording("发现问题待后续处理", "problem found, follow-up pending"),
    "E": Wording("发现问题已责令改正", "problem found, correction ordered"),
    "F": Wording("未发现开展本次抽查涉及的经营活动", "no business activity covered by this check"),
    "7": Wording("已关闭停业或正在组织清算", "closed, suspended or in liquidation"),
    "8": Wording("不配合检查情节严重", "seriously uncooperative with the inspection"),
    "9": Wording("已注销", "deregistered"),
    "10": Wording("已被吊销", "licence revoked"),
    "11": Wording("已被撤销", "registration cancelled"),
    "12": Wording("已迁出", "moved out of the jurisdiction"),
}

#: Sub-codes of ``A`` (what the problem is).
SUB_CODES: dict[str, Wording] = {
    "B": Wording("未按规定公示应当公示的信息", "did not publish information it must publish"),
    "C": Wording(
        "公示信息隐瞒真实情况、弄虚作假", "published information conceals facts or is falsified"
    ),
    "6": Wording(
        "通过登记的住所（经营场所）无法联系",
        "cannot be reached at the registered address (business premises)",
    ),
    "D": Wording("违反其他市场监管规定", "breaches other market-regulation rules"),
    "3": Wording("违反食品药品管理相关规定", "breaches food and drug rules"),
    "4": Wording("违反质量技术监督相关规定", "breaches quality and technical supervision rules"),
    "5": Wording("违反其他部门相关规定", "breaches rules of other departments"),
}

#: Follow-up (后续处置) kinds.
FOLLOW_UPS: dict[str, Wording] = {
    "none": Wording("无需后续处置", "no follow-up needed"),
    "routine": Wording("转入日常监管", "back to routine supervision"),
    "rectification": Wording("责令限期整改", "rectification ordered by a deadline"),
    "abnormal_list": Wording("列入经营异常名录", "put on the list of abnormal operations"),
    "case_filed": Wording("立案调查", "case opened"),
    "penalty": Wording("行政处罚", "administrative penalty decided"),
    "case_transfer": Wording("移送办案机构", "transferred to a case-handling organ"),
    "notify": Wording("抄告相关部门", "notified to another department"),
}

#: Follow-ups that must say what they refer to (stored as ``follow_up_ref``).
FOLLOW_UP_REFS: dict[str, Wording] = {
    "case_filed": Wording("立案案号", "case number"),
    "penalty": Wording("行政处罚决定书文号", "penalty decision number"),
    "case_transfer": Wording("接收移送的机关", "organ the case was transferred to"),
    "notify": Wording("抄告的部门", "department notified"),
}

#: Follow-ups that record a problem found (every code reporting one needs one of these).
_ACTING = ("routine", "rectification", "abnormal_list", "case_filed", "penalty",
           "case_transfer", "notify")  # fmt: skip


@dataclass(frozen=True)
class CodeRule:
    """What one main result code allows: its sub-codes (and whether one is required),
    its follow-ups, and the least finding text (0: the finding may be empty)."""

    sub_codes: tuple[str, ...]
    sub_code_required: bool
    follow_ups: tuple[str, ...]
    finding_min: int


#: The one table of what each official result code allows. Source: the result codes and
#: sub-codes of the provincial 双随机 platforms (docs: shared domain reference), and their
#: meaning: 1 and the closed/deregistered codes record nothing to follow up; A
#: (problem found, follow-up pending) names the problem with a sub-code and needs a
#: follow-up; E (correction already ordered) is a rectification order with a due date;
#: 8 (seriously uncooperative) is followed up by the bureau's own measures.
FINDING_MIN = 5
CODE_RULES: dict[str, CodeRule] = {
    "1": CodeRule((), False, ("none",), 0),
    "A": CodeRule(tuple(SUB_CODES), True, _ACTING, FINDING_MIN),
    "E": CodeRule((), False, ("rectification",), FINDING_MIN),
    "F": CodeRule((), False, ("none", "routine"), 0),
    "7": CodeRule((), False, ("none", "routine"), 0),
    "8": CodeRule(
        (),
        False,
        ("abnormal_list", "case_filed", "penalty", "case_transfer", "notify"),
        FINDING_MIN,
    ),
    "9": CodeRule((), False, ("none",), 0),
    "10": CodeRule((), False, ("none",), 0),
    "11": CodeRule((), False, ("none",), 0),
    "12": CodeRule((), False, ("none", "notify"), 0),
}


def code_problems(
    code: str, sub_code: str | None, *, follow_up: str, finding: str, follow_up_ref: str | None
) -> list[tuple[str, str, str]]:
    """Every way a result breaks ``CODE_RULES``, as (field, Chinese, English); empty when
    it is consistent. ``code`` and ``sub_code`` must already be official (``check_code``)."""
    rule = CODE_RULES[code]
    out: list[tuple[str, str, str]] = []
    if rule.sub_code_required and not sub_code:
        out.append(
            (
                "sub_code",
                f"结果代码 {code} 必须带子代码（{'、'.join(rule.sub_codes)}）",
                f"result code {code} needs a sub-code ({', '.join(rule.sub_codes)})",
            )
        )
    if follow_up in FOLLOW_UPS and follow_up not in rule.follow_ups:
        allowed = "、".join(f"{k}（{FOLLOW_UPS[k].zh}）" for k in rule.follow_ups)
        out.append(
            (
                "follow_up",
                f"结果代码 {code}（{MAIN_CODES[code].zh}）不能配后续处置 {follow_up}，只能是 {allowed}",
                f"result code {code} ({MAIN_CODES[code].en}) cannot take follow-up {follow_up}; "
                f"allowed: {', '.join(rule.follow_ups)}",
            )
        )
    text = "".join(finding.split())
    if len(text) < rule.finding_min:
        out.append(
            (
                "finding",
                f"结果代码 {code} 必须写明检查发现，至少 {rule.finding_min} 个字（现为 {len(text)}）",
                f"result code {code} needs a finding of at least {rule.finding_min} characters "
                f"(got {len(text)})",
            )
        )
    ref = FOLLOW_UP_REFS.get(follow_up)
    if ref is not None and not (follow_up_ref and follow_up_ref.strip()):
        out.append(
            (
                "follow_up_ref",
                f"后续处置“{FOLLOW_UPS[follow_up].zh}”必须写明{ref.zh}",
                f"follow-up {follow_up} needs the {ref.en}",
            )
        )
    if ref is None and follow_up in FOLLOW_UPS and follow_up_ref and follow_up_ref.strip():
        out.append(
            (
                "follow_up_ref",
                f"后续处置“{FOLLOW_UPS[follow_up].zh}”没有案号、文号或机关可填",
                f"follow-up {follow_up} takes no reference",
            )
        )
    return out


FOLLOW_UP_STATUSES: dict[str, Wording] = {
    "not_needed": Wording("无需处置", "not needed"),
    "pending": Wording("处置中", "pending"),
    "done": Wording("已完成", "done"),
    "not_rectified": Wording("逾期未整改（移送办案）", "not rectified (case transfer)"),
}


class ResultState:
    """The names of the result states (the stored ``state`` values)."""

    NOT_ENTERED = "not_entered"  # no row yet
    ENTERED = "entered"
    RETURNED = "returned"
    APPROVED = "approved"
    PUBLISHED = "published"

    STORED: ClassVar[tuple[str, ...]] = ("entered", "returned", "approved", "published")


#: Result states (结果状态), in the order a result moves through them.
RESULT_STATES: dict[str, Wording] = {
    "not_entered": Wording("未录入", "not entered"),
    "entered": Wording("待审核", "entered, awaiting review"),
    "returned": Wording("退回", "returned"),
    "approved": Wording("通过", "approved"),
    "published": Wording("已公示", "published"),
}


def check_code(code: str, sub_code: str | None) -> tuple[str, str | None]:
    """Validate a main code and optional sub-code; returns them normalised (upper case)."""
    main = str(code).strip().upper()
    sub = None if sub_code is None or not str(sub_code).strip() else str(sub_code).strip().upper()
    if main not in MAIN_CODES:
        raise SupervisionError(
            f"检查结果代码 {code!r} 不是官方代码（{'、'.join(MAIN_CODES)}）",
            f"result code {code!r} is not an official code ({', '.join(MAIN_CODES)})",
        )
    if sub is not None and main != "A":
        raise SupervisionError(
            f"只有结果代码 A 可以带子代码，{main} 不能带子代码 {sub}",
            f"only result code A takes a sub-code; {main} cannot take {sub}",
        )
    if sub is not None and sub not in SUB_CODES:
        raise SupervisionError(
            f"子代码 {sub_code!r} 不是官方子代码（{'、'.join(SUB_CODES)}）",
            f"sub-code {sub_code!r} is not an official sub-code ({', '.join(SUB_CODES)})",
        )
    return main, sub


def effective_code(code: str, sub_code: str | None) -> str:
    """The code other systems record: the sub-code when A has one, else the main code."""
    return sub_code if code == "A" and sub_code else code


def result_label(code: str, sub_code: str | None = None) -> Wording:
    """The wording of a result: ``A`` with a sub-code reads "发现问题待后续处理：<sub>"."""
    main = MAIN_CODES[code]
    if sub_code:
        sub = SUB_CODES[sub_code]
        return Wording(f"{main.zh}：{sub.zh}", f"{main.en}: {sub.en}")
    return main

"""The legal reasons for listing on and removing from the credit registers.

A pure catalogue (no database): each reason has a code, the register it belongs to,
whether it lists or removes, the law and article, and its wording in Chinese and English.
A decision stores the reason's text as it reads when decided, so a later edit of this
catalogue does not rewrite past decisions. Articles cite the 2014 《企业经营异常名录管理暂行办法》
and the 2021 《市场监督管理严重违法失信名单管理办法》; where a current text's numbering is not
verified here, ``note`` says so. ``other`` reasons need the decision's own wording.

Which reason a finding proposes comes from its rule's legal basis (``reason_for_basis``):
a rule citing 第四条第（一）项 of the abnormal-list measures proposes reason ``4.1``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["REASONS", "Reason", "reason", "reason_for_basis", "reason_in", "removal_for"]

_ABNORMAL_MEASURES = "企业经营异常名录管理暂行办法"
_SERIOUS_MEASURES = "市场监督管理严重违法失信名单管理办法"
_INDIVIDUAL_MEASURES = "个体工商户年度报告办法"
_UNVERIFIED = "条号未在此核实 / article numbering not verified here"


@dataclass(frozen=True)
class Reason:
    code: str
    register: str  # abnormal_list / abnormal_status / serious_violation
    action: str  # list / remove
    law: str
    article: str
    zh: str
    en: str
    note: str = ""

    @property
    def text(self) -> str:
        """What a decision stores: 《law》article：wording."""
        basis = f"《{self.law}》{self.article}" if self.law else ""
        return f"{basis}：{self.zh}" if basis else self.zh

    def as_dict(self) -> dict[str, str]:
        return {
            "code": self.code, "register": self.register, "action": self.action,
            "law": self.law, "article": self.article, "zh": self.zh, "en": self.en,
            "note": self.note, "text": self.text,
        }  # fmt: skip


REASONS: tuple[Reason, ...] = (
    Reason(
        "4.1",
        "abnormal_list",
        "list",
        _ABNORMAL_MEASURES,
        "第四条第（一）项",
        "未按照规定的期限公示年度报告",
        "annual report not published by the deadline",
    ),
    Reason(
        "4.2",
        "abnormal_list",
        "list",
        _ABNORMAL_MEASURES,
        "第四条第（二）项",
        "未在市场监督管理部门责令的期限内公示有关企业信息",
        "information not published within the period ordered",
    ),
    Reason(
        "4.3",
        "abnormal_list",
        "list",
        _ABNORMAL_MEASURES,
        "第四条第（三）项",
        "公示企业信息隐瞒真实情况、弄虚作假",
        "published information false or concealing facts",
    ),
    Reason(
        "4.4",
        "abnormal_list",
        "list",
        _ABNORMAL_MEASURES,
        "第四条第（四）项",
        "通过登记的住所或者经营场所无法联系",
        "cannot be contacted at the registered address or premises",
    ),
    Reason(
        "r.report",
        "abnormal_list",
        "remove",
        _ABNORMAL_MEASURES,
        "第十一条",
        "已补报未报年份的年度报告并公示",
        "the missing annual reports are filed and published",
    ),
    Reason(
        "r.info",
        "abnormal_list",
        "remove",
        _ABNORMAL_MEASURES,
        "第十二条",
        "已更正其公示的信息",
        "the published information is corrected",
    ),
    Reason(
        "r.address",
        "abnormal_list",
        "remove",
        _ABNORMAL_MEASURES,
        "第十三条",
        "依法办理住所或者经营场所变更登记，或者提出通过登记的住所或者经营场所可以重新取得联系",
        "the address is changed by registration or it can be contacted again",
    ),
    Reason(
        "i.report",
        "abnormal_status",
        "list",
        _INDIVIDUAL_MEASURES,
        "",
        "未按照规定报送年度报告",
        "annual report not filed as required",
        _UNVERIFIED,
    ),
    Reason(
        "i.address",
        "abnormal_status",
        "list",
        _INDIVIDUAL_MEASURES,
        "",
        "通过登记的经营场所无法联系",
        "cannot be contacted at the registered premises",
        _UNVERIFIED,
    ),
    Reason(
        "i.r.report",
        "abnormal_status",
        "remove",
        _INDIVIDUAL_MEASURES,
        "",
        "已补报年度报告",
        "the missing annual report is filed",
        _UNVERIFIED,
    ),
    Reason(
        "i.r.address",
        "abnormal_status",
        "remove",
        _INDIVIDUAL_MEASURES,
        "",
        "经营场所可以重新取得联系",
        "the premises can be contacted again",
        _UNVERIFIED,
    ),
    Reason(
        "s.13",
        "serious_violation",
        "list",
        _SERIOUS_MEASURES,
        "第十三条",
        "被列入经营异常名录届满三年仍未履行相关义务",
        "three years on the abnormal list without fulfilling the obligations",
    ),
    Reason(
        "s.r.repair",
        "serious_violation",
        "remove",
        _SERIOUS_MEASURES,
        "信用修复",
        "已履行相关义务，经申请信用修复",
        "obligations fulfilled; credit repair granted",
        _UNVERIFIED,
    ),
    Reason(
        "other",
        "",
        "list",
        "",
        "",
        "其他（决定书写明依据）",
        "other (the decision states its basis)",
    ),
    Reason(
        "r.other",
        "",
        "remove",
        "",
        "",
        "其他（决定书写明依据）",
        "other (the decision states its basis)",
    ),
)

#: Listing reason → the removal reason that cures it.
_CURES = {
    "4.1": "r.report", "4.2": "r.info", "4.3": "r.info", "4.4": "r.address",
    "i.report": "i.r.report", "i.address": "i.r.address", "s.13": "s.r.repair",
}  # fmt: skip


def reason(code: str, *, register: str, action: str) -> Reason:
    """The built-in reason ``code`` for this register and action; a bilingual ``ValueError``
    else (``supervision.credit.reasons`` adds the configured file)."""
    return reason_in(REASONS, code, register=register, action=action)


def reason_in(reasons: tuple[Reason, ...], code: str, *, register: str, action: str) -> Reason:
    """The reason ``code`` of ``reasons`` for this register and action; a bilingual
    ``ValueError`` else."""
    found = next((r for r in reasons if r.code == code.strip()), None)
    if found is None or found.action != action or found.register not in ("", register):
        codes = ", ".join(r.code for r in reasons if r.action == action
                          and r.register in ("", register))  # fmt: skip
        raise ValueError(
            f"理由代码 {code} 不适用于{'列入' if action == 'list' else '移出'}该名录，可选：{codes} / "
            f"reason {code} does not apply to this {action} on {register}; choose one of: {codes}"
        )
    return found


def removal_for(code: str) -> str:
    """The removal reason that answers a listing reason (``r.other`` when none is known)."""
    return _CURES.get(code, "r.other")


def reason_for_basis(register: str, articles: list[tuple[str, str]], result_code: str) -> str:
    """The listing reason a rule proposes, from its legal basis ((law, article) pairs) or,
    when no cited article names one, its result code (B, C, 6)."""
    if register == "serious_violation":
        return "s.13" if any(law == _SERIOUS_MEASURES for law, _ in articles) else "other"
    if register == "abnormal_status":
        return {"6": "i.address"}.get(result_code, "i.report")
    for law, article in articles:
        if law != _ABNORMAL_MEASURES:
            continue
        for number, code in (("（一）", "4.1"), ("（二）", "4.2"), ("（三）", "4.3"),
                             ("（四）", "4.4")):  # fmt: skip
            if number in article:
                return code
    return {"B": "4.1", "C": "4.3", "6": "4.4"}.get(result_code, "other")

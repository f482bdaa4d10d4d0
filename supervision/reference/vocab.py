"""Controlled vocabularies of the regime, each in one place.

Values are stored as the official Chinese wording; English names are accepted on
input (``enterprise`` for 企业) so that scripts can stay ASCII.
"""

from __future__ import annotations

from enum import StrEnum


class Vocab(StrEnum):
    """A StrEnum whose members also answer to an English alias."""

    @classmethod
    def english(cls) -> dict[str, str]:
        return {}

    @classmethod
    def parse(cls, value: object) -> Vocab:
        """Accept the Chinese value, the English alias or the member name (any case)."""
        text = str(value).strip()
        member = cls._value2member_map_.get(text)  # the stored value: the common case, fast
        if member is not None:
            return member  # type: ignore[return-value]
        lowered = text.lower()
        for member in cls:
            if lowered == member.name.lower() or lowered == cls.english().get(member.value, ""):
                return member
        allowed = "、".join(m.value for m in cls)
        raise ValueError(f"取值必须是 {allowed} 之一 / must be one of {allowed}")


class EntityType(Vocab):
    ENTERPRISE = "企业"
    INDIVIDUAL = "个体工商户"
    COOPERATIVE = "农民专业合作社"

    @classmethod
    def english(cls) -> dict[str, str]:
        return {"企业": "enterprise", "个体工商户": "individual", "农民专业合作社": "cooperative"}


class EntityStatus(Vocab):
    ACTIVE = "存续"
    CANCELLED = "注销"
    REVOKED = "吊销"
    WITHDRAWN = "撤销"
    MOVED_OUT = "迁出"

    @classmethod
    def english(cls) -> dict[str, str]:
        return {
            "存续": "active",
            "注销": "cancelled",
            "吊销": "revoked",
            "撤销": "withdrawn",
            "迁出": "moved_out",
        }


class EntitySize(Vocab):
    LARGE = "大型"
    MEDIUM = "中型"
    SMALL = "小型"
    MICRO = "微型"

    @classmethod
    def english(cls) -> dict[str, str]:
        return {"大型": "large", "中型": "medium", "小型": "small", "微型": "micro"}


class RiskClass(Vocab):
    """信用风险分类 (SAMR 2022): A low, B average, C higher, D high."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"


class InspectorStatus(Vocab):
    ACTIVE = "在岗"
    TRANSFERRED = "调离"
    RETIRED = "退休"

    @classmethod
    def english(cls) -> dict[str, str]:
        return {"在岗": "active", "调离": "transferred", "退休": "retired"}


class ItemKind(Vocab):
    GENERAL = "一般"
    KEY = "重点"

    @classmethod
    def english(cls) -> dict[str, str]:
        return {"一般": "general", "重点": "key"}


class InspectionMethod(Vocab):
    DOCUMENTS = "书面检查"
    ON_SITE = "实地核查"
    ONLINE = "网络监测"
    SAMPLING = "抽样检测"

    @classmethod
    def english(cls) -> dict[str, str]:
        return {
            "书面检查": "documents",
            "实地核查": "on_site",
            "网络监测": "online",
            "抽样检测": "sampling",
        }


class RecordKind(Vocab):
    """Kinds of compliance records; each has its own payload model in models.records."""

    ANNUAL_REPORT = "annual_report"
    IMMEDIATE_INFO = "immediate_info"
    LICENCE = "licence"
    COMPLAINT = "complaint"
    INSPECTION_RESULT = "inspection_result"
    RECTIFICATION_ORDER = "rectification_order"
    ADDRESS_CHECK = "address_check"
    INFO_CHECK = "info_check"

    @classmethod
    def english(cls) -> dict[str, str]:
        return {}

    @property
    def zh(self) -> str:
        return {
            "annual_report": "年度报告",
            "immediate_info": "即时信息",
            "licence": "许可证",
            "complaint": "投诉举报",
            "inspection_result": "检查结果",
            "rectification_order": "责令整改",
            "address_check": "住所核查",
            "info_check": "公示信息核查",
        }[self.value]

"""Validators shared by the XCreate models: one definition of each check."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

from supervision.reference.regions import check_region_code

#: GB 32100 characters of a 统一社会信用代码 (no I, O, S, V, Z).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# The GB 32100 weights are 3**i mod 31, and 34 ≡ 3 (mod 31): the weighted sum of the
# first 17 characters is, mod 31, those characters reversed read as one base-34 number.
_USCC_AS_DIGITS = str.maketrans(USCC_ALPHABET, "0123456789ABCDEFGHIJKLMNOPQRSTU")
_USCC_SHAPE = re.compile(r"\d{8}[0-9A-HJ-NP-RTUWXY]{10}")
_INDUSTRY = re.compile(r"^[A-T](\d{2}(\d{1,2})?)?$")
_SEPARATORS = re.compile(r"[、,，;；|\s]+")


def uscc_check_char(first17: str) -> str:
    """The GB 32100 check character of the first 17 characters of a USCC (the same
    computation as ``stdnum.cn.uscc.calc_check_digit``, in one ``int()``)."""
    return USCC_ALPHABET[-int(first17[::-1].translate(_USCC_AS_DIGITS), 34) % 31]


def check_uscc(value: Any) -> str:
    """统一社会信用代码: 18 characters with the GB 32100-2015 check character."""
    text = str(value).strip().upper()
    # Fast path for the common, well-formed case (bulk imports validate millions of codes);
    # it computes the same GB 32100 check as stdnum, which handles everything else.
    if _USCC_SHAPE.fullmatch(text) and uscc_check_char(text[:17]) == text[17]:
        return text
    try:
        return str(stdnum_uscc.validate(text))
    except InvalidLength:
        raise ValueError(
            f"统一社会信用代码应为18位，实际 {len(text)} 位 / a USCC has 18 characters, got {len(text)}"
        ) from None
    except InvalidChecksum:
        raise ValueError("统一社会信用代码校验位错误 / wrong USCC check character") from None
    except (InvalidFormat, InvalidComponent):
        raise ValueError(
            "统一社会信用代码含非法字符或结构错误 / USCC has invalid characters or structure"
        ) from None


def check_region(value: Any) -> str:
    return check_region_code(str(value))


def check_industry(value: Any) -> str:
    """GB/T 4754 code: a section letter, optionally with 2–4 digits (F, F52, F521, F5211)."""
    text = str(value).strip().upper()
    if not _INDUSTRY.match(text):
        raise ValueError(
            "国民经济行业代码应为门类字母加2-4位数字，如 F5211 / "
            "GB/T 4754 industry code is a section letter plus 2-4 digits, e.g. F5211"
        )
    return text


def as_date(value: Any) -> Any:
    """Dates from Excel arrive as datetimes; from text as ISO or 2025/3/1 or 2025年3月1日."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
        if m:
            try:
                return date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                raise ValueError(f"不存在的日期 {text} / no such date {text}") from None
        raise ValueError(
            f"日期格式应为 YYYY-MM-DD，实际为 {text} / a date is YYYY-MM-DD, got {text}"
        )
    return value


def as_list(value: Any) -> Any:
    """A list given in one cell: 'a、b,c' → ['a', 'b', 'c']."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in _SEPARATORS.split(value.strip()) if part]
    return value


def as_bool(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip().lower()
        if text in {"是", "true", "1", "yes", "y", "t"}:
            return True
        if text in {"否", "false", "0", "no", "n", "f", ""}:
            return False
        raise ValueError(f"应为 是/否，实际为 {value} / expected yes/no, got {value}")
    return value


def blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value

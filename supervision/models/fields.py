"""Validators shared by the XCreate models: one definition of each check."""

from __future__ import annotations

import re
import unicodedata
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


# ---------------------------------------------------------------- text that may be stored
#: Bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069) and marks: they
#: reorder what a reader sees (``abc\u202etxt.exe``) without changing what is stored.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
#: Characters a field that allows line breaks may hold although they are controls.
LINE_BREAKS = frozenset("\n\r\t")
#: Characters that show as nothing (zero-width, fillers, joiners, variation selectors):
#: two codes differing only by one of them look identical.
_INVISIBLE_EXTRA = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180e\u3164\uffa0")
#: Longest value an error message repeats; longer ones are cut (a 10 MB cell must not
#: become a 20 MB message).
SHOWN_CHARS = 80


def shown(value: Any, limit: int = SHOWN_CHARS) -> str:
    """``repr`` of a value for a message, cut to `limit` characters with the full length."""
    text = repr(value) if not isinstance(value, str) else value
    if len(text) <= limit:
        return repr(text) if isinstance(value, str) else text
    cut = repr(text[:limit]) if isinstance(value, str) else text[:limit]
    return f"{cut}…（共 {len(text)} 字符 / {len(text)} characters）"


#: What no stored text may hold, and what single-line text may not hold either (a regex
#: search runs at C speed: imports check millions of cells).
_UNSAFE_MULTILINE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_UNSAFE_SINGLE_LINE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def text_problem(text: str, *, multiline: bool = False) -> tuple[str, str] | None:
    """Why `text` may not be stored, in Chinese and English; None when it may.

    C0 and C1 control characters (U+0000–U+001F, U+007F–U+009F) are refused, except line
    breaks and tabs in fields that allow them (`multiline`); so are bidi overrides and
    marks (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C) and lone surrogates.
    """
    found = (_UNSAFE_MULTILINE if multiline else _UNSAFE_SINGLE_LINE).search(text)
    if found is None:
        return None
    position, ch = found.start() + 1, found.group()
    name = f"U+{ord(ch):04X}"
    if ch in BIDI_CONTROLS:
        return (
            f"第 {position} 个字符是双向文本控制符 {name}，会改变文字的显示顺序",
            f"character {position} is the bidirectional control {name}, which "
            "reorders what a reader sees",
        )
    if 0xD800 <= ord(ch) <= 0xDFFF:
        return (
            f"第 {position} 个字符 {name} 不是有效的 Unicode 字符",
            f"character {position} ({name}) is not a valid Unicode character",
        )
    what = "换行或制表符" if ch in LINE_BREAKS else "控制字符"
    return (
        f"第 {position} 个字符是{what} {name}，此字段不允许",
        f"character {position} is the control character {name}, not allowed here",
    )


def check_text(value: Any, *, multiline: bool = False) -> Any:
    """A validator: text without control characters or bidi overrides (other values pass)."""
    if isinstance(value, str):
        problem = text_problem(value, multiline=multiline)
        if problem is not None:
            raise ValueError(f"{problem[0]} / {problem[1]}")
    elif isinstance(value, list):
        for item in value:
            check_text(item, multiline=multiline)
    return value


def check_multiline_text(value: Any) -> Any:
    """A validator: free text (line breaks and tabs allowed), no other controls."""
    return check_text(value, multiline=True)


def normalise_keys(value: Any) -> Any:
    """A validator: `normalise_key` on a code, or on each code of a list or of a cell
    listing several (``'a、b'``)."""
    if isinstance(value, list):
        return [normalise_key(v) for v in value]
    return normalise_key(value) if isinstance(value, str) else value


def is_invisible(ch: str) -> bool:
    """Format characters (zero-width space, joiners, BOM…), fillers and variation selectors."""
    code = ord(ch)
    return (
        unicodedata.category(ch) == "Cf"
        or ch in _INVISIBLE_EXTRA
        or 0xFE00 <= code <= 0xFE0F
        or 0xE0100 <= code <= 0xE01EF
    )


def normalise_key(value: Any) -> str:
    """A code or user name as stored and compared: NFKC (full-width → half-width), trimmed;
    control and invisible characters refused, so that two keys that look the same are the
    same key (``T1``, ``T１``, ``T1 `` and ``T1\\u200b`` are one code, or refused)."""
    raw = str(value)
    for position, ch in enumerate(raw, start=1):
        if is_invisible(ch):
            raise ValueError(
                f"第 {position} 个字符 U+{ord(ch):04X} 是不可见字符，编号和用户名中不允许 / "
                f"character {position} is the invisible U+{ord(ch):04X}, not allowed in "
                "codes and user names"
            )
    text = unicodedata.normalize("NFKC", raw).strip()
    check_text(text)
    return text


#: Whole-column forms of the text checks, for bulk imports: text built by joining
#: values holds a refused character exactly when one of them does (one C-speed search
#: over a column instead of a call per cell). Each returns whether the column passes.
COLUMN_CHECKS: dict[Any, Any] = {
    check_text: lambda texts: _column_passes(texts, _UNSAFE_SINGLE_LINE),
    check_multiline_text: lambda texts: _column_passes(texts, _UNSAFE_MULTILINE),
}


def _column_passes(texts: list[str], unsafe: re.Pattern[str]) -> bool:
    joined = "".join(texts)
    # Printable text (the common case) holds no control, bidi or surrogate character;
    # str.isprintable is a much faster scan than the regex, which settles the rest.
    return joined.isprintable() or unsafe.search(joined) is None

"""Seeds, tickets and ratios of the entity draw (pure: no database, no I/O).

A ticket is ``consistent-sampler``'s first-generation ticket (see ``draw.sampling`` for
the formula); a ratio is an exact decimal in (0, 1]; ``DrawError`` is the draw's error.
"""

from __future__ import annotations

import hashlib
import math
import unicodedata
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from supervision.errors import SupervisionError

SEED_MAX_LENGTH = 100
"""Longest seed accepted, in characters."""

TICKET_DIGITS = 18
"""Significant digits kept in a published ticket (consistent_sampler's ``digits``)."""

# Unicode categories refused in a seed: controls, format, surrogates, private use,
# unassigned, line and paragraph separators.  Spaces (Zs) are allowed verbatim.
_BAD_SEED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


class DrawError(SupervisionError, ValueError):
    """A draw cannot be made from the given input; message in Chinese and English."""


def validate_seed(seed: object) -> str:
    """Return ``seed`` unchanged if it is a usable seed, else raise DrawError.

    A seed is a string of 1..100 printable characters, taken verbatim: it is never
    converted to a number, so "0123" and "123" are different seeds.  Spaces are
    allowed; newlines, tabs and other control or invisible format characters are not.
    """
    if not isinstance(seed, str):
        raise DrawError(
            f"随机种子必须是字符串，收到 {type(seed).__name__}",
            f"the seed must be a string, got {type(seed).__name__}",
        )
    if not seed:
        raise DrawError("随机种子不能为空", "the seed must not be empty")
    if len(seed) > SEED_MAX_LENGTH:
        raise DrawError(
            f"随机种子最多 {SEED_MAX_LENGTH} 个字符，现有 {len(seed)} 个",
            f"the seed may have at most {SEED_MAX_LENGTH} characters, it has {len(seed)}",
        )
    for position, char in enumerate(seed, start=1):
        if unicodedata.category(char) in _BAD_SEED_CATEGORIES:
            raise DrawError(
                f"随机种子第 {position} 个字符 U+{ord(char):04X} 不可打印（不得含换行、制表等控制字符）",
                f"seed character {position} (U+{ord(char):04X}) is not printable "
                "(no newlines, tabs or other control characters)",
            )
    return seed


def entered_seed(seed: object) -> str:
    """The one rule for a seed entered at any door (CLI, console, API, scheduler, seed entry).

    The seed is taken verbatim, never trimmed or converted; one that begins or ends with
    whitespace (a space, a tab, U+3000 ...) is refused rather than trimmed: the space is
    invisible on the published notice, so nobody could repeat the draw from what they
    see, and trimming it silently would draw with a seed other than the one typed.
    Otherwise the same as ``validate_seed``.
    """
    text = validate_seed(seed)
    if text != text.strip():
        end = "开头" if text[:1].isspace() else "结尾"
        end_en = "begins" if text[:1].isspace() else "ends"
        raise DrawError(
            f"随机种子{end}有空白字符；种子原样使用，不会自动去除空白，请删去后重新输入",
            f"the seed {end_en} with whitespace; seeds are taken verbatim and never trimmed: "
            "remove it and enter the seed again",
        )
    return text


def seed_hash(seed: str) -> str:
    """Return H(seed): the lowercase hex SHA-256 of the seed's UTF-8 bytes."""
    return hashlib.sha256(validate_seed(seed).encode("utf-8")).hexdigest()


def full_ticket_from_digest(digest: bytes) -> str:
    # consistent_sampler.sha256_uniform: "{:064d}" pads to at least 64 digits
    # (a SHA-256 value has up to 78), then the digit string is reversed.
    return "0." + f"{int.from_bytes(digest, 'big'):064d}"[::-1]


def ticket(seed: str, id: str) -> str:
    """Return the full first-generation ticket of ``id`` under ``seed``.

    Identical to ``consistent_sampler.first_fraction(id, seed)``.
    """
    prefix = seed_hash(seed)
    return full_ticket_from_digest(hashlib.sha256((prefix + id).encode("utf-8")).digest())


def trim_ticket(full_ticket: str, digits: int = TICKET_DIGITS) -> str:
    """Trim a ticket to ``digits`` significant digits after its leading 9s.

    Truncates, never rounds; identical to ``consistent_sampler.trim``.
    """
    mantissa = full_ticket[2:]
    leading_9s = len(mantissa) - len(mantissa.lstrip("9"))
    return full_ticket[: 2 + leading_9s + digits]


def parse_ratio(ratio: object, stratum: str = "") -> Decimal:
    """Return ``ratio`` as a Decimal in (0, 1], else raise DrawError.

    Accepts Decimal, int or a decimal string such as "0.05".  Floats are refused:
    0.1 as a float is not one tenth, and a draw must be exact.
    """
    where_zh = f"分层 {stratum!r} 的" if stratum else ""
    where_en = f" for stratum {stratum!r}" if stratum else ""
    if isinstance(ratio, (bool, float)):
        raise DrawError(
            f'{where_zh}抽查比例须写成精确小数（如 "0.05" 或 Decimal），不能用浮点数 {ratio!r}',
            f'the ratio{where_en} must be exact (e.g. "0.05" or a Decimal), not the float {ratio!r}',
        )
    try:
        value = ratio if isinstance(ratio, Decimal) else Decimal(str(ratio).strip())
    except (InvalidOperation, ValueError):
        value = Decimal("NaN")
    if not isinstance(ratio, (Decimal, int, str)) or not value.is_finite():
        raise DrawError(
            f"{where_zh}抽查比例 {ratio!r} 不是有效的数",
            f"the ratio{where_en} {ratio!r} is not a valid number",
        )
    if not (0 < value <= 1):
        raise DrawError(
            f"{where_zh}抽查比例 {value} 必须大于 0 且不超过 1",
            f"the ratio{where_en} {value} must be greater than 0 and at most 1",
        )
    return value


def n_for(ratio: Decimal | int | str, population: int) -> int:
    """Return ``ceil(ratio × population)``, computed exactly (no rounding)."""
    if population < 0:
        raise DrawError("总体数量不能为负", "the population size cannot be negative")
    exact = Fraction(parse_ratio(ratio)) * population
    return math.ceil(exact)

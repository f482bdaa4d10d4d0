"""Personal data of natural persons: how it is masked wherever the public can see it."""

from __future__ import annotations

import re
from collections.abc import Iterable


def mask_name(name: str | None) -> str:
    """Mask a natural person's name the way disclosure practice does.

    李小江 → 李某江; 李江 → 李某; 欧阳娜娜 → 欧某某娜. Empty stays empty.
    """
    if not name:
        return ""
    name = name.strip()
    if len(name) <= 1:
        return "某"
    if len(name) == 2:
        return name[0] + "某"
    return name[0] + "某" * (len(name) - 2) + name[-1]


# 18-digit resident ID numbers (last character may be X), 15-digit old ones, mainland
# mobile numbers and landlines with an area code: never shown on public pages.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(?:1[3-9]\d{9}|0\d{2,3}[- ]?\d{7,8})(?!\d)")


def redact(text: str | None, names: Iterable[str] = ()) -> str:
    """Free text made fit for the public: known natural persons' names masked with
    ``mask_name``, ID numbers and phone numbers replaced by ``***``.

    `names` are the natural persons the text may mention (an entity's legal representative
    or operator, people recorded beside a finding); longest first, so 欧阳娜娜 is masked
    before 欧阳.
    """
    if not text:
        return ""
    result = _ID_NUMBER.sub("***", text)
    result = _PHONE.sub("***", result)
    for name in sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True):
        result = result.replace(name, mask_name(name))
    return result

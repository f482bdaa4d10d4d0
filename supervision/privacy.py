"""Personal data of natural persons: how it is masked wherever the public can see it."""

from __future__ import annotations


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

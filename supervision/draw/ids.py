"""Checks on the draw's input: ids usable one per line, no duplicates, strata with ratios
(pure: no database, no I/O)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from supervision.draw.tickets import DrawError, n_for, parse_ratio

# Characters that would break "one id per line" files or are invisible controls.
_BAD_ID_CHARS = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]")
# The same on UTF-8 bytes, checked with plain bytes operations (a regular expression
# over a chunk costs as much as hashing it).  "\n" separates ids in a chunk.
_CONTROL_BYTES = bytes([b for b in range(0x20) if b != 0x0A] + [0x7F])
_BAD_NON_ASCII = (b"\xc2\x85", b"\xe2\x80\xa8", b"\xe2\x80\xa9")


def clean(blob: bytes) -> bool:
    """True if no id in the chunk is empty or holds a control or line-breaking character."""
    return (
        bool(blob)
        and not blob.startswith(b"\n")
        and not blob.endswith(b"\n")
        and b"\n\n" not in blob
        and len(blob.translate(None, _CONTROL_BYTES)) == len(blob)
        and (blob.isascii() or not any(sequence in blob for sequence in _BAD_NON_ASCII))
    )


def validate_ids(strata: Mapping[str, Sequence[str]]) -> None:
    """Raise DrawError unless every id is a non-empty string, usable on one line,
    and no id appears twice (within or across strata)."""
    for name, ids in strata.items():
        check_id_text(name, ids)
    check_duplicates(strata)


def check_duplicates(strata: Mapping[str, Sequence[str]]) -> None:
    seen: set[str] = set()
    total = 0
    for name, ids in strata.items():
        total += len(ids)
        try:
            seen.update(ids)
        except TypeError:
            check_id_text(name, ids)  # names the id that is not a string
            raise
    if len(seen) != total:
        _raise_duplicates(strata)


def check_id_text(stratum: str, ids: Sequence[str]) -> None:
    for bad in (i for i in ids if not isinstance(i, str)):
        raise DrawError(
            f"分层 {stratum!r} 中的主体标识必须是字符串，收到 {bad!r}",
            f"ids in stratum {stratum!r} must be strings, got {bad!r}",
        )
    joined = "\n".join(ids)
    if (
        "" in ids
        or joined.count("\n") != len(ids) - 1
        or _BAD_ID_CHARS.search(joined.replace("\n", " ")) is not None
    ):
        bad_id = next(i for i in ids if not i or _BAD_ID_CHARS.search(i))
        raise DrawError(
            f"分层 {stratum!r} 中的主体标识 {bad_id!r} 为空或含换行、控制字符",
            f"id {bad_id!r} in stratum {stratum!r} is empty or contains a newline or control character",
        )
    try:
        joined.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad_id = _id_around(joined, exc.start)
        raise DrawError(
            f"分层 {stratum!r} 中的主体标识 {bad_id!r} 不是有效的 Unicode 文本",
            f"id {bad_id!r} in stratum {stratum!r} is not valid Unicode text",
        ) from None


def _id_around(joined: str, position: int) -> str:
    start = joined.rfind("\n", 0, position) + 1
    end = joined.find("\n", position)
    return joined[start : end if end >= 0 else len(joined)]


def _raise_duplicates(strata: Mapping[str, Sequence[str]]) -> None:
    where: dict[str, list[str]] = {}
    for name, ids in strata.items():
        for i in ids:
            where.setdefault(i, []).append(name)
    dupes = sorted((i, names) for i, names in where.items() if len(names) > 1)
    shown = "; ".join(f"{i} ({', '.join(names)})" for i, names in dupes[:10])
    more = f" …(+{len(dupes) - 10})" if len(dupes) > 10 else ""
    raise DrawError(
        f"主体标识重复 {len(dupes)} 个：{shown}{more}",
        f"{len(dupes)} duplicate id(s): {shown}{more}",
    )


def check_strata(
    strata: Mapping[str, Sequence[str]], ratios: Mapping[str, object]
) -> dict[str, int]:
    """Validate stratum names and ratios; return n_h per stratum."""
    if not strata or sum(len(ids) for ids in strata.values()) == 0:
        raise DrawError(
            "抽查总体为空，没有可抽取的主体", "the population is empty: nothing to draw"
        )
    for name in strata:
        if not isinstance(name, str) or not name or _BAD_ID_CHARS.search(name):
            raise DrawError(
                f"分层名称 {name!r} 必须是不含控制字符的非空字符串",
                f"stratum name {name!r} must be a non-empty string without control characters",
            )
    missing = sorted(set(strata) - set(ratios))
    extra = sorted(set(ratios) - set(strata))
    if missing:
        raise DrawError(
            f"分层 {', '.join(missing)} 没有抽查比例", f"no ratio for stratum {', '.join(missing)}"
        )
    if extra:
        raise DrawError(
            f"分层 {', '.join(extra)} 有抽查比例但没有主体（总体为空）",
            f"stratum {', '.join(extra)} has a ratio but no population",
        )
    sizes: dict[str, int] = {}
    for name, ids in strata.items():
        ratio = parse_ratio(ratios[name], name)
        if len(ids) == 0:
            raise DrawError(
                f"分层 {name!r} 有抽查比例 {ratio} 但总体为空",
                f"stratum {name!r} has ratio {ratio} but an empty population",
            )
        sizes[name] = n_for(ratio, len(ids))
    return sizes

"""The verifiable entity draw (双随机 #1): pure logic, no database, no I/O.

Anyone can recompute a draw with the public ``consistent-sampler`` package
(version 1.0.10), because every ticket here is that package's first-generation
ticket:

    H(x)       = lowercase hex SHA-256 of the UTF-8 bytes of x
    ticket(i)  = "0." + reversed(decimal of int(H(H(seed) + i), 16), zero-padded to 64 digits)

Within each stratum the ``n_h = ceil(r_h × N_h)`` ids with the smallest tickets are
drawn (ties, which need a SHA-256 coincidence, by id), exactly like
``consistent_sampler.sampler(ids, seed, take=n_h, digits=18)``.

Why it is fast: a ticket's first ``j`` digits are the reversed ``j`` lowest decimal
digits of the hash, so ``int(hash) mod 10**j`` decides whether an id can possibly be
among the smallest tickets.  We keep only ids whose ``j``-digit prefix is below a
threshold chosen so that, with an overwhelming margin, at least ``n_h`` ids pass;
only those get a full 78-digit ticket, and the exact order is decided on the full
tickets.  If fewer than ``n_h`` pass (probability below 1e-9), the stratum is
scanned again with a wider threshold, so the result is always exact.  The scan
runs in chunks, optionally over several processes (spawn-safe).
"""

from __future__ import annotations

import hashlib
import heapq
import math
import multiprocessing
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

import numpy as np

from supervision.errors import SupervisionError

__all__ = [
    "SEED_MAX_LENGTH",
    "TICKET_DIGITS",
    "DrawError",
    "Pick",
    "draw_entities",
    "n_for",
    "parse_ratio",
    "seed_hash",
    "ticket",
    "trim_ticket",
    "validate_ids",
    "validate_seed",
]

SEED_MAX_LENGTH = 100
"""Longest seed accepted, in characters."""

TICKET_DIGITS = 18
"""Significant digits kept in a published ticket (consistent_sampler's ``digits``)."""

# Populations at least this big are scanned in worker processes when workers > 1;
# below it, starting processes costs more than it saves.
PARALLEL_MIN_IDS = 1_000_000
# Ids per chunk sent to a worker: big enough to amortise pickling, small enough
# to keep both cores busy until the end and memory flat.
CHUNK_IDS = 250_000
# Standard deviations of safety margin when choosing the prefix threshold.
_MARGIN_SIGMAS = 7.0

# Characters that would break "one id per line" files or are invisible controls.
_BAD_ID_CHARS = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]")
# The same on UTF-8 bytes, checked with plain bytes operations (a regular expression
# over a chunk costs as much as hashing it).  "\n" separates ids in a chunk.
_CONTROL_BYTES = bytes([b for b in range(0x20) if b != 0x0A] + [0x7F])
_BAD_NON_ASCII = (b"\xc2\x85", b"\xe2\x80\xa8", b"\xe2\x80\xa9")
# Unicode categories refused in a seed: controls, format, surrogates, private use,
# unassigned, line and paragraph separators.  Spaces (Zs) are allowed verbatim.
_BAD_SEED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


class DrawError(SupervisionError, ValueError):
    """A draw cannot be made from the given input; message in Chinese and English."""


@dataclass(frozen=True)
class Pick:
    """One drawn entity: its stratum, id, published ticket and 1-based rank in the stratum."""

    stratum: str
    id: str
    ticket: str
    rank: int


# ---------------------------------------------------------------------------
# Seeds, tickets, ratios


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


def seed_hash(seed: str) -> str:
    """Return H(seed): the lowercase hex SHA-256 of the seed's UTF-8 bytes."""
    return hashlib.sha256(validate_seed(seed).encode("utf-8")).hexdigest()


def _full_ticket_from_digest(digest: bytes) -> str:
    # consistent_sampler.sha256_uniform: "{:064d}" pads to at least 64 digits
    # (a SHA-256 value has up to 78), then the digit string is reversed.
    return "0." + f"{int.from_bytes(digest, 'big'):064d}"[::-1]


def ticket(seed: str, id: str) -> str:
    """Return the full first-generation ticket of ``id`` under ``seed``.

    Identical to ``consistent_sampler.first_fraction(id, seed)``.
    """
    prefix = seed_hash(seed)
    return _full_ticket_from_digest(hashlib.sha256((prefix + id).encode("utf-8")).digest())


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


# ---------------------------------------------------------------------------
# Input validation


def validate_ids(strata: Mapping[str, Sequence[str]]) -> None:
    """Raise DrawError unless every id is a non-empty string, usable on one line,
    and no id appears twice (within or across strata)."""
    for name, ids in strata.items():
        _check_id_text(name, ids)
    _check_duplicates(strata)


def _check_duplicates(strata: Mapping[str, Sequence[str]]) -> None:
    seen: set[str] = set()
    total = 0
    for name, ids in strata.items():
        total += len(ids)
        try:
            seen.update(ids)
        except TypeError:
            _check_id_text(name, ids)  # names the id that is not a string
            raise
    if len(seen) != total:
        _raise_duplicates(strata)


def _check_id_text(stratum: str, ids: Sequence[str]) -> None:
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


def _check_strata(
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


# ---------------------------------------------------------------------------
# The scan


@dataclass(frozen=True)
class _Plan:
    """Prefix filter for one stratum: keep ids whose first ``digits`` ticket digits,
    read as an integer, are below ``limit``."""

    digits: int
    limit: int

    @property
    def keeps_all(self) -> bool:
        return self.limit >= 10**self.digits


def _plan(n: int, population: int, widen: int = 0) -> _Plan:
    """Choose a prefix filter that lets through at least ``n`` ids with overwhelming
    probability (expected count + 7 sd), while keeping the candidate set small."""
    wanted = n + _MARGIN_SIGMAS * math.sqrt(n + 1) + 32
    wanted = max(wanted, 1.0) * 4**widen
    fraction = wanted / population
    if fraction >= 0.25:
        return _Plan(digits=1, limit=10)
    # Resolution of at least 1/1000 of the fraction, at most 6 digits (mod 10**6).
    digits = min(6, max(2, math.ceil(math.log10(1000 / fraction))))
    limit = min(10**digits, math.ceil(fraction * 10**digits))
    return _Plan(digits=digits, limit=limit)


# Task for one chunk: (H(seed) as bytes, digits, limit, ids joined by "\n" in UTF-8,
# number of ids, index of the first id in its stratum).
_Task = tuple[bytes, int, int, bytes, int, int]
# Result: (0 if the chunk holds a malformed id, else -1; [(full ticket, index in stratum)];
# sorted 64-bit fingerprints of the chunk's hashes, for the duplicate check).
_Result = tuple[int, list[tuple[str, int]], bytes]


def _scan_chunk(task: _Task) -> _Result:
    """Hash one chunk of ids and return the full tickets of those that pass the filter.

    Module-level so it can be pickled by a spawned worker process.
    """
    prefix, digits, limit, blob, count, base = task
    ids = blob.split(b"\n")
    if len(ids) != count or not _clean(blob):
        return 0, [], b""  # the calling process names the offending id
    # H(seed) in hex is exactly one 64-byte SHA-256 block: hash it once and continue
    # from a copy of that state for each id (same digest, one block less per id).
    copy_start = hashlib.sha256(prefix).copy
    digests: list[bytes] = []
    append = digests.append
    for i in ids:
        state = copy_start()
        state.update(i)
        append(state.digest())
    # The hashes as four big-endian 64-bit limbs each.
    limbs = np.frombuffer(b"".join(digests), dtype=">u8").reshape(-1, 4).astype(np.uint64)
    if limit >= 10**digits:
        chosen: Iterable[int] = range(len(ids))
    else:
        chosen = _passing(limbs, digits, limit).tolist()
    # Equal ids have equal hashes; distinct ids have distinct 64-bit hash prefixes
    # except with probability ~N²/2⁶⁵, which only triggers the exact set-based check.
    fingerprints = np.sort(limbs[:, 0])
    tickets = [(_full_ticket_from_digest(digests[k]), base + k) for k in chosen]
    return -1, tickets, fingerprints.tobytes()


def _passing(limbs: np.ndarray, digits: int, limit: int) -> np.ndarray:
    """Indices of the hashes (rows of four 64-bit limbs, most significant first) whose
    reversed ``digits`` lowest decimal digits are below ``limit``."""
    modulus = 10**digits
    # value mod 10**digits from the four limbs; every product stays below 2**63.
    residue = np.zeros(len(limbs), dtype=np.uint64)
    for k in range(4):
        weight = np.uint64(pow(2, 64 * (3 - k), modulus))
        residue += (limbs[:, k] % np.uint64(modulus)) * weight
    residue %= np.uint64(modulus)
    reversed_digits = np.zeros_like(residue)
    ten = np.uint64(10)
    for _ in range(digits):
        reversed_digits = reversed_digits * ten + residue % ten
        residue //= ten
    return np.flatnonzero(reversed_digits < np.uint64(limit))


def _clean(blob: bytes) -> bool:
    """True if no id in the chunk is empty or holds a control or line-breaking character."""
    return (
        bool(blob)
        and not blob.startswith(b"\n")
        and not blob.endswith(b"\n")
        and b"\n\n" not in blob
        and len(blob.translate(None, _CONTROL_BYTES)) == len(blob)
        and (blob.isascii() or not any(sequence in blob for sequence in _BAD_NON_ASCII))
    )


def _tasks(prefix: bytes, ids: Sequence[str], plan: _Plan, chunk: int) -> Iterator[_Task]:
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        try:
            blob = "\n".join(part).encode("utf-8")
        except (TypeError, UnicodeEncodeError):
            # Reported, with the id named, by _run_scans in the calling process.
            yield prefix, plan.digits, plan.limit, b"", -1, start
        else:
            yield prefix, plan.digits, plan.limit, blob, len(part), start


def _stratum_tasks(
    prefix: bytes,
    order: list[str],
    strata: Mapping[str, Sequence[str]],
    plans: Mapping[str, _Plan],
    chunk: int,
) -> Iterator[tuple[str, _Task]]:
    for name in order:
        for task in _tasks(prefix, strata[name], plans[name], chunk):
            yield name, task


def _run_scans(
    prefix: bytes,
    order: list[str],
    strata: Mapping[str, Sequence[str]],
    plans: Mapping[str, _Plan],
    workers: int,
) -> dict[str, list[tuple[str, int]]]:
    """Scan the given strata; return candidate (full ticket, index) per stratum.

    Raises DrawError for malformed or duplicate ids.
    """
    found: dict[str, list[tuple[str, int]]] = {name: [] for name in order}
    fingerprints: list[np.ndarray] = []
    total = sum(len(strata[name]) for name in order)
    names: list[str] = []

    def feed() -> Iterator[_Task]:
        for name, task in _stratum_tasks(prefix, order, strata, plans, CHUNK_IDS):
            names.append(name)
            yield task

    def collect(results: Iterable[_Result]) -> None:
        # Results come in chunk order, so names[k] is the stratum of result k.
        for k, (bad, candidates, prints) in enumerate(results):
            if bad >= 0:
                _check_id_text(names[k], strata[names[k]])  # raises, naming the id
            found[names[k]].extend(candidates)
            fingerprints.append(np.frombuffer(prints, dtype=np.uint64))

    if workers > 1 and total >= PARALLEL_MIN_IDS:
        context = multiprocessing.get_context("spawn")
        with context.Pool(processes=workers) as pool:
            collect(pool.imap(_scan_chunk, feed()))
    else:
        collect(map(_scan_chunk, feed()))
    # Chunks arrive sorted, so the stable (merge) sort only merges runs.
    merged = np.sort(np.concatenate(fingerprints), kind="stable")
    if np.any(merged[1:] == merged[:-1]):
        _check_duplicates({name: strata[name] for name in order})  # names them, if real
    return found


def _smallest(
    candidates: list[tuple[str, int]], ids: Sequence[str], n: int
) -> list[tuple[str, str]]:
    """The n smallest (ticket, id) pairs, ordered like consistent_sampler's heap."""
    return heapq.nsmallest(n, ((t, ids[k]) for t, k in candidates))


def draw_entities(
    seed: str,
    strata: Mapping[str, Sequence[str]],
    ratios: Mapping[str, Decimal],
    workers: int = 1,
) -> list[Pick]:
    """Draw ``ceil(ratio × size)`` entities from each stratum, verifiably.

    Per stratum the result equals
    ``consistent_sampler.sampler(ids, seed, take=n_h, digits=18)``, in the same order;
    strata come in code-point order of their names, and input order never matters.
    ``workers > 1`` scans big populations (``PARALLEL_MIN_IDS`` ids or more) in that
    many spawned processes; as with any spawn-based pool, a calling script needs the
    ``if __name__ == "__main__":`` guard, and each worker re-imports its main module.

    Raises DrawError (Chinese and English) for a bad seed, a ratio outside (0, 1],
    a stratum without ratio or without entities, an empty population, duplicate or
    malformed ids.
    """
    prefix = seed_hash(seed).encode("ascii")
    sizes = _check_strata(strata, ratios)
    if workers < 1:
        raise DrawError("工作进程数必须至少为 1", "workers must be at least 1")
    order = sorted(strata)
    picks: list[Pick] = []
    pending = order
    widen = 0
    chosen: dict[str, list[tuple[str, str]]] = {}
    while pending:
        plans = {name: _plan(sizes[name], len(strata[name]), widen) for name in pending}
        found = _run_scans(prefix, pending, strata, plans, workers)
        retry = []
        for name in pending:
            if len(found[name]) < sizes[name] and not plans[name].keeps_all:
                retry.append(name)  # astronomically rare: widen the filter, rescan
            else:
                chosen[name] = _smallest(found[name], strata[name], sizes[name])
        pending = retry
        widen += 1
    for name in order:
        for rank, (full, id_) in enumerate(chosen[name], start=1):
            picks.append(Pick(stratum=name, id=id_, ticket=trim_ticket(full), rank=rank))
    return picks

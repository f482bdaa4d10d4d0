"""The scan that finds the smallest tickets without computing them all (pure: no database,
no I/O; see ``draw.sampling`` for why the prefix filter is exact).

``run_scans`` hashes the ids chunk by chunk through a ``ScanMap``: ``serial`` here, or a
process pool's ordered map (``draw.parallel``); ``scan_chunk`` is module-level so that a
spawned worker can unpickle it.
"""

from __future__ import annotations

import hashlib
import heapq
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from supervision.draw.ids import check_duplicates, check_id_text, clean
from supervision.draw.tickets import full_ticket_from_digest

# Ids per chunk sent to a worker: big enough to amortise pickling, small enough
# to keep both cores busy until the end and memory flat.
CHUNK_IDS = 250_000
# Standard deviations of safety margin when choosing the prefix threshold.
_MARGIN_SIGMAS = 7.0


@dataclass(frozen=True)
class Plan:
    """Prefix filter for one stratum: keep ids whose first ``digits`` ticket digits,
    read as an integer, are below ``limit``."""

    digits: int
    limit: int

    @property
    def keeps_all(self) -> bool:
        return bool(self.limit >= 10**self.digits)


def choose_plan(n: int, population: int, widen: int = 0) -> Plan:
    """Choose a prefix filter that lets through at least ``n`` ids with overwhelming
    probability (expected count + 7 sd), while keeping the candidate set small."""
    wanted = n + _MARGIN_SIGMAS * math.sqrt(n + 1) + 32
    wanted = max(wanted, 1.0) * 4**widen
    fraction = wanted / population
    if fraction >= 0.25:
        return Plan(digits=1, limit=10)
    # Resolution of at least 1/1000 of the fraction, at most 6 digits (mod 10**6).
    digits = min(6, max(2, math.ceil(math.log10(1000 / fraction))))
    limit = min(10**digits, math.ceil(fraction * 10**digits))
    return Plan(digits=digits, limit=limit)


# Task for one chunk: (H(seed) as bytes, digits, limit, ids joined by "\n" in UTF-8,
# number of ids, index of the first id in its stratum).
ScanTask = tuple[bytes, int, int, bytes, int, int]
# Result: (0 if the chunk holds a malformed id, else -1; [(full ticket, index in stratum)];
# sorted 64-bit fingerprints of the chunk's hashes, for the duplicate check).
ScanResult = tuple[int, list[tuple[str, int]], bytes]


class ScanMap(Protocol):
    """Maps ``scan_chunk`` over the tasks, results in task order; ``ids`` is how many ids
    the tasks hold, for a map that decides whether starting processes pays."""

    def __call__(
        self, fn: Callable[[ScanTask], ScanResult], tasks: Iterable[ScanTask], /, *, ids: int
    ) -> Iterable[ScanResult]: ...


def serial(
    fn: Callable[[ScanTask], ScanResult], tasks: Iterable[ScanTask], /, *, ids: int
) -> Iterable[ScanResult]:
    """The scan in this process."""
    return map(fn, tasks)


def scan_chunk(task: ScanTask) -> ScanResult:
    """Hash one chunk of ids and return the full tickets of those that pass the filter.

    Module-level so it can be pickled by a spawned worker process.
    """
    prefix, digits, limit, blob, count, base = task
    ids = blob.split(b"\n")
    if len(ids) != count or not clean(blob):
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
    tickets = [(full_ticket_from_digest(digests[k]), base + k) for k in chosen]
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


def _tasks(prefix: bytes, ids: Sequence[str], plan: Plan, chunk: int) -> Iterator[ScanTask]:
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        try:
            blob = "\n".join(part).encode("utf-8")
        except (TypeError, UnicodeEncodeError):
            # Reported, with the id named, by run_scans in the calling process.
            yield prefix, plan.digits, plan.limit, b"", -1, start
        else:
            yield prefix, plan.digits, plan.limit, blob, len(part), start


def _stratum_tasks(
    prefix: bytes,
    order: list[str],
    strata: Mapping[str, Sequence[str]],
    plans: Mapping[str, Plan],
    chunk: int,
) -> Iterator[tuple[str, ScanTask]]:
    for name in order:
        for task in _tasks(prefix, strata[name], plans[name], chunk):
            yield name, task


def run_scans(
    prefix: bytes,
    order: list[str],
    strata: Mapping[str, Sequence[str]],
    plans: Mapping[str, Plan],
    scan_map: ScanMap,
) -> dict[str, list[tuple[str, int]]]:
    """Scan the given strata; return candidate (full ticket, index) per stratum.

    Raises DrawError for malformed or duplicate ids.
    """
    found: dict[str, list[tuple[str, int]]] = {name: [] for name in order}
    fingerprints: list[np.ndarray] = []
    total = sum(len(strata[name]) for name in order)
    names: list[str] = []

    def feed() -> Iterator[ScanTask]:
        for name, task in _stratum_tasks(prefix, order, strata, plans, CHUNK_IDS):
            names.append(name)
            yield task

    def collect(results: Iterable[ScanResult]) -> None:
        # Results come in chunk order, so names[k] is the stratum of result k.
        for k, (bad, candidates, prints) in enumerate(results):
            if bad >= 0:
                check_id_text(names[k], strata[names[k]])  # raises, naming the id
            found[names[k]].extend(candidates)
            fingerprints.append(np.frombuffer(prints, dtype=np.uint64))

    collect(scan_map(scan_chunk, feed(), ids=total))
    # Chunks arrive sorted, so the stable (merge) sort only merges runs.
    merged = np.sort(np.concatenate(fingerprints), kind="stable")
    if np.any(merged[1:] == merged[:-1]):
        check_duplicates({name: strata[name] for name in order})  # names them, if real
    return found


def smallest(
    candidates: list[tuple[str, int]], ids: Sequence[str], n: int
) -> list[tuple[str, str]]:
    """The n smallest (ticket, id) pairs, ordered like consistent_sampler's heap."""
    return heapq.nsmallest(n, ((t, ids[k]) for t, k in candidates))

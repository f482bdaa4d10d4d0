"""Benchmark the verifiable draw against consistent-sampler and a bare hashing loop.

    python benchmarks/bench_draw.py --ids 10000000 \\
        [--matching-entities 10000 --inspectors 500 --regions 12] [--skip-reference]

On the same synthetic ids (18-character USCCs with a valid GB 32100 check character,
deterministic) it times, in this order:

(a) ours: ``draw_in_processes`` — 1 % in 4 strata, ``--workers`` processes (default 2);
(b) a bare loop computing SHA-256(H(seed) + id) once per id, single process;
(c) the reference: ``consistent_sampler.sampler(ids_h, seed, take=n_h, digits=18)``
    per stratum, on the full input (no extrapolation), unless ``--skip-reference``;

then the inspector matching.  It prints ids/s, wall times, the ratios
reference/ours and ours/bare, peak RSS, and exits non-zero if our picks differ from
the reference's.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import sys
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tree_memory import TreeRss

from supervision.draw.parallel import draw_in_processes
from supervision.draw.sampling import DrawError, Pick, n_for

if TYPE_CHECKING:
    from supervision.draw.matching import Slot

SEED = "20261126 骰子 3 5 8 1"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
STRATA_SHARES = {"A": 0.4, "B": 0.3, "C": 0.2, "D": 0.1}
RATIO = Decimal("0.01")
DEPARTMENT = "市场监督管理局"


def region_codes(count: int) -> list[str]:
    """Prefecture-level codes in Inner Mongolia style: 1501xx, 1502xx, ..."""
    return [f"15{k + 1:02d}02" for k in range(count)]


def synthetic_ids(count: int, regions: int) -> list[str]:
    """``count`` distinct USCC-like ids "91" + region + 9-digit serial + check character.

    Built with numpy a million at a time (fast and small at 10 million); the check
    character follows GB 32100 as python-stdnum computes it.
    """
    codes = np.array([[int(c) for c in r] for r in region_codes(regions)], dtype=np.int32)
    alphabet = np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)
    weights = USCC_WEIGHTS.astype(np.int32)
    parts = []
    for first in range(0, count, 1_000_000):
        serial = np.arange(first, min(count, first + 1_000_000), dtype=np.int32)
        digits = np.empty((len(serial), 17), dtype=np.int32)
        digits[:, 0], digits[:, 1] = 9, 1
        digits[:, 2:8] = codes[serial % regions]
        rest = serial.copy()
        for position in range(16, 7, -1):
            digits[:, position] = rest % 10
            rest //= 10
        check = (31 - (digits @ weights) % 31) % 31
        text = np.empty((len(serial), 19), dtype=np.uint8)
        text[:, :17] = digits + ord("0")
        text[:, 17] = alphabet[check]
        text[:, 18] = ord("\n")
        parts.append(text.tobytes())
    return b"".join(parts).decode("ascii").split("\n")[:-1]


def make_strata(ids: list[str]) -> dict[str, list[str]]:
    strata: dict[str, list[str]] = {}
    start = 0
    for k, (name, share) in enumerate(STRATA_SHARES.items()):
        end = len(ids) if k == len(STRATA_SHARES) - 1 else start + round(share * len(ids))
        strata[name] = ids[start:end]
        start = end
    return strata


def ratio(a: float, b: float, width: int = 6) -> str:
    """a / b formatted, or "n/a" when b is too small to measure (tiny runs)."""
    return f"{a / b:{width}.2f}" if b > 0 else "n/a".rjust(width)


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports KiB


def cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed_ours(strata: dict[str, list[str]], workers: int) -> tuple[list[Pick], float, float]:
    start, cpu = time.perf_counter(), cpu_seconds()
    picks = draw_in_processes(SEED, strata, dict.fromkeys(strata, RATIO), workers=workers)
    return picks, time.perf_counter() - start, cpu_seconds() - cpu


def timed_bare(ids: list[str]) -> tuple[float, float]:
    """The plain loop: sha256(H(seed) + id) once per id, single process."""
    prefix = hashlib.sha256(SEED.encode()).hexdigest().encode()
    sha256 = hashlib.sha256
    start, cpu = time.perf_counter(), cpu_seconds()
    for i in ids:
        sha256(prefix + i.encode()).digest()
    return time.perf_counter() - start, cpu_seconds() - cpu


def timed_bare_midstate(ids: list[str]) -> tuple[float, float]:
    """The same hashes continuing from a copy of the state after H(seed) (one 64-byte
    block), as our workers do: shown so that the comparison hides nothing."""
    prefix = hashlib.sha256(SEED.encode()).hexdigest().encode()
    copy_start = hashlib.sha256(prefix).copy
    start, cpu = time.perf_counter(), cpu_seconds()
    for i in ids:
        state = copy_start()
        state.update(i.encode())
        state.digest()
    return time.perf_counter() - start, cpu_seconds() - cpu


def timed_reference(
    strata: dict[str, list[str]],
) -> tuple[list[tuple[str, str, str]], float, float]:
    from consistent_sampler import sampler

    start, cpu = time.perf_counter(), cpu_seconds()
    rows = []
    for name in sorted(strata):
        ids = strata[name]
        for ticket, id_, _ in sampler(ids, SEED, take=n_for(RATIO, len(ids)), digits=18):
            rows.append((name, id_, ticket))
    return rows, time.perf_counter() - start, cpu_seconds() - cpu


def timed_matching(
    ids: list[str], entities: int, inspectors: int, regions: int, slack: int
) -> tuple[float, int, int, int]:
    """Staff ``entities`` ids (two inspectors each) with ``inspectors`` spread over the
    regions in proportion to the entities there (largest remainder).

    Eligibility is "same region".  If the load limit leaves someone short, the library
    refuses (it never relaxes the limit itself); the benchmark then retries with one
    more unit of slack and reports the slack it needed.
    """
    # Imported here: the draw's spawned workers re-import this script, and need not
    # pay for OR-tools.
    from supervision.draw.matching import assign_inspectors

    chosen = ids[:entities]
    by_region: dict[str, list[str]] = defaultdict(list)
    for e in chosen:
        by_region[e[2:8]].append(e)
    shares = {r: inspectors * len(es) / len(chosen) for r, es in by_region.items()}
    counts = {r: int(x) for r, x in shares.items()}
    for r in sorted(shares, key=lambda r: counts[r] - shares[r])[
        : inspectors - sum(counts.values())
    ]:
        counts[r] += 1
    people = {r: [f"Z{r}{k:05d}" for k in range(max(2, n))] for r, n in counts.items()}
    slots: list[Slot] = [(e, DEPARTMENT, 2) for e in chosen]
    eligible = {(e, DEPARTMENT): people[e[2:8]] for e in chosen}
    while True:
        start = time.perf_counter()
        try:
            matching = assign_inspectors(SEED, slots, eligible, slack=slack)
        except DrawError:
            slack += 1
            continue
        took = time.perf_counter() - start
        return took, len(matching.assignments), matching.load_limits[DEPARTMENT], slack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ids", type=int, default=10_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--matching-entities", type=int, default=10_000)
    parser.add_argument("--inspectors", type=int, default=500)
    parser.add_argument("--regions", type=int, default=12)
    parser.add_argument("--slack", type=int, default=0, help="initial load slack for the matching")
    parser.add_argument("--skip-reference", action="store_true")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    ids = synthetic_ids(args.ids, args.regions)
    strata = make_strata(ids)
    sizes = ", ".join(f"{k} {len(v):,}" for k, v in strata.items())
    picks_wanted = sum(n_for(RATIO, len(v)) for v in strata.values())
    print(
        f"ids                {args.ids:,} in 4 strata ({sizes}); {RATIO:%} each -> "
        f"{picks_wanted:,} picks; generated in {time.perf_counter() - start:.2f} s"
    )
    rss_before = peak_rss_mb()

    with TreeRss(include_self=True) as tree:
        picks, ours, ours_cpu = timed_ours(strata, args.workers)
    rss_ours = peak_rss_mb()
    assert len(picks) == picks_wanted
    print(
        f"ours               wall {ours:8.2f} s  {args.ids / ours:13,.0f} ids/s  "
        f"CPU {ours_cpu:.2f} s (workers={args.workers})"
    )
    print(
        f"peak RSS           ours: main {rss_ours:,.0f} MB (input ids alone {rss_before:,.0f} MB); "
        f"main + workers together "
        + (f"{tree.peak_mb:,.0f} MB" if tree.peak_mb else "n/a (finished before the first sample)")
    )

    bare, bare_cpu = timed_bare(ids)
    print(
        f"bare sha256 loop   wall {bare:8.2f} s  {args.ids / bare:13,.0f} ids/s  "
        f"CPU {bare_cpu:.2f} s (single process, sha256(H(seed)+id).digest() per id)"
    )

    midstate, midstate_cpu = timed_bare_midstate(ids)
    print(
        f"bare, midstate     wall {midstate:8.2f} s  {args.ids / midstate:13,.0f} ids/s  "
        f"CPU {midstate_cpu:.2f} s (same hashes from a copied H(seed) state, as our workers)"
    )

    same = True
    if not args.skip_reference:
        rows, reference, reference_cpu = timed_reference(strata)
        same = rows == [(p.stratum, p.id, p.ticket) for p in picks]
        print(
            f"reference          wall {reference:8.2f} s  {args.ids / reference:13,.0f} ids/s  "
            f"CPU {reference_cpu:.2f} s (consistent_sampler 1.0.10, full input, not extrapolated)"
        )
        print(f"peak RSS           with reference {peak_rss_mb():,.0f} MB")
        print(
            f"ratio              reference/ours {ratio(reference, ours)}x (wall)  "
            f"{ratio(reference_cpu, ours_cpu)}x (CPU)"
        )
    else:
        print("reference          skipped")
    print(
        f"ratio              ours/bare      {ratio(ours, bare)} (wall)  {ratio(ours_cpu, bare_cpu)} (CPU)"
    )
    print(
        f"machine            {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end"
    )

    if args.matching_entities:
        entities = min(args.matching_entities, len(ids))
        took, rows_count, limit, slack = timed_matching(
            ids, entities, args.inspectors, args.regions, args.slack
        )
        print(
            f"matching           wall {took:8.2f} s  {entities:,} entities x 2 among "
            f"{args.inspectors:,} inspectors in {args.regions} regions -> {rows_count:,} "
            f"assignments (load limit {limit}, slack needed {slack})"
        )

    if not args.skip_reference:
        print(f"picks equal reference: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())

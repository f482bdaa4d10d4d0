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
runs in chunks (``draw.scan``), optionally over several processes (``draw.parallel``).

Seeds, tickets and ratios live in ``draw.tickets``, input checks in ``draw.ids``; their
public names are re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from supervision.draw.ids import check_strata, validate_ids
from supervision.draw.scan import ScanMap, choose_plan, run_scans, serial, smallest
from supervision.draw.tickets import (
    SEED_MAX_LENGTH,
    TICKET_DIGITS,
    DrawError,
    entered_seed,
    n_for,
    parse_ratio,
    seed_hash,
    ticket,
    trim_ticket,
    validate_seed,
)

__all__ = [
    "SEED_MAX_LENGTH",
    "TICKET_DIGITS",
    "DrawError",
    "Pick",
    "check_draw",
    "draw_entities",
    "entered_seed",
    "n_for",
    "parse_ratio",
    "seed_hash",
    "ticket",
    "trim_ticket",
    "validate_ids",
    "validate_seed",
]


@dataclass(frozen=True)
class Pick:
    """One drawn entity: its stratum, id, published ticket and 1-based rank in the stratum."""

    stratum: str
    id: str
    ticket: str
    rank: int


def check_draw(
    seed: str, strata: Mapping[str, Sequence[str]], ratios: Mapping[str, Decimal]
) -> tuple[bytes, dict[str, int]]:
    """H(seed) as bytes and the sample size per stratum, or DrawError for a bad seed, a
    ratio outside (0, 1], a stratum without ratio or without entities, an empty population."""
    prefix = seed_hash(seed).encode("ascii")
    return prefix, check_strata(strata, ratios)


def draw_entities(
    seed: str,
    strata: Mapping[str, Sequence[str]],
    ratios: Mapping[str, Decimal],
    *,
    scan_map: ScanMap = serial,
) -> list[Pick]:
    """Draw ``ceil(ratio × size)`` entities from each stratum, verifiably.

    Per stratum the result equals
    ``consistent_sampler.sampler(ids, seed, take=n_h, digits=18)``, in the same order;
    strata come in code-point order of their names, and input order never matters.
    The scan runs in this process unless ``scan_map`` says otherwise (a process pool's
    ordered map: ``draw.parallel.draw_in_processes``).

    Raises DrawError (Chinese and English) for a bad seed, a ratio outside (0, 1],
    a stratum without ratio or without entities, an empty population, duplicate or
    malformed ids.
    """
    prefix, sizes = check_draw(seed, strata, ratios)
    order = sorted(strata)
    picks: list[Pick] = []
    pending = order
    widen = 0
    chosen: dict[str, list[tuple[str, str]]] = {}
    while pending:
        plans = {name: choose_plan(sizes[name], len(strata[name]), widen) for name in pending}
        found = run_scans(prefix, pending, strata, plans, scan_map)
        retry = []
        for name in pending:
            if len(found[name]) < sizes[name] and not plans[name].keeps_all:
                retry.append(name)  # astronomically rare: widen the filter, rescan
            else:
                chosen[name] = smallest(found[name], strata[name], sizes[name])
        pending = retry
        widen += 1
    for name in order:
        for rank, (full, id_) in enumerate(chosen[name], start=1):
            picks.append(Pick(stratum=name, id=id_, ticket=trim_ticket(full), rank=rank))
    return picks

"""Statistical checks over many seeds: every entity is drawn with probability n_h/N_h,
and matching spreads the work evenly over eligible inspectors."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from supervision.draw.matching import Slot, assign_inspectors
from supervision.draw.sampling import draw_entities, n_for

pytestmark = pytest.mark.slow

SEEDS = [f"stat-{k:04d}" for k in range(1_000)]
STRATA = {
    "A": [f"91152200{i:09d}X" for i in range(25)],
    "B": [f"92152200{i:09d}K" for i in range(15)],
}
RATIOS = {"A": Decimal("0.2"), "B": Decimal("0.4")}

# Upper 0.1% point of the chi-squared distribution with 38 degrees of freedom
# (tables give 70.703; Wilson-Hilferty gives 70.79).  38 = (25 - 1) + (15 - 1).
CHI2_38_999 = 70.703


def inclusion_statistic(counts: Counter[str], trials: int) -> float:
    """Chi-squared statistic for inclusion counts under fixed-size sampling without
    replacement.  In one draw of n from N, each indicator has variance p(1-p) and any
    two have covariance -p(1-p)/(N-1), so sum((O-E)^2) / (T p (1-p)) * (N-1)/N follows
    chi-squared with N-1 degrees of freedom (the counts always sum to T·n)."""
    total = 0.0
    for name, ids in STRATA.items():
        size = len(ids)
        p = n_for(RATIOS[name], size) / size
        squares = sum((counts[i] - trials * p) ** 2 for i in ids)
        total += squares / (trials * p * (1 - p)) * (size - 1) / size
    return total


def test_inclusion_frequencies_match_n_over_N() -> None:
    counts: Counter[str] = Counter()
    drawn: list[list[str]] = []
    for seed in SEEDS:
        picks = draw_entities(seed, STRATA, RATIOS)
        assert Counter(p.stratum for p in picks) == {"A": 5, "B": 6}
        drawn.append([p.id for p in picks])
        counts.update(drawn[-1])
    statistic = inclusion_statistic(counts, len(SEEDS))
    assert statistic < CHI2_38_999, (statistic, counts)
    # Power check: the same test rejects a draw biased towards low ids.
    biased: Counter[str] = Counter()
    for k, ids in enumerate(drawn):
        # Every fourth draw replaced by "the first n ids of each stratum".
        biased.update(STRATA["A"][:5] + STRATA["B"][:6] if k % 4 == 0 else ids)
    assert inclusion_statistic(biased, len(SEEDS)) > CHI2_38_999


def test_matching_spreads_load_evenly() -> None:
    people = [f"P{k}" for k in range(8)]
    slots: list[Slot] = [(f"E{i:02d}", "市场监督管理局", 2) for i in range(12)]
    eligible = {(e, d): people for e, d, _ in slots}
    loads: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    for seed in SEEDS:
        matching = assign_inspectors(seed, slots, eligible, slack=2)
        loads.update(a.inspector_id for a in matching.assignments)
        pairs.update((a.entity_id, a.inspector_id) for a in matching.assignments)
    # 24 seats a draw over 8 people: 3,000 each over 1,000 draws.  A single draw's load
    # has standard deviation about 1, so the total's is about 32: allow 5 %.
    expected = 24 * len(SEEDS) / len(people)
    for person in people:
        assert abs(loads[person] - expected) < 0.05 * expected, loads
    # Each (entity, inspector) pair: 2/8 of draws = 250, sd about 14.
    for entity, _, _ in slots:
        for person in people:
            assert 160 < pairs[(entity, person)] < 340, (entity, person, pairs[(entity, person)])

"""The entity draw: exact agreement with consistent-sampler 1.0.10, invariants, bad input."""

from __future__ import annotations

import math
import random
from decimal import Decimal

import pytest
from consistent_sampler import sampler
from consistent_sampler.consistent_sampler import first_fraction, trim
from hypothesis import given, settings
from hypothesis import strategies as st

from supervision.draw import parallel, scan
from supervision.draw import sampling as draws
from supervision.draw.parallel import draw_in_processes
from supervision.draw.sampling import (
    DrawError,
    Pick,
    draw_entities,
    n_for,
    parse_ratio,
    ticket,
    trim_ticket,
    validate_seed,
)

AWKWARD_SEEDS = [
    "0123",
    "123",
    "000000000000000000001",
    " leading and trailing spaces ",
    "骰子 3 5",
    "x" * 100,
    "9" * 100,
    "\u3000全角空格",
]


def uscc_like(rng: random.Random, n: int, prefix: str = "9111") -> list[str]:
    ids = {f"{prefix}{rng.randrange(10**13):013d}X" for _ in range(n)}
    return sorted(ids)


def oracle(ids: list[str], seed: str, n: int) -> list[tuple[str, str]]:
    return [(t, i) for t, i, _ in sampler(ids, seed, take=n, digits=18)]


@pytest.mark.parametrize("seed", AWKWARD_SEEDS)
@pytest.mark.parametrize("size", [1, 2, 7, 100, 2_000, 10_000])
def test_matches_consistent_sampler(seed: str, size: int) -> None:
    rng = random.Random(f"{seed}/{size}")
    ids = uscc_like(rng, size)
    rng.shuffle(ids)
    for ratio in ("0.01", "0.05", "0.5", "1"):
        n = n_for(Decimal(ratio), len(ids))
        picks = draw_entities(seed, {"A": ids}, {"A": Decimal(ratio)})
        assert [(p.ticket, p.id) for p in picks] == oracle(ids, seed, n)
        assert [p.rank for p in picks] == list(range(1, n + 1))


def test_several_strata_each_match_the_oracle() -> None:
    rng = random.Random(7)
    strata = {
        name: uscc_like(rng, size, f"91{k}")
        for k, (name, size) in enumerate([("A", 3_000), ("B", 1_000), ("C", 300), ("D", 40)])
    }
    ratios = {"A": Decimal("0.01"), "B": Decimal("0.03"), "C": Decimal("0.2"), "D": Decimal("1")}
    picks = draw_entities("2026-抽查-01", strata, ratios)
    for name, ids in strata.items():
        got = [(p.ticket, p.id) for p in picks if p.stratum == name]
        assert got == oracle(ids, "2026-抽查-01", math.ceil(ratios[name] * len(ids)))
    assert [p.stratum for p in picks] == sorted(p.stratum for p in picks)


def test_seeds_are_strings_not_numbers() -> None:
    ids = [f"911100000000000{i:02d}X" for i in range(60)]
    a = draw_entities("0123", {"S": ids}, {"S": Decimal("0.1")})
    b = draw_entities("123", {"S": ids}, {"S": Decimal("0.1")})
    assert [p.id for p in a] != [p.id for p in b]


def test_snapshot_of_one_draw() -> None:
    """Pinned once from consistent_sampler; a change here breaks every published draw."""
    strata = {
        "企业": [f"91110000{i:09d}X" for i in range(20)],
        "个体工商户": [f"92150000{i:09d}K" for i in range(10)],
    }
    ratios = {"企业": Decimal("0.15"), "个体工商户": Decimal("0.05")}
    assert draw_entities("20261126-骰子 3 5", strata, ratios) == [
        Pick("个体工商户", "92150000000000002K", "0.020372570208361792", 1),
        Pick("企业", "91110000000000011X", "0.097410824376435262", 1),
        Pick("企业", "91110000000000005X", "0.150061914750929820", 2),
        Pick("企业", "91110000000000003X", "0.273435687951960601", 3),
    ]


def test_ticket_and_trim_match_the_reference() -> None:
    for seed in AWKWARD_SEEDS:
        for id_ in ["91110000000000011X", "AB-130", "甲"]:
            full = ticket(seed, id_)
            assert full == first_fraction(id_, seed)
            for digits in (1, 9, 18, 40):
                assert trim_ticket(full, digits) == trim(full, digits)
    assert trim_ticket("0.99912345678", 4) == "0.9991234"
    assert trim_ticket("0.999", 2) == "0.999"


def test_n_for_is_exact() -> None:
    assert n_for(Decimal("0.03"), 100) == 3
    assert n_for(Decimal("0.03"), 101) == 4
    assert n_for("0.1", 10) == 1
    assert n_for(Decimal("1"), 7) == 7
    # 28 significant digits would round this product with Decimal's default context.
    tiny = Decimal("0." + "0" * 30 + "1")
    assert n_for(tiny, 10**6) == 1
    assert n_for(Decimal("0.3333333333333333333333333333333333"), 3) == 1


def test_workers_two_equals_workers_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # Force the process pool on a small population with small chunks.
    monkeypatch.setattr(parallel, "PARALLEL_MIN_IDS", 1_000)
    monkeypatch.setattr(scan, "CHUNK_IDS", 700)
    rng = random.Random(11)
    strata = {"A": uscc_like(rng, 5_000, "911"), "B": uscc_like(rng, 2_000, "912")}
    ratios = {"A": Decimal("0.01"), "B": Decimal("0.3")}
    one = draw_in_processes("种子", strata, ratios, workers=1)
    two = draw_in_processes("种子", strata, ratios, workers=2)
    assert one == two
    assert [(p.ticket, p.id) for p in two if p.stratum == "A"] == oracle(strata["A"], "种子", 50)


def test_duplicate_found_while_workers_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "PARALLEL_MIN_IDS", 100)
    ids = [f"id{i}" for i in range(500)]
    with pytest.raises(DrawError, match="id7"):
        draw_in_processes(
            "s", {"A": ids, "B": ["id7"]}, {"A": Decimal("0.1"), "B": Decimal("1")}, workers=2
        )


def test_widening_when_the_filter_lets_too_few_through(monkeypatch: pytest.MonkeyPatch) -> None:
    # Make the first filter far too tight; the draw must widen it and stay exact.
    monkeypatch.setattr(scan, "_MARGIN_SIGMAS", -10.0)
    scans = []
    real_run_scans = draws.run_scans

    def counting(*args: object, **kwargs: object) -> object:
        scans.append(1)
        return real_run_scans(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(draws, "run_scans", counting)
    ids = [f"91{i:016d}" for i in range(5_000)]
    picks = draw_entities("s", {"A": ids}, {"A": Decimal("0.02")})
    assert [(p.ticket, p.id) for p in picks] == oracle(ids, "s", 100)
    assert len(scans) >= 2


@settings(max_examples=60, deadline=None)
@given(
    ids=st.sets(
        st.text(
            st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
            min_size=1,
            max_size=12,
        ),
        min_size=1,
        max_size=80,
    ),
    cut=st.integers(min_value=0, max_value=80),
    ratio_a=st.decimals(min_value=Decimal("0.001"), max_value=1, places=3),
    ratio_b=st.decimals(min_value=Decimal("0.001"), max_value=1, places=3),
    seed=st.text(
        st.characters(codec="utf-8", exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")),
        min_size=1,
        max_size=100,
    ),
    shuffle_seed=st.integers(),
)
def test_invariants(
    ids: set[str], cut: int, ratio_a: Decimal, ratio_b: Decimal, seed: str, shuffle_seed: int
) -> None:
    ordered = sorted(ids)
    cut = min(max(cut, 1), len(ordered))
    strata = {"A": ordered[:cut]}
    ratios = {"A": ratio_a}
    if ordered[cut:]:
        strata["B"] = ordered[cut:]
        ratios["B"] = ratio_b
    picks = draw_entities(seed, strata, ratios)
    # Reordering the ids and the strata changes nothing.
    rng = random.Random(shuffle_seed)
    shuffled = {name: rng.sample(strata[name], len(strata[name])) for name in reversed(strata)}
    assert draw_entities(seed, shuffled, dict(reversed(ratios.items()))) == picks
    for name, members in strata.items():
        mine = [p for p in picks if p.stratum == name]
        assert len(mine) == math.ceil(ratios[name] * len(members))
        assert {p.id for p in mine} <= set(members)
        assert len({p.id for p in mine}) == len(mine)
        assert [p.ticket for p in mine] == sorted(p.ticket for p in mine)
    assert [(p.ticket, p.id) for p in picks if p.stratum == "A"] == oracle(
        strata["A"], seed, math.ceil(ratio_a * len(strata["A"]))
    )


def assert_bilingual(error: DrawError) -> None:
    assert error.zh and error.en
    assert any("\u4e00" <= c <= "\u9fff" for c in error.zh)
    assert error.en.isascii() or any(c.isascii() and c.isalpha() for c in error.en)
    assert str(error) == f"{error.zh} / {error.en}"
    assert isinstance(error, ValueError)


IDS = {"A": ["91110000000000001X", "91110000000000002X"]}


@pytest.mark.parametrize(
    ("seed", "strata", "ratios", "needle"),
    [
        ("s", {}, {}, "empty"),
        ("s", {"A": []}, {"A": Decimal("0.1")}, "empty"),
        ("s", {"A": IDS["A"], "B": []}, {"A": Decimal("0.1"), "B": Decimal("0.1")}, "empty"),
        ("s", IDS, {"A": Decimal("0")}, "greater than 0"),
        ("s", IDS, {"A": Decimal("1.01")}, "at most 1"),
        ("s", IDS, {"A": Decimal("-0.1")}, "greater than 0"),
        ("s", IDS, {"A": Decimal("NaN")}, "not a valid number"),
        ("s", IDS, {"A": 0.1}, "float"),
        ("s", IDS, {}, "no ratio"),
        ("s", IDS, {"A": Decimal("0.5"), "Z": Decimal("0.5")}, "no population"),
        ("", IDS, {"A": Decimal("0.5")}, "empty"),
        ("x" * 101, IDS, {"A": Decimal("0.5")}, "at most 100"),
        ("line\nbreak", IDS, {"A": Decimal("0.5")}, "not printable"),
        ("tab\there", IDS, {"A": Decimal("0.5")}, "not printable"),
        ("s", {"A": ["X1", "X2", "X1"]}, {"A": Decimal("0.5")}, "duplicate id"),
        ("s", {"A": ["X1"], "B": ["X1"]}, {"A": Decimal("1"), "B": Decimal("1")}, "X1 (A, B)"),
        ("s", {"A": ["X1", "X\n2"]}, {"A": Decimal("1")}, "newline"),
        ("s", {"A": ["X1", ""]}, {"A": Decimal("1")}, "empty"),
        ("s", {"A": ["X1", 5]}, {"A": Decimal("1")}, "must be strings"),  # type: ignore[list-item]
        ("s", {"A": ["X1", "bad\ud800"]}, {"A": Decimal("1")}, "not valid Unicode"),
        ("s", {"": ["X1"]}, {"": Decimal("1")}, "stratum name"),
    ],
)
def test_bad_input_is_refused_in_both_languages(
    seed: str, strata: dict[str, list[str]], ratios: dict[str, Decimal], needle: str
) -> None:
    with pytest.raises(DrawError) as caught:
        draw_entities(seed, strata, ratios)
    assert needle in caught.value.en
    assert_bilingual(caught.value)


def test_workers_must_be_positive() -> None:
    with pytest.raises(DrawError):
        draw_in_processes("s", IDS, {"A": Decimal("1")}, workers=0)


def test_validate_seed_returns_seed_verbatim() -> None:
    for seed in AWKWARD_SEEDS:
        assert validate_seed(seed) == seed
    with pytest.raises(DrawError):
        validate_seed(123)
    with pytest.raises(DrawError):
        validate_seed("zero\u200bwidth")


def test_parse_ratio_accepts_strings_and_ints() -> None:
    assert parse_ratio("0.05") == Decimal("0.05")
    assert parse_ratio(1) == Decimal(1)
    with pytest.raises(DrawError):
        parse_ratio(True)
    with pytest.raises(DrawError):
        parse_ratio("5%")


@pytest.mark.parametrize(
    ("bad", "needle"),
    [("X\n2", "newline"), ("", "empty"), (5, "must be strings"), ("a\u2028b", "control")],
)
def test_bad_ids_are_named_by_the_worker_path_too(
    monkeypatch: pytest.MonkeyPatch, bad: object, needle: str
) -> None:
    monkeypatch.setattr(parallel, "PARALLEL_MIN_IDS", 10)
    ids: list[object] = [f"id{i}" for i in range(50)]
    ids.insert(17, bad)
    with pytest.raises(DrawError) as caught:
        draw_in_processes("s", {"A": ids}, {"A": Decimal("0.5")}, workers=2)  # type: ignore[dict-item]
    assert needle in caught.value.en
    assert repr(bad) in caught.value.en

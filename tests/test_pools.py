"""The one process-pool helper: ordered results, bounded input, both start methods."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supervision import pools


def _square(n: int) -> int:
    return n * n


def _fail_on_three(n: int) -> int:
    if n == 3:
        raise ValueError("three")
    return n


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_results_come_in_submission_order(method: pools.Method) -> None:
    with pools.process_pool(2, method=method) as pool:
        assert list(pools.in_order(pool, _square, range(50), ahead=4)) == [n * n for n in range(50)]


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(-1000, 1000), max_size=30), st.integers(1, 8))
def test_in_order_is_map_for_any_input_and_window(items: list[int], ahead: int) -> None:
    with pools.process_pool(1, method="fork") as pool:
        assert list(pools.in_order(pool, _square, items, ahead=ahead)) == list(map(_square, items))


def test_input_is_read_lazily() -> None:
    """At most `ahead` items are taken before the first result is handed out."""
    taken: list[int] = []

    def feed() -> Iterator[int]:
        for n in itertools.count():
            taken.append(n)
            yield n

    with pools.process_pool(1, method="fork") as pool:
        results = pools.in_order(pool, _square, feed(), ahead=3)
        assert next(results) == 0
        assert len(taken) == 4  # the window of 3 in flight, plus the one that overflowed it
        results.close()


def test_a_worker_error_reaches_the_caller() -> None:
    with pools.process_pool(2, method="fork") as pool, pytest.raises(ValueError, match="three"):
        list(pools.in_order(pool, _fail_on_three, range(10), ahead=2))

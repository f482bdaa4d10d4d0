"""``supervision.batches.batched``: lists of at most ``size`` items, in order, made lazily."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supervision.batches import batched


@given(st.lists(st.integers()), st.integers(min_value=1, max_value=50))
def test_batches_hold_every_item_once_in_order(items: list[int], size: int) -> None:
    batches = list(batched(items, size))
    assert [x for batch in batches for x in batch] == items
    assert all(len(batch) == size for batch in batches[:-1])
    assert all(1 <= len(batch) <= size for batch in batches)


def test_batches_are_taken_as_they_are_asked_for() -> None:
    """An endless generator is fine: only what the batches taken hold is made."""
    made = itertools.count()
    first = next(batched(made, 3))
    assert first == [0, 1, 2] and next(made) == 3


def test_a_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        next(batched([1, 2], 0))

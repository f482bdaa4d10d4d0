"""Region codes: one rule for "which codes lie inside a region"."""

from __future__ import annotations

import pytest

from supervision.reference.regions import check_region_code, prefecture_of, region_prefix


@pytest.mark.parametrize(
    ("code", "prefix"),
    [("150000", "15"), ("150100", "1501"), ("152200", "1522"), ("150102", "150102")],
)
def test_region_prefix(code: str, prefix: str) -> None:
    assert region_prefix(code) == prefix
    assert "150102".startswith(prefix) == (code in {"150000", "150100", "150102"})


def test_prefecture_and_format() -> None:
    assert prefecture_of("152201") == "152200"
    assert check_region_code(" 150102 ") == "150102"
    with pytest.raises(ValueError, match="6位数字"):
        check_region_code("1501")
    with pytest.raises(ValueError, match="province-level"):
        check_region_code("990000")

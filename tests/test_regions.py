"""Region codes: one rule for "which codes lie inside a region"."""

from __future__ import annotations

from pathlib import Path

import pytest

from supervision.db import Database
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


def test_every_county_of_china_has_its_name() -> None:
    from supervision.reference.regions import region_name, region_table

    table = region_table()
    counties = [c for c in table if not c.endswith("00")]
    prefectures = [c for c in table if c.endswith("00") and not c.endswith("0000")]
    # 民政部: 2,844 county-level divisions and 333 prefecture-level ones (end of 2023), and
    # the municipalities' 市辖区/县 codes; three-sha's two districts came later.
    assert 2840 <= len(counties) <= 2860 and 330 <= len(prefectures) <= 345
    sample = {
        "150502": "通辽市科尔沁区",  # Inner Mongolia, as before
        "150603": "鄂尔多斯市康巴什区",
        "110105": "北京市朝阳区",  # a municipality's district
        "310115": "上海市浦东新区",
        "440305": "深圳市南山区",
        "460302": "三沙市西沙区",
        "653101": "喀什地区喀什市",
        "540102": "拉萨市城关区",
        "441900": "东莞市",  # a prefecture without counties
        "150100": "呼和浩特市",
        "650000": "新疆维吾尔自治区",
        "110100": "北京市",
        "810000": "香港特别行政区",
    }
    for code, name in sample.items():
        assert region_name(code) == name, code
        assert check_region_code(code) == code


@pytest.mark.parametrize("code", ["150199", "110199", "151100", "460399"])
def test_an_unknown_code_is_refused(code: str) -> None:
    with pytest.raises(ValueError, match="GB/T 2260"):
        check_region_code(code)


def test_an_unknown_region_is_an_import_error(tmp_path: Path, db: Database) -> None:
    from factories import make_entity, write_json

    from supervision.directories.importing import import_file
    from supervision.directories.report import ImportRejected

    rows = [make_entity(1), make_entity(2, region_code="150199")]
    with pytest.raises(ImportRejected) as rejected:
        import_file(db, kind="entities", path=write_json(tmp_path / "e.json", rows))
    assert "150199" in str(rejected.value.details) and "GB/T 2260" in str(rejected.value.details)

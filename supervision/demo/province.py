"""A synthetic but realistic demo province: Inner Mongolia's 12 盟市.

Pure generation, no I/O: ``DemoProvince(entities=..., seed=..., as_of=...)`` yields plain
dicts shaped like the table rows (``Department``, ``InspectionItem``, ``Inspector``,
``Entity``, ``Conflict``, ``ComplianceRecord``). The seed and the as-of date determine
every value, so two runs with the same inputs give identical rows; supervision.demo.load
writes them to a database.

Generated rows skip pydantic validation for speed, but they are built to pass it: the
tests validate samples of every kind through the ``XCreate`` models and compare.

The data tells the stories the rules engine is meant to find, relative to ``as_of``:
annual reports filed late or not at all, immediate information published after 20
working days, licences expired while the business goes on, clusters of complaints,
overdue rectification orders, unreachable addresses, false published information, and
entities on the abnormal list for more than three years.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from typing import Any

from supervision import clock
from supervision.models.fields import USCC_ALPHABET, uscc_check_char
from supervision.reference.regions import (
    INNER_MONGOLIA_COUNTIES,
    INNER_MONGOLIA_PREFECTURES,
    prefecture_of,
)
from supervision.reference.vocab import (
    EntitySize,
    EntityStatus,
    EntityType,
    InspectionMethod,
    InspectorStatus,
    ItemKind,
    RecordKind,
)

__all__ = [
    "DEFAULT_ENTITIES",
    "DEFAULT_SEED",
    "DEPARTMENTS",
    "ITEMS",
    "PREFECTURE_WEIGHTS",
    "PROVINCE_CODE",
    "DemoProvince",
    "DemoStats",
    "EntityBatch",
    "Row",
    "inspector_count",
]

Row = dict[str, Any]

PROVINCE_CODE = "150000"
DEFAULT_SEED = 2026
DEFAULT_ENTITIES = 5_000
#: One inspector per this many entities, capped: a province does not have 25,000 inspectors.
ENTITIES_PER_INSPECTOR = 40
MAX_INSPECTORS = 3_000
#: Every department keeps at least this many active inspectors in every prefecture,
#: so that any task can be staffed with two inspectors plus a spare for 回避.
MIN_ACTIVE_PER_PREFECTURE = 3
FULLY_QUALIFIED_PER_PREFECTURE = 5
ITEMS_EFFECTIVE_FROM = date(2024, 1, 1)

# 2020 census population (10,000s): entities and inspectors are spread by it.
PREFECTURE_WEIGHTS: dict[str, int] = {
    "150100": 345, "150200": 271, "150300": 56, "150400": 404, "150500": 287,
    "150600": 215, "150700": 224, "150800": 154, "150900": 171, "152200": 142,
    "152500": 111, "152900": 26,
}  # fmt: skip

# Short forms used in document numbers (责令整改通知书 numbering).
_PREFECTURE_ABBR: dict[str, str] = {
    "150100": "呼", "150200": "包", "150300": "乌海", "150400": "赤", "150500": "通",
    "150600": "鄂", "150700": "呼伦", "150800": "巴", "150900": "乌兰", "152200": "兴",
    "152500": "锡", "152900": "阿",
}  # fmt: skip


# ---------------------------------------------------------------- departments and items
@dataclass(frozen=True)
class DemoDepartment:
    code: str
    name: str
    staff_share: float  # share of the province's inspectors
    short: str  # used in task codes


DEPARTMENTS: tuple[DemoDepartment, ...] = (
    DemoDepartment("NMG-SJ", "内蒙古自治区市场监督管理局", 0.60, "SJ"),
    DemoDepartment("NMG-SW", "国家税务总局内蒙古自治区税务局", 0.15, "SW"),
    DemoDepartment("NMG-STHJ", "内蒙古自治区生态环境厅", 0.10, "STHJ"),
    DemoDepartment("NMG-GAJJ", "内蒙古自治区公安厅交通管理局", 0.08, "GAJJ"),
    DemoDepartment("NMG-WL", "内蒙古自治区文化和旅游厅", 0.07, "WL"),
)

_DOC = InspectionMethod.DOCUMENTS.value
_SITE = InspectionMethod.ON_SITE.value
_NET = InspectionMethod.ONLINE.value
_SAMPLE = InspectionMethod.SAMPLING.value
_GENERAL = ItemKind.GENERAL.value
_KEY = ItemKind.KEY.value


@dataclass(frozen=True)
class DemoItem:
    code: str
    department_code: str
    name: str
    legal_basis: str
    object_type: str
    methods: tuple[str, ...]
    kind: str


# Articles are cited as commonly listed in provincial 随机抽查事项清单; check them against
# the current text before reusing this list outside a demo.
ITEMS: tuple[DemoItem, ...] = (
    DemoItem("NMG-SJ-01", "NMG-SJ", "企业公示信息情况检查", "《企业信息公示暂行条例》第十四条",
             "企业", (_DOC, _NET, _SITE), _GENERAL),
    DemoItem("NMG-SJ-02", "NMG-SJ", "登记事项情况检查（住所、经营场所）",
             "《中华人民共和国市场主体登记管理条例》第三十八条", "企业、个体工商户、农民专业合作社",
             (_SITE, _DOC), _GENERAL),
    DemoItem("NMG-SJ-03", "NMG-SJ", "食品经营许可情况检查", "《中华人民共和国食品安全法》第三十五条",
             "食品经营者", (_SITE, _DOC), _KEY),
    DemoItem("NMG-SJ-04", "NMG-SJ", "食品安全监督抽检", "《中华人民共和国食品安全法》第八十七条",
             "食品生产经营者", (_SAMPLE,), _KEY),
    DemoItem("NMG-SJ-05", "NMG-SJ", "食品生产经营者落实主体责任情况检查",
             "《中华人民共和国食品安全法》第一百一十条", "食品生产经营者", (_SITE,), _KEY),
    DemoItem("NMG-SJ-06", "NMG-SJ", "产品质量监督抽查", "《中华人民共和国产品质量法》第十五条",
             "生产者、销售者", (_SAMPLE,), _KEY),
    DemoItem("NMG-SJ-07", "NMG-SJ", "特种设备使用单位监督检查",
             "《中华人民共和国特种设备安全法》第五十七条", "特种设备使用单位", (_SITE, _DOC), _KEY),
    DemoItem("NMG-SJ-08", "NMG-SJ", "药品经营企业监督检查", "《中华人民共和国药品管理法》第九十九条",
             "药品经营企业", (_SITE, _DOC), _KEY),
    DemoItem("NMG-SJ-09", "NMG-SJ", "广告发布行为检查", "《中华人民共和国广告法》第四十九条",
             "广告主、广告经营者、广告发布者", (_NET, _DOC), _GENERAL),
    DemoItem("NMG-SJ-10", "NMG-SJ", "价格行为检查", "《中华人民共和国价格法》第三十四条",
             "经营者", (_SITE, _DOC), _GENERAL),
    DemoItem("NMG-SW-01", "NMG-SW", "纳税申报情况检查", "《中华人民共和国税收征收管理法》第五十四条",
             "纳税人", (_DOC,), _GENERAL),
    DemoItem("NMG-SW-02", "NMG-SW", "发票使用情况检查", "《中华人民共和国税收征收管理法》第二十一条",
             "纳税人", (_DOC, _SITE), _GENERAL),
    DemoItem("NMG-SW-03", "NMG-SW", "税务登记情况检查", "《中华人民共和国税收征收管理法》第十五条",
             "纳税人", (_DOC,), _GENERAL),
    DemoItem("NMG-STHJ-01", "NMG-STHJ", "排污许可执行情况检查", "《排污许可管理条例》第二十四条",
             "排污单位", (_SITE, _DOC), _KEY),
    DemoItem("NMG-STHJ-02", "NMG-STHJ", "排放污染物现场检查", "《中华人民共和国环境保护法》第二十四条",
             "排污单位", (_SITE, _SAMPLE), _KEY),
    DemoItem("NMG-STHJ-03", "NMG-STHJ", "大气污染防治情况检查",
             "《中华人民共和国大气污染防治法》第二十九条", "排污单位", (_SITE, _SAMPLE), _KEY),
    DemoItem("NMG-STHJ-04", "NMG-STHJ", "水污染防治情况检查",
             "《中华人民共和国水污染防治法》第三十条", "排污单位", (_SITE, _SAMPLE), _KEY),
    DemoItem("NMG-GAJJ-01", "NMG-GAJJ", "机动车安全技术检验机构检验工作检查",
             "《中华人民共和国道路交通安全法》第十三条", "机动车安全技术检验机构", (_SITE, _DOC),
             _KEY),
    DemoItem("NMG-GAJJ-02", "NMG-GAJJ", "道路运输企业交通安全主体责任落实情况检查",
             "《中华人民共和国安全生产法》第六十五条", "道路运输企业", (_SITE, _DOC), _KEY),
    DemoItem("NMG-WL-01", "NMG-WL", "旅行社经营行为检查", "《中华人民共和国旅游法》第八十五条",
             "旅行社", (_DOC, _SITE), _GENERAL),
    DemoItem("NMG-WL-02", "NMG-WL", "娱乐场所经营活动检查", "《娱乐场所管理条例》第三十四条",
             "娱乐场所", (_SITE,), _GENERAL),
    DemoItem("NMG-WL-03", "NMG-WL", "互联网上网服务营业场所经营活动检查",
             "《互联网上网服务营业场所管理条例》第二十三条", "互联网上网服务营业场所", (_SITE,),
             _GENERAL),
)  # fmt: skip

_ITEMS_BY_DEPT: dict[str, list[DemoItem]] = {
    d.code: [i for i in ITEMS if i.department_code == d.code] for d in DEPARTMENTS
}


# ---------------------------------------------------------------- industries (GB/T 4754-2017)
@dataclass(frozen=True)
class _Industry:
    code: str
    word: str  # what the name says: 商贸, 饭店, 肉羊养殖 ...
    weight: int
    licence: str = ""  # licence type held, if any
    departments: tuple[str, ...] = ("NMG-SJ",)  # who inspects it


_FOOD = "食品经营许可证"
_ENTERPRISE_INDUSTRIES: tuple[_Industry, ...] = (
    _Industry("F5211", "商贸", 14),
    _Industry("F5212", "超市", 5, _FOOD),
    _Industry("F5124", "食品", 4, _FOOD),
    _Industry("H6210", "餐饮", 6, _FOOD),
    _Industry("H6110", "大酒店", 2, _FOOD, ("NMG-SJ", "NMG-WL")),
    _Industry("C1441", "乳业", 1, "食品生产许可证", ("NMG-SJ", "NMG-STHJ")),
    _Industry("C1353", "肉食品", 2, "食品生产许可证", ("NMG-SJ", "NMG-STHJ")),
    _Industry("C1512", "酒业", 1, "食品生产许可证", ("NMG-SJ", "NMG-STHJ")),
    _Industry("B0610", "煤业", 3, "排污许可证", ("NMG-STHJ", "NMG-SJ", "NMG-SW")),
    _Industry("C3216", "铝业", 1, "排污许可证", ("NMG-STHJ", "NMG-SJ")),
    _Industry("C3120", "钢铁", 1, "排污许可证", ("NMG-STHJ", "NMG-SJ")),
    _Industry("C2614", "化工", 2, "排污许可证", ("NMG-STHJ", "NMG-SJ")),
    _Industry("D4415", "风力发电", 2, "", ("NMG-SJ", "NMG-SW")),
    _Industry("D4416", "新能源", 2, "", ("NMG-SJ", "NMG-SW")),
    _Industry("E4790", "建筑工程", 8, "", ("NMG-SJ", "NMG-SW")),
    _Industry("G5431", "物流", 7, "道路运输经营许可证", ("NMG-GAJJ", "NMG-SJ", "NMG-SW")),
    _Industry("G5435", "危险货物运输", 1, "道路运输经营许可证", ("NMG-GAJJ", "NMG-SJ")),
    _Industry("K7010", "房地产开发", 4, "", ("NMG-SJ", "NMG-SW")),
    _Industry("I6513", "网络科技", 7, "", ("NMG-SJ", "NMG-SW")),
    _Industry("F5265", "石油销售", 2, "成品油零售经营批准证书", ("NMG-SJ", "NMG-STHJ")),
    _Industry("F5251", "医药连锁", 2, "药品经营许可证"),
    _Industry("L7271", "国际旅行社", 2, "旅行社业务经营许可证", ("NMG-WL", "NMG-SJ")),
    _Industry("R9011", "娱乐", 1, "娱乐经营许可证", ("NMG-WL", "NMG-SJ")),
    _Industry("O8111", "汽车服务", 4),
    _Industry("A0314", "牧业", 3),
    _Industry("M7520", "科技", 6, "", ("NMG-SJ", "NMG-SW")),
)
_INDIVIDUAL_INDUSTRIES: tuple[_Industry, ...] = (
    _Industry("F5212", "超市", 12, _FOOD),
    _Industry("F5213", "便利店", 9, _FOOD),
    _Industry("F5219", "商店", 12),
    _Industry("H6210", "饭店", 11, _FOOD),
    _Industry("H6220", "小吃店", 9, _FOOD),
    _Industry("F5224", "鲜肉店", 4, _FOOD),
    _Industry("F5223", "果蔬店", 5, _FOOD),
    _Industry("F5226", "烟酒店", 5, _FOOD),
    _Industry("O8111", "汽车修理部", 6),
    _Industry("O8040", "理发店", 7),
    _Industry("O8030", "洗衣店", 2),
    _Industry("F5271", "五金店", 5),
    _Industry("R9013", "网吧", 1, "网络文化经营许可证", ("NMG-WL", "NMG-SJ")),
    _Industry("G5431", "货运部", 4, "道路运输经营许可证", ("NMG-GAJJ", "NMG-SJ")),
    _Industry("H6129", "旅馆", 3, "", ("NMG-SJ", "NMG-WL")),
    _Industry("F5252", "药店", 2, "药品经营许可证"),
)
_COOPERATIVE_INDUSTRIES: tuple[_Industry, ...] = (
    _Industry("A0113", "玉米种植", 6),
    _Industry("A0123", "马铃薯种植", 4),
    _Industry("A0122", "葵花种植", 3),
    _Industry("A0141", "蔬菜种植", 4),
    _Industry("A0314", "肉羊养殖", 7),
    _Industry("A0311", "肉牛养殖", 6),
    _Industry("A0311", "奶牛养殖", 3),
    _Industry("A0315", "骆驼养殖", 1),
)

# ---------------------------------------------------------------- words for names
_SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
    "苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史"
    "顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文包云乌"
)
# Roughly Zipfian: 王 李 张 刘 陈 are about a third of the population.
_SURNAME_CUM = list(accumulate(1.0 / (i + 1.5) ** 0.9 for i in range(len(_SURNAMES))))
_GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚华红玉兰英建国志海燕晓东文斌宇浩凯鹏飞"
    "俊峰慧婷雪梅琳颖博辉龙亮波宁欣怡佳瑞晨阳春秀桂凤荣林鑫宏福贵喜荣振兴德成利"
)
# About one person in six in Inner Mongolia is Mongolian; many go by a Mongolian given name.
_MONGOLIAN_NAMES = (
    "巴特尔", "其木格", "乌日娜", "斯琴", "额尔敦", "苏日娜", "那仁", "布和", "巴图", "宝音",
    "图雅", "萨仁", "阿拉坦", "朝鲁", "格日勒", "乌云", "特木尔", "敖敦", "娜仁花", "哈斯",
    "包巴特尔", "白乌云", "韩斯琴", "吉日格拉", "孟和", "阿木古楞", "额尔德尼", "达来",
)  # fmt: skip
_BRANDS = (
    "鑫达", "恒泰", "蒙源", "草原", "北疆", "塞北", "金川", "瑞丰", "宏盛", "广源", "天骄",
    "蒙辉", "福源", "兴隆", "聚鑫", "德顺", "华远", "长城", "金泰", "永盛", "万通", "利民",
    "丰泽", "益农", "祥和", "富民", "青城", "鹿城", "敕勒川", "阴山", "黄河", "大漠", "红山",
    "科尔沁", "呼伦", "锡林", "额济纳", "巴彦", "乌珠穆沁", "河套", "金地", "天宇", "博远",
    "众诚", "正泰", "中鼎", "元和", "瑞祥", "佳美", "惠民", "同顺", "开元", "弘业", "昊天",
)  # fmt: skip
_STREETS = (
    "新华大街", "中山路", "人民路", "民族街", "建设路", "团结路", "友谊路", "解放路", "大学路",
    "车站路", "滨河路", "北京路", "兴安路", "胜利街", "文化路", "光明路", "和平路", "迎宾路",
    "工业路", "鄂尔多斯大街", "钢铁大街", "阿尔丁大街", "新世纪大道", "世纪大道", "锡林大街",
)  # fmt: skip
_COMMUNITIES = ("幸福小区", "阳光花园", "锦绣园", "丽景苑", "金色家园", "和谐家园", "滨河小区")
_VILLAGES = ("嘎查", "村")
_COMPLAINTS: tuple[str, ...] = (
    "反映所售食品超过保质期", "就餐后出现身体不适", "结算价格与标价不一致", "虚假宣传",
    "拒绝按约定退换货", "缺斤短两", "预付卡余额无法退还", "服务质量差且拒不整改",
    "经营场所卫生条件差", "无证经营", "商品质量问题", "噪声扰民",
)  # fmt: skip
_IMMEDIATE_TYPES = {
    EntityType.ENTERPRISE.value: ("股东股权转让", "行政许可取得", "行政许可变更", "知识产权出质",
                                  "行政处罚信息", "有限责任公司股东认缴出资变更"),
    EntityType.INDIVIDUAL.value: ("行政许可取得", "行政许可变更", "行政处罚信息"),
    EntityType.COOPERATIVE.value: ("行政许可取得", "成员变更", "行政处罚信息"),
}  # fmt: skip
_FALSE_INFO_DETAILS = (
    "公示的从业人数与社保缴费人数不符", "公示的资产总额与财务报表不符",
    "公示的营业收入与纳税申报收入不符", "公示的股东出资情况与实际不符",
)  # fmt: skip
_CONFLICT_REASONS = (
    ("亲属关系：检查人员与该主体法定代表人系近亲属", 5),
    ("曾任职：检查人员曾在该主体任职", 3),
    ("利益关联：检查人员或其近亲属持有该主体股份", 2),
)
# Earlier inspection results (see domain.md) and how often each occurs.
_RESULT_CODES = (("1", 66), ("F", 9), ("E", 9), ("A", 3), ("B", 4), ("D", 3), ("3", 2),
                 ("6", 2), ("8", 1), ("7", 1))  # fmt: skip
_NEEDS_RECTIFICATION = frozenset({"E", "A", "B", "D", "3"})

_SOURCES = {
    "annual_report": "国家企业信用信息公示系统（内蒙古）",
    "immediate_info": "国家企业信用信息公示系统（内蒙古）",
    "licence": "内蒙古自治区政务服务平台（许可信息）",
    "complaint": "全国12315平台",
    "inspection_result": "内蒙古自治区“双随机、一公开”监管平台",
    "rectification_order": "内蒙古自治区市场监管执法办案系统",
    "address_check": "内蒙古自治区市场主体登记系统（住所核查）",
    "info_check": "内蒙古自治区“双随机、一公开”监管平台（公示信息核查）",
}

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714 organisation code check
_NEW_CODES = len(USCC_ALPHABET) ** 6  # "MA" + 6 characters, the post-2015 form
_OLD_CODES = 10**8  # eight digits, organisation codes converted in 2015–2017
_REFORM_DAY = date(2015, 10, 1)  # 三证合一: new registrations get a USCC from here on


# Plain strings for the hot loop (enum attribute access is slow there).
_ENTERPRISE = EntityType.ENTERPRISE.value
_INDIVIDUAL = EntityType.INDIVIDUAL.value
_COOPERATIVE = EntityType.COOPERATIVE.value
_ACTIVE = EntityStatus.ACTIVE.value
_REVOKED = EntityStatus.REVOKED.value
#: GB 32100: registration authority 9 (market regulation), then the entity class.
_TYPE_DIGIT = {_ENTERPRISE: "1", _INDIVIDUAL: "2", _COOPERATIVE: "3"}
_ORG_VALUE = {c: int(c, 36) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


def _org_check(body: str) -> str:
    """GB 11714 check character of an 8-character organisation code body."""
    total = sum(map(int.__mul__, map(_ORG_VALUE.__getitem__, body), _ORG_WEIGHTS))
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def _to_base(value: int, alphabet: str, width: int) -> str:
    digits = []
    n = len(alphabet)
    for _ in range(width):
        value, rem = divmod(value, n)
        digits.append(alphabet[rem])
    return "".join(reversed(digits))


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def inspector_count(entities: int) -> int:
    """How many inspectors the province gets before the per-prefecture minimum: N/40, ≤ 3000."""
    return min(entities // ENTITIES_PER_INSPECTOR, MAX_INSPECTORS)


# ---------------------------------------------------------------- output containers
@dataclass
class EntityBatch:
    """A slice of the entity stream with the rows that hang off those entities."""

    entities: list[Row] = field(default_factory=list)
    conflicts: list[Row] = field(default_factory=list)
    records: list[Row] = field(default_factory=list)


@dataclass
class DemoStats:
    """What was made, accumulated while generating (complete once the stream is consumed)."""

    departments: int = 0
    items: int = 0
    inspectors: int = 0
    inspectors_by_status: Counter[str] = field(default_factory=Counter)
    conflicts: int = 0
    entities: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    by_prefecture: Counter[str] = field(default_factory=Counter)
    by_risk: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)
    abnormal: int = 0
    abnormal_over_3_years: int = 0
    records_by_kind: Counter[str] = field(default_factory=Counter)

    @property
    def records(self) -> int:
        return sum(self.records_by_kind.values())

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (prefectures with their names, in code order)."""
        return {
            "departments": self.departments,
            "items": self.items,
            "inspectors": self.inspectors,
            "inspectors_by_status": dict(sorted(self.inspectors_by_status.items())),
            "conflicts": self.conflicts,
            "entities": self.entities,
            "entities_by_type": dict(sorted(self.by_type.items())),
            "entities_by_prefecture": {
                code: {
                    "name": INNER_MONGOLIA_PREFECTURES[code],
                    "entities": self.by_prefecture[code],
                }
                for code in sorted(self.by_prefecture)
            },
            "risk_classes": dict(sorted(self.by_risk.items())),
            "entities_by_status": dict(sorted(self.by_status.items())),
            "abnormal": self.abnormal,
            "abnormal_over_3_years": self.abnormal_over_3_years,
            "records": self.records,
            "records_by_kind": {k.value: self.records_by_kind[k.value] for k in RecordKind},
        }


# ---------------------------------------------------------------- the generator
class _Picker:
    """Weighted choice with precomputed cumulative weights (random.choices is slower)."""

    __slots__ = ("cum", "total", "values")

    def __init__(self, pairs: Sequence[tuple[Any, float]]) -> None:
        self.values = [v for v, _ in pairs]
        self.cum = list(accumulate(w for _, w in pairs))
        self.total = self.cum[-1]

    def __call__(self, rng: random.Random) -> Any:
        return self.values[bisect(self.cum, rng.random() * self.total)]


def _regions_of(prefecture: str) -> list[tuple[str, float]]:
    """Where in a prefecture: its known 旗县区 and the prefecture code itself (the rest)."""
    counties = [c for c in INNER_MONGOLIA_COUNTIES if prefecture_of(c) == prefecture]
    return [(c, 1.0) for c in counties] + [(prefecture, max(1.0, len(counties) / 2))]


class DemoProvince:
    """The demo province for one (entities, seed, as_of): departments, items, inspectors,
    then a stream of entity batches with their conflicts and compliance records.

    Same inputs, same rows: every random choice comes from generators seeded by ``seed``
    and consumed in a fixed order, independent of how the stream is batched.
    """

    def __init__(
        self, *, entities: int = DEFAULT_ENTITIES, seed: int = DEFAULT_SEED,
        as_of: date | None = None,
    ) -> None:  # fmt: skip
        if entities < 0:
            raise ValueError("entities must be ≥ 0")
        self.entity_count = entities
        self.seed = seed
        self.as_of = as_of or clock.today()
        # When rows were stored: the start of the as-of day in China (midnight UTC would
        # lie up to eight hours ahead of now, and every incremental check until then
        # would take every entity as changed).
        self.stamp = clock.day_start(self.as_of)
        self.stats = DemoStats(departments=len(DEPARTMENTS), items=len(ITEMS))
        self._prefecture = _Picker([(p, float(w)) for p, w in PREFECTURE_WEIGHTS.items()])
        self._region_in = {p: _Picker(_regions_of(p)) for p in PREFECTURE_WEIGHTS}
        self._region_name = {
            **{c: INNER_MONGOLIA_PREFECTURES[prefecture_of(c)] + n
               for c, n in INNER_MONGOLIA_COUNTIES.items()},
            **INNER_MONGOLIA_PREFECTURES,
        }  # fmt: skip
        self._inspectors = self._make_inspectors()
        self.stats.inspectors = len(self._inspectors)
        self.stats.inspectors_by_status = Counter(i["status"] for i in self._inspectors)
        # Active inspectors by (department, prefecture) and everyone by prefecture.
        self._active: dict[tuple[str, str], list[str]] = {}
        self._by_prefecture: dict[str, list[str]] = {}
        for row in self._inspectors:
            pref = prefecture_of(row["region_code"])
            self._by_prefecture.setdefault(pref, []).append(row["cert_no"])
            if row["status"] == InspectorStatus.ACTIVE.value:
                self._active.setdefault((row["department_code"], pref), []).append(row["cert_no"])

    # ------------------------------------------------------------ small tables
    def departments(self) -> list[Row]:
        """Department rows (all at province level, region 150000)."""
        return [{"code": d.code, "name": d.name, "region_code": PROVINCE_CODE} for d in DEPARTMENTS]

    def items(self) -> list[Row]:
        """InspectionItem rows: version 1, in force from 2024-01-01."""
        return [
            {
                "code": i.code, "version": 1, "name": i.name, "department_code": i.department_code,
                "legal_basis": i.legal_basis, "object_type": i.object_type,
                "methods": list(i.methods), "kind": i.kind,
                "effective_from": ITEMS_EFFECTIVE_FROM, "effective_to": None,
            }
            for i in ITEMS
        ]  # fmt: skip

    def inspectors(self) -> list[Row]:
        """Inspector rows: every department staffed in every prefecture."""
        return [dict(row) for row in self._inspectors]

    def _make_inspectors(self) -> list[Row]:
        rng = random.Random(f"supervision-demo:{self.seed}:inspectors")
        total = inspector_count(self.entity_count)
        weight_sum = sum(PREFECTURE_WEIGHTS.values())
        status = _Picker([(InspectorStatus.ACTIVE.value, 88), (InspectorStatus.TRANSFERRED.value, 7),
                          (InspectorStatus.RETIRED.value, 5)])  # fmt: skip
        rows: list[Row] = []
        for d_index, dept in enumerate(DEPARTMENTS, start=1):
            codes = [i.code for i in _ITEMS_BY_DEPT[dept.code]]
            for pref, weight in PREFECTURE_WEIGHTS.items():
                n = max(
                    MIN_ACTIVE_PER_PREFECTURE,
                    FULLY_QUALIFIED_PER_PREFECTURE,
                    round(total * dept.staff_share * weight / weight_sum),
                )
                for serial in range(1, n + 1):
                    # The first few per prefecture hold every item, so any task of the
                    # department can be staffed there even after conflicts and 回避 of
                    # earlier inspectors; the rest are a realistic mix.
                    if serial <= FULLY_QUALIFIED_PER_PREFECTURE or rng.random() < 0.7:
                        quals = codes
                    else:
                        quals = rng.sample(
                            codes, rng.randint(max(1, len(codes) - 2), len(codes) - 1)
                        )
                    rows.append({
                        # 执法证号: 15 + prefecture + department + serial, e.g. 150201000123
                        "cert_no": f"{pref[:4]}{d_index:02d}{serial:06d}",
                        "name": self._person(rng),
                        "department_code": dept.code,
                        "region_code": self._region_in[pref](rng) if rng.random() < 0.5 else pref,
                        "qualifications": sorted(quals),
                        "status": InspectorStatus.ACTIVE.value
                        if serial <= max(MIN_ACTIVE_PER_PREFECTURE, FULLY_QUALIFIED_PER_PREFECTURE)
                        else status(rng),
                        "updated_at": self.stamp,
                    })  # fmt: skip
        return rows

    # ------------------------------------------------------------ people and places
    @staticmethod
    def _person(rng: random.Random) -> str:
        if rng.random() < 0.12:
            return _MONGOLIAN_NAMES[int(rng.random() * len(_MONGOLIAN_NAMES))]
        surname = _SURNAMES[bisect(_SURNAME_CUM, rng.random() * _SURNAME_CUM[-1])]
        n = len(_GIVEN_CHARS)
        given = _GIVEN_CHARS[int(rng.random() * n)]
        if rng.random() < 0.7:
            given += _GIVEN_CHARS[int(rng.random() * n)]
        return surname + given

    @staticmethod
    def _phone(rng: random.Random) -> str:
        prefix = ("13", "15", "18", "17", "19")[int(rng.random() * 5)]
        return f"{prefix}{int(rng.random() * 1e9):09d}"

    # ------------------------------------------------------------ the entity stream
    def batches(self, size: int = 10_000) -> Iterator[EntityBatch]:
        """Entities in batches of ``size``, each with its conflicts and records.

        Restartable: each call replays the same stream and recounts ``self.stats``.
        """
        stats = DemoStats(
            departments=self.stats.departments, items=self.stats.items,
            inspectors=self.stats.inspectors, inspectors_by_status=self.stats.inspectors_by_status,
        )  # fmt: skip
        self.stats = stats
        gen = _EntityStream(self, random.Random(f"supervision-demo:{self.seed}:entities"), stats)
        batch = EntityBatch()
        for entity_type, region, count in gen.groups(self.entity_count):
            for established, body in gen.group_members(count):
                gen.entity(entity_type, region, established, body, batch)
                if len(batch.entities) >= size:
                    yield batch
                    batch = EntityBatch()
        if batch.entities:
            yield batch


class _EntityStream:
    """Makes one entity at a time, with everything hanging off it (single RNG, fixed order)."""

    def __init__(self, province: DemoProvince, rng: random.Random, stats: DemoStats) -> None:
        self.p = province
        self.rng = rng
        self.stats = stats
        self.as_of = province.as_of
        self.type = _Picker([(_INDIVIDUAL, 55), (_ENTERPRISE, 42),
                             (_COOPERATIVE, 3)])  # fmt: skip
        self.industries = {
            _ENTERPRISE: _Picker([(i, i.weight) for i in _ENTERPRISE_INDUSTRIES]),
            _INDIVIDUAL: _Picker([(i, i.weight) for i in _INDIVIDUAL_INDUSTRIES]),
            _COOPERATIVE: _Picker([(i, i.weight) for i in _COOPERATIVE_INDUSTRIES]),
        }
        self.status = _Picker([(_ACTIVE, 90.0), (EntityStatus.CANCELLED.value, 5.0),
                               (_REVOKED, 3.0), (EntityStatus.MOVED_OUT.value, 1.5),
                               (EntityStatus.WITHDRAWN.value, 0.5)])  # fmt: skip
        # Abnormal entities are C or D; the others are drawn so the whole mix is ~50/35/12/3.
        self.risk = _Picker([("A", 50.0), ("B", 35.0), ("C", 11.0), ("D", 2.0)])
        self.enterprise_size = _Picker([(EntitySize.MICRO.value, 70), (EntitySize.SMALL.value, 22),
                                        (EntitySize.MEDIUM.value, 6), (EntitySize.LARGE.value, 2)])  # fmt: skip
        # Market entities grew fast after the 2014 registration reform: younger ones dominate.
        self.age = _Picker([(a, 0.9**a) for a in range(20)])
        self.result = _Picker(_RESULT_CODES)
        self.conflict_reason = _Picker(_CONFLICT_REASONS)
        self.inspecting_dept = _Picker([(d.code, d.staff_share) for d in DEPARTMENTS])
        self.record_serial = 0
        self._moments: dict[tuple[date, int], datetime] = {}
        self._windows: dict[int, tuple[date, date]] = {}

    # -------------------------------------------------------- helpers
    def groups(self, n: int) -> list[tuple[str, str, int]]:
        """How many entities of each (type, region), in USCC order.

        Entities are made group by group with increasing codes, so the stream arrives in
        primary-key order: SQLite appends to its indexes instead of inserting at random.
        """
        rng = self.rng
        counts: Counter[tuple[str, str]] = Counter()
        prefecture, region_in = self.p._prefecture, self.p._region_in
        for _ in range(n):
            counts[(self.type(rng), region_in[prefecture(rng)](rng))] += 1
        return sorted(((t, r, c) for (t, r), c in counts.items()),
                      key=lambda g: (_TYPE_DIGIT[g[0]], g[1]))  # fmt: skip

    def group_members(self, count: int) -> Iterator[tuple[date, str]]:
        """(established_on, organisation code body) for the members of one group, in code order.

        Entities registered before the 2015 reform carry their old 8-digit organisation
        code (digits sort first); later ones an assigned "MA" code. Codes increase by
        random steps, so they are unique within the group, and the group prefix
        (type and region) makes them unique overall.
        """
        rng = self.rng
        as_of = self.as_of
        days = [as_of - timedelta(days=self.age(rng) * 365 + int(rng.random() * 365) + 1)
                for _ in range(count)]  # fmt: skip
        old = [d for d in days if d < _REFORM_DAY]
        new = [d for d in days if d >= _REFORM_DAY]
        step = _OLD_CODES // (len(old) + 1)
        for i, day in enumerate(old):
            yield day, f"{i * step + int(rng.random() * step):08d}"
        step = _NEW_CODES // (len(new) + 1)
        for i, day in enumerate(new):
            yield day, "MA" + _to_base(i * step + int(rng.random() * step), USCC_ALPHABET, 6)

    def _uscc(self, entity_type: str, region: str, body: str) -> str:
        first17 = f"9{_TYPE_DIGIT[entity_type]}{region}{body}{_org_check(body)}"
        return first17 + uscc_check_char(first17)

    def _day_between(self, start: date, end: date) -> date:
        span = (end - start).days
        return start + timedelta(days=int(self.rng.random() * (span + 1))) if span > 0 else start

    def _received(self, day: date) -> datetime:
        """When the record reached the platform: office hours on the same or one of the next
        two days, never after as_of."""
        r = int(self.rng.random() * 27)  # 3 days x 9 hours
        key = (day, r)
        moment = self._moments.get(key)
        if moment is None:
            when = day + timedelta(days=r // 9)
            if when > self.as_of:
                when = self.as_of
            moment = datetime(when.year, when.month, when.day, 1 + r % 9, tzinfo=UTC)
            self._moments[key] = moment
        return moment

    def _record(self, batch: EntityBatch, record_id: str, uscc: str, kind: str,
                event: date | None, payload: Row, received_day: date) -> None:  # fmt: skip
        batch.records.append({
            "record_id": record_id, "uscc": uscc, "kind": kind, "event_date": event,
            "payload": payload, "source": _SOURCES[kind], "received_at": self._received(received_day),
            "stored_at": self.p.stamp,
        })  # fmt: skip
        self.stats.records_by_kind[kind] += 1

    # -------------------------------------------------------- one entity
    def entity(self, etype: str, region: str, established: date, body: str,
               batch: EntityBatch) -> None:  # fmt: skip
        rng = self.rng
        as_of = self.as_of
        industry: _Industry = self.industries[etype](rng)
        prefecture = prefecture_of(region)
        status = self.status(rng)
        active = status == _ACTIVE
        uscc = self._uscc(etype, region, body)
        person = self.p._person(rng)

        name, address = self._name_and_address(etype, industry, prefecture, region, person)
        if etype == _ENTERPRISE:
            size: str | None = self.enterprise_size(rng)
        elif etype == _COOPERATIVE:
            size = EntitySize.MICRO.value if rng.random() < 0.8 else EntitySize.SMALL.value
        else:
            size = None

        # The abnormal list (~2%): mostly for annual reports not filed, some unreachable
        # addresses, a few false published information.
        abnormal_since: date | None = None
        abnormal_reason = ""
        first_missing_year: int | None = None
        if active and rng.random() < 0.026:
            abnormal_reason = ("report", "address", "false")[
                bisect((0.72, 0.93), rng.random())]  # fmt: skip
            if abnormal_reason == "report":
                # Listed ~10 working days after the 30 June deadline; recent years more often.
                last_due = as_of.year - 1 if as_of >= date(as_of.year, 7, 15) else as_of.year - 2
                years = [y for y in range(max(established.year, last_due - 6), last_due + 1)]
                if years:
                    weights = [1.0 + (y - years[0]) for y in years]
                    first_missing_year = rng.choices(years, weights)[0]
                    abnormal_since = date(first_missing_year + 1, 7, 1) + timedelta(
                        days=7 + int(rng.random() * 8)
                    )
                else:
                    abnormal_reason = "address"
            if abnormal_reason != "report":
                start = max(established + timedelta(days=60), as_of - timedelta(days=6 * 365))
                if start >= as_of - timedelta(days=20):
                    abnormal_reason = ""
                else:
                    abnormal_since = self._day_between(start, as_of - timedelta(days=10))

        if abnormal_since is not None:
            risk = "C" if rng.random() < 0.5 else "D"
            self.stats.abnormal += 1
            if abnormal_since <= _add_years(as_of, -3):
                self.stats.abnormal_over_3_years += 1
        else:
            risk = self.risk(rng)

        batch.entities.append({
            "uscc": uscc, "name": name, "entity_type": etype, "industry_code": industry.code,
            "region_code": region, "address": address, "legal_rep": person,
            "contact_phone": self.p._phone(rng) if rng.random() < 0.9 else None,
            "status": status, "risk_class": risk, "size": size,
            "abnormal": abnormal_since is not None, "abnormal_since": abnormal_since,
            "established_on": established, "updated_at": self.p.stamp,
        })  # fmt: skip
        st = self.stats
        st.entities += 1
        st.by_type[etype] += 1
        st.by_prefecture[prefecture] += 1
        st.by_risk[risk] += 1
        st.by_status[status] += 1

        # Inactive entities stopped trading some time ago: nothing after that.
        if active:
            ended = as_of
        else:
            ended = self._day_between(min(established + timedelta(days=200), as_of), as_of)
        self._annual_reports(batch, uscc, established, ended, status, first_missing_year)
        self._immediate_info(batch, uscc, etype, established, ended)
        self._licence(batch, uscc, etype, region, industry, established, active)
        self._complaints(batch, uscc, established, ended)
        self._inspections(batch, uscc, prefecture, industry, established, ended, abnormal_reason)
        self._checks(batch, uscc, etype, established, ended, abnormal_reason, abnormal_since)
        if rng.random() < 0.006:
            self._conflict(batch, uscc, prefecture)

    def _name_and_address(self, etype: str, industry: _Industry, prefecture: str, region: str,
                          person: str) -> tuple[str, str]:  # fmt: skip
        rng = self.rng
        pref_name = INNER_MONGOLIA_PREFECTURES[prefecture]
        place = self.p._region_name[region]
        brand = _BRANDS[int(rng.random() * len(_BRANDS))]
        street = _STREETS[int(rng.random() * len(_STREETS))]
        number = 1 + int(rng.random() * 300)
        if etype == _ENTERPRISE:
            roll = rng.random()
            prefix = "内蒙古" if roll < 0.2 else place if roll < 0.45 else pref_name
            suffix = "有限公司" if roll < 0.7 else "有限责任公司" if roll < 0.95 else "股份有限公司"
            name = f"{prefix}{brand}{industry.word}{suffix}"
            address = f"内蒙古自治区{place}{street}{number}号"
            if rng.random() < 0.4:
                address += f"{1 + int(rng.random() * 20)}层"
        elif etype == _INDIVIDUAL:
            roll = rng.random()
            shop = f"{person[0]}记" if roll < 0.2 else f"老{person[0]}" if roll < 0.3 else brand
            name = f"{place}{shop}{industry.word}"
            community = _COMMUNITIES[int(rng.random() * len(_COMMUNITIES))]
            address = (f"内蒙古自治区{place}{street}{community}"
                       f"{1 + int(rng.random() * 30)}号楼底商{number}号")  # fmt: skip
        else:
            village = brand + _VILLAGES[int(rng.random() * 2)]
            name = f"{place}{brand}{industry.word}专业合作社"
            address = f"内蒙古自治区{place}{village}{1 + int(rng.random() * 12)}组"
        return name, address

    # -------------------------------------------------------- records
    def _annual_reports(self, batch: EntityBatch, uscc: str, established: date, ended: date,
                        status: str, first_missing: int | None) -> None:  # fmt: skip
        """One report a year since establishment (from 2013): ~85% on time, some late, a few
        missing (a record with no filing date, or no record at all)."""
        rng = self.rng
        as_of = self.as_of
        last_year = min(as_of.year - 1, ended.year - 1)
        if status == _REVOKED:
            last_year -= 2  # revoked after not reporting or trading for years
        recent = as_of.year - 3
        append = batch.records.append
        source = _SOURCES["annual_report"]
        received = self._received
        stored = self.p.stamp
        made = 0
        for year in range(max(2013, established.year), last_year + 1):
            opens, due = self._report_window(year)
            record_id = f"AR-{year}-{uscc}"
            missing = first_missing is not None and year >= first_missing
            roll = rng.random()
            if not missing and year >= recent and roll < 0.03:
                missing = True  # not listed (yet): the rules engine should find these
            if missing:
                if due < as_of and rng.random() < 0.5:
                    append({"record_id": record_id, "uscc": uscc, "kind": "annual_report",
                            "event_date": None, "payload": {"year": year, "filed_on": None},
                            "source": source, "received_at": received(min(due, as_of)),
                            "stored_at": stored})  # fmt: skip
                    made += 1
                continue
            if roll > (0.88 if year >= recent else 0.9):  # late
                filed = due + timedelta(days=1 + int(rng.random() * 200))
            else:  # most file in the last weeks before the deadline
                filed = opens + timedelta(days=int(max(rng.random(), rng.random()) * 180))
            if filed > as_of or filed > ended + timedelta(days=180):
                continue  # not filed yet on as_of (inside the window: nothing to flag)
            append({"record_id": record_id, "uscc": uscc, "kind": "annual_report",
                    "event_date": filed, "payload": {"year": year, "filed_on": filed.isoformat()},
                    "source": source, "received_at": received(filed), "stored_at": stored})  # fmt: skip
            made += 1
        self.stats.records_by_kind["annual_report"] += made

    def _report_window(self, year: int) -> tuple[date, date]:
        """1 January and 30 June of the year after ``year``: when its annual report is due."""
        window = self._windows.get(year)
        if window is None:
            window = self._windows[year] = (date(year + 1, 1, 1), date(year + 1, 6, 30))
        return window

    def _immediate_info(self, batch: EntityBatch, uscc: str, etype: str, established: date,
                        ended: date) -> None:  # fmt: skip
        rng = self.rng
        chance = 0.45 if etype == _ENTERPRISE else 0.06
        count = 0
        while rng.random() < chance and count < 3:
            count += 1
            start = max(established, self.as_of - timedelta(days=730))
            arose = self._day_between(start, ended)
            roll = rng.random()
            if roll < 0.88:  # within 25 calendar days: always within 20 working days
                published: date | None = arose + timedelta(days=int(rng.random() * 25))
            elif roll < 0.95:  # late: at least 45 calendar days, beyond 20 working days
                published = arose + timedelta(days=45 + int(rng.random() * 90))
            else:
                published = None
            if published is not None and published > self.as_of:
                published = None
            types = _IMMEDIATE_TYPES[etype]
            payload = {"info_type": types[int(rng.random() * len(types))],
                       "arose_on": arose.isoformat(),
                       "published_on": None if published is None else published.isoformat()}  # fmt: skip
            self._record(batch, f"II-{uscc}-{count}", uscc, "immediate_info", arose, payload,
                         published or arose)  # fmt: skip
            chance = 0.3

    def _licence(self, batch: EntityBatch, uscc: str, etype: str, region: str, industry: _Industry,
                 established: date, active: bool) -> None:  # fmt: skip
        """Five-year licences; some expired, a third of those while the business goes on."""
        rng = self.rng
        if not industry.licence or rng.random() < 0.08:
            return  # 8% of those who need one have none on record
        issued = self._day_between(
            max(established, self.as_of - timedelta(days=6 * 365)), self.as_of
        )
        valid_to = _add_years(issued, 5) - timedelta(days=1)
        expired = valid_to < self.as_of
        business_active = active and (not expired or rng.random() < 0.35)
        serial = int(rng.random() * 1e6)
        kind = industry.licence
        if kind == _FOOD:
            number = f"JY{'1' if etype == _ENTERPRISE else '2'}{region}{serial:06d}{serial % 10}"
        elif kind == "食品生产许可证":
            number = f"SC{100 + serial % 30}{region}{serial:04d}"[:16]
        elif kind == "排污许可证":
            number = f"{uscc}001P"
        elif kind == "药品经营许可证":
            number = f"蒙AA{region[:4]}{serial:06d}"
        elif kind == "道路运输经营许可证":
            number = f"蒙交运管许可{region}{serial:06d}号"
        else:
            number = f"{region}{issued.year}{serial:06d}"
        payload = {"licence_no": number, "licence_type": kind, "valid_to": valid_to.isoformat(),
                   "business_active": business_active}  # fmt: skip
        self._record(batch, f"LIC-{uscc}-1", uscc, "licence", valid_to, payload, issued)

    def _complaints(self, batch: EntityBatch, uscc: str, established: date, ended: date) -> None:
        """Most have none; ~1% draw a cluster of 3–5 complaints within 90 days."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.91:
            return
        if roll > 0.99 and ended == self.as_of:
            start = max(established, self.as_of - timedelta(days=90))
            n = 3 + int(rng.random() * 3)
        else:
            start = max(established, self.as_of - timedelta(days=730))
            n = 1 if roll < 0.975 else 2
        for k in range(1, n + 1):
            received = self._day_between(start, ended)
            summary = _COMPLAINTS[int(rng.random() * len(_COMPLAINTS))]
            self._record(batch, f"CP-{uscc}-{k}", uscc, "complaint", received,
                         {"received_on": received.isoformat(), "summary": summary}, received)  # fmt: skip

    def _inspections(self, batch: EntityBatch, uscc: str, prefecture: str, industry: _Industry,
                     established: date, ended: date, abnormal_reason: str) -> None:  # fmt: skip
        """Earlier random inspections (last three years), with rectification orders."""
        rng = self.rng
        roll = rng.random()
        n = 2 if roll < 0.05 else 1 if roll < 0.3 else 0
        start = max(established + timedelta(days=30), self.as_of - timedelta(days=3 * 365))
        if start >= ended:
            return
        for k in range(1, n + 1):
            dept = industry.departments[int(rng.random() * len(industry.departments))]
            items = _ITEMS_BY_DEPT[dept]
            item = items[int(rng.random() * len(items))]
            day = self._day_between(start, ended)
            code = "6" if abnormal_reason == "address" and k == n else self.result(rng)
            team = self.p._active[(dept, prefecture)]
            first = int(rng.random() * len(team))
            second = (first + 1 + int(rng.random() * (len(team) - 1))) % len(team)
            short = next(d.short for d in DEPARTMENTS if d.code == dept)
            payload = {
                "task_code": f"NMG-{short}-{day.year}-{1 + int(rng.random() * 40):03d}",
                "item_code": item.code, "result_code": code, "inspected_on": day.isoformat(),
                "inspectors": [team[first], team[second]],
            }  # fmt: skip
            self._record(batch, f"IR-{uscc}-{k}", uscc, "inspection_result", day, payload,
                         day + timedelta(days=5))  # fmt: skip
            if code in _NEEDS_RECTIFICATION and rng.random() < 0.85:
                self._rectification(batch, uscc, prefecture, day, k)

    def _rectification(self, batch: EntityBatch, uscc: str, prefecture: str, ordered: date,
                       k: int) -> None:  # fmt: skip
        rng = self.rng
        as_of = self.as_of
        due = ordered + timedelta(days=(15, 30, 30, 60)[int(rng.random() * 4)])
        roll = rng.random()
        rectified: date | None
        if roll < 0.8:
            rectified = self._day_between(ordered + timedelta(days=1), due)
        elif roll < 0.88:
            rectified = due + timedelta(days=1 + int(rng.random() * 60))
        else:
            rectified = None  # not rectified: overdue once due_on has passed
        if rectified is not None and rectified > as_of:
            rectified = None
        self.record_serial += 1
        number = f"蒙{_PREFECTURE_ABBR[prefecture]}市监责改〔{ordered.year}〕{self.record_serial}号"
        payload = {"order_no": number, "ordered_on": ordered.isoformat(), "due_on": due.isoformat(),
                   "rectified_on": None if rectified is None else rectified.isoformat()}  # fmt: skip
        self._record(
            batch, f"RO-{uscc}-{k}", uscc, "rectification_order", ordered, payload, ordered
        )

    def _checks(self, batch: EntityBatch, uscc: str, etype: str, established: date, ended: date,
                abnormal_reason: str, abnormal_since: date | None) -> None:  # fmt: skip
        """Address checks (some unreachable) and checks of published information (a few false)."""
        rng = self.rng
        start = max(established + timedelta(days=30), self.as_of - timedelta(days=730))
        if abnormal_reason == "address" and abnormal_since is not None:
            day = max(established, abnormal_since - timedelta(days=3 + int(rng.random() * 10)))
            self._record(batch, f"AC-{uscc}-1", uscc, "address_check", day,
                         {"checked_on": day.isoformat(), "reachable": False}, day)  # fmt: skip
        elif start < ended and rng.random() < 0.12:
            day = self._day_between(start, ended)
            reachable = rng.random() < 0.95
            self._record(batch, f"AC-{uscc}-1", uscc, "address_check", day,
                         {"checked_on": day.isoformat(), "reachable": reachable}, day)  # fmt: skip
        detail = _FALSE_INFO_DETAILS[int(rng.random() * len(_FALSE_INFO_DETAILS))]
        if abnormal_reason == "false" and abnormal_since is not None:
            day = max(established, abnormal_since - timedelta(days=3 + int(rng.random() * 10)))
            self._record(batch, f"IC-{uscc}-1", uscc, "info_check", day,
                         {"checked_on": day.isoformat(), "false_info": True, "detail": detail}, day)  # fmt: skip
        elif (start < ended and etype != _INDIVIDUAL
              and rng.random() < 0.15):  # fmt: skip
            day = self._day_between(start, ended)
            false = rng.random() < 0.03
            payload = {"checked_on": day.isoformat(), "false_info": false,
                       "detail": detail if false else "核查无误"}  # fmt: skip
            self._record(batch, f"IC-{uscc}-1", uscc, "info_check", day, payload, day)

    def _conflict(self, batch: EntityBatch, uscc: str, prefecture: str) -> None:
        rng = self.rng
        people = self.p._by_prefecture[prefecture]
        batch.conflicts.append({
            "inspector_cert_no": people[int(rng.random() * len(people))], "uscc": uscc,
            "reason": self.conflict_reason(rng),
            "declared_on": self.as_of - timedelta(days=30 + int(rng.random() * 1000)),
        })  # fmt: skip
        self.stats.conflicts += 1

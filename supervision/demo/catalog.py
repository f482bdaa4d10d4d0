"""What the demo province is made of: its departments and their inspection items, the
industries its entities trade in, how they are spread over the 12 盟市, and the plain
values of the vocabulary that generation uses in its hot loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from supervision.reference.vocab import EntityStatus, EntityType, InspectionMethod, ItemKind

Row = dict[str, Any]

# 2020 census population (10,000s): entities and inspectors are spread by it.
PREFECTURE_WEIGHTS: dict[str, int] = {
    "150100": 345, "150200": 271, "150300": 56, "150400": 404, "150500": 287,
    "150600": 215, "150700": 224, "150800": 154, "150900": 171, "152200": 142,
    "152500": 111, "152900": 26,
}  # fmt: skip

# Short forms used in document numbers (责令整改通知书 numbering).
PREFECTURE_ABBR: dict[str, str] = {
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

# Object scopes (entity types; licence kinds held, as compliance records of kind licence).
_ENTERPRISE = (EntityType.ENTERPRISE.value,)
_FIRMS = (EntityType.ENTERPRISE.value, EntityType.COOPERATIVE.value)  # file annual reports
_TRADERS = (EntityType.ENTERPRISE.value, EntityType.INDIVIDUAL.value)
_ALL = (EntityType.ENTERPRISE.value, EntityType.INDIVIDUAL.value, EntityType.COOPERATIVE.value)
FOOD = "食品经营许可证"
_FOOD_MAKING = "食品生产许可证"
_MEDICINE = "药品经营许可证"
_POLLUTION = "排污许可证"
_ROAD = "道路运输经营许可证"
_TRAVEL = "旅行社业务经营许可证"
_ENTERTAINMENT = "娱乐经营许可证"
_NET_CAFE = "网络文化经营许可证"


@dataclass(frozen=True)
class DemoItem:
    code: str
    department_code: str
    name: str
    legal_basis: str
    object_type: str
    methods: tuple[str, ...]
    kind: str
    # 检查对象范围: entity types, GB/T 4754 industry prefixes, licence kinds (empty: any).
    scope_entity_types: tuple[str, ...] = ()
    scope_industries: tuple[str, ...] = ()
    scope_licences: tuple[str, ...] = ()


# Articles are cited as commonly listed in provincial 随机抽查事项清单; check them against
# the current text before reusing this list outside a demo.
ITEMS: tuple[DemoItem, ...] = (
    DemoItem("NMG-SJ-01", "NMG-SJ", "企业公示信息情况检查", "《企业信息公示暂行条例》第十四条",
             "企业", (_DOC, _NET, _SITE), _GENERAL, _FIRMS, (), ()),
    DemoItem("NMG-SJ-02", "NMG-SJ", "登记事项情况检查（住所、经营场所）",
             "《中华人民共和国市场主体登记管理条例》第三十八条", "企业、个体工商户、农民专业合作社",
             (_SITE, _DOC), _GENERAL, _ALL, (), ()),
    DemoItem("NMG-SJ-03", "NMG-SJ", "食品经营许可情况检查", "《中华人民共和国食品安全法》第三十五条",
             "食品经营者", (_SITE, _DOC), _KEY, _TRADERS, ("F51", "F52", "H61", "H62"), (FOOD,)),
    DemoItem("NMG-SJ-04", "NMG-SJ", "食品安全监督抽检", "《中华人民共和国食品安全法》第八十七条",
             "食品生产经营者", (_SAMPLE,), _KEY,
             _ALL, ("C13", "C14", "C15", "F51", "F52", "H61", "H62"), (FOOD, _FOOD_MAKING)),
    DemoItem("NMG-SJ-05", "NMG-SJ", "食品生产经营者落实主体责任情况检查",
             "《中华人民共和国食品安全法》第一百一十条", "食品生产经营者", (_SITE,), _KEY,
             _ALL, ("C13", "C14", "C15", "F51", "F52", "H61", "H62"), (FOOD, _FOOD_MAKING)),
    DemoItem("NMG-SJ-06", "NMG-SJ", "产品质量监督抽查", "《中华人民共和国产品质量法》第十五条",
             "生产者、销售者", (_SAMPLE,), _KEY, _TRADERS, ("C", "F"), ()),
    DemoItem("NMG-SJ-07", "NMG-SJ", "特种设备使用单位监督检查",
             "《中华人民共和国特种设备安全法》第五十七条", "特种设备使用单位", (_SITE, _DOC), _KEY, _ENTERPRISE, (), ()),
    DemoItem("NMG-SJ-08", "NMG-SJ", "药品经营企业监督检查", "《中华人民共和国药品管理法》第九十九条",
             "药品经营企业", (_SITE, _DOC), _KEY, _TRADERS, ("F515", "F525"), (_MEDICINE,)),
    DemoItem("NMG-SJ-09", "NMG-SJ", "广告发布行为检查", "《中华人民共和国广告法》第四十九条",
             "广告主、广告经营者、广告发布者", (_NET, _DOC), _GENERAL, _TRADERS, (), ()),
    DemoItem("NMG-SJ-10", "NMG-SJ", "价格行为检查", "《中华人民共和国价格法》第三十四条",
             "经营者", (_SITE, _DOC), _GENERAL, _TRADERS, (), ()),
    DemoItem("NMG-SW-01", "NMG-SW", "纳税申报情况检查", "《中华人民共和国税收征收管理法》第五十四条",
             "纳税人", (_DOC,), _GENERAL, _ALL, (), ()),
    DemoItem("NMG-SW-02", "NMG-SW", "发票使用情况检查", "《中华人民共和国税收征收管理法》第二十一条",
             "纳税人", (_DOC, _SITE), _GENERAL, _ALL, (), ()),
    DemoItem("NMG-SW-03", "NMG-SW", "税务登记情况检查", "《中华人民共和国税收征收管理法》第十五条",
             "纳税人", (_DOC,), _GENERAL, _ALL, (), ()),
    DemoItem("NMG-STHJ-01", "NMG-STHJ", "排污许可执行情况检查", "《排污许可管理条例》第二十四条",
             "排污单位", (_SITE, _DOC), _KEY, _ENTERPRISE, (), (_POLLUTION,)),
    DemoItem("NMG-STHJ-02", "NMG-STHJ", "排放污染物现场检查", "《中华人民共和国环境保护法》第二十四条",
             "排污单位", (_SITE, _SAMPLE), _KEY, _ENTERPRISE, ("B", "C", "D"), ()),
    DemoItem("NMG-STHJ-03", "NMG-STHJ", "大气污染防治情况检查",
             "《中华人民共和国大气污染防治法》第二十九条", "排污单位", (_SITE, _SAMPLE), _KEY,
             _ENTERPRISE, ("B", "C", "D"), ()),
    DemoItem("NMG-STHJ-04", "NMG-STHJ", "水污染防治情况检查",
             "《中华人民共和国水污染防治法》第三十条", "排污单位", (_SITE, _SAMPLE), _KEY,
             _ENTERPRISE, ("B", "C", "D"), ()),
    DemoItem("NMG-GAJJ-01", "NMG-GAJJ", "机动车安全技术检验机构检验工作检查",
             "《中华人民共和国道路交通安全法》第十三条", "机动车安全技术检验机构", (_SITE, _DOC),
             _KEY, _ENTERPRISE, ("M745",), ()),
    DemoItem("NMG-GAJJ-02", "NMG-GAJJ", "道路运输企业交通安全主体责任落实情况检查",
             "《中华人民共和国安全生产法》第六十五条", "道路运输企业", (_SITE, _DOC), _KEY, _TRADERS, ("G54",), (_ROAD,)),
    DemoItem("NMG-WL-01", "NMG-WL", "旅行社经营行为检查", "《中华人民共和国旅游法》第八十五条",
             "旅行社", (_DOC, _SITE), _GENERAL, _ENTERPRISE, ("L727",), (_TRAVEL,)),
    DemoItem("NMG-WL-02", "NMG-WL", "娱乐场所经营活动检查", "《娱乐场所管理条例》第三十四条",
             "娱乐场所", (_SITE,), _GENERAL, _TRADERS, ("R901",), (_ENTERTAINMENT,)),
    DemoItem("NMG-WL-03", "NMG-WL", "互联网上网服务营业场所经营活动检查",
             "《互联网上网服务营业场所管理条例》第二十三条", "互联网上网服务营业场所", (_SITE,),
             _GENERAL, _TRADERS, ("R9013",), (_NET_CAFE,)),
)  # fmt: skip

ITEMS_BY_DEPT: dict[str, list[DemoItem]] = {
    d.code: [i for i in ITEMS if i.department_code == d.code] for d in DEPARTMENTS
}


# ---------------------------------------------------------------- industries (GB/T 4754-2017)
@dataclass(frozen=True)
class Industry:
    code: str
    word: str  # what the name says: 商贸, 饭店, 肉羊养殖 ...
    weight: int
    licence: str = ""  # licence type held, if any
    departments: tuple[str, ...] = ("NMG-SJ",)  # who inspects it


ENTERPRISE_INDUSTRIES: tuple[Industry, ...] = (
    Industry("F5211", "商贸", 14),
    Industry("F5212", "超市", 5, FOOD),
    Industry("F5124", "食品", 4, FOOD),
    Industry("H6210", "餐饮", 6, FOOD),
    Industry("H6110", "大酒店", 2, FOOD, ("NMG-SJ", "NMG-WL")),
    Industry("C1441", "乳业", 1, "食品生产许可证", ("NMG-SJ", "NMG-STHJ")),
    Industry("C1353", "肉食品", 2, "食品生产许可证", ("NMG-SJ", "NMG-STHJ")),
    Industry("C1512", "酒业", 1, "食品生产许可证", ("NMG-SJ", "NMG-STHJ")),
    Industry("B0610", "煤业", 3, "排污许可证", ("NMG-STHJ", "NMG-SJ", "NMG-SW")),
    Industry("C3216", "铝业", 1, "排污许可证", ("NMG-STHJ", "NMG-SJ")),
    Industry("C3120", "钢铁", 1, "排污许可证", ("NMG-STHJ", "NMG-SJ")),
    Industry("C2614", "化工", 2, "排污许可证", ("NMG-STHJ", "NMG-SJ")),
    Industry("D4415", "风力发电", 2, "", ("NMG-SJ", "NMG-SW")),
    Industry("D4416", "新能源", 2, "", ("NMG-SJ", "NMG-SW")),
    Industry("E4790", "建筑工程", 8, "", ("NMG-SJ", "NMG-SW")),
    Industry("G5431", "物流", 7, "道路运输经营许可证", ("NMG-GAJJ", "NMG-SJ", "NMG-SW")),
    Industry("G5435", "危险货物运输", 1, "道路运输经营许可证", ("NMG-GAJJ", "NMG-SJ")),
    Industry("K7010", "房地产开发", 4, "", ("NMG-SJ", "NMG-SW")),
    Industry("I6513", "网络科技", 7, "", ("NMG-SJ", "NMG-SW")),
    Industry("F5265", "石油销售", 2, "成品油零售经营批准证书", ("NMG-SJ", "NMG-STHJ")),
    Industry("F5251", "医药连锁", 2, "药品经营许可证"),
    Industry("L7271", "国际旅行社", 2, "旅行社业务经营许可证", ("NMG-WL", "NMG-SJ")),
    Industry("R9011", "娱乐", 1, "娱乐经营许可证", ("NMG-WL", "NMG-SJ")),
    Industry("O8111", "汽车服务", 4),
    Industry("A0314", "牧业", 3),
    Industry("M7520", "科技", 6, "", ("NMG-SJ", "NMG-SW")),
)
INDIVIDUAL_INDUSTRIES: tuple[Industry, ...] = (
    Industry("F5212", "超市", 12, FOOD),
    Industry("F5213", "便利店", 9, FOOD),
    Industry("F5219", "商店", 12),
    Industry("H6210", "饭店", 11, FOOD),
    Industry("H6220", "小吃店", 9, FOOD),
    Industry("F5224", "鲜肉店", 4, FOOD),
    Industry("F5223", "果蔬店", 5, FOOD),
    Industry("F5226", "烟酒店", 5, FOOD),
    Industry("O8111", "汽车修理部", 6),
    Industry("O8040", "理发店", 7),
    Industry("O8030", "洗衣店", 2),
    Industry("F5271", "五金店", 5),
    Industry("R9013", "网吧", 1, "网络文化经营许可证", ("NMG-WL", "NMG-SJ")),
    Industry("G5431", "货运部", 4, "道路运输经营许可证", ("NMG-GAJJ", "NMG-SJ")),
    Industry("H6129", "旅馆", 3, "", ("NMG-SJ", "NMG-WL")),
    Industry("F5252", "药店", 2, "药品经营许可证"),
)
COOPERATIVE_INDUSTRIES: tuple[Industry, ...] = (
    Industry("A0113", "玉米种植", 6),
    Industry("A0123", "马铃薯种植", 4),
    Industry("A0122", "葵花种植", 3),
    Industry("A0141", "蔬菜种植", 4),
    Industry("A0314", "肉羊养殖", 7),
    Industry("A0311", "肉牛养殖", 6),
    Industry("A0311", "奶牛养殖", 3),
    Industry("A0315", "骆驼养殖", 1),
)

# Plain strings for the hot loop (enum attribute access is slow there).
ENTERPRISE = EntityType.ENTERPRISE.value
INDIVIDUAL = EntityType.INDIVIDUAL.value
COOPERATIVE = EntityType.COOPERATIVE.value
ACTIVE = EntityStatus.ACTIVE.value
REVOKED = EntityStatus.REVOKED.value

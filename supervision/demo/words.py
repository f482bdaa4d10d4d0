"""The words the demo draws from (names, streets, complaints, record sources...), the
weighted choice that draws them, and the people's, shops' and companies' names made of
them: every choice comes from the caller's seeded generator.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Sequence
from itertools import accumulate
from typing import Any

from supervision.reference.vocab import EntityType

_ENTERPRISE = EntityType.ENTERPRISE.value
_INDIVIDUAL = EntityType.INDIVIDUAL.value

# ---------------------------------------------------------------- words for names
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
    "苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史"
    "顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文包云乌"
)
# Roughly Zipfian: 王 李 张 刘 陈 are about a third of the population.
SURNAME_CUM = list(accumulate(1.0 / (i + 1.5) ** 0.9 for i in range(len(SURNAMES))))
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚华红玉兰英建国志海燕晓东文斌宇浩凯鹏飞"
    "俊峰慧婷雪梅琳颖博辉龙亮波宁欣怡佳瑞晨阳春秀桂凤荣林鑫宏福贵喜荣振兴德成利"
)
# About one person in six in Inner Mongolia is Mongolian; many go by a Mongolian given name.
MONGOLIAN_NAMES = (
    "巴特尔", "其木格", "乌日娜", "斯琴", "额尔敦", "苏日娜", "那仁", "布和", "巴图", "宝音",
    "图雅", "萨仁", "阿拉坦", "朝鲁", "格日勒", "乌云", "特木尔", "敖敦", "娜仁花", "哈斯",
    "包巴特尔", "白乌云", "韩斯琴", "吉日格拉", "孟和", "阿木古楞", "额尔德尼", "达来",
)  # fmt: skip
BRANDS = (
    "鑫达", "恒泰", "蒙源", "草原", "北疆", "塞北", "金川", "瑞丰", "宏盛", "广源", "天骄",
    "蒙辉", "福源", "兴隆", "聚鑫", "德顺", "华远", "长城", "金泰", "永盛", "万通", "利民",
    "丰泽", "益农", "祥和", "富民", "青城", "鹿城", "敕勒川", "阴山", "黄河", "大漠", "红山",
    "科尔沁", "呼伦", "锡林", "额济纳", "巴彦", "乌珠穆沁", "河套", "金地", "天宇", "博远",
    "众诚", "正泰", "中鼎", "元和", "瑞祥", "佳美", "惠民", "同顺", "开元", "弘业", "昊天",
)  # fmt: skip
STREETS = (
    "新华大街", "中山路", "人民路", "民族街", "建设路", "团结路", "友谊路", "解放路", "大学路",
    "车站路", "滨河路", "北京路", "兴安路", "胜利街", "文化路", "光明路", "和平路", "迎宾路",
    "工业路", "鄂尔多斯大街", "钢铁大街", "阿尔丁大街", "新世纪大道", "世纪大道", "锡林大街",
)  # fmt: skip
COMMUNITIES = ("幸福小区", "阳光花园", "锦绣园", "丽景苑", "金色家园", "和谐家园", "滨河小区")
VILLAGES = ("嘎查", "村")
COMPLAINTS: tuple[str, ...] = (
    "反映所售食品超过保质期", "就餐后出现身体不适", "结算价格与标价不一致", "虚假宣传",
    "拒绝按约定退换货", "缺斤短两", "预付卡余额无法退还", "服务质量差且拒不整改",
    "经营场所卫生条件差", "无证经营", "商品质量问题", "噪声扰民",
)  # fmt: skip
IMMEDIATE_TYPES = {
    EntityType.ENTERPRISE.value: ("股东股权转让", "行政许可取得", "行政许可变更", "知识产权出质",
                                  "行政处罚信息", "有限责任公司股东认缴出资变更"),
    EntityType.INDIVIDUAL.value: ("行政许可取得", "行政许可变更", "行政处罚信息"),
    EntityType.COOPERATIVE.value: ("行政许可取得", "成员变更", "行政处罚信息"),
}  # fmt: skip
FALSE_INFO_DETAILS = (
    "公示的从业人数与社保缴费人数不符", "公示的资产总额与财务报表不符",
    "公示的营业收入与纳税申报收入不符", "公示的股东出资情况与实际不符",
)  # fmt: skip
CONFLICT_REASONS = (
    ("亲属关系：检查人员与该主体法定代表人系近亲属", 5),
    ("曾任职：检查人员曾在该主体任职", 3),
    ("利益关联：检查人员或其近亲属持有该主体股份", 2),
)
# Earlier inspection results (codes of reference.result_codes) and how often each occurs.
RESULT_CODES = (("1", 66), ("F", 9), ("E", 9), ("A", 3), ("B", 4), ("D", 3), ("3", 2),
                 ("6", 2), ("8", 1), ("7", 1))  # fmt: skip
NEEDS_RECTIFICATION = frozenset({"E", "A", "B", "D", "3"})

SOURCES = {
    "annual_report": "国家企业信用信息公示系统（内蒙古）",
    "immediate_info": "国家企业信用信息公示系统（内蒙古）",
    "licence": "内蒙古自治区政务服务平台（许可信息）",
    "complaint": "全国12315平台",
    "inspection_result": "内蒙古自治区“双随机、一公开”监管平台",
    "rectification_order": "内蒙古自治区市场监管执法办案系统",
    "address_check": "内蒙古自治区市场主体登记系统（住所核查）",
    "info_check": "内蒙古自治区“双随机、一公开”监管平台（公示信息核查）",
}


class Picker:
    """Weighted choice with precomputed cumulative weights (random.choices is slower)."""

    __slots__ = ("cum", "total", "values")

    def __init__(self, pairs: Sequence[tuple[Any, float]]) -> None:
        self.values = [v for v, _ in pairs]
        self.cum = list(accumulate(w for _, w in pairs))
        self.total = self.cum[-1]

    def __call__(self, rng: random.Random) -> Any:
        return self.values[bisect(self.cum, rng.random() * self.total)]


def person_name(rng: random.Random) -> str:
    """A person's name: now and then a Mongolian given name, else a Han surname and name."""
    if rng.random() < 0.12:
        return MONGOLIAN_NAMES[int(rng.random() * len(MONGOLIAN_NAMES))]
    surname = SURNAMES[bisect(SURNAME_CUM, rng.random() * SURNAME_CUM[-1])]
    n = len(GIVEN_CHARS)
    given = GIVEN_CHARS[int(rng.random() * n)]
    if rng.random() < 0.7:
        given += GIVEN_CHARS[int(rng.random() * n)]
    return surname + given


def phone_number(rng: random.Random) -> str:
    """A mobile number."""
    prefix = ("13", "15", "18", "17", "19")[int(rng.random() * 5)]
    return f"{prefix}{int(rng.random() * 1e9):09d}"


def name_and_address(rng: random.Random, etype: str, word: str, pref_name: str, place: str,
                     person: str) -> tuple[str, str]:  # fmt: skip
    """An entity's name and address: `word` says what it does, `place` is its region's
    full name, `person` its legal representative (an individual's shop may bear it)."""
    brand = BRANDS[int(rng.random() * len(BRANDS))]
    street = STREETS[int(rng.random() * len(STREETS))]
    number = 1 + int(rng.random() * 300)
    if etype == _ENTERPRISE:
        roll = rng.random()
        prefix = "内蒙古" if roll < 0.2 else place if roll < 0.45 else pref_name
        suffix = "有限公司" if roll < 0.7 else "有限责任公司" if roll < 0.95 else "股份有限公司"
        name = f"{prefix}{brand}{word}{suffix}"
        address = f"内蒙古自治区{place}{street}{number}号"
        if rng.random() < 0.4:
            address += f"{1 + int(rng.random() * 20)}层"
    elif etype == _INDIVIDUAL:
        roll = rng.random()
        shop = f"{person[0]}记" if roll < 0.2 else f"老{person[0]}" if roll < 0.3 else brand
        name = f"{place}{shop}{word}"
        community = COMMUNITIES[int(rng.random() * len(COMMUNITIES))]
        address = (f"内蒙古自治区{place}{street}{community}"
                   f"{1 + int(rng.random() * 30)}号楼底商{number}号")  # fmt: skip
    else:
        village = brand + VILLAGES[int(rng.random() * 2)]
        name = f"{place}{brand}{word}专业合作社"
        address = f"内蒙古自治区{place}{village}{1 + int(rng.random() * 12)}组"
    return name, address

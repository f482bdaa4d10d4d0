"""The State Council's holiday notice, read as data.

《国务院办公厅关于YYYY年部分节假日安排的通知》 has had the same shape for years: one
numbered item per festival, each a few sentences such as::

    一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
    二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。
    一、元旦：1月1日放假，1月2日（星期一）补休。
    三、清明节：4月5日放假，与周末连休。

``parse_notice`` turns the text into rest days and make-up working days; every clause of a
numbered item must be understood (a range that "放假", "共N天" matching that range, "与周末
连休", "不调休", dates that "补休" or "上班"), a weekday written beside a date must be that
date's weekday, otherwise the notice is refused naming the line. Sentences that only
encourage (鼓励…) are not arrangements and are skipped. Pure: no files, no database.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from supervision.reference.workdays import CalendarError, to_date

__all__ = ["Notice", "NoticeItem", "merge_notice", "parse_notice"]

_NUM = "一二三四五六七八九十"
_ITEM = re.compile(rf"^\s*[{_NUM}]+、\s*([^：:]+)[：:](.*)$")
_TITLE = re.compile(r"关于\s*(\d{4})\s*年部分节假日安排")
_PAREN = r"(?:[（(]([^）)]*)[）)])?"
_DATE = rf"(?:(\d{{4}})年)?(\d{{1,2}})月(\d{{1,2}})日{_PAREN}"
_END = rf"(?:(\d{{4}})年)?(?:(\d{{1,2}})月)?(\d{{1,2}})日{_PAREN}"
_REST = re.compile(rf"^{_DATE}(?:至{_END})?放假(调休)?(?:(\d+)天)?$")
_DAYS = re.compile(rf"^{_DATE}((?:、{_DATE})*)(上班|补休)$")
_ONE_DATE = re.compile(_DATE)
_TOTAL = re.compile(r"^共(\d+)天$")
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEKDAY_IN = re.compile(r"(?:星期|周)([一二三四五六日天])")


@dataclass
class NoticeItem:
    """One numbered item of the notice: its festival, line, rest and working days."""

    line: int
    name: str
    holidays: list[dt.date] = field(default_factory=list)
    workdays: list[dt.date] = field(default_factory=list)


@dataclass
class Notice:
    """A parsed notice: the year it arranges and its items."""

    year: int
    items: list[NoticeItem]

    @property
    def holidays(self) -> list[dt.date]:
        return sorted({d for item in self.items for d in item.holidays})

    @property
    def workdays(self) -> list[dt.date]:
        return sorted({d for item in self.items for d in item.workdays})


def _refuse(source: str, line: int, text: str, zh: str, en: str) -> CalendarError:
    return CalendarError(
        f"{source} 第 {line} 行无法识别：{zh}",
        f"{source} line {line} not understood: {en}",
        details=[f"第 {line} 行 / line {line}: {text.strip()}"],
    )


def _make_date(
    source: str, line: int, text: str, year: int, month: int, day: int, paren: str | None
) -> dt.date:
    try:
        date = dt.date(year, month, day)
    except ValueError:
        raise _refuse(
            source,
            line,
            text,
            f"没有 {year}年{month}月{day}日",
            f"no such date {year}-{month}-{day}",
        ) from None
    named = _WEEKDAY_IN.search(paren or "")
    if named and _WEEKDAYS[named.group(1)] != date.weekday():
        raise _refuse(
            source,
            line,
            text,
            f"{date.isoformat()} 不是{named.group(0)}",
            f"{date.isoformat()} is not the weekday written beside it ({named.group(0)})",
        )
    return date


def parse_notice(text: str, *, year: int | None = None, source: str = "通知") -> Notice:
    """Parse the notice's text. ``year`` defaults to the one in its title; dates without a
    year belong to it (a range's end without a month to the start's month)."""
    if year is None:
        found = _TITLE.search(text)
        if found is None:
            raise CalendarError(
                f"{source} 中找不到标题《国务院办公厅关于YYYY年部分节假日安排的通知》，请用 --year 指定年份",
                f"{source} has no title 'notice on the holiday arrangement of YYYY'; give --year",
            )
        year = int(found.group(1))
    items: list[NoticeItem] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        match = _ITEM.match(raw)
        if match is None:
            continue
        item = NoticeItem(line=number, name=match.group(1).strip())
        last_range: int | None = None
        for sentence in re.split(r"[。；;]", match.group(2)):
            sentence = re.sub(r"\s+", "", sentence)
            if not sentence or sentence.startswith("鼓励"):
                continue
            for clause in re.split(r"[，,](?![^（(]*[）)])", sentence):
                last_range = _clause(source, number, raw, year, clause, item, last_range)
        if not item.holidays and not item.workdays:
            raise _refuse(
                source,
                number,
                raw,
                "此项没有放假或上班的日期",
                "the item names no days off or worked",
            )
        items.append(item)
    if not items:
        raise CalendarError(
            f"{source} 中没有“一、元旦：…”这样的放假安排条目",
            f"{source} holds no numbered holiday items such as '一、元旦：…'",
        )
    return Notice(year=year, items=items)


def _clause(
    source: str,
    line: int,
    raw: str,
    year: int,
    clause: str,
    item: NoticeItem,
    last_range: int | None,
) -> int | None:
    """Apply one clause to ``item``; returns the length of the range just read (for 共N天)."""
    if clause in ("与周末连休", "不调休"):
        return last_range
    total = _TOTAL.match(clause)
    if total:
        if last_range is None or int(total.group(1)) != last_range:
            raise _refuse(
                source,
                line,
                raw,
                f"“{clause}”与前面的日期范围（{last_range} 天）不符",
                f"'{clause}' does not match the range before it ({last_range} days)",
            )
        return last_range
    rest = _REST.match(clause)
    if rest:
        g = rest.groups()
        first = _make_date(source, line, raw, int(g[0] or year), int(g[1]), int(g[2]), g[3])
        last = first
        if g[6] is not None:
            end_year = int(g[4]) if g[4] else first.year
            end_month = int(g[5]) if g[5] else first.month
            last = _make_date(source, line, raw, end_year, end_month, int(g[6]), g[7])
        length = (last - first).days + 1
        if length < 1 or length > 15:
            raise _refuse(
                source,
                line,
                raw,
                f"日期范围“{clause}”不合理",
                f"the range '{clause}' is not plausible",
            )
        if g[9] is not None and int(g[9]) != length:
            raise _refuse(
                source,
                line,
                raw,
                f"“{clause}”的天数与日期范围不符",
                f"'{clause}': the day count does not match the range",
            )
        item.holidays.extend(first + dt.timedelta(days=k) for k in range(length))
        return length
    days = _DAYS.match(clause)
    if days:
        target = item.workdays if clause.endswith("上班") else item.holidays
        for m in _ONE_DATE.finditer(clause):
            y, mo, d, paren = m.groups()
            target.append(_make_date(source, line, raw, int(y or year), int(mo), int(d), paren))
        return last_range
    raise _refuse(
        source,
        line,
        raw,
        f"看不懂“{clause}”（应为“…至…放假调休”“共N天”“…上班”“…补休”“与周末连休”）",
        f"cannot read '{clause}' (expected a range that 放假, 共N天, dates that 上班 or 补休, "
        "or 与周末连休)",
    )


def merge_notice(
    data: dict[str, Any] | None, notice: Notice
) -> tuple[dict[str, Any], list[dt.date]]:
    """The extra-days file content ``data`` with ``notice``'s year replaced by the notice.

    Days the notice gives for another year (元旦 often starts on 31 December) are merged
    only when the file declares that year; otherwise they are returned as skipped (the
    package or that year's own notice decides them)."""
    data = dict(data or {})
    years = sorted({int(y) for y in data.get("years") or []} | {notice.year})
    kept: dict[str, list[dt.date]] = {}
    for key in ("holidays", "workdays"):
        kept[key] = [d for d in (to_date(v) for v in data.get(key) or []) if d.year != notice.year]
    skipped: list[dt.date] = []
    for key, days in (("holidays", notice.holidays), ("workdays", notice.workdays)):
        for d in days:
            if d.year in years:
                if d not in kept[key]:
                    kept[key].append(d)
            else:
                skipped.append(d)
    return (
        {
            "years": years,
            "holidays": sorted(kept["holidays"]),
            "workdays": sorted(kept["workdays"]),
        },
        sorted(skipped),
    )

"""The demo's entity stream: one entity at a time, with everything hanging off it (annual
reports, immediate information, licences, complaints, earlier inspections, rectification
orders, checks, conflicts), from a single seeded generator in a fixed order.

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
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from supervision.demo.batches import DemoStats, EntityBatch
from supervision.demo.catalog import (
    ACTIVE,
    COOPERATIVE,
    COOPERATIVE_INDUSTRIES,
    DEPARTMENTS,
    ENTERPRISE,
    ENTERPRISE_INDUSTRIES,
    FOOD,
    INDIVIDUAL,
    INDIVIDUAL_INDUSTRIES,
    ITEMS_BY_DEPT,
    PREFECTURE_ABBR,
    REVOKED,
    Industry,
    Row,
)
from supervision.demo.codes import NEW_CODES, OLD_CODES, REFORM_DAY, TYPE_DIGIT, to_base, uscc_of
from supervision.demo.words import (
    COMPLAINTS,
    CONFLICT_REASONS,
    FALSE_INFO_DETAILS,
    IMMEDIATE_TYPES,
    NEEDS_RECTIFICATION,
    RESULT_CODES,
    SOURCES,
    Picker,
    name_and_address,
    person_name,
    phone_number,
)
from supervision.models.fields import USCC_ALPHABET
from supervision.reference.regions import INNER_MONGOLIA_PREFECTURES, prefecture_of
from supervision.reference.vocab import EntitySize, EntityStatus


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class Setting:
    """What the entity stream takes from its province: dates, places and inspectors."""

    as_of: date
    stamp: datetime  # when rows were stored
    prefecture: Picker  # a prefecture, weighted by population
    region_in: dict[str, Picker]  # prefecture → a region in it
    region_name: dict[str, str]  # region code → full name
    active: dict[tuple[str, str], list[str]]  # (department, prefecture) → active inspectors
    by_prefecture: dict[str, list[str]]  # prefecture → every inspector


class EntityStream:
    """Makes one entity at a time, with everything hanging off it (single RNG, fixed order)."""

    def __init__(self, setting: Setting, rng: random.Random, stats: DemoStats) -> None:
        self.rng = rng
        self.stats = stats
        self.as_of = setting.as_of
        self.stamp = setting.stamp
        self._prefecture = setting.prefecture
        self._region_in = setting.region_in
        self._region_name = setting.region_name
        self._active = setting.active
        self._by_prefecture = setting.by_prefecture
        self.type = Picker([(INDIVIDUAL, 55), (ENTERPRISE, 42),
                             (COOPERATIVE, 3)])  # fmt: skip
        self.industries = {
            ENTERPRISE: Picker([(i, i.weight) for i in ENTERPRISE_INDUSTRIES]),
            INDIVIDUAL: Picker([(i, i.weight) for i in INDIVIDUAL_INDUSTRIES]),
            COOPERATIVE: Picker([(i, i.weight) for i in COOPERATIVE_INDUSTRIES]),
        }
        self.status = Picker([(ACTIVE, 90.0), (EntityStatus.CANCELLED.value, 5.0),
                               (REVOKED, 3.0), (EntityStatus.MOVED_OUT.value, 1.5),
                               (EntityStatus.WITHDRAWN.value, 0.5)])  # fmt: skip
        # Abnormal entities are C or D; the others are drawn so the whole mix is ~50/35/12/3.
        self.risk = Picker([("A", 50.0), ("B", 35.0), ("C", 11.0), ("D", 2.0)])
        self.enterprise_size = Picker([(EntitySize.MICRO.value, 70), (EntitySize.SMALL.value, 22),
                                        (EntitySize.MEDIUM.value, 6), (EntitySize.LARGE.value, 2)])  # fmt: skip
        # Market entities grew fast after the 2014 registration reform: younger ones dominate.
        self.age = Picker([(a, 0.9**a) for a in range(20)])
        self.result = Picker(RESULT_CODES)
        self.conflict_reason = Picker(CONFLICT_REASONS)
        self.inspecting_dept = Picker([(d.code, d.staff_share) for d in DEPARTMENTS])
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
        prefecture, region_in = self._prefecture, self._region_in
        for _ in range(n):
            counts[(self.type(rng), region_in[prefecture(rng)](rng))] += 1
        return sorted(((t, r, c) for (t, r), c in counts.items()),
                      key=lambda g: (TYPE_DIGIT[g[0]], g[1]))  # fmt: skip

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
        old = [d for d in days if d < REFORM_DAY]
        new = [d for d in days if d >= REFORM_DAY]
        step = OLD_CODES // (len(old) + 1)
        for i, day in enumerate(old):
            yield day, f"{i * step + int(rng.random() * step):08d}"
        step = NEW_CODES // (len(new) + 1)
        for i, day in enumerate(new):
            yield day, "MA" + to_base(i * step + int(rng.random() * step), USCC_ALPHABET, 6)

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
            "payload": payload, "source": SOURCES[kind], "received_at": self._received(received_day),
            "stored_at": self.stamp,
        })  # fmt: skip
        self.stats.records_by_kind[kind] += 1

    # -------------------------------------------------------- one entity
    def entity(self, etype: str, region: str, established: date, body: str,
               batch: EntityBatch) -> None:  # fmt: skip
        rng = self.rng
        as_of = self.as_of
        industry: Industry = self.industries[etype](rng)
        prefecture = prefecture_of(region)
        status = self.status(rng)
        active = status == ACTIVE
        uscc = uscc_of(etype, region, body)
        person = person_name(rng)

        name, address = name_and_address(
            rng, etype, industry.word, INNER_MONGOLIA_PREFECTURES[prefecture],
            self._region_name[region], person,
        )  # fmt: skip
        if etype == ENTERPRISE:
            size: str | None = self.enterprise_size(rng)
        elif etype == COOPERATIVE:
            size = EntitySize.MICRO.value if rng.random() < 0.8 else EntitySize.SMALL.value
        else:
            size = None

        abnormal_since, abnormal_reason, first_missing_year = (
            self._abnormal(established) if active else (None, "", None)
        )
        if abnormal_since is not None:
            risk = "C" if rng.random() < 0.5 else "D"
            self.stats.abnormal += 1
            if abnormal_since <= add_years(as_of, -3):
                self.stats.abnormal_over_3_years += 1
        else:
            risk = self.risk(rng)

        batch.entities.append({
            "uscc": uscc, "name": name, "entity_type": etype, "industry_code": industry.code,
            "region_code": region, "address": address, "legal_rep": person,
            "contact_phone": phone_number(rng) if rng.random() < 0.9 else None,
            "status": status, "risk_class": risk, "risk_classified_on": None, "size": size,
            "abnormal": abnormal_since is not None, "abnormal_since": abnormal_since,
            "established_on": established, "updated_at": self.stamp,
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

    def _abnormal(self, established: date) -> tuple[date | None, str, int | None]:
        """(listed since, reason, first annual report missing) of an active entity, if listed.

        The abnormal list (~2%): mostly for annual reports not filed, some unreachable
        addresses, a few false published information.
        """
        rng = self.rng
        as_of = self.as_of
        abnormal_since: date | None = None
        abnormal_reason = ""
        first_missing_year: int | None = None
        if rng.random() < 0.026:
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

        return abnormal_since, abnormal_reason, first_missing_year

    # -------------------------------------------------------- records
    def _annual_reports(self, batch: EntityBatch, uscc: str, established: date, ended: date,
                        status: str, first_missing: int | None) -> None:  # fmt: skip
        """One report a year since establishment (from 2013): ~85% on time, some late, a few
        missing (a record with no filing date, or no record at all)."""
        rng = self.rng
        as_of = self.as_of
        last_year = min(as_of.year - 1, ended.year - 1)
        if status == REVOKED:
            last_year -= 2  # revoked after not reporting or trading for years
        recent = as_of.year - 3
        append = batch.records.append
        source = SOURCES["annual_report"]
        received = self._received
        stored = self.stamp
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
        chance = 0.45 if etype == ENTERPRISE else 0.06
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
            types = IMMEDIATE_TYPES[etype]
            payload = {"info_type": types[int(rng.random() * len(types))],
                       "arose_on": arose.isoformat(),
                       "published_on": None if published is None else published.isoformat()}  # fmt: skip
            self._record(batch, f"II-{uscc}-{count}", uscc, "immediate_info", arose, payload,
                         published or arose)  # fmt: skip
            chance = 0.3

    def _licence(self, batch: EntityBatch, uscc: str, etype: str, region: str, industry: Industry,
                 established: date, active: bool) -> None:  # fmt: skip
        """Five-year licences; some expired, a third of those while the business goes on."""
        rng = self.rng
        if not industry.licence or rng.random() < 0.08:
            return  # 8% of those who need one have none on record
        issued = self._day_between(
            max(established, self.as_of - timedelta(days=6 * 365)), self.as_of
        )
        valid_to = add_years(issued, 5) - timedelta(days=1)
        expired = valid_to < self.as_of
        business_active = active and (not expired or rng.random() < 0.35)
        serial = int(rng.random() * 1e6)
        kind = industry.licence
        if kind == FOOD:
            number = f"JY{'1' if etype == ENTERPRISE else '2'}{region}{serial:06d}{serial % 10}"
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
            summary = COMPLAINTS[int(rng.random() * len(COMPLAINTS))]
            self._record(batch, f"CP-{uscc}-{k}", uscc, "complaint", received,
                         {"received_on": received.isoformat(), "summary": summary}, received)  # fmt: skip

    def _inspections(self, batch: EntityBatch, uscc: str, prefecture: str, industry: Industry,
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
            items = ITEMS_BY_DEPT[dept]
            item = items[int(rng.random() * len(items))]
            day = self._day_between(start, ended)
            code = "6" if abnormal_reason == "address" and k == n else self.result(rng)
            team = self._active[(dept, prefecture)]
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
            if code in NEEDS_RECTIFICATION and rng.random() < 0.85:
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
        number = f"蒙{PREFECTURE_ABBR[prefecture]}市监责改〔{ordered.year}〕{self.record_serial}号"
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
        detail = FALSE_INFO_DETAILS[int(rng.random() * len(FALSE_INFO_DETAILS))]
        if abnormal_reason == "false" and abnormal_since is not None:
            day = max(established, abnormal_since - timedelta(days=3 + int(rng.random() * 10)))
            self._record(batch, f"IC-{uscc}-1", uscc, "info_check", day,
                         {"checked_on": day.isoformat(), "false_info": True, "detail": detail}, day)  # fmt: skip
        elif (start < ended and etype != INDIVIDUAL
              and rng.random() < 0.15):  # fmt: skip
            day = self._day_between(start, ended)
            false = rng.random() < 0.03
            payload = {"checked_on": day.isoformat(), "false_info": false,
                       "detail": detail if false else "核查无误"}  # fmt: skip
            self._record(batch, f"IC-{uscc}-1", uscc, "info_check", day, payload, day)

    def _conflict(self, batch: EntityBatch, uscc: str, prefecture: str) -> None:
        rng = self.rng
        people = self._by_prefecture[prefecture]
        batch.conflicts.append({
            "inspector_cert_no": people[int(rng.random() * len(people))], "uscc": uscc,
            "reason": self.conflict_reason(rng),
            "declared_on": self.as_of - timedelta(days=30 + int(rng.random() * 1000)),
            # Open-ended; some are the entity's own 回避 request (from the code, so the
            # random stream is unchanged).
            "starts_on": None, "ends_on": None,
            "source": "entity" if uscc[-2] in "02468" else "inspector",
        })  # fmt: skip
        self.stats.conflicts += 1

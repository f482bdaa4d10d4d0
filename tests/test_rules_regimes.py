"""Kinds of entity, kinds of regime: the shipped pack puts 企业 and 农民专业合作社 that miss
the annual report on the 经营异常名录 path, marks 个体工商户 经营异常状态 instead, and never
moves a 个体工商户 to the 严重违法失信名单 by the three-year rule. Rule files say which
entity types they cover; ``rules lint`` warns when a rule reading annual-report or
abnormal-list facts does not. Real engine, SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
from factories import make_uscc
from test_check_support import entity_row, load, open_rules

from supervision.checks.facts import derive_facts
from supervision.checks.run import run_check
from supervision.checks.templates import facts_key
from supervision.db import Database
from supervision.reference.workdays import default_calendar
from supervision.rules.pack import default_rules_dir, lint_pack

AS_OF = dt.date(2025, 8, 1)


def test_each_kind_of_entity_gets_its_own_regime(db: Database) -> None:
    kinds = {"企业": "91", "个体工商户": "92", "农民专业合作社": "93"}
    entities: list[dict[str, Any]] = []
    late: dict[str, str] = {}
    listed: dict[str, str] = {}
    for n, (kind, prefix) in enumerate(kinds.items(), 1):
        # Established 2024, no 2024 report by 30 June 2025.
        late[kind] = make_uscc(n, prefix=prefix)
        entities.append(entity_row(n, uscc=late[kind], entity_type=kind))
        # On the abnormal list for over three years (and reports filed: nothing else).
        listed[kind] = make_uscc(10 + n, prefix=prefix)
        entities.append(
            entity_row(10 + n, uscc=listed[kind], entity_type=kind, established_on="2025-01-10",
                       abnormal="是", abnormal_since="2022-01-01")
        )  # fmt: skip
    load(db, entities, [])
    run_check(db, as_of=AS_OF, full=True)
    rules = open_rules(db)
    assert rules[late["企业"]] == {"samr.annual-report-not-filed"}
    assert rules[late["农民专业合作社"]] == {"samr.annual-report-not-filed"}
    assert rules[late["个体工商户"]] == {"samr.individual-annual-report-not-filed"}
    assert rules[listed["企业"]] == {"samr.abnormal-three-years-serious-list"}
    assert rules[listed["农民专业合作社"]] == {"samr.abnormal-three-years-serious-list"}
    assert listed["个体工商户"] not in rules


def test_every_shipped_rule_file_says_which_entities_it_covers() -> None:
    report = lint_pack()
    assert report.ok and report.warnings == []
    pack = report.pack
    assert pack is not None
    # Articles of texts since revised are not asserted: the rule says what is unverified.
    for rule_id in ("samr.annual-report-not-filed", "samr.individual-annual-report-not-filed",
                    "samr.abnormal-three-years-serious-list"):  # fmt: skip
        assert "未在此核实" in pack.rule(rule_id).basis_note


def test_lint_warns_when_a_rule_file_does_not_say(tmp_path: Path, cli: Any) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(default_rules_dir(), pack)
    target = pack / "samr" / "annual_report.yaml"
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("entity_types: [企业, 农民专业合作社]\n", ""), encoding="utf-8")
    report = lint_pack(pack)
    assert report.ok  # a warning, not an error
    assert [(w.file, w.rule_id, w.key) for w in report.warnings] == [
        ("samr/annual_report.yaml", "samr.annual-report-not-filed", "entity_types")
    ]
    shown = cli("rules", "lint", pack)
    assert "警告" in shown.stdout and "annual_report" in shown.stdout
    target.write_text(text.replace("[企业, 农民专业合作社]", "[企业, 公司]"), encoding="utf-8")
    bad = lint_pack(pack)
    assert not bad.ok
    assert any("entity_types" in i.key and "个体工商户" in i.zh for i in bad.issues)


def test_the_first_annual_report_year_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reports are owed from the year of establishment (filed the year after), and never
    before $SUPERVISION_ANNUAL_REPORT_FIRST_YEAR (default 2013)."""

    def years(established: str) -> list[int]:
        entity = entity_row(1, established_on=established)
        facts = derive_facts(entity, [], AS_OF)
        return [f["year"] for f in facts if f["t"] == "annual_report"]

    calendar = default_calendar()
    default_key = facts_key(calendar)
    assert years("2010-05-01") == list(range(2013, 2025))
    assert years("2024-03-01") == [2024]  # established 2024: first report filed in 2025
    assert years("2025-03-01") == []
    monkeypatch.setenv("SUPERVISION_ANNUAL_REPORT_FIRST_YEAR", "2023")
    assert years("2010-05-01") == [2023, 2024]
    assert facts_key(calendar) != default_key  # stored fact templates are derived again

"""The registers on the public site: entity pages show current entries and removals, open
data carries them, and no public page or data file shows a named entity's risk class."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
import site_support as s
from factories import make_entity, make_uscc, write_json

from supervision.credit.registers import Decision, record_listing, record_removal
from supervision.db import Database
from supervision.directories.importing import import_file
from supervision.site import publish_site, urls
from supervision.site.public import public_entity

pytestmark = pytest.mark.usefixtures("crew")

ORGAN = "呼和浩特市新城区市场监督管理局"


@pytest.fixture
def site(db: Database, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    built = s.build(db, tmp_path)
    usccs = built["usccs"]
    never_drawn = make_entity(20, uscc=make_uscc(20), name="未抽中但列入名录的公司", risk_class="D")
    import_file(db, kind="entities", path=write_json(tmp_path / "more.json", [never_drawn]))
    day = dt.date(2026, 3, 2)
    record_listing(db, uscc=usccs[3], register="abnormal_list", reason_code="4.4",
                   decision=Decision(ORGAN, "新市监异列〔2026〕7号", day), actor="审核员")  # fmt: skip
    gone = record_listing(db, uscc=usccs[4], register="abnormal_list", reason_code="4.1",
                          decision=Decision(ORGAN, "新市监异列〔2026〕8号", day), actor="审核员")  # fmt: skip
    record_removal(db, entry_id=gone["id"], reason_code="r.report",
                   decision=Decision(ORGAN, "新市监异出〔2026〕1号", dt.date(2026, 4, 1)),
                   actor="审核员")  # fmt: skip
    record_listing(db, uscc=never_drawn["uscc"], register="abnormal_list", reason_code="4.3",
                   decision=Decision(ORGAN, "新市监异列〔2026〕9号", day), actor="审核员")  # fmt: skip
    out = tmp_path / "site"
    publish_site(db, out_dir=out, languages="all", strict=True)
    return out, {"usccs": usccs, "never_drawn": never_drawn["uscc"]}


def _entity_page(site: Path, uscc: str, lang: str = "") -> Any:
    return s.soup(site / lang / urls.entity_path(uscc))


def test_entity_pages_show_entries_and_removals(site: tuple[Path, dict[str, Any]]) -> None:
    out, built = site
    listed = _entity_page(out, built["usccs"][3]).find("section", class_="registers")
    (entry,) = listed.find_all("article", class_="register-entry")
    text = s.text_of(entry)
    assert "经营异常名录" in text and "列入中" in text and "新市监异列〔2026〕7号" in text
    assert "第四条第（四）项" in text and ORGAN in text and "2026-03-02" in text
    removed = s.text_of(_entity_page(out, built["usccs"][4]).find("section", class_="registers"))
    assert "已移出" in removed and "新市监异出〔2026〕1号" in removed and "2026-04-01" in removed
    assert "第十一条" in removed
    # An entity never drawn but on a register has its page too.
    page = _entity_page(out, built["never_drawn"])
    assert "新市监异列〔2026〕9号" in s.text_of(page.find("section", class_="registers"))
    # No register section for an entity never listed; English pages are translated.
    assert _entity_page(out, built["usccs"][5]).find("section", class_="registers") is None
    english = s.text_of(
        _entity_page(out, built["usccs"][4], "en").find("section", class_="registers")
    )
    assert "Reason for removal" in english and "removed" in english


def test_open_data_carries_the_registers(site: tuple[Path, dict[str, Any]]) -> None:
    out, built = site
    raw = (out / "data" / "registers.csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(raw)))
    assert len(rows) == 3
    by_no = {r["决定书文号(decision_no)"]: r for r in rows}
    assert (
        by_no["新市监异列〔2026〕8号"]["移出决定书文号(removal_decision_no)"]
        == "新市监异出〔2026〕1号"
    )
    doc = s.load_json(out / "data" / "registers.json")
    assert {r["uscc"] for r in doc["records"]} == {
        built["usccs"][3],
        built["usccs"][4],
        built["never_drawn"],
    }
    # Who decided and what finding caused it stay internal.
    assert not {"listed_by", "cause", "risk_class"} & set(doc["records"][0])


def test_no_named_entity_class_anywhere(site: tuple[Path, dict[str, Any]]) -> None:
    out, built = site

    class Row:
        uscc = built["never_drawn"]
        name = "n"
        entity_type = "企业"
        industry_code = "F5211"
        region_code = "150102"
        address = ""
        legal_rep = "王建国"
        status = "存续"
        established_on = None

    assert "risk_class" not in public_entity(Row())
    for uscc in [*built["usccs"], built["never_drawn"]]:
        for lang in ("", "en"):
            page = out / lang / urls.entity_path(uscc)
            text = page.read_text(encoding="utf-8")
            assert "信用风险分类" not in text and "risk class" not in text.lower(), page
    # Per-entity data files (the draw, results, registers) carry no class column.
    for data in (out / "data").rglob("*"):
        if data.stem in ("draw", "draws", "results", "registers") and data.suffix in (
            ".csv",
            ".json",
        ):
            assert "risk_class" not in data.read_text(encoding="utf-8-sig"), data

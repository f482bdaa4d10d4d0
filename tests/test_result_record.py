"""The national result record on the public site, and names instead of codes.

- ``results.json`` / ``results.csv`` carry the fields of the national 双随机抽查结果 record in
  its order and validate against the JSON Schema the site publishes beside them.
- Result notices show the same fields (main result code, sub-code apart, item names).
- No Chinese page shows an English enum name or a department code in its visible text, and
  no English page shows Chinese punctuation of our own wording (data such as names, task
  codes, findings and legal bases may be Chinese on either).
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import site_support as s
from bs4 import BeautifulSoup
from factories import make_entity, write_json
from sqlalchemy import select

from supervision.db import Database
from supervision.directories.importing import import_file
from supervision.draw.commit import commit_task
from supervision.draw.population import EXCLUSION_REASONS
from supervision.draw.tasks import create_task, parse_task_input
from supervision.models import Department, InspectionItem
from supervision.models.tasks import TaskStatus
from supervision.reference import result_codes, vocab
from supervision.reference.regions import region_name
from supervision.site import publish_site, urls
from supervision.site.result_record import RESULT_FIELDS

TARGETED = "T-SCAN-定向"
MOVED_OUT = 13
NATIONAL = ["plan_code", "plan_name", "task_code", "task_name", "inspection_type", "authority",
            "departments", "uscc", "name", "item_code", "item_version", "item_name",
            "inspected_on", "result_code", "result", "sub_code", "sub_code_text", "follow_up",
            "follow_up_text", "published_on"]  # fmt: skip


@pytest.fixture
def site(db: Database, tmp_path: Path) -> dict[str, Any]:
    """The site tests' province, plus a targeted task whose population excluded a moved-out
    entity (so the exclusion table and the filter show)."""
    built = s.build(db, tmp_path)
    moved = make_entity(MOVED_OUT, status="迁出", risk_class="A")
    import_file(db, kind="entities", path=write_json(tmp_path / "moved.json", [moved]))
    with db.session() as session:
        create_task(session, spec=parse_task_input({
            "code": TARGETED, "plan": "P2026", "name": "定向抽查", "departments": ["SJ"],
            "items": ["SJ-01"], "ratios": "0.5", "period_start": "2026-03-01",
            "period_end": "2026-12-31", "disclosure": "full", "exclusion_days": 0,
            "target": {"risk_classes": ["A", "B"], "entity_types": ["企业"]},
        }))  # fmt: skip
    with db.session() as session:
        task = commit_task(session, code=TARGETED, as_of=date(2026, 2, 20))
        assert any(reason.startswith("status:") for reason in task.exclusions)
    out = tmp_path / "site"
    publish_site(db, out_dir=out, languages="all", strict=True)
    return built | {"out": out}


def _validator(schema: dict[str, Any], ref: str = "") -> jsonschema.Draft202012Validator:
    root = {"$defs": schema["$defs"], "$ref": f"#/$defs/{ref}"} if ref else schema
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(root)


def _errors(validator: jsonschema.Draft202012Validator, instance: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]


# --------------------------------------------------------------------------- open data
def test_results_open_data_validates_against_its_published_schema(
    db: Database, site: dict[str, Any]
) -> None:
    out: Path = site["out"]
    schema = json.loads((out / "data" / "results.schema.json").read_text("utf-8"))
    record_keys = list(schema["$defs"]["record"]["properties"])
    assert record_keys[: len(NATIONAL)] == NATIONAL  # the national record's order
    assert [k for k, _ in RESULT_FIELDS] == record_keys[:-1]  # then corrections, JSON only
    documents = [out / "data" / "results.json", out / urls.task_data_dir(s.TASK) / "results.json"]
    for path in documents:
        doc = json.loads(path.read_text("utf-8"))
        assert _errors(_validator(schema), doc) == [], path
        assert all(list(r) == record_keys for r in doc["records"])
    (record,) = json.loads(documents[0].read_text("utf-8"))["records"]
    assert {k: record[k] for k in NATIONAL} == {
        "plan_code": "P2026", "plan_name": "2026年度抽查计划", "task_code": s.TASK,
        "task_name": "企业公示信息抽查", "inspection_type": "不定向",
        "authority": "市场监督管理局", "departments": ["市场监督管理局"],
        "uscc": site["usccs"][0], "name": s.EVIL_NAME, "item_code": "SJ-01",
        "item_version": 1, "item_name": record["item_name"], "inspected_on": "2026-05-10",
        "result_code": "A", "result": "发现问题待后续处理", "sub_code": "B",
        "sub_code_text": "未按规定公示应当公示的信息", "follow_up": "rectification",
        "follow_up_text": "责令限期整改", "published_on": "2026-07-05",
    }  # fmt: skip
    with db.session() as session:
        item = session.execute(select(InspectionItem).where(InspectionItem.code == "SJ-01"))
        assert record["item_name"] == item.scalars().one().name != ""
    # Natural persons: only masked (the finding and the reply named one, with phone and ID).
    text = json.dumps(record, ensure_ascii=False)
    assert s.PEOPLE[1] not in text and s.PHONE not in text and s.ID_NUMBER not in text
    # The CSV: the header and every row as arrays of cells, checked in order by the schema.
    raw = (out / "data" / "results.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header, *rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert _errors(_validator(schema, "csv_header"), header) == []
    assert len(rows) == 1
    assert _errors(_validator(schema, "csv_row"), rows[0]) == []
    # A row that breaks the record is refused by the same schema (the test can fail).
    broken = dict(record, result_code="B", inspection_type="random")
    assert len(_errors(_validator(schema, "record"), broken)) == 2
    assert _errors(_validator(schema, "csv_row"), rows[0][:-1]) != []
    # Linked from the open-data page and listed in the catalogue, with extract date and licence.
    for prefix in ("", "en/"):
        page = BeautifulSoup((out / prefix / "data/index.html").read_text("utf-8"), "html.parser")
        assert page.select_one("a.schema")["href"].endswith("data/results.schema.json")
    catalog = json.loads((out / "data" / "index.json").read_text("utf-8"))
    assert "data/results.schema.json" in {f["path"] for f in catalog["files"]}
    assert schema["licence"] == catalog["licence"] and "publisher" in schema


def test_result_notice_shows_the_national_record(site: dict[str, Any]) -> None:
    out: Path = site["out"]
    label = result_codes.result_label("A", "B")
    for prefix, words in (("", ("不定向", label.zh)), ("en/", ("Untargeted", label.en))):
        path = out / prefix / "results" / urls.slug(s.TASK) / "index.html"
        page = BeautifulSoup(path.read_text("utf-8"), "html.parser")
        facts = page.select_one("dl.task-record")
        assert facts.select_one("dd.inspection-type").get_text(strip=True) == words[0]
        assert facts.select_one("dd.authority").get_text(strip=True) == "市场监督管理局"
        assert facts.select_one("dd.departments").get_text(strip=True) == "市场监督管理局"
        assert "P2026" in facts.select_one("dd.plan").get_text()
        result = page.select_one("div.result")
        # the main code is the code; the sub-code is shown apart, as a sub-code
        assert result.select_one("span.result-code").get_text() == "A"
        assert result.select_one("span.result-text").get_text() == words[1]
        assert result.select_one("span.sub-code").get_text() == "B"
        assert result.select_one("span.item-name").get_text().strip() != "SJ-01"
        assert "SJ-01" in result.select_one("small.item-code").get_text()


# --------------------------------------------------------------------------- names, not codes
ZH_PUNCTUATION = re.compile(r"[，。：；（）【】「」、《》！？“”‘’〔〕]")
TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*")


def _enum_names() -> set[str]:
    """Every English enum name a stored value could leak as."""
    names = {v for v in vars(TaskStatus).values() if isinstance(v, str)}
    for kind in (vocab.EntityType, vocab.EntityStatus, vocab.EntitySize, vocab.InspectorStatus,
                 vocab.ItemKind, vocab.InspectionMethod):  # fmt: skip
        names |= set(kind.english().values()) | {m.name.lower() for m in kind}
    names |= set(result_codes.FOLLOW_UPS) | set(result_codes.FOLLOW_UP_STATUSES)
    names |= set(result_codes.RESULT_STATES) | set(EXCLUSION_REASONS)
    names |= {"typed", "beacon", "pseudonymous", "full", "status", "yearly_cap"}
    return names


def _data_strings(db: Database, out: Path) -> list[str]:
    """Text that is data, not our wording: every string of the open data, region names, and
    the pieces a page shows of them (a reply without its date); longest first."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.add(value)
            found.update(part.split(" ", 1)[-1] for part in value.split(" / "))
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for path in (out / "data").rglob("*.json"):
        walk(json.loads(path.read_text("utf-8")))
    with db.session() as session:
        for code in ("150102", "150100", "150000"):
            found.add(region_name(code))
        found.update(session.execute(select(Department.name)).scalars())
    return sorted((f for f in found if f.strip()), key=len, reverse=True)


def _visible(path: Path, data: list[str]) -> str:
    """The page's visible text without code listings, data strings blanked out."""
    page = BeautifulSoup(path.read_text("utf-8"), "html.parser")
    for hidden in page(["script", "style", "pre", "template"]):
        hidden.decompose()
    text = page.get_text(" ")
    for value in data:
        if value in text:
            text = text.replace(value, " ")
    return text


def test_chinese_pages_show_names_and_english_pages_no_chinese_punctuation(
    db: Database, site: dict[str, Any]
) -> None:
    out: Path = site["out"]
    with db.session() as session:
        departments = set(session.execute(select(Department.code)).scalars())
        items = set(session.execute(select(InspectionItem.code)).scalars())
    forbidden = _enum_names() | departments
    data = _data_strings(db, out)
    pages = sorted(out.rglob("*.html"))
    zh = [p for p in pages if not p.relative_to(out).as_posix().startswith("en/")]
    en = [p for p in pages if p.relative_to(out).as_posix().startswith("en/")]
    assert len(zh) > 20 and len(en) > 20
    # the pages this test is about do show what it scans for
    targeted = (out / urls.task_path(TARGETED)).read_text("utf-8")
    assert "登记状态为迁出" in targeted and "定向抽查" in targeted
    problems: list[str] = []
    for path in zh:
        name = path.relative_to(out).as_posix()
        for token in TOKEN.findall(_visible(path, data)):
            if token in forbidden or ("_" in token and token.islower()):
                problems.append(f"{name}: {token}")
        page = BeautifulSoup(path.read_text("utf-8"), "html.parser")
        for heading in page.select("h1, h2, h3, h4"):
            if heading.get_text(strip=True) in items:
                problems.append(f"{name}: item code as heading {heading.get_text(strip=True)}")
        for code in page.select("span.result-code"):
            if code.get_text() not in result_codes.MAIN_CODES:
                problems.append(f"{name}: {code.get_text()} shown as the result code")
    for path in en:
        name = path.relative_to(out).as_posix()
        for match in ZH_PUNCTUATION.finditer(text := _visible(path, data)):
            problems.append(f"{name}: {text[max(0, match.start() - 30) : match.end() + 30]!r}")
    assert problems == []

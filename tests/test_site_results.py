"""Result notices through the results service: enter, review, publish, correct, reply.

What the public site shows follows the result's state: nothing before publication, the
published version while a correction is under review, the correction (with what it was
and why) once published, and the entity's reply only once it is accepted.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import site_support as s

from supervision import clock
from supervision.db import Database
from supervision.reference.result_codes import result_label
from supervision.results.entry import correct_results, enter_results
from supervision.results.inputs import ItemInput
from supervision.results.replies import add_reply, review_reply
from supervision.results.service import publish_results, review_results
from supervision.site import publish_site, urls


@pytest.fixture
def built(db: Database, tmp_path: Path) -> dict[str, Any]:
    return s.build(db, tmp_path)


def _result_text(site: Path, uscc: str) -> str:
    doc = s.soup(site / urls.entity_path(uscc))
    return " ".join(s.text_of(div) for div in doc.find_all("div", class_="result"))


def test_result_pages_follow_the_result_state(
    db: Database, built: dict[str, Any], tmp_path: Path
) -> None:
    uscc = built["usccs"][7]
    site = tmp_path / "site"
    today = clock.today()
    item = ItemInput(item="SJ-01", code="E", finding="住所与登记不符，已责令改正",
                     inspected_on=today, follow_up="rectification",
                     due=today + timedelta(days=30))  # fmt: skip
    with db.session() as session:
        enter_results(session, task_code=s.TASK, uscc=uscc, items=[item], actor="录入员")
    publish_site(db, out_dir=site, languages="zh")
    assert _result_text(site, uscc) == ""  # entered: not public
    with db.session() as session:
        review_results(session, task_code=s.TASK, uscc=uscc, approve=True, reason=None,
                       actor="审核员")  # fmt: skip
    publish_site(db, out_dir=site, languages="zh")
    assert _result_text(site, uscc) == ""  # approved: still not public
    with db.session() as session:
        publish_results(session, task_code=s.TASK, uscc=uscc, actor="审核员")
    publish_site(db, out_dir=site, languages="zh")
    shown = _result_text(site, uscc)
    assert result_label("E").zh in shown and "住所与登记不符" in shown and "责令限期整改" in shown
    with db.session() as session:
        correct_results(session, task_code=s.TASK, uscc=uscc, reason="检查日期录错",
                        items=[ItemInput(item="SJ-01", code="1", finding="复查未发现问题",
                                         follow_up="none")],
                        actor="录入员")  # fmt: skip
    publish_site(db, out_dir=site, languages="zh")
    assert "复查未发现问题" not in _result_text(site, uscc)  # correction under review
    with db.session() as session:
        review_results(session, task_code=s.TASK, uscc=uscc, approve=True, reason=None,
                       actor="审核员")  # fmt: skip
        publish_results(session, task_code=s.TASK, uscc=uscc, actor="审核员")
        add_reply(session, task_code=s.TASK, uscc=uscc, text="我们已按要求整改",
                  received_on=today, actor="窗口")  # fmt: skip
    report = publish_site(db, out_dir=site, languages="zh", keep_paths=True)
    shown = _result_text(site, uscc)
    assert result_label("1").zh in shown and "检查日期录错" in shown
    assert f"原结果：E {result_label('E').zh}" in shown
    assert "我们已按要求整改" not in shown  # the reply awaits review
    assert urls.entity_path(uscc) in report.written_paths
    with db.session() as session:
        review_reply(session, task_code=s.TASK, uscc=uscc, approve=True, reason=None,
                     actor="审核员")  # fmt: skip
    publish_site(db, out_dir=site, languages="all", strict=True)
    assert "我们已按要求整改" in _result_text(site, uscc)
    english = s.soup(site / "en" / urls.entity_path(uscc))
    assert result_label("1").en in s.text_of(english.find("div", class_="result"))
    notice = s.soup(site / urls.task_results_path(s.TASK))
    uscc_codes = [
        s.text_of(c) for c in notice.select("section[aria-labelledby=published-h] h3 code")
    ]
    assert uscc in uscc_codes

"""The credit loop through the console: a confirmed finding's proposal in the queue beside
the findings, decided with a decision number (pages with CSRF, and the JSON API), the
entity page showing the register and class history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from test_console_support import (
    PASSWORD,
    ConsoleServer,
    build_console,
    csrf_of,
    sign_in,
    soup,
    text_of,
)

from supervision.db import Database
from supervision.models import RegisterEntry

pytestmark = pytest.mark.usefixtures("crew")

_G = RegisterEntry.__table__  # type: ignore[attr-defined]
ORGAN = "呼和浩特市新城区市场监督管理局"


@pytest.fixture
def data(db: Database, tmp_path: Path) -> dict[str, Any]:
    return build_console(db, tmp_path)


@pytest.fixture
def server(db: Database, data: dict[str, Any]) -> Iterator[str]:
    with ConsoleServer(db) as url:
        yield url


def _entries(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(_G)).scalar_one())


def test_console_proposal_to_listing(db: Database, data: dict[str, Any], server: str) -> None:
    uscc = data["flagged_uscc"]
    with httpx.Client(base_url=server, timeout=30) as client:
        token = csrf_of(sign_in(client, "reviewer"))
        confirmed = client.post(f"/review/findings/{data['finding_id']}/confirm",
                                data={"csrf_token": token, "uscc": uscc, "note": "逾期未报"})  # fmt: skip
        assert confirmed.status_code == 303
        queue = soup(client.get("/review"))
        assert queue.find("p", class_="credit-link").a["href"] == "/credit"
        page = soup(client.get("/credit"))
        (row,) = page.select("table.credit-queue tbody tr[data-proposal]")
        assert uscc in text_of(row) and "经营异常名录" in text_of(row)
        proposal = row["data-proposal"]
        entity = client.get(f"/credit/entity/{uscc}")
        form = soup(entity).find("form", class_="accept")
        assert form["action"] == f"/credit/proposals/{proposal}/accept"
        # Without a CSRF token: refused; without a decision number: refused, bilingual.
        refused = client.post(f"/credit/proposals/{proposal}/accept",
                              data={"uscc": uscc, "organ": ORGAN, "decision_no": "X"})  # fmt: skip
        assert refused.status_code == 403
        missing = client.post(f"/credit/proposals/{proposal}/accept",
                              data={"csrf_token": token, "uscc": uscc, "organ": ORGAN})  # fmt: skip
        assert missing.status_code == 400 and "决定书文号" in missing.text
        assert "decision number" in missing.text and _entries(db) == 0
        done = client.post(f"/credit/proposals/{proposal}/accept",
                           data={"csrf_token": token, "uscc": uscc, "organ": ORGAN,
                                 "decision_no": "新市监异列〔2026〕3号",
                                 "decision_date": "2026-07-03"})  # fmt: skip
        assert done.status_code == 303
        shown = soup(client.get(done.headers["location"]))
        (entry,) = shown.select("table.registers tr[data-entry]")
        assert entry["data-current"] == "true" and "新市监异列〔2026〕3号" in text_of(entry)
        assert shown.find("article", class_="proposal")["data-status"] == "accepted"
        review = soup(client.get(f"/review/entity/{uscc}"))
        assert "新市监异列〔2026〕3号" in text_of(review.find("section", class_="credit-standing"))
        # The planner may not see or decide proposals.
        other = httpx.Client(base_url=server, timeout=30)
        sign_in(other, "planner")
        assert other.get("/credit").status_code == 403
        other.close()


def test_api_proposals_and_decision(db: Database, data: dict[str, Any], server: str) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        token = client.post("/api/session", json={"username": "reviewer", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['token']}"}
        client.post(f"/api/review/findings/{data['finding_id']}/confirm", json={"text": "属实"},
                    headers=headers)  # fmt: skip
        (proposal,) = client.get("/api/credit/proposals", headers=headers).json()
        assert proposal["reason_code"] == "4.1" and proposal["due_on"]
        bad = client.post(f"/api/credit/proposals/{proposal['id']}/accept",
                          json={"organ": ORGAN}, headers=headers)  # fmt: skip
        assert bad.status_code == 400 and bad.json()["error"]["en"].startswith(
            "the decision number"
        )
        ok = client.post(f"/api/credit/proposals/{proposal['id']}/accept",
                         json={"organ": ORGAN, "decision_no": "A-1", "decided_on": "2026-07-03"},
                         headers=headers)  # fmt: skip
        assert ok.status_code == 200, ok.text
        assert ok.json()["entry"]["decision_no"] == "A-1"
        standing = client.get(f"/api/credit/entities/{data['flagged_uscc']}", headers=headers)
        assert standing.json()["entity"]["abnormal"] is True
        again = client.post(f"/api/credit/proposals/{proposal['id']}/reject",
                            json={"reason": "x"}, headers=headers)  # fmt: skip
        assert again.status_code == 400  # decided already


def test_console_import_reports_kept_classes(
    db: Database, data: dict[str, Any], server: str, tmp_path: Path
) -> None:
    import csv

    uscc = data["flagged_uscc"]
    entity = next(e for e in data["entities"] if e["uscc"] == uscc)
    with httpx.Client(base_url=server, timeout=30) as client:
        token = client.post("/api/session", json={"username": "reviewer", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['token']}"}
        client.post(f"/api/review/findings/{data['finding_id']}/confirm", json={"text": "属实"},
                    headers=headers)  # fmt: skip
    path = tmp_path / "again.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(entity))
        writer.writeheader()
        writer.writerow(entity)  # the bureau's older class, no classification date
    with httpx.Client(base_url=server, timeout=30) as admin:
        token = csrf_of(sign_in(admin, "admin"))
        page = admin.post("/admin/directories/entities/import",
                          data={"csrf_token": token, "encoding": ""},
                          files={"file": ("again.csv", path.read_bytes())},
                          follow_redirects=True)  # fmt: skip
        kept = soup(page).select_one("section.import-report p.kept")
        assert kept is not None and kept["data-count"] == "kept" and "1 行保留" in text_of(kept)
        bearer = admin.post("/api/session", json={"username": "admin", "password": PASSWORD})
        api = admin.post("/api/admin/directories/entities/import",
                         headers={"Authorization": f"Bearer {bearer.json()['token']}"},
                         files={"file": ("again.csv", path.read_bytes())})  # fmt: skip
        assert api.status_code == 200, api.text
        (row,) = api.json()["kept_rows"]
        assert row["uscc"] == uscc and "is newer" in row["en"]

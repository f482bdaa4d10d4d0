"""Imports and review decisions leave trail events in their own transaction."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from factories import make_department, make_entity, write_json

from supervision import clock, trail
from supervision.db import Database
from supervision.directories.importing import import_file
from supervision.errors import SupervisionError
from supervision.models import CheckRun, Finding


def test_an_import_is_an_event(db: Database, tmp_path: Path) -> None:
    path = write_json(tmp_path / "departments.json", [make_department(1), make_department(2)])
    import_file(db, kind="departments", path=path)
    with db.session() as session:
        events = trail.events(session, obj="import:departments")
        assert [e.action for e in events] == ["import"]
        payload = events[0].payload
        assert '"added":2' in payload and '"file":"departments.json"' in payload
        assert trail.verify(session)["ok"]


def _finding(db: Database, tmp_path: Path) -> list[int]:
    entity = make_entity(1)
    import_file(db, kind="entities", path=write_json(tmp_path / "e.json", [entity]))
    now = clock.now()
    with db.session() as session:
        run = CheckRun(started_at=now, as_of=date(2026, 1, 1), pack_digest="0" * 64, mode="full")
        session.add(run)
        session.flush()
        ids = []
        for rule in ("R1", "R2"):
            finding = Finding(
                uscc=entity["uscc"], rule_id=rule, rule_version=1, severity="high",
                severity_rank=1, result_code="B", first_run_id=run.id, last_run_id=run.id,
                opened_as_of=date(2026, 1, 1), opened_at=now,
            )  # fmt: skip
            session.add(finding)
            session.flush()
            assert finding.id is not None
            ids.append(finding.id)
        return ids


def test_review_decisions_are_events(db: Database, tmp_path: Path) -> None:
    from supervision.checks.review import confirm_finding, dismiss_finding

    first, second = _finding(db, tmp_path)
    with pytest.raises(SupervisionError):
        dismiss_finding(db, finding_id=second, reason="", actor="李科长")
    confirm_finding(db, finding_id=first, note="核实无误", actor="李科长")
    dismiss_finding(db, finding_id=second, reason="数据有误", actor="王科长")
    with db.session() as session:
        events = trail.events(session, obj="finding:")
        assert [(e.action, e.object, e.actor) for e in events] == [
            ("finding.confirm", f"finding:{first}", "李科长"),
            ("finding.dismiss", f"finding:{second}", "王科长"),
        ]
        assert trail.verify(session)["ok"]

"""Check runs on SQLite and PostgreSQL: findings, re-runs, resolution, incremental,
workers, dry runs, engine errors, all-or-nothing, and the CLI."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from factories import make_record, write_csv
from sqlalchemy import delete, func, select
from test_check_support import (
    AS_OF,
    EXPECTED,
    dump,
    entity_row,
    filed_report,
    load,
    open_rules,
    province,
    record_row,
    snapshot,
)

from supervision import clock
from supervision.checks import compare, evaluate
from supervision.checks import run as checking
from supervision.checks.dry_run import dry_run
from supervision.checks.facts import derive_facts, next_due_from_facts
from supervision.checks.review import entity_review, last_full_run, seen_last
from supervision.checks.run import run_check
from supervision.checks.templates import row_dates
from supervision.cli import main as cli_main
from supervision.db import Database, hold_write
from supervision.directories.importing import import_file
from supervision.models import CheckRun, ComplianceRecord
from supervision.models.findings import EntityCheckState, EntityFacts, Finding
from supervision.reference.workdays import (
    CALENDAR_ENV,
    WorkCalendar,
    default_calendar,
    set_default_calendar,
)
from supervision.rules.engine import EngineError, EntityOutcome, RuleEngine
from supervision.rules.pack import default_rules_dir, load_pack

_F = Finding.__table__  # type: ignore[attr-defined]
_R = ComplianceRecord.__table__  # type: ignore[attr-defined]
_RUN = CheckRun.__table__  # type: ignore[attr-defined]
_S = EntityCheckState.__table__  # type: ignore[attr-defined]
_T = EntityFacts.__table__  # type: ignore[attr-defined]


@pytest.fixture
def loaded(db: Database) -> dict[str, str]:
    usccs, entities, records = province()
    load(db, entities, records)
    return usccs


def _count(db: Database, table: Any) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_check_finds_what_the_default_pack_should(db: Database, loaded: dict[str, str]) -> None:
    summary = run_check(db, as_of=AS_OF)
    assert summary.mode == "full" and summary.reason == "first run"
    assert summary.entities_checked == len(EXPECTED)
    assert summary.error_count == 0
    flagged = open_rules(db)
    for name, (_n, rule) in EXPECTED.items():
        assert flagged.get(loaded[name], set()) == ({rule} if rule else set()), name
    # The matched facts are stored with ids and values.
    with db.engine.connect() as conn:
        row = conn.execute(select(_F).where(_F.c.uscc == loaded["no_report"])).one()
    uscc = loaded["no_report"]
    assert row.fact_ids == [f"{uscc}:annual_report:2024", f"{uscc}:entity"]
    report = next(m for m in row.matched if m["t"] == "annual_report")
    assert report["values"]["days_overdue"] == (AS_OF - dt.date(2025, 6, 30)).days
    assert row.first_run_id == row.last_run_id == summary.run_id
    assert row.severity == "medium" and row.severity_rank == 2 and row.result_code == "B"
    assert _count(db, _S) == len(EXPECTED)


def test_rerun_does_not_duplicate(db: Database, loaded: dict[str, str]) -> None:
    first = run_check(db, as_of=AS_OF, full=True)
    before = snapshot(db)
    second = run_check(db, as_of=AS_OF, full=True)
    assert second.new == 0 and second.resolved == 0 and second.unchanged == first.new
    assert snapshot(db) == before
    # The full run leaves the unchanged findings unwritten; the last run that saw them
    # is the second all the same (what ``review show`` prints).
    with db.engine.connect() as conn:
        rows = conn.execute(select(_F)).all()
        assert {row.last_run_id for row in rows} == {first.run_id}
        assert {seen_last(row, last_full_run(conn)) for row in rows} == {second.run_id}
        third = run_check(db, as_of=AS_OF)  # incremental: writes the ones it saw
        assert third.mode == "incremental"
    for uscc in {row.uscc for row in rows}:
        shown = entity_review(db, uscc=uscc)["findings"]
        assert {f["last_run_id"] for f in shown if f["status"] == "open"} <= {
            second.run_id,
            third.run_id,
        }


def test_resolved_when_the_record_is_fixed(db: Database, loaded: dict[str, str]) -> None:
    run_check(db, as_of=AS_OF)
    load(db, [], [filed_report(9001, loaded["no_report"])])
    later = run_check(db, as_of=AS_OF)
    assert later.mode == "incremental"
    assert later.entities_checked == 1  # only the entity that received a record
    assert later.resolved == 1
    with db.engine.connect() as conn:
        row = conn.execute(select(_F).where(_F.c.uscc == loaded["no_report"])).one()
    assert row.status == "resolved"
    assert row.resolved_run_id == later.run_id
    assert row.closed_at is not None


def test_incremental_checks_entities_whose_deadline_fell_due(
    db: Database, loaded: dict[str, str]
) -> None:
    run_check(db, as_of=dt.date(2025, 6, 15))
    # The annual report of the no_report entity falls due on 2025-06-30: nothing changed in
    # the records, yet an incremental run on 2025-07-01 must check it and find it.
    later = run_check(db, as_of=dt.date(2025, 7, 1))
    assert later.mode == "incremental"
    assert "samr.annual-report-not-filed" in open_rules(db)[loaded["no_report"]]
    assert later.entities_checked < len(EXPECTED)


def test_pack_change_or_earlier_date_forces_full(
    db: Database, loaded: dict[str, str], tmp_path: Path
) -> None:
    run_check(db, as_of=AS_OF)
    assert run_check(db, as_of=AS_OF - dt.timedelta(days=1), rewind="重算").mode == "full"
    pack_dir = tmp_path / "pack"
    shutil.copytree(default_rules_dir(), pack_dir)
    (pack_dir / "samr" / "checks.yaml").unlink()
    changed = run_check(db, as_of=AS_OF, rules_dir=pack_dir)
    assert changed.mode == "full" and changed.reason == "rule pack changed"
    # Findings of rules no longer in the pack are resolved.
    assert changed.resolved >= 1
    assert loaded["unreachable"] not in open_rules(db)


def test_workers_two_equals_one(tmp_path: Path) -> None:
    urls = [f"sqlite:///{tmp_path / f'w{i}.db'}" for i in (1, 2)]
    snaps = []
    for workers, url in zip((1, 2), urls, strict=True):
        database = Database(url)
        try:
            _usccs, entities, records = province()
            load(database, entities, records)
            summary = run_check(database, as_of=AS_OF, workers=workers, chunk_size=2)
            assert summary.entities_checked == len(EXPECTED)
            snaps.append(snapshot(database))
        finally:
            database.dispose()
    assert snaps[0] == snaps[1]
    assert len(snaps[0]) == 6


def test_dry_run_writes_nothing_and_compares(
    db: Database, loaded: dict[str, str], tmp_path: Path
) -> None:
    run_check(db, as_of=AS_OF)
    pack_dir = tmp_path / "pack"
    shutil.copytree(default_rules_dir(), pack_dir)
    (pack_dir / "samr" / "checks.yaml").unlink()  # unreachable + false information: gone
    licence = pack_dir / "samr" / "licence.yaml"
    licence.write_text(
        licence.read_text(encoding="utf-8").replace("grace_days: 0", "grace_days: 1000"),
        encoding="utf-8",
    )
    complaints = pack_dir / "samr" / "complaints.yaml"
    complaints.write_text(
        complaints.read_text(encoding="utf-8").replace("threshold: 3", "threshold: 1"),
        encoding="utf-8",
    )
    # A second entity with a single complaint: new under threshold 1.
    load(db, [], [record_row("complaint", 7001, loaded["clean"], {"received_on": "2025-07-30"})])
    before = dump(db)
    report = dry_run(db, rules_dir=pack_dir, as_of=AS_OF)
    assert dump(db) == before
    rules = report.to_dict()["rules"]
    assert rules["samr.unreachable-at-registered-address"] == {"new": 0, "gone": 1, "unchanged": 0}
    assert rules["samr.licence-expired-still-operating"] == {"new": 0, "gone": 1, "unchanged": 0}
    assert rules["samr.frequent-complaints"] == {"new": 1, "gone": 0, "unchanged": 1}
    assert rules["samr.annual-report-not-filed"] == {"new": 0, "gone": 0, "unchanged": 1}


def test_engine_error_is_recorded_and_the_run_goes_on(
    db: Database, loaded: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_check(db, as_of=AS_OF)
    broken_entity, broken_rule = loaded["licence"], "samr.rectification-overdue"
    original = RuleEngine._assert

    def evaluate(self: RuleEngine, outcome: EntityOutcome, *args: Any) -> EntityOutcome:
        outcome = original(self, outcome, *args)
        uscc = outcome.uscc
        if uscc == broken_entity:
            outcome.errors.append(EngineError(uscc, None, "坏了", "broken entity"))
        if uscc == loaded["rectification"]:
            outcome.errors.append(EngineError(uscc, broken_rule, "动作出错", "action failed"))
            outcome.findings = [f for f in outcome.findings if f.rule_id != broken_rule]
        return outcome

    monkeypatch.setattr(RuleEngine, "_assert", evaluate)
    summary = run_check(db, as_of=AS_OF, full=True)
    assert summary.entities_checked == len(EXPECTED)
    assert summary.reused == len(EXPECTED)  # evaluated from the first run's templates
    assert summary.error_count == 2
    named = {(e["uscc"], e["rule_id"]) for e in summary.errors}
    assert named == {(broken_entity, None), (loaded["rectification"], broken_rule)}
    # Neither error resolved the findings it could not see; the others are intact.
    flagged = open_rules(db)
    assert flagged[broken_entity] == {"samr.licence-expired-still-operating"}
    assert flagged[loaded["rectification"]] == {broken_rule}
    assert summary.resolved == 0
    with db.engine.connect() as conn:
        stored = conn.execute(select(_RUN.c.errors).where(_RUN.c.id == summary.run_id)).scalar_one()
        due = conn.execute(select(_S.c.next_due_on).where(_S.c.uscc == broken_entity)).scalar_one()
    assert {(e["uscc"], e["rule_id"]) for e in stored} == named
    assert due == AS_OF  # checked again by the next incremental run


def _templates(db: Database) -> dict[str, tuple[int, dt.date]]:
    with db.engine.connect() as conn:
        return {
            r.uscc: (r.run_id, r.valid_from)
            for r in conn.execute(select(_T.c.uscc, _T.c.run_id, _T.c.valid_from))
        }


def test_stored_facts_are_reused_until_the_rows_change(
    db: Database, loaded: dict[str, str]
) -> None:
    first = run_check(db, as_of=AS_OF)
    assert first.reused == 0
    made = _templates(db)
    assert set(made) == set(loaded.values())
    assert {run for run, _ in made.values()} == {first.run_id}

    # A later day the templates cover: nothing is read or derived, same findings.
    later = run_check(db, as_of=AS_OF + dt.timedelta(days=1), full=True)
    assert later.reused == len(EXPECTED) and later.error_count == 0
    assert _templates(db) == made

    # A new record: that entity alone is derived again (and its template replaced).
    uscc = loaded["complaints"]
    load(db, [], [record_row("complaint", 9_001, uscc, {"received_on": "2025-07-30"})])
    changed = run_check(db, as_of=AS_OF + dt.timedelta(days=1), full=True)
    assert changed.reused == len(EXPECTED) - 1
    assert _templates(db)[uscc] == (changed.run_id, AS_OF + dt.timedelta(days=1))

    # A day before a template was made (a replay, a rewind) is not covered by it.
    replay = run_check(db, as_of=AS_OF, full=True, rewind="重放")
    assert replay.reused == len(EXPECTED) - 1
    assert _templates(db)[uscc] == (replay.run_id, AS_OF)
    # Throughout, the findings are those of facts derived afresh.
    with db.engine.begin() as conn:
        conn.execute(delete(_T))
    kept = snapshot(db, values=True)
    assert run_check(db, as_of=AS_OF, full=True, rewind="重放").reused == 0
    assert snapshot(db, values=True) == kept


def test_a_record_received_long_ago_but_stored_now_is_checked(
    db: Database, loaded: dict[str, str]
) -> None:
    """What changed is found by when this system stored a record (``stored_at``), not by
    the ``received_at`` an import file gives, which may be older than the last run."""
    run_check(db, as_of=AS_OF)
    uscc = loaded["clean"]
    long_ago = dt.datetime(2025, 7, 20, 9, 0, tzinfo=dt.UTC)
    load(
        db,
        [],
        [
            record_row("complaint", 9_100 + i, uscc, {"received_on": day}, received_at=long_ago)
            for i, day in enumerate(("2025-07-02", "2025-07-11", "2025-07-19"))
        ],
    )
    for full in (False, True):
        summary = run_check(db, as_of=AS_OF, full=full)
        assert summary.entities_checked >= 1
        assert open_rules(db).get(uscc) == {"samr.frequent-complaints"}, full


def test_an_entity_never_checked_is_checked_whatever_its_stamp(
    db: Database, loaded: dict[str, str]
) -> None:
    """An incremental run checks an entity with no check state even when its row's stamp
    is older than the last run (a row written by something other than the importers),
    and, once every entity has a state, checks nobody when nothing changed."""
    run_check(db, as_of=AS_OF)
    assert run_check(db, as_of=AS_OF).entities_checked == 0
    row = entity_row(900)
    row["updated_at"] = dt.datetime(2025, 1, 2, 9, 0, tzinfo=dt.UTC)
    load(db, [row], [])
    summary = run_check(db, as_of=AS_OF)
    assert summary.mode == "incremental"
    assert summary.entities_checked == 1
    # No annual report for 2024 by 30 June 2025.
    assert open_rules(db)[row["uscc"]] == {"samr.annual-report-not-filed"}
    assert run_check(db, as_of=AS_OF).entities_checked == 0


def test_stored_facts_of_another_calendar_are_not_used(
    db: Database, loaded: dict[str, str]
) -> None:
    run_check(db, as_of=AS_OF)
    try:
        set_default_calendar(WorkCalendar(holidays=[dt.date(2025, 8, 4)]))
        other = run_check(db, as_of=AS_OF, full=True)
    finally:
        set_default_calendar(None)
    assert other.reused == 0
    again = run_check(db, as_of=AS_OF, full=True)
    assert again.reused == 0  # the templates were made with the other calendar
    assert run_check(db, as_of=AS_OF, full=True).reused == len(EXPECTED)


def test_an_entity_that_cannot_be_derived_keeps_no_template(
    db: Database, loaded: dict[str, str]
) -> None:
    late = dt.date(2026, 12, 28)
    run_check(db, as_of=late)
    assert len(_templates(db)) == len(EXPECTED)
    uscc = loaded["complaints"]
    # Information arising in 2003 is due 20 working days later, in a year before the
    # packaged calendar's first (later years are provisional, earlier ones unknown): that
    # entity cannot be derived any more.
    info = {"info_type": "股权变更", "arose_on": "2003-12-01"}
    load(db, [], [record_row("immediate_info", 9_002, uscc, info)])
    summary = run_check(db, as_of=late, full=True)
    assert [e["uscc"] for e in summary.errors] == [uscc]
    assert uscc not in _templates(db)  # its template was stale: dropped
    assert summary.reused == len(EXPECTED) - 1


def test_a_crash_mid_run_leaves_nothing(
    db: Database, loaded: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    original = checking._Writer.apply

    def apply(self: Any, results: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("power cut")
        original(self, results)

    monkeypatch.setattr(checking._Writer, "apply", apply)
    with pytest.raises(RuntimeError):
        run_check(db, as_of=AS_OF, chunk_size=2)
    assert _count(db, _RUN) == 0 and _count(db, _F) == 0 and _count(db, _S) == 0


def test_decisions_stand_until_new_facts_appear(db: Database, loaded: dict[str, str]) -> None:
    from supervision.checks.review import dismiss_finding

    run_check(db, as_of=AS_OF)
    uscc = loaded["complaints"]
    with db.engine.connect() as conn:
        fid = conn.execute(select(_F.c.id).where(_F.c.uscc == uscc)).scalar_one()
    dismiss_finding(db, finding_id=fid, reason="重复投诉，已核实不属实", actor="李四")
    again = run_check(db, as_of=AS_OF, full=True)
    assert again.new == 0 and uscc not in open_rules(db)
    # A fourth complaint: facts the decision did not cover → a new open finding.
    load(db, [], [record_row("complaint", 8001, uscc, {"received_on": "2025-07-25"})])
    later = run_check(db, as_of=AS_OF)
    assert later.new == 1
    assert open_rules(db)[uscc] == {"samr.frequent-complaints"}
    with db.engine.connect() as conn:
        statuses = sorted(conn.execute(select(_F.c.status).where(_F.c.uscc == uscc)).scalars())
    assert statuses == ["dismissed", "open"]


def test_next_check_on_covers_complaints_leaving_the_window(loaded: dict[str, str]) -> None:
    pack = load_pack()
    evaluator = evaluate.Evaluator(pack, AS_OF, default_calendar())
    try:
        entity = {"uscc": "X", "established_on": dt.date(2024, 3, 1), "abnormal": False}
        records = [
            {"record_id": "c", "kind": "complaint", "event_date": dt.date(2025, 7, 1),
             "payload": {"received_on": "2025-07-01"}},
        ]  # fmt: skip
        facts = derive_facts(entity, records, AS_OF)
        due = evaluator.next_check_on(next_due_from_facts(facts, AS_OF), row_dates(entity, records))
        assert evaluator.evaluate(entity, records).next_due_on == due
        # 2025-07-01 + 91 days is the first day the complaint is outside the 90-day window.
        assert due is not None and due <= dt.date(2025, 7, 1) + dt.timedelta(days=91)
    finally:
        evaluator.close()


# ---------------------------------------------------------------- CLI
def test_cli_check_and_dry_run(cli: Any, db_url: str, tmp_path: Path) -> None:
    database = Database(db_url)
    try:
        _usccs, entities, records = province()
        load(database, entities, records)
    finally:
        database.dispose()
    out = cli("check", "--as-of", AS_OF.isoformat(), "--json")
    data = json.loads(out.stdout)
    assert data["mode"] == "full" and data["findings"]["new"] == 6
    text = cli("check", "--as-of", AS_OF.isoformat()).stdout
    assert "增量" in text and "incremental" in text and "supervision review list" in text
    dry = cli(
        "check", "--dry-run", "--rules", str(default_rules_dir()), "--as-of", "2025-08-01", "--json"
    )
    rules = json.loads(dry.stdout)["rules"]
    assert all(c["new"] == 0 and c["gone"] == 0 for c in rules.values())
    bad = cli("check", "--as-of", "2025-13-01", expect=1)
    assert "YYYY-MM-DD" in bad.stderr


def test_dry_run_honours_decisions(db: Database, loaded: dict[str, str]) -> None:
    from supervision.checks.review import dismiss_finding

    run_check(db, as_of=AS_OF)
    uscc = loaded["unreachable"]
    with db.engine.connect() as conn:
        fid = conn.execute(select(_F.c.id).where(_F.c.uscc == uscc)).scalar_one()
    dismiss_finding(db, finding_id=fid, reason="已当面核实可联系", actor="李四")
    rules = dry_run(db, as_of=AS_OF).to_dict()["rules"]
    # The dismissed finding is neither new nor gone: a real run would not reopen it.
    assert "samr.unreachable-at-registered-address" not in rules
    assert all(c["new"] == 0 and c["gone"] == 0 for c in rules.values())


def test_workers_on_each_backend(db: Database, loaded: dict[str, str]) -> None:
    summary = run_check(db, as_of=AS_OF, workers=2, chunk_size=3)
    assert summary.entities_checked == len(EXPECTED) and summary.error_count == 0
    flagged = open_rules(db)
    for name, (_n, rule) in EXPECTED.items():
        assert flagged.get(loaded[name], set()) == ({rule} if rule else set()), name


# ---------------------------------------------------------------- writers beside a run
#: Three complaints in the 90-day window: enough for samr.frequent-complaints.
_COMPLAINT_DAYS = ("2025-07-02", "2025-07-11", "2025-07-19")


def _complaints(uscc: str, first: int, stamp: dt.datetime) -> list[dict[str, Any]]:
    return [
        {**record_row("complaint", first + i, uscc, {"received_on": day}), "stored_at": stamp}
        for i, day in enumerate(_COMPLAINT_DAYS)
    ]


@contextlib.contextmanager
def _checked_province(url: str) -> Iterator[tuple[Database, dict[str, str]]]:
    """The small province in a fresh database at ``url``, checked once."""
    db = Database(url)
    try:
        usccs, entities, records = province()
        load(db, entities, records)
        run_check(db, as_of=AS_OF)
        yield db, usccs
    finally:
        db.dispose()


@pytest.mark.postgres
def test_records_in_flight_during_a_run_are_checked_by_the_next(pg_url: str) -> None:
    """PostgreSQL: a writer's transaction open while a run reads the records commits
    after it, with stamps from before the run started. The next incremental run must
    still check that entity (it looks back to the oldest transaction in flight)."""
    with _checked_province(pg_url) as (db, usccs):
        uscc = usccs["clean"]
        with db.engine.connect() as writer:
            transaction = writer.begin()
            stamp = hold_write(writer)
            writer.execute(_R.insert(), _complaints(uscc, 9_200, stamp))
            during = run_check(db, as_of=AS_OF)  # cannot see them: not committed
            assert during.mode == "incremental"
            assert uscc not in open_rules(db)
            transaction.commit()
        after = run_check(db, as_of=AS_OF)
        assert after.mode == "incremental" and after.entities_checked >= 1
        assert open_rules(db).get(uscc) == {"samr.frequent-complaints"}


def test_sqlite_run_waits_for_a_writer_and_sees_its_rows(tmp_path: Path) -> None:
    """SQLite: a run that starts while a writer holds the write lock waits for it, then
    reads what it committed (it takes the lock before it reads anything)."""
    with _checked_province(f"sqlite:///{tmp_path / 'w.db'}") as (db, usccs):
        uscc = usccs["clean"]
        results: list[Any] = []
        with db.engine.connect() as writer:
            transaction = writer.begin()
            writer.execute(_R.insert(), _complaints(uscc, 9_300, hold_write(writer)))
            runner = threading.Thread(target=lambda: results.append(run_check(db, as_of=AS_OF)))
            runner.start()
            runner.join(0.5)
            assert runner.is_alive()  # waiting for the write lock
            transaction.commit()
        runner.join(30)
        assert results and results[0].mode == "incremental"
        assert open_rules(db).get(uscc) == {"samr.frequent-complaints"}


def test_an_import_during_a_run_is_checked_by_the_next(tmp_path: Path) -> None:
    """SQLite: an import that began before a run took the write lock, and writes while
    the run holds it, stamps its rows only once it has the lock (after the run), so
    the next incremental run checks the entity. (It used to stamp them as it began:
    older than the run, committed after it, never seen by an incremental run.)"""
    with _checked_province(f"sqlite:///{tmp_path / 'w.db'}") as (db, usccs):
        uscc = usccs["clean"]
        csv = write_csv(
            tmp_path / "complaints.csv",
            [
                make_record(
                    "complaint",
                    9_400 + i,
                    uscc=uscc,
                    payload={"received_on": day},
                    source="import-test",
                )
                for i, day in enumerate(_COMPLAINT_DAYS)
            ],
        )
        begun, locked = threading.Event(), threading.Event()

        def progress(_total: int | None) -> Any:
            begun.set()  # the import has begun (its session is open)...
            assert locked.wait(30)  # ...and goes on only once the run holds the lock
            return contextlib.nullcontext(lambda n=1: None)

        reports: list[Any] = []
        importer = threading.Thread(
            target=lambda: reports.append(
                import_file(db, kind="records", path=csv, workers=1, progress=progress)
            )
        )
        importer.start()
        assert begun.wait(30)

        def hold_the_lock(_total: int) -> None:
            locked.set()
            importer.join(1.0)
            assert importer.is_alive()  # waiting for the run's write lock

        during = run_check(db, as_of=AS_OF, on_total=hold_the_lock)
        importer.join(30)
        assert reports and reports[0].added == 3
        with db.engine.connect() as conn:
            changes_from = conn.execute(
                select(_RUN.c.changes_from).where(_RUN.c.id == during.run_id)
            ).scalar_one()
            stored = conn.execute(
                select(func.min(_R.c.stored_at)).where(_R.c.source == "import-test")
            ).scalar_one()
        assert clock.as_utc(stored) >= clock.as_utc(changes_from)
        after = run_check(db, as_of=AS_OF)
        assert after.entities_checked >= 1
        assert open_rules(db).get(uscc) == {"samr.frequent-complaints"}


def test_a_check_on_a_locked_database_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite: a check that cannot get the write lock (an import holds it) gives up
    with a bilingual error, no traceback, and writes nothing."""
    import supervision.db.engine

    monkeypatch.setattr(supervision.db.engine, "BUSY_TIMEOUT_MS", 200)
    path = tmp_path / "locked.db"
    db = Database(f"sqlite:///{path}")
    _, entities, records = province()
    load(db, entities, records)
    db.dispose()
    with Database(f"sqlite:///{path}").engine.connect() as holder:
        transaction = holder.begin()
        hold_write(holder)
        done = CliRunner().invoke(
            cli_main, ["--db", f"sqlite:///{path}", "check", "--as-of", AS_OF.isoformat()]
        )
        transaction.rollback()
    assert done.exit_code != 0
    assert done.exception is None or isinstance(done.exception, SystemExit)
    assert "数据库正忙" in done.output and "the database is busy" in done.output
    assert "Traceback" not in done.output
    assert _count(Database(f"sqlite:///{path}"), _RUN) == 0


# 2027: a year chinesecalendar 1.11 does not know. Thu 2026-12-31 … the 20th working
# day after 2026-12-21 falls in late January 2027 whatever the file declares.
_EXTRA_2027 = "years: [2027]\nholidays: [2027-01-01]\n"
_AS_OF_2027 = dt.date(2027, 2, 1)


def _info_arising_in_december(db: Database, uscc: str) -> None:
    info = {"info_type": "股权变更", "arose_on": "2026-12-21"}
    load(db, [], [record_row("immediate_info", 9_002, uscc, info)])


def test_a_calendar_file_supplies_a_year_the_package_does_not_know(
    db: Database, loaded: dict[str, str], tmp_path: Path
) -> None:
    """Without the year's calendar, the entity whose deadline falls in it is checked by the
    provisional calendar (no error, the run names the year); with the State Council's
    notice as an extra-days file the run is full again (the calendar changed) and nothing
    is provisional, in worker processes too (they are given the calendar)."""
    uscc = loaded["complaints"]
    _info_arising_in_december(db, uscc)
    provisional = run_check(db, as_of=_AS_OF_2027, full=True)
    assert provisional.error_count == 0, provisional.errors
    assert provisional.provisional_years == [2027, 2028]
    assert "samr.immediate-info-not-published" in open_rules(db)[uscc]
    extra = tmp_path / "2027.yaml"
    extra.write_text(_EXTRA_2027, encoding="utf-8")
    calendar = WorkCalendar.from_file(extra)
    first = run_check(db, as_of=_AS_OF_2027, workers=1, calendar=calendar)
    assert (first.mode, first.reason) == ("full", "working-day calendar changed")
    assert first.calendar == calendar.fingerprint != provisional.calendar
    for workers in (1, 2):
        summary = run_check(
            db, as_of=_AS_OF_2027, full=True, workers=workers, calendar=calendar, chunk_size=2
        )
        assert summary.error_count == 0, summary.errors
        assert 2027 not in summary.provisional_years
        assert "samr.immediate-info-not-published" in open_rules(db)[uscc], workers


def test_check_takes_the_calendar_file_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'cal.db'}"
    db = Database(url)
    usccs, entities, records = province()
    load(db, entities, records)
    _info_arising_in_december(db, usccs["complaints"])
    db.dispose()
    args = ["--db", url, "check", "--as-of", _AS_OF_2027.isoformat(), "--json"]
    missing = CliRunner().invoke(cli_main, [*args, "--calendar", str(tmp_path / "no.yaml")])
    assert missing.exit_code != 0 and "Traceback" not in missing.output
    assert "无法读取补充日历文件" in missing.output and "no.yaml" in missing.output
    assert _count(Database(url), _RUN) == 0  # nothing was written
    extra = tmp_path / "2027.yaml"
    extra.write_text(_EXTRA_2027, encoding="utf-8")
    done = CliRunner().invoke(cli_main, [*args, "--calendar", str(extra)])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["error_count"] == 0
    # The same file through the environment, for every command and the scheduler.
    monkeypatch.setenv(CALENDAR_ENV, str(extra))
    again = CliRunner().invoke(cli_main, [*args, "--full"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["error_count"] == 0


def test_an_open_finding_is_unchanged_whatever_its_stored_json_looks_like() -> None:
    """Unchanged findings are recognised by their stored text; text written another
    way (another writer, PostgreSQL's jsonb) is parsed, never taken as a change."""
    found = evaluate.RuleFinding("r", 1, "high", "B", "d", ("a:1", "b:2"), ())

    def live(text: str | None) -> Any:
        return compare._Live(7, "r", 1, "open", text)

    assert compare._same_facts(live('["a:1", "b:2"]'), found)  # as this system writes it
    assert compare._same_facts(live('[ "a:1","b:2" ]'), found)
    assert not compare._same_facts(live('["a:1"]'), found)
    assert not compare._same_facts(live('["b:2", "a:1", "c:3"]'), found)
    assert not compare._same_facts(live(None), found)


def test_sqlite_records_read_by_the_driver_are_the_core_selects_dicts(tmp_path: Path) -> None:
    # The check reads records straight from SQLite's driver (faster); what it gets must
    # be exactly what the Core select (and PostgreSQL's path) gives, by range and by list.
    from supervision.demo.load import load_demo
    from supervision.demo.province import DemoProvince

    database = Database(f"sqlite:///{tmp_path / 'r.db'}")
    load_demo(database, DemoProvince(entities=300, seed=7, as_of=dt.date(2026, 11, 20)))
    r = evaluate._R
    columns = evaluate._RECORD_COLUMNS
    with database.engine.connect() as conn:
        usccs = sorted(conn.execute(select(r.c.uscc).distinct()).scalars())
        some = usccs[::3]
        for chosen, by_range in ((usccs[10:200], True), (some, False)):
            where = r.c.uscc.between(chosen[0], chosen[-1]) if by_range else r.c.uscc.in_(chosen)
            core: dict[str, list[dict[str, Any]]] = {}
            for row in conn.execute(select(*columns).where(where)):
                core.setdefault(row[0], []).append(dict(row._mapping))
            got = evaluate._sqlite_records(conn, chosen, chosen, by_range)
            assert got == core and len(core) > 50
            days = {type(x["event_date"]) for v in got.values() for x in v}
            assert dt.date in days and days <= {dt.date, type(None)}
    database.dispose()

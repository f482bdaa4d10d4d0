"""Schema: migrations applied on first use, matching the models, SQLite pragmas."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import inspect, text
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel

from supervision.db import SCHEMA_HEAD, Database, current_revision, head_revision, make_engine
from supervision.db.engine import json_loads


def test_first_use_applies_every_migration(db: Database) -> None:
    assert current_revision(db.engine) == head_revision()
    tables = set(inspect(db.engine).get_table_names())
    assert {
        "entity",
        "inspector",
        "department",
        "conflict",
        "inspection_item",
        "compliance_record",
    } <= tables


def test_migrations_match_the_models(db: Database) -> None:
    """Autogenerate finds nothing to do: no model change is missing a migration."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_sqlite_runs_with_wal_and_foreign_keys(tmp_path) -> None:  # type: ignore[no-untyped-def]
    database = Database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with database.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        database.dispose()


def test_db_upgrade_and_status_commands(cli) -> None:  # type: ignore[no-untyped-def]
    first = cli("db", "upgrade")
    assert str(head_revision()) in first.stdout
    again = cli("db", "upgrade")
    assert "已是最新" in again.stdout
    status = cli("db", "status", "--json")
    import json

    info = json.loads(status.stdout)
    assert info["revision"] == info["head"]


def test_schema_head_is_alembics_head() -> None:
    """The start-up shortcut knows the newest migration (a new one must bump it)."""
    assert head_revision() == SCHEMA_HEAD


def test_a_database_at_head_opens_without_importing_alembic(db_url: str) -> None:
    """Opening an up-to-date database is one select, not an Alembic run: start-up stays
    short for every command. A database behind the head is still upgraded (above)."""
    Database(db_url).dispose()  # brings it to the head
    code = (
        "import sys\n"
        "from supervision.db import Database\n"
        f"Database({db_url!r}).dispose()\n"
        "print('alembic' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_upgrading_records_from_0007_keeps_them_and_stamps_stored_at(db_url: str) -> None:
    """Migration 0008 on a database with records: rows kept, ``stored_at`` = the
    ``received_at`` they had, and NOT NULL from then on."""
    from alembic import command

    from supervision.db import alembic_config, make_engine

    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0007")
            conn.execute(
                text(
                    "INSERT INTO entity (uscc, name, entity_type, industry_code, region_code,"
                    " address, legal_rep, contact_phone, status, risk_class, size, abnormal,"
                    " established_on, updated_at) VALUES ('91150100MA0000000X', '某公司', '企业',"
                    " 'F5211', '150100', '地址', '张三', '', '存续', 'B', '', false,"
                    " '2020-01-01', '2026-01-01 00:00:00')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO compliance_record (record_id, uscc, kind, event_date, payload,"
                    " source, received_at) VALUES ('R1', '91150100MA0000000X', 'complaint',"
                    " '2026-01-02', '{}', 'test', '2026-01-03 08:00:00')"
                )
            )
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        with engine.connect() as conn:
            row = conn.execute(text("SELECT received_at, stored_at FROM compliance_record")).one()
            columns = {c["name"]: c for c in inspect(conn).get_columns("compliance_record")}
        assert str(row.stored_at)[:19] == str(row.received_at)[:19]
        assert columns["stored_at"]["nullable"] is False
    finally:
        engine.dispose()


def test_migration_0015_keeps_inspectors_and_conflicts_and_goes_back(db_url: str) -> None:
    """0015 on a database with inspectors and conflicts: rows kept, certificate dates and
    conflict periods empty (no limit), source ``inspector``; and it downgrades cleanly."""
    from alembic import command

    from supervision.db import alembic_config, make_engine

    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0015-1")  # the revision before 0015
            conn.execute(
                text(
                    "INSERT INTO entity (uscc, name, entity_type, industry_code, region_code,"
                    " address, legal_rep, contact_phone, status, risk_class, size, abnormal,"
                    " established_on, updated_at) VALUES ('91150100MA0000000X', '某公司', '企业',"
                    " 'F5211', '150100', '地址', '张三', '', '存续', 'B', '', false,"
                    " '2020-01-01', '2026-01-01 00:00:00')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO department (code, name, region_code) VALUES ('SJ', '市场监管',"
                    " '150100')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO inspector (cert_no, name, department_code, region_code,"
                    " qualifications, status, updated_at) VALUES ('SJ0001', '王某', 'SJ',"
                    " '150100', '[\"SJ-01\"]', '在岗', '2026-01-01 00:00:00')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO conflict (inspector_cert_no, uscc, reason, declared_on) VALUES"
                    " ('SJ0001', '91150100MA0000000X', '亲属', '2025-01-01')"
                )
            )
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0015")
        with engine.connect() as conn:
            inspector = conn.execute(
                text("SELECT cert_issued_on, cert_expires_on, cert_authority FROM inspector")
            ).one()
            conflict = conn.execute(text("SELECT starts_on, ends_on, source FROM conflict")).one()
        assert tuple(inspector) == (None, None, None)
        assert tuple(conflict) == (None, None, "inspector")
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0015-1")
        with engine.connect() as conn:
            assert "source" not in {c["name"] for c in inspect(conn).get_columns("conflict")}
            assert conn.execute(text("SELECT COUNT(*) FROM conflict")).scalar() == 1
    finally:
        engine.dispose()


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
        max_leaves=8,
    ),
    st.sampled_from(["", " ", "\n", "x", "]", " 1"]),
    st.sampled_from(["", " ", "\t"]),
)
def test_sqlite_json_columns_decode_as_json_loads(value: object, tail: str, head: str) -> None:
    """SQLite's JSON columns are decoded by ``json_loads``: the same value as
    ``json.loads`` for every text, and the same error where it has one."""
    text_ = head + json.dumps(value, ensure_ascii=False) + tail
    try:
        expected: object = json.loads(text_)
    except ValueError as exc:
        with pytest.raises(type(exc)):
            json_loads(text_)
    else:
        assert json_loads(text_) == expected


@pytest.mark.postgres
def test_a_pooled_postgres_connection_is_pinged_only_after_sitting_idle(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection that died in the pool (a restart, a dropped link) is replaced before
    a request sees it; a connection just given back is used without a ping round trip."""
    import supervision.db.engine as engine_module

    engine = make_engine(pg_url)
    pings: list[int] = []
    real_ping = engine.dialect.do_ping

    def counted(dbapi: object) -> bool:
        pings.append(1)
        return bool(real_ping(dbapi))

    monkeypatch.setattr(engine.dialect, "do_ping", counted)

    def backend() -> int:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())

    def terminate(pid: int) -> None:
        with psycopg.connect(
            pg_url.replace("postgresql+psycopg", "postgresql"), autocommit=True
        ) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

    try:
        first = backend()
        assert backend() == first and pings == []  # back moments ago: no ping
        monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_S", 0.05)
        terminate(first)
        time.sleep(0.2)
        # Idle past the threshold: pinged, found dead, replaced; the caller sees no error.
        second = backend()
        assert second != first and pings
        # Killed and reused at once (no ping within the threshold): that one request
        # fails, and the pool is renewed for the next.
        monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_S", 60.0)
        terminate(second)
        time.sleep(0.2)
        with pytest.raises(OperationalError):
            backend()
        assert backend() not in (first, second)
    finally:
        engine.dispose()

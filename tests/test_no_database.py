"""A command run where there is no database: reading commands refuse, saying where they
looked and how to start; only commands that create data create the database."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from supervision.cli import main

READING = [
    ("review", "list"),
    ("review", "show", "91150102MA0000001X"),
    ("task", "list"),
    ("list", "entities"),
    ("check",),
    ("db", "status"),
    ("trail", "show"),
    ("publish", "--out", "site", "--as", "someone"),
]


@pytest.fixture
def empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SUPERVISION_DATABASE_URL", raising=False)
    monkeypatch.delenv("SUPERVISION_USER", raising=False)
    return tmp_path


@pytest.mark.parametrize("argv", READING, ids=" ".join)
def test_a_reading_command_refuses_and_creates_nothing(
    empty_folder: Path, argv: tuple[str, ...]
) -> None:
    result = CliRunner().invoke(main, list(argv))
    assert result.exit_code == 1, result.output
    where = str(empty_folder / "supervision.db")
    assert where in result.stderr and "supervision demo" in result.stderr
    assert "没有数据库" in result.stderr and "no database here" in result.stderr
    assert "--db" in result.stderr and "Traceback" not in result.stderr
    assert list(empty_folder.iterdir()) == []  # no empty database left behind


def test_an_explicit_missing_file_is_refused_too(empty_folder: Path) -> None:
    missing = empty_folder / "typo" / "supervisoin.db"
    result = CliRunner().invoke(main, ["--db", f"sqlite:///{missing}", "review", "list"])
    assert result.exit_code == 1 and str(missing) in result.stderr


def test_the_first_admin_creates_the_database(empty_folder: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(
        main, ["user", "add", "admin", "--role", "admin", "--password-stdin"],
        input="a long enough password\n",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert (empty_folder / "supervision.db").exists()
    listed = runner.invoke(main, ["review", "list", "--json"])
    assert listed.exit_code == 0 and '"total": 0' in listed.stdout

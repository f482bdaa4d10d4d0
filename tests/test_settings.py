"""supervision.settings: every SUPERVISION_* variable is one documented Settings field."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from supervision.errors import SupervisionError
from supervision.settings import (
    DEFAULT_DATABASE_URL,
    DEFAULT_EVIDENCE_MAX_BYTES,
    Settings,
    env_name,
    settings,
)

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "supervision"
ENV_NAMES = {env_name(field) for field in Settings.model_fields}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = {m.group(1) for m in re.finditer(r"^\| `(SUPERVISION_[A-Z_]+)` \|", readme, re.M)}
    missing = ENV_NAMES - rows
    assert not missing, f"README.md's settings table lacks {sorted(missing)}"
    assert not rows - ENV_NAMES, f"README.md documents unknown settings {sorted(rows - ENV_NAMES)}"


def test_every_field_is_described_in_both_languages() -> None:
    for field, info in Settings.model_fields.items():
        assert info.description and "/ " in info.description, field
        assert re.search(r"[\u4e00-\u9fff]", info.description), field


def test_defaults_when_nothing_is_set() -> None:
    current = settings()
    assert current.database_url == DEFAULT_DATABASE_URL == "sqlite:///supervision.db"
    assert current.calendar_file is None
    assert current.evidence_max_bytes == DEFAULT_EVIDENCE_MAX_BYTES == 20 * 1024 * 1024
    assert current.site_dir is None
    assert current.console_threads is None
    assert current.secure_cookies is False
    assert current.scheduler_config is None


def test_values_are_read_when_asked_not_at_import(monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings().evidence_max_bytes == DEFAULT_EVIDENCE_MAX_BYTES
    monkeypatch.setenv("SUPERVISION_EVIDENCE_MAX_BYTES", "1024")
    monkeypatch.setenv("SUPERVISION_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("SUPERVISION_CALENDAR_FILE", "/tmp/extra.yaml")
    monkeypatch.setenv("SUPERVISION_SITE_DIR", "/srv/site")
    monkeypatch.setenv("SUPERVISION_CONSOLE_THREADS", "4")
    monkeypatch.setenv("SUPERVISION_SCHEDULER_CONFIG", "scheduler.toml")
    current = settings()
    assert current.evidence_max_bytes == 1024
    assert current.database_url == "postgresql+psycopg://u@h/db"
    assert current.calendar_file == "/tmp/extra.yaml"
    assert current.site_dir == "/srv/site"
    assert current.console_threads == 4
    assert current.scheduler_config == "scheduler.toml"
    monkeypatch.setenv("SUPERVISION_EVIDENCE_MAX_BYTES", "2048")
    assert settings().evidence_max_bytes == 2048
    monkeypatch.delenv("SUPERVISION_EVIDENCE_MAX_BYTES")
    assert settings().evidence_max_bytes == DEFAULT_EVIDENCE_MAX_BYTES


def test_empty_values_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_NAMES:
        monkeypatch.setenv(name, "")
    assert settings() == Settings.model_validate({})


@pytest.mark.parametrize("value", ["1", "yes", "0", "false", "anything"])
def test_any_non_empty_value_turns_secure_cookies_on(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    # As it always was: `supervision serve` sets "1" or "", and any other text means on.
    monkeypatch.setenv("SUPERVISION_SECURE_COOKIES", value)
    assert settings().secure_cookies is True


@pytest.mark.parametrize(
    ("name", "value", "zh", "en"),
    [
        ("SUPERVISION_EVIDENCE_MAX_BYTES", "20MB", "字节数", "must be a number of bytes"),
        ("SUPERVISION_EVIDENCE_MAX_BYTES", "1.5", "字节数", "must be a number of bytes"),
        ("SUPERVISION_CONSOLE_THREADS", "four", "线程数", "must be a number of threads"),
    ],
)
def test_a_bad_value_is_an_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, zh: str, en: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SupervisionError) as error:
        settings()
    assert name in error.value.zh and zh in error.value.zh and value in error.value.zh
    assert name in error.value.en and en in error.value.en and value in error.value.en
    monkeypatch.delenv(name)
    assert settings().evidence_max_bytes == DEFAULT_EVIDENCE_MAX_BYTES


def test_the_environment_is_read_only_through_settings() -> None:
    reads = re.compile(r"os\.getenv|environ\.get\(|environ\[|in os\.environ|environ\.copy\(")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted(SOURCE.rglob("*.py"))
        if path.name != "settings.py" or path.parent != SOURCE
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if reads.search(line)
    ]
    assert not offenders, f"read the environment through supervision.settings: {offenders}"


def test_variables_set_for_console_workers_are_settings() -> None:
    source = (SOURCE / "console" / "serve.py").read_text(encoding="utf-8")
    passed = set(re.findall(r"\b(SUPERVISION_[A-Z_]+)\s*=", source))
    assert passed, "supervision serve passes its settings to workers through the environment"
    assert passed <= ENV_NAMES, passed - ENV_NAMES


def test_command_line_environment_variables_are_settings() -> None:
    from supervision.cli import main

    def envvars(command: click.Command) -> set[str]:
        found = {
            name
            for param in command.params
            for name in (
                [param.envvar] if isinstance(param.envvar, str) else list(param.envvar or [])
            )
        }
        if isinstance(command, click.Group):  # subcommands may be loaded lazily
            context = click.Context(command)
            for name in command.list_commands(context):
                sub = command.get_command(context, name)
                assert sub is not None, name
                found |= envvars(sub)
        return found

    found = envvars(main)
    assert {"SUPERVISION_DATABASE_URL", "SUPERVISION_SCHEDULER_CONFIG"} <= found
    assert found <= ENV_NAMES, found - ENV_NAMES


def test_the_database_and_calendar_names_agree_with_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from supervision.db import DEFAULT_URL, ENV_VAR, database_url
    from supervision.reference.workdays import CALENDAR_ENV

    assert env_name("database_url") == ENV_VAR
    assert env_name("calendar_file") == CALENDAR_ENV
    assert DEFAULT_URL == DEFAULT_DATABASE_URL
    assert database_url() == DEFAULT_URL
    monkeypatch.setenv(ENV_VAR, "sqlite:///elsewhere.db")
    assert database_url() == "sqlite:///elsewhere.db"
    assert database_url("sqlite:///given.db") == "sqlite:///given.db"

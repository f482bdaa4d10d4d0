"""The package finds rules/ and templates/ from a checkout and from a non-editable install,
and the README's quick start is what it claims: two commands, the first running the demo."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from supervision.paths import locate

ROOT = Path(__file__).resolve().parent.parent


def test_checkout_layout_is_found() -> None:
    assert locate("rules", ROOT / "supervision") == ROOT / "rules"
    assert locate("templates", ROOT / "supervision") == ROOT / "templates"
    assert locate("checklists", ROOT / "supervision") == ROOT / "checklists"


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="shipped rules/ folder is missing"):
        locate("rules", tmp_path / "supervision")


@pytest.mark.slow
def test_non_editable_install_ships_rules_and_templates(tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(ROOT),
        ],
        check=True,
    )
    probe = (
        "from supervision.paths import checklists_dir, rules_dir, templates_dir; "
        "print(rules_dir()); print(templates_dir()); print(checklists_dir())"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    rules, templates, checklists = map(Path, out)
    assert checklists == target / "supervision" / "_shipped" / "checklists"
    assert sorted(p.name for p in checklists.glob("*.yaml")) == sorted(
        p.name for p in (ROOT / "checklists").glob("*.yaml")
    )
    assert rules == target / "supervision" / "_shipped" / "rules"
    assert templates == target / "supervision" / "_shipped" / "templates"
    assert sorted(p.name for p in (rules / "samr").glob("*.yaml"))
    shipped_rules = {p.relative_to(rules) for p in rules.rglob("*") if p.is_file()}
    checkout_rules = {
        p.relative_to(ROOT / "rules") for p in (ROOT / "rules").rglob("*") if p.is_file()
    }
    assert shipped_rules == checkout_rules


def quick_start_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## 快速开始 / Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "the quick start has a bash block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_quick_start_is_two_commands() -> None:
    commands = quick_start_commands()
    assert len(commands) == 2
    assert commands[0].endswith("pip install . && supervision demo")
    assert commands[1].endswith("pip install '.[test]' && pytest")


def test_readme_demo_command_runs(tmp_path: Path) -> None:
    """Runs the quick start's last step as written (the install is this environment)."""
    demo = quick_start_commands()[0].rsplit("&& ", 1)[1].split()
    env = {k: v for k, v in os.environ.items() if k != "SUPERVISION_DATABASE_URL"}
    exe = Path(sys.executable).parent / demo[0]
    result = subprocess.run(
        [str(exe), *demo[1:], "--entities", "400"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "supervision.db").is_file()
    assert "接下来可以试试" in result.stdout and "what to try next" in result.stdout

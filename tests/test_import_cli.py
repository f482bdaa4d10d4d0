"""The import and export commands through the real entry point."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from factories import make_department, make_entity, make_inspector, write_csv

pytestmark = pytest.mark.usefixtures("crew")


def test_import_and_reimport(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli(
        "import",
        "--as",
        "cli-admin",
        "departments",
        write_csv(tmp_path / "d.csv", [make_department(1)]),
    )
    path = write_csv(tmp_path / "e.csv", [make_entity(i) for i in range(1, 4)], encoding="gbk")
    result = cli("import", "--as", "cli-admin", "entities", path)
    assert "新增 3" in result.stdout and "added 3" in result.stdout
    report = json.loads(cli("import", "--as", "cli-admin", "entities", path, "--json").stdout)
    assert report["ok"] and (report["added"], report["updated"], report["unchanged"]) == (0, 0, 3)


def test_bad_file_exits_1_listing_every_row(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rows = [make_entity(1, region_code="1"), make_entity(2), make_entity(3, established_on="x")]
    path = write_csv(tmp_path / "bad.csv", rows)
    result = cli("import", "--as", "cli-admin", "entities", path, expect=1)
    assert "未导入任何数据" in result.stderr and "nothing was imported" in result.stderr
    assert (
        "第 2 行" in result.stderr
        and "第 4 行" in result.stderr
        and "Traceback" not in result.stderr
    )
    out = json.loads(
        cli("import", "--as", "cli-admin", "entities", path, "--json", expect=1).stdout
    )
    assert out["ok"] is False
    assert [(e["row"], e["column"]) for e in out["errors"]] == [
        (2, "region_code"),
        (4, "established_on"),
    ]
    listed = json.loads(cli("list", "entities", "--json").stdout)
    assert listed["total"] == 0


def test_unknown_columns_and_skip_invalid(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli(
        "import",
        "--as",
        "cli-admin",
        "departments",
        write_csv(tmp_path / "d.csv", [make_department(1)]),
    )
    path = write_csv(
        tmp_path / "i.csv",
        [
            make_inspector(1) | {"备注": ""},
            make_inspector(2, department_code="D404") | {"备注": ""},
        ],
    )
    result = cli("import", "--as", "cli-admin", "inspectors", path, expect=1)
    assert "备注" in result.stderr and "--ignore-unknown-columns" in result.stderr
    out = json.loads(
        cli("import", "--as", "cli-admin", "inspectors", path, "--json", expect=1).stdout
    )
    assert "备注" in out["details"][0]
    result = cli(
        "import",
        "--as",
        "cli-admin",
        "inspectors",
        path,
        "--ignore-unknown-columns",
        "--skip-invalid",
    )
    assert "拒绝 1" in result.stdout and "i.rejects.csv" in result.stdout
    assert "D404" in (tmp_path / "i.rejects.csv").read_text(encoding="utf-8-sig")


def test_export_command(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli(
        "import",
        "--as",
        "cli-admin",
        "departments",
        write_csv(tmp_path / "d.csv", [make_department(1)]),
    )
    out = tmp_path / "out.xlsx"
    result = cli("export", "departments", "--format", "xlsx", "-o", out)
    assert "exported 1 rows" in result.stdout and out.exists()
    result = cli("import", "--as", "cli-admin", "departments", out)
    assert "未变 1" in result.stdout


def test_installed_console_script(tmp_path: Path) -> None:
    script = str(Path(sys.executable).parent / "supervision")
    if not Path(script).exists():
        script = shutil.which("supervision") or script
    env = dict(os.environ, SUPERVISION_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    departments = write_csv(tmp_path / "d.csv", [make_department(1)])
    # The first admin needs no --as; imports then act as that admin through SUPERVISION_USER.
    done = subprocess.run(
        [script, "user", "add", "boss", "--role", "admin", "--password-stdin"],
        input="a long enough password\n",
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    env["SUPERVISION_USER"] = "boss"
    done = subprocess.run(
        [script, "import", "departments", str(departments), "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["added"] == 1
    bad = write_csv(tmp_path / "bad.csv", [make_department(2, region_code="x")])
    done = subprocess.run(
        [script, "import", "departments", str(bad)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 1 and "第 2 行" in done.stderr and "Traceback" not in done.stderr

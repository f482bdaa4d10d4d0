"""`supervision rules lint|test`: check a rule pack before any check run uses it."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from supervision.cli.context import JSON_OPTION, emit_json, emit_table
from supervision.rules.examples import ExampleResult, run_examples
from supervision.rules.pack import LintReport, lint_pack

_DIR = click.argument(
    "directory",
    required=False,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)


def _table(title: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """A rich table on a terminal; plain tab-separated lines otherwise (pipes, CI logs)."""
    if sys.stdout.isatty():
        emit_table(title, columns, rows)
        return
    click.echo(title)
    for row in rows:
        click.echo("\t".join(str(v) for v in row))


@click.group("rules")
def rules_group() -> None:
    """规则包：检查与示例测试 / rule packs: lint and example tests."""


@rules_group.command("lint")
@_DIR
@JSON_OPTION
def lint_command(directory: Path | None, as_json: bool) -> None:
    """检查规则文件（语法、结构、法律依据、示例、durable-rules 编译）。

    Lint rule files: YAML syntax, schema, unknown keys, duplicate ids, legal basis,
    examples, result codes, dates, and a real durable-rules compile of every
    condition. DIRECTORY defaults to the shipped pack. Exit code 1 on errors.
    """
    report = lint_pack(directory)
    if as_json:
        emit_json(report.to_dict())
    elif report.ok:
        assert report.pack is not None
        click.echo(
            f"规则包无误：{len(report.files)} 个文件，{len(report.pack.rules)} 条规则 / "
            f"pack OK: {len(report.files)} file(s), {len(report.pack.rules)} rule(s)"
        )
        click.echo(f"摘要 / digest: sha256:{report.pack.digest}")
    else:
        _table(
            f"规则包错误 / pack errors ({len(report.issues)})",
            ["文件:行 / file:line", "规则 / rule", "键 / key", "问题 / problem"],
            [
                (f"{i.file}:{i.line}", i.rule_id or "", i.key, f"{i.zh} / {i.en}")
                for i in report.issues
            ],
        )
    if report.warnings and not as_json:
        _table(
            f"警告 / warnings ({len(report.warnings)})",
            ["文件:行 / file:line", "规则 / rule", "键 / key", "问题 / problem"],
            [
                (f"{w.file}:{w.line}", w.rule_id or "", w.key, f"{w.zh} / {w.en}")
                for w in report.warnings
            ],
        )
    if not report.ok:
        raise SystemExit(1)


@rules_group.command("test")
@_DIR
@JSON_OPTION
def test_command(directory: Path | None, as_json: bool) -> None:
    """用真实的规则引擎运行每条规则的示例。

    Run every rule's examples through the real durable-rules engine and report each
    pass or fail. DIRECTORY defaults to the shipped pack. Exit code 1 on any failure
    (or lint error, since a pack with errors cannot run).
    """
    report = lint_pack(directory)
    if report.pack is None:
        _cannot_run(report, as_json)
        raise SystemExit(1)
    results = run_examples(report.pack)
    failed = [r for r in results if not r.passed]
    if as_json:
        emit_json(
            {
                "root": report.root,
                "ok": not failed,
                "digest": report.pack.digest,
                "passed": len(results) - len(failed),
                "failed": len(failed),
                "examples": [r.to_dict() for r in results],
            }
        )
    else:
        _examples_table(results)
        click.echo(
            f"{len(results) - len(failed)} 个通过，{len(failed)} 个失败 / "
            f"{len(results) - len(failed)} passed, {len(failed)} failed"
        )
    if failed:
        raise SystemExit(1)


def _cannot_run(report: LintReport, as_json: bool) -> None:
    """Why the examples of a pack with lint errors do not run."""
    if as_json:
        emit_json(
            {
                "root": report.root,
                "ok": False,
                "issues": [i.to_dict() for i in report.issues],
                "examples": [],
            }
        )
        return
    for issue in report.issues:
        click.echo(str(issue), err=True)
    click.echo("规则包有错误，无法运行示例 / the pack has errors, examples cannot run", err=True)


def _examples_table(results: list[ExampleResult]) -> None:
    _table(
        "规则示例 / rule examples",
        [
            "结果 / result",
            "规则 / rule",
            "示例 / example",
            "预期 / expected",
            "实际 / got",
            "位置 / at",
        ],
        [
            (
                "通过 PASS" if r.passed else "失败 FAIL",
                r.rule_id,
                r.example,
                r.expected,
                r.got + ("" if not r.errors else " ! " + "; ".join(r.errors)),
                f"{r.file}:{r.line}",
            )
            for r in results
        ],
    )

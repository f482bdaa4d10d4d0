"""`supervision checklists lint`: check the inspection checklists (一细则) before use."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy.engine import make_url

from supervision import clock
from supervision.checklists.items import item_list
from supervision.checklists.spec import ChecklistLint, lint_checklists
from supervision.cli.context import JSON_OPTION, AppContext, emit_json, emit_table


@click.group("checklists")
def checklists_group() -> None:
    """检查实施细则（一细则）：检查 / inspection checklists: lint."""


@checklists_group.command("lint")
@click.argument(
    "directory",
    required=False,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)
@click.option(
    "--items/--no-items",
    "against_items",
    default=True,
    help="同时对照数据库（--db）中的事项清单：每个现行事项都要有细则，每份细则都要对应清单中的事项"
    "（默认开启；没有数据库或其中尚无事项时跳过）/ also check against the item list in the database "
    "(--db): every item in force today has a checklist and every checklist names a listed item "
    "(default on; skipped when there is no database or it holds no items)",
)
@JSON_OPTION
@click.pass_obj
def lint_command(
    app: AppContext, directory: Path | None, against_items: bool, as_json: bool
) -> None:
    """检查细则文件（YAML 语法、结构、未知键、重复编号、检查方式、结果代码与子代码）。

    Lint checklist files: YAML syntax, structure, unknown keys, duplicate item versions
    and point ids, inspection methods, result codes and sub-codes a failure supports, and
    (with --items) that every item in force has a checklist. DIRECTORY defaults to the
    shipped checklists/ folder. Each problem names its file, line and key. Exit code 1 on
    errors.
    """
    items = None
    if against_items and _database_exists(app.url):
        with app.db.session() as session:
            items = item_list(session) or None
    report = lint_checklists(directory, items=items, day=clock.today())
    if as_json:
        emit_json(report.to_dict() | {"checked_against_items": items is not None})
    elif report.ok:
        points = sum(len(c.points) for c in report.checklists)
        click.echo(
            f"细则无误：{len(report.files)} 个文件，{len(report.checklists)} 份细则，"
            f"{points} 个检查要点 / checklists OK: {len(report.files)} file(s), "
            f"{len(report.checklists)} checklist(s), {points} check point(s)"
        )
        if items is None:
            click.echo(
                "数据库中没有事项，未核对事项覆盖 / no items in the database: coverage not checked"
            )
    else:
        _issues(report)
    if not report.ok:
        raise SystemExit(1)


def _database_exists(url: str) -> bool:
    """Whether there is a database to read the item list from: lint must not create an
    empty SQLite file in the working directory just by looking."""
    parsed = make_url(url)
    if not parsed.get_backend_name().startswith("sqlite"):
        return True
    name = parsed.database or ""
    return bool(name) and name != ":memory:" and Path(name).is_file()


def _issues(report: ChecklistLint) -> None:
    title = f"细则错误 / checklist errors ({len(report.issues)})"
    columns = ["文件:行 / file:line", "键 / key", "问题 / problem"]
    rows = [(f"{i.file}:{i.line}", i.key, f"{i.zh} / {i.en}") for i in report.issues]
    if sys.stdout.isatty():
        emit_table(title, columns, rows)
        return
    click.echo(title)
    for row in rows:
        click.echo("\t".join(row))

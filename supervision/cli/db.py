"""`supervision db`: schema migrations."""

from __future__ import annotations

import click

from supervision.cli.context import JSON_OPTION, AppContext, emit_json
from supervision.db import Database, current_revision, head_revision


@click.group("db")
def db_group() -> None:
    """数据库结构 / database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.pass_obj
def upgrade_command(app: AppContext) -> None:
    """升级到最新结构 / apply all migrations (also done automatically on first use)."""
    database = Database(app.url, migrate=False)
    try:
        from supervision.db import upgrade

        applied = upgrade(database.engine)
        revision = current_revision(database.engine)
    finally:
        database.dispose()
    if applied:
        click.echo(f"数据库已升级到 {revision} / database upgraded to {revision}")
    else:
        click.echo(f"数据库已是最新结构 {revision} / database already at {revision}")


@db_group.command("status")
@JSON_OPTION
@click.pass_obj
def status_command(app: AppContext, as_json: bool) -> None:
    """显示数据库地址和结构版本 / show the database URL and schema revision."""
    app.require_database()
    database = Database(app.url, migrate=False)
    try:
        revision = current_revision(database.engine)
    finally:
        database.dispose()
    info = {
        "url": database.engine.url.render_as_string(hide_password=True),
        "revision": revision,
        "head": head_revision(),
    }
    if as_json:
        emit_json(info)
    else:
        for key, value in info.items():
            click.echo(f"{key}: {value}")

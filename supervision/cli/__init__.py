"""The `supervision` command line.

Chinese first, English after, in every help text and message. Every list-like command
takes --json. The database comes from --db, then $SUPERVISION_DATABASE_URL, then
sqlite:///supervision.db in the working directory.
"""

from __future__ import annotations

from typing import Any

import click

from supervision import __version__
from supervision.cli.context import AppContext
from supervision.errors import SupervisionError


class _Group(click.Group):
    """A group that turns user errors into a bilingual message and exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SupervisionError as exc:
            click.secho(f"错误：{exc.zh}", fg="red", err=True)
            click.secho(f"Error: {exc.en}", fg="red", err=True)
            for line in exc.details:
                click.echo(f"  - {line}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "db_url",
    envvar="SUPERVISION_DATABASE_URL",
    default=None,
    metavar="URL",
    help="数据库地址 / database URL (default sqlite:///supervision.db; "
    "PostgreSQL: postgresql+psycopg://user@host/db)",
)
@click.version_option(__version__, prog_name="supervision")
@click.pass_context
def main(ctx: click.Context, db_url: str | None) -> None:
    """双随机、一公开 监管引擎 / "double random, one public" supervision engine.

    \b
    抽取检查对象与执法检查人员、核查合规记录、公示检查结果。
    Draws entities and inspectors verifiably, checks compliance records, publishes results.
    """
    ctx.obj = AppContext(db_url)
    ctx.call_on_close(ctx.obj.close)


def _register() -> None:
    from supervision.cli.check import check_command, review_group
    from supervision.cli.db import db_group
    from supervision.cli.demo import demo
    from supervision.cli.directories import export_command, import_command, list_group
    from supervision.cli.results import deadlines_command, result_group, trail_group
    from supervision.cli.rules import rules_group
    from supervision.cli.scheduler import (
        alerts_command,
        schedule_group,
        scheduler_group,
        seed_group,
    )
    from supervision.cli.site import publish_command, serve_command
    from supervision.cli.tasks import plan_group, task_group, verify_command
    from supervision.cli.users import user_group

    main.add_command(db_group)
    main.add_command(import_command)
    main.add_command(export_command)
    main.add_command(list_group)
    main.add_command(demo)
    main.add_command(plan_group)
    main.add_command(task_group)
    main.add_command(verify_command)
    main.add_command(rules_group)
    main.add_command(publish_command)
    main.add_command(serve_command)
    main.add_command(result_group)
    main.add_command(deadlines_command)
    main.add_command(trail_group)
    main.add_command(scheduler_group)
    main.add_command(schedule_group)
    main.add_command(seed_group)
    main.add_command(alerts_command)
    main.add_command(check_command)
    main.add_command(review_group)
    main.add_command(user_group)


_register()

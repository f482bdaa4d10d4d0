"""The `supervision` command line.

Chinese first, English after, in every help text and message. Every list-like command
takes --json. The database comes from --db, then $SUPERVISION_DATABASE_URL, then
sqlite:///supervision.db in the working directory.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Sequence
from typing import Any

import click

from supervision import __version__
from supervision.cli.context import AppContext
from supervision.cli.usage import bilingual
from supervision.errors import SupervisionError

#: Every command: name → "module:attribute". Modules are imported only when their
#: command runs (or help lists them), so `supervision check` does not pay for the
#: console, the scheduler or the draw at start-up.
COMMANDS = {
    "db": "supervision.cli.db:db_group",
    "import": "supervision.cli.directories:import_command",
    "export": "supervision.cli.directories:export_command",
    "template": "supervision.cli.directories:template_command",
    "list": "supervision.cli.directories:list_group",
    "demo": "supervision.cli.demo:demo",
    "plan": "supervision.cli.plans:plan_group",
    "task": "supervision.cli.tasks:task_group",
    "verify": "supervision.cli.verify:verify_command",
    "rules": "supervision.cli.rules:rules_group",
    "checklists": "supervision.cli.checklists:checklists_group",
    "publish": "supervision.cli.site:publish_command",
    "serve": "supervision.cli.site:serve_command",
    "result": "supervision.cli.results:result_group",
    "deadlines": "supervision.cli.deadlines:deadlines_command",
    "calendar": "supervision.cli.calendar:calendar_group",
    "trail": "supervision.cli.trail:trail_group",
    "scheduler": "supervision.cli.scheduler:scheduler_group",
    "schedule": "supervision.cli.scheduler:schedule_group",
    "seed": "supervision.cli.scheduler:seed_group",
    "beacon": "supervision.cli.beacon:beacon_group",
    "alerts": "supervision.cli.scheduler:alerts_command",
    "check": "supervision.cli.check:check_command",
    "review": "supervision.cli.check:review_group",
    "credit": "supervision.cli.credit:credit_group",
    "user": "supervision.cli.users:user_group",
}


#: Bytes that are not UTF-8 reach Python as lone surrogates U+DC80–U+DCFF (PEP 383).
_UNDECODABLE = re.compile("[\udc80-\udcff]")


class _Group(click.Group):
    """The top-level group: commands load lazily; user errors, click's own usage errors
    too (``supervision.cli.usage``), become a bilingual message and an exit code, never a
    traceback."""

    def main(self, args: Sequence[str] | None = None, *pargs: Any, **kwargs: Any) -> Any:
        """Refuse arguments that are not UTF-8 before any command sees them."""
        arguments = list(sys.argv[1:] if args is None else args)
        for position, argument in enumerate(arguments, start=1):
            if _UNDECODABLE.search(argument):
                shown = argument.encode("utf-8", "surrogateescape").decode(
                    "utf-8", "backslashreplace"
                )
                click.secho(
                    f"错误：第 {position} 个命令行参数 {shown} 不是 UTF-8 编码，请以 UTF-8 传入",
                    fg="red",
                    err=True,
                )
                click.secho(
                    f"Error: command-line argument {position} ({shown}) is not UTF-8; pass it in UTF-8",
                    fg="red",
                    err=True,
                )
                sys.exit(2)
        return super().main(arguments, *pargs, **kwargs)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command) or command.name != cmd_name:
            raise RuntimeError(f"{target} is not the {cmd_name!r} command")
        return command

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise bilingual(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # a subcommand's: missing argument, bad value...
            raise bilingual(exc) from None
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

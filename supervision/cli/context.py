"""What every command shares: the database, opened lazily, and output helpers."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from rich.cells import cell_len
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from supervision.db import Database, database_url
from supervision.errors import SupervisionError

JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="输出 JSON / print JSON")
"""--json on every list-like command."""

_AS_HELP = (
    "以哪个控制台用户身份执行（也可设 SUPERVISION_USER；--by 是同义的旧名）；修改数据的命令必须"
    "指定 / the console user to act as (or set SUPERVISION_USER; --by is an older name for the "
    "same); required by every command that changes data"
)

AS_OPTION = click.option("--as", "--by", "as_user", default=None, metavar="USERNAME", help=_AS_HELP)
"""--as (alias --by, the older name kept for compatibility) on every command that changes
data: it acts as a named, active console user of a suitable role (``act_as``), never as a
bare OS user, so duties can be separated and the trail names the person."""

BY_OPTION = click.option("--as", "--by", "by", default=None, metavar="USERNAME", help=_AS_HELP)
"""The same option for the commands whose parameter was always called ``by``."""


def act_as(app: AppContext, username: str | None, *roles: str) -> str:
    """The trail actor (``console:USERNAME``) of the console user this command acts as:
    ``--as``/``--by``, else SUPERVISION_USER; refused, in Chinese and English, without one,
    for an unknown or disabled user, or for a user of another role (nothing is written)."""
    from supervision.accounts.users import acting_user
    from supervision.settings import settings

    with app.db.session() as session:
        return acting_user(session, username=username or settings().user, roles=roles)


def task_code_argument(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    """The click callback of every TASK argument: the stored code of the task meant
    (``draw.tasks.known_task_code``: brackets and spaces forgiven). A code that names no
    task is passed on as typed: the command refuses it in its own order (a command that
    changes data asks who acts first), with the closest codes suggested."""
    if value is None:
        return value
    from supervision.draw.tasks import known_task_code

    app = ctx.find_object(AppContext)
    if app is None:
        return value
    with app.db.session() as session:
        return known_task_code(session, value) or value


def creates_database(app: AppContext) -> None:
    """Say that this command creates data, so it may create a missing SQLite database."""
    app.may_create = True


CALENDAR_OPTION = click.option(
    "--calendar",
    "calendar_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="补充日历文件（YAML/JSON；也可设 SUPERVISION_CALENDAR_FILE），用于包中尚无的年份；"
    "格式见 supervision calendar --help / extra-days file (or set SUPERVISION_CALENDAR_FILE), "
    "e.g. for a year the calendar package does not know yet; format: supervision calendar "
    "--help",
)
"""--calendar on every command that counts working days (workdays.calendar_from)."""


class AppContext:
    """Carries the --db choice; the database is opened (and migrated) on first use.

    A SQLite file that does not exist is created only by a command that creates data
    (``creates_database``: demo, db upgrade, user add); any other command
    refuses, saying where it looked and how to start, instead of reporting on an empty
    database it has just made."""

    def __init__(self, db_url: str | None) -> None:
        self.url = database_url(db_url)
        self._db: Database | None = None
        self.may_create = False

    def missing_file(self) -> Path | None:
        """The SQLite file the URL names, when it does not exist (None otherwise)."""
        try:
            url = make_url(self.url)
        except ArgumentError:
            return None  # make_engine gives the bilingual error
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        path = Path(url.database).expanduser()
        return None if path.exists() else path.absolute()

    def require_database(self) -> None:
        """Refuse (SupervisionError) unless the database exists or may be created here."""
        missing = None if self.may_create else self.missing_file()
        if missing is not None:
            raise SupervisionError(
                f"这里没有数据库：{missing} 不存在。请先运行 supervision demo 生成演示数据，"
                "或用 supervision user add 用户名 --role admin 建立新数据库及其第一个管理员"
                "（再导入名录）；已有数据库请用 --db 指定（或设 SUPERVISION_DATABASE_URL）",
                f"no database here: {missing} does not exist. Start with `supervision demo` "
                "(demo data), or create a new database and its first admin with "
                "`supervision user add NAME --role admin` (then import your directories); "
                "for an existing database pass --db (or set SUPERVISION_DATABASE_URL)",
            )

    @property
    def db(self) -> Database:
        if self._db is None:
            self.require_database()
            self._db = Database(self.url)
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    raise TypeError(f"not JSON serialisable: {type(value)!r}")


def emit_json(data: Any) -> None:
    """Print machine-readable output (UTF-8, Chinese kept as is)."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_default))


#: A value that must never be cut or wrapped: one word holding a digit (a USCC, a task
#: or item code, a date, an id), as every identifier of this project does.
_IDENTIFIER = re.compile(r"^(?=[^\s]*\d)[^\s]{1,64}$")


def _identifier_column(rows: Sequence[Sequence[str]], index: int) -> bool:
    values = [row[index] for row in rows if index < len(row) and row[index]]
    return bool(values) and all(_IDENTIFIER.match(v) for v in values)


def emit_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print a table for people, identifiers always whole.

    Piped (not a terminal): the title, then tab-separated header and rows, nothing cut.
    On a terminal: a rich table whose identifier columns (USCCs, codes, dates: one word
    with a digit) keep their full width while the other columns wrap; when the table
    drawn at the terminal's width would still cut an identifier, each row is printed as
    "column: value" lines instead.
    """
    cells = [["" if v is None else str(v) for v in row] for row in rows]
    if not sys.stdout.isatty():
        click.echo(title)
        click.echo("\t".join(columns))
        for row in cells:
            click.echo("\t".join(v.replace("\t", " ").replace("\n", " ") for v in row))
        return
    console = Console(soft_wrap=False)
    table = Table(title=title, show_lines=False)
    whole = {i for i in range(len(columns)) if _identifier_column(cells, i)}
    for i, column in enumerate(columns):
        if i in whole:
            width = max(cell_len(row[i]) for row in cells if i < len(row))
            table.add_column(column, min_width=width, overflow="fold")
        else:
            table.add_column(column, overflow="fold", min_width=4)
    for row in cells:
        table.add_row(*(Text(v) for v in row))  # values are text, never rich markup
    with console.capture() as captured:
        console.print(table)
    drawn = captured.get()
    if all(value in drawn for row in cells for i, value in enumerate(row) if i in whole):
        click.echo(drawn, nl=False)
        return
    console.print(title, markup=False, highlight=False)  # too wide: one block per row
    for row in cells:
        console.print("")
        for column, value in zip(columns, row, strict=False):
            console.print(f"{column}: {value}", markup=False, highlight=False)


@contextmanager
def progress(description: str, total: int | None) -> Iterator[Any]:
    """A rich progress bar on a terminal, silence otherwise. Yields advance(n)."""
    if not sys.stderr.isatty():
        yield lambda n=1: None
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)


@contextmanager
def stages(description: str) -> Iterator[Any]:
    """A spinner on a terminal that says which stage long work is in; silence otherwise.
    Yields ``say(text)``, to call as each stage starts."""
    if not sys.stderr.isatty():
        yield lambda _text: None
        return
    with Console(stderr=True).status(description) as status:
        yield lambda text: status.update(f"{description}：{text}")

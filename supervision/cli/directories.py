"""`supervision import|export|list`: the item list (一单) and the two directories (两库)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from sqlalchemy import func, select

from supervision.cli.context import AS_OPTION, AppContext, act_as, emit_json, emit_table, progress
from supervision.directories.exporting import EXPORT_FORMATS, count_rows, export_file
from supervision.directories.importing import import_file
from supervision.directories.kinds import KINDS, kind_spec
from supervision.directories.report import ImportRejected
from supervision.directories.tabular import json_value, text_cell
from supervision.errors import SupervisionError
from supervision.models.users import Role
from supervision.reference.vocab import EntityStatus, InspectorStatus

KIND_CHOICE = click.Choice(list(KINDS))


class _ImportCommand(click.Command):
    """`import KIND --help` lists KIND's columns (without KIND: every kind's headers)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] in KINDS:
            ctx.meta["import_kind"] = args[0]
        return super().parse_args(ctx, args)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from supervision.directories.import_templates import column_rules

        kind = ctx.meta.get("import_kind")
        for name in [kind] if kind else list(KINDS):
            rules = column_rules(name)
            with formatter.section(f"{KINDS[name].zh} {name} 的列 / columns (* 必填 required)"):
                if kind:
                    formatter.write_dl(
                        [(r["header"] + (" *" if r["required"] else ""), f"{r['zh']} / {r['en']}")
                         for r in rules]
                    )  # fmt: skip
                else:
                    formatter.write_text(
                        "  ".join(r["header"] + ("*" if r["required"] else "") for r in rules)
                    )
        formatter.write_paragraph()
        formatter.write_text(
            "空白模板（含示例行和填写说明）/ a blank template with an example row and the rules:"
        )
        formatter.write(f"{'':>{formatter.current_indent + 2}}"
                        f"supervision template {kind or 'KIND'} -o 模板.xlsx\n")  # fmt: skip


@click.command("import", cls=_ImportCommand)
@click.argument("kind", type=KIND_CHOICE)
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--encoding",
    metavar="ENC",
    help="CSV 编码，默认自动识别 UTF-8/GBK / CSV encoding (default: detect UTF-8 or GBK)",
)
@click.option(
    "--ignore-unknown-columns",
    is_flag=True,
    help="忽略未知的列 / ignore columns the kind does not have",
)
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="导入有效行，无效行写入 <文件名>.rejects.csv / import the valid rows, write the rest to <name>.rejects.csv",
)
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出结果 / print the result as JSON")
@AS_OPTION
@click.pass_obj
def import_command(
    app: AppContext,
    kind: str,
    file: Path,
    encoding: str | None,
    ignore_unknown_columns: bool,
    skip_invalid: bool,
    as_json: bool,
    as_user: str | None,
) -> None:
    """导入 departments|items|entities|inspectors|conflicts|records (csv/xlsx/json/jsonl).

    \b
    全部校验通过才写入；任何一行有误则不写入，并列出每一行错误。
    All or nothing: one bad row and nothing is written; every bad row is listed.
    Rows are upserted by key and counted as added / updated / unchanged.
    须以管理员身份执行（--as）/ acts as an admin (--as).
    """
    try:
        actor = act_as(app, as_user, Role.ADMIN)
        report = import_file(
            app.db,
            actor=actor,
            kind=kind,
            path=file,
            encoding=encoding,
            ignore_unknown_columns=ignore_unknown_columns,
            skip_invalid=skip_invalid,
            progress=lambda total: progress(f"导入 {kind}", total),
        )
    except ImportRejected as exc:
        if as_json:
            emit_json(
                {
                    "ok": False,
                    "zh": exc.zh,
                    "en": exc.en,
                    "errors": [e.as_dict(exc.file) for e in exc.errors],
                }
            )
        raise
    except SupervisionError as exc:
        if as_json:
            emit_json({"ok": False, "zh": exc.zh, "en": exc.en, "details": exc.details})
        raise
    if as_json:
        emit_json({"ok": True, **report.as_dict()})
        return
    click.echo(
        f"{kind_spec(kind).zh}（{report.file}）：新增 {report.added}，更新 {report.updated}，"
        f"未变 {report.unchanged}" + (f"，拒绝 {report.rejected}" if report.rejected else "")
    )
    click.echo(
        f"{kind} ({report.file}): added {report.added}, updated {report.updated}, "
        f"unchanged {report.unchanged}"
        + (f", rejected {report.rejected}" if report.rejected else "")
    )
    for kept in report.kept:
        where = f"第 {kept['row']} 行 / row {kept['row']} " if kept["row"] else ""
        click.echo(f"  {where}{kept['uscc']}：{kept['zh']} / {kept['en']}")
    if report.rejects_file:
        click.echo(f"被拒绝的行及原因见 / rejected rows and reasons: {report.rejects_file}")
        for error in report.errors:
            click.echo(f"  - {error.line(report.file)}", err=True)


@click.command("export")
@click.argument("kind", type=KIND_CHOICE)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(EXPORT_FORMATS),
    default=None,
    help="csv|xlsx|json|jsonl（默认按文件扩展名 / default: from the file name）",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="输出文件 / output file",
)
@click.pass_obj
def export_command(app: AppContext, kind: str, fmt: str | None, output: Path) -> None:
    """导出 / export departments|items|entities|inspectors|conflicts|records.

    \b
    CSV 为带 BOM 的 UTF-8，表头为「中文(english)」，可直接重新导入。
    CSV is UTF-8 with BOM, headers 中文(english); every export re-imports unchanged.
    Cells starting with = + - @ are prefixed with ' so spreadsheets do not run them.
    """
    total = count_rows(app.db, kind=kind)
    with progress(f"导出 {kind}", total) as advance:
        count = export_file(app.db, kind=kind, path=output, fmt=fmt, advance=advance)
    click.echo(f"已导出 {count} 条到 {output} / exported {count} rows to {output}")


# ---------------------------------------------------------------- list
_LISTS: dict[str, tuple[str, list[str]]] = {
    "entities": (
        "entities",
        ["uscc", "name", "entity_type", "region_code", "status", "risk_class", "abnormal"],
    ),
    "inspectors": (
        "inspectors",
        ["cert_no", "name", "department_code", "region_code", "qualifications", "status"],
    ),
    "items": (
        "items",
        [
            "code",
            "version",
            "name",
            "department_code",
            "kind",
            "methods",
            "effective_from",
            "effective_to",
        ],
    ),
    "departments": ("departments", ["code", "name", "region_code"]),
}
_STATUS_VOCAB: dict[str, Any] = {"entities": EntityStatus, "inspectors": InspectorStatus}


def region_filter(code: str) -> tuple[str, bool]:
    """150102 matches exactly; 150100 means the prefecture (1501*), 150000 the province (15*)."""
    text = code.strip()
    if len(text) != 6 or not text.isdigit():
        raise SupervisionError("行政区划代码必须是6位数字", "a region code is 6 digits")
    if text.endswith("0000"):
        return text[:2], True
    if text.endswith("00"):
        return text[:4], True
    return text, False


def list_rows(
    app: AppContext, kind: str, *, region: str | None, status: str | None, limit: int, offset: int
) -> tuple[int, list[dict[str, Any]]]:
    """A page of rows of `kind` (ordered by key) and the total matching the filters."""
    spec = kind_spec(_LISTS[kind][0])
    table = spec.table
    conditions = []
    if region is not None:
        if "region_code" not in table.c:
            raise SupervisionError(
                f"{spec.zh}没有行政区划，不能按 --region 筛选",
                f"{kind} have no region: --region does not apply",
            )
        prefix, is_prefix = region_filter(region)
        column = table.c.region_code
        conditions.append(
            column.startswith(prefix, autoescape=True) if is_prefix else column == prefix
        )
    if status is not None:
        if kind not in _STATUS_VOCAB:
            raise SupervisionError(
                f"{spec.zh}没有状态，不能按 --status 筛选",
                f"{kind} have no status: --status does not apply",
            )
        try:
            value = _STATUS_VOCAB[kind].parse(status).value
        except ValueError as exc:
            zh, _, en = str(exc).partition(" / ")
            raise SupervisionError(
                f"--status {status}：{zh}", f"--status {status}: {en or zh}"
            ) from None
        conditions.append(table.c.status == value)
    columns = [table.c[c] for c in _LISTS[kind][1]]
    with app.db.engine.connect() as conn:
        total = conn.execute(
            select(func.count()).select_from(table).where(*conditions)
        ).scalar_one()
        query = (
            select(*columns)
            .where(*conditions)
            .order_by(*(table.c[k] for k in spec.key))
            .limit(limit)
            .offset(offset)
        )
        rows = [dict(r._mapping) for r in conn.execute(query)]
    return int(total), rows


@click.group("list")
def list_group() -> None:
    """列出目录 / list entities, inspectors, items or departments (a page plus the total)."""


def _list_command(kind: str, zh: str) -> click.Command:
    @click.command(kind, help=f"列出{zh} / list {kind} (a page of rows plus the total)")
    @click.option(
        "--region",
        metavar="CODE",
        help="行政区划代码；以00结尾表示整个地市/省 / region code; ...00 means the whole prefecture/province",
    )
    @click.option(
        "--status", metavar="STATUS", help="状态，如 存续、在岗 / status, e.g. 存续 or active"
    )
    @click.option(
        "--limit",
        type=click.IntRange(min=1),
        default=50,
        show_default=True,
        help="每页条数 / rows per page",
    )
    @click.option(
        "--offset",
        type=click.IntRange(min=0),
        default=0,
        show_default=True,
        help="跳过条数 / rows to skip",
    )
    @click.option("--json", "as_json", is_flag=True, help="以 JSON 输出 / print JSON")
    @click.pass_obj
    def command(
        app: AppContext,
        region: str | None,
        status: str | None,
        limit: int,
        offset: int,
        as_json: bool,
    ) -> None:
        total, rows = list_rows(app, kind, region=region, status=status, limit=limit, offset=offset)
        if as_json:
            emit_json(
                {
                    "kind": kind,
                    "total": total,
                    "limit": limit,
                    "offset": offset,
                    "rows": [{k: json_value(v) for k, v in r.items()} for r in rows],
                }
            )
            return
        columns = _LISTS[kind][1]
        spec = kind_spec(_LISTS[kind][0])
        headers = [f"{spec.column(c).zh[0]} / {c}" for c in columns]
        emit_table(f"{zh} / {kind}", headers, ([text_cell(r[c]) for c in columns] for r in rows))
        shown = f"{offset + 1}-{offset + len(rows)}" if rows else "0"
        click.echo(f"共 {total} 条，显示 {shown} / {total} in total, showing {shown}")

    return command


@click.command("template")
@click.argument("kind", type=KIND_CHOICE)
@click.option(
    "-o",
    "--out",
    "out",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="输出文件（.xlsx 含填写说明；.csv 只有表头和示例行）/ output file (.xlsx with the "
    "column rules; .csv with headers and the example row)",
)
def template_command(kind: str, out: Path) -> None:
    """写出导入模板：中英文表头、一行示例、每列的填写说明 / write the import template.

    \b
    第一个工作表是要导入的数据（表头“中文(english)”，一行示例），第二个工作表说明每一列：
    是否必填、填什么、可选值、也可用的列名。填好后：supervision import KIND 文件 --as 管理员。
    The first sheet is the data to import (headers 中文(english), one example row); the
    second explains each column: required or not, what it holds, allowed values, other
    headers the import reads. Then: supervision import KIND FILE --as ADMIN.
    """
    from supervision.directories.import_templates import write_template

    written = write_template(kind, out)
    click.echo(f"已写出{KINDS[kind].zh}导入模板 / wrote the {kind} template: {written}")


for _kind, _zh in (
    ("entities", "检查对象"),
    ("inspectors", "执法检查人员"),
    ("items", "抽查事项"),
    ("departments", "部门"),
):
    list_group.add_command(_list_command(_kind, _zh))

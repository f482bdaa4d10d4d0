"""`supervision publish` and `supervision serve`: the public disclosure site."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from supervision.cli.context import AS_OPTION, JSON_OPTION, AppContext, act_as, emit_json, stages
from supervision.errors import SupervisionError
from supervision.models.users import Role

if TYPE_CHECKING:
    from supervision.site.writer import PublishReport


@click.command("publish")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              required=True, help="输出目录 / output folder")  # fmt: skip
@click.option("--lang", type=click.Choice(["zh", "en", "all"]), default="all", show_default=True,
              help="语言 / languages (zh-CN at the root, English under en/)")  # fmt: skip
@click.option("--authority", default=None, metavar="CODE",
              help="只发布一个发布机关（部门代码）的网站：其计划、任务、结果与名称；请用单独的 --out "
                   "/ publish one authority's site (a department code): its plans, tasks, "
                   "results and name; give it its own --out")  # fmt: skip
@JSON_OPTION
@AS_OPTION
@click.pass_obj
def publish_command(
    app: AppContext,
    out_dir: Path,
    lang: str,
    authority: str | None,
    as_json: bool,
    as_user: str | None,
) -> None:
    """发布公示网站（静态文件）/ publish the public disclosure site as static files.

    \b
    只重写内容有变化的文件；没有变化时不写任何文件。
    Rewrites only files whose content changed; with nothing changed it writes nothing.
    省略 --authority 发布全区网站；--authority CODE 发布一个发布机关的网站。
    Without --authority the whole deployment's site; --authority CODE one authority's.
    须以审核人员或管理员身份执行（--as）/ acts as a reviewer or an admin (--as).
    """
    from supervision.site import publish_site

    act_as(app, as_user, Role.REVIEWER, Role.ADMIN)

    with stages("发布 / publishing") as say:
        report = publish_site(app.db, out_dir=out_dir, languages=lang, on_stage=say,
                              authority=authority)  # fmt: skip
    withheld = report.withheld_message()
    if withheld is not None:  # the rest is published; say which tasks are not, and fail
        click.echo(f"{withheld[0]}\n{withheld[1]}", err=True)
    if as_json:
        emit_json(report.as_dict())
    else:
        _say_published(report, out_dir)
    if withheld is not None:
        raise SystemExit(1)


def _say_published(report: PublishReport, out_dir: Path) -> None:
    click.echo(
        f"已发布 {report.pages} 个页面、共 {report.files} 个文件：写入 {report.written}，"
        f"未变 {report.unchanged}，删除 {report.removed}（{report.seconds:.1f} 秒）"
    )
    click.echo(
        f"Published {report.pages} pages, {report.files} files: {report.written} written, "
        f"{report.unchanged} unchanged, {report.removed} removed ({report.seconds:.1f} s)"
    )
    click.echo(f"打开 / open: {(out_dir / 'index.html').resolve()}")
    click.echo(f"或运行 / or run: supervision serve --out {out_dir}")


@click.command("serve")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("site"), show_default=True,
              help="已发布的网站目录 / the published site folder")  # fmt: skip
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="端口 / port")  # fmt: skip
@click.option("--host", default="127.0.0.1", show_default=True, help="地址 / address")
@click.option("--site-only", is_flag=True,
              help="只提供公示网站，不启动监管控制台 / the public site only, no console")  # fmt: skip
@click.option("--secure-cookies", is_flag=True,
              help="在 HTTPS 之后：Cookie 加 Secure / behind HTTPS: Secure cookies")  # fmt: skip
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="控制台进程数（可设为 CPU 核数）/ console processes (e.g. one per core)")  # fmt: skip
@click.option("--threads", type=click.IntRange(1, 256), default=2, show_default=True,
              help="每个进程同时处理的请求数（线程）；多核请加进程而非线程 / requests each "
                   "process works on at once (threads); for more cores add processes, not "
                   "threads")  # fmt: skip
@click.pass_obj
def serve_command(
    app: AppContext,
    out_dir: Path,
    port: int,
    host: str,
    site_only: bool,
    secure_cookies: bool,
    workers: int,
    threads: int,
) -> None:
    """启动监管控制台，并在 /site/ 提供已发布的公示网站 / start the console with the site at /site/.

    \b
    --site-only 只提供公示网站（含服务器端搜索）。
    --site-only serves the published site alone (with server-side search).
    """
    from supervision.site.publish import MANIFEST
    from supervision.site.serve import make_server

    if not (out_dir / MANIFEST).is_file():
        raise SupervisionError(
            f"{out_dir} 不是已发布的网站目录，请先运行 supervision publish --out {out_dir}",
            f"{out_dir} is not a published site; run `supervision publish --out {out_dir}` first",
        )
    if not site_only:
        from supervision.console.serve import run_console

        run_console(app.db, site_dir=out_dir, host=host, port=port,
                    secure_cookies=secure_cookies, threads=threads, workers=workers)  # fmt: skip
        return
    server = make_server(out_dir, port, host)
    address = f"http://{host}:{server.server_address[1]}/"
    click.echo(f"公示网站 / public site: {address}  (Ctrl+C 停止 / to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()

"""`supervision user add|list|disable`: the console's users."""

from __future__ import annotations

import sys

import click

from supervision import trail
from supervision.cli.context import (
    BY_OPTION,
    JSON_OPTION,
    AppContext,
    act_as,
    creates_database,
    emit_json,
    emit_table,
)
from supervision.errors import SupervisionError
from supervision.models.users import Role


@click.group("user")
def user_group() -> None:
    """控制台用户 / console users (roles: admin, planner, inspector, reviewer)."""


@user_group.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(list(Role.ALL)), required=True, help="角色 / role")
@click.option("--name", "display_name", default=None, help="姓名 / display name")
@click.option(
    "--cert-no", default=None, help="执法证号（检查人员必填）/ certificate no. (inspectors)"
)
@click.option(
    "--department",
    "departments",
    multiple=True,
    help="范围内的部门，可重复；只有一个部门的审核人在联合抽查中只审核本部门的部分 / a "
    "department of the user's scope (repeatable); a reviewer with one department reviews "
    "only that department's part of a joint task",
)
@click.option(
    "--region",
    default=None,
    help="范围内的地区：行政区划代码前缀（15 全区，1502 包头市，150203 一个区）；省略则不限 / the "
    "scope's region, a GB/T 2260 prefix (15, 1502, 150203); left out: everywhere",
)
@click.option("--password-stdin", is_flag=True,
              help="从标准输入读取密码（第一行）/ read the password from stdin (first line)")  # fmt: skip
@BY_OPTION
@click.pass_obj
def add_command(
    app: AppContext,
    username: str,
    role: str,
    display_name: str | None,
    cert_no: str | None,
    departments: tuple[str, ...],
    region: str | None,
    password_stdin: bool,
    by: str | None,
) -> None:
    """添加用户（密码以 argon2 散列保存）/ add a user (password stored as an argon2 hash).

    \b
    密码从提示输入（不回显），或用 --password-stdin 从标准输入读取。
    The password comes from a prompt (not echoed) or, with --password-stdin, from stdin.
    须以管理员身份执行（--as）；只有在没有任何启用的管理员时，才可不带 --as 创建第一个管理员。
    Acts as an admin (--as); only while no active admin exists may the first admin be created
    without --as (recorded as the OS user, cli:<user>).
    范围：--region 与 --department 限定角色能触及的主体、任务和结果（省略即不限）。
    Scope: --region and --department limit the entities, tasks and results the role reaches
    (left out: no limit). The command line acts with full rights, recorded as the named user.
    """
    from supervision.accounts.users import add_user, has_active_admin, user_scope
    from supervision.settings import settings

    named = by or settings().user
    if named or role != Role.ADMIN:
        actor = act_as(app, by, Role.ADMIN)
    else:  # the first admin: nobody to act as yet, so the OS user (cli:<user>) is recorded
        creates_database(app)  # the first admin of a new database may create it
        with app.db.session() as session:
            if has_active_admin(session):
                act_as(app, by, Role.ADMIN)  # refused: an admin exists, so one must act
        actor = trail.current_actor(None)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("密码 / password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise SupervisionError("密码为空", "the password is empty")
    with app.db.session() as session:
        user = add_user(session, username=username, password=password, role=role,
                        display_name=display_name, cert_no=cert_no,
                        departments=list(departments), region=region,
                        actor=actor)  # fmt: skip
        label = user_scope(user).label()
    click.echo(
        f"已添加用户 {user.username}（{Role.ZH[role]}，{label}）/ added user {user.username} ({role})"
    )


@user_group.command("list")
@JSON_OPTION
@click.pass_obj
def list_command(app: AppContext, as_json: bool) -> None:
    """列出用户 / list users."""
    from supervision.accounts.users import list_users, user_dict

    with app.db.session() as session:
        rows = [user_dict(u) for u in list_users(session)]
    if as_json:
        emit_json(rows)
        return
    emit_table(
        "用户 / users",
        ["用户名 user", "姓名 name", "角色 role", "执法证号 cert", "范围 scope", "状态 status"],
        [[r["username"], r["display_name"], f"{r['role_zh']} {r['role']}", r["cert_no"] or "",
          r["scope_label"], "启用 active" if r["active"] else "停用 disabled"] for r in rows],
    )  # fmt: skip


@user_group.command("disable")
@click.argument("username")
@BY_OPTION
@click.pass_obj
def disable_command(app: AppContext, username: str, by: str | None) -> None:
    """停用用户（2 秒内结束其登录；不能停用最后一个启用的管理员）/ disable a user (their
    sessions end within 2 s; the last active admin cannot be disabled)."""
    from supervision.accounts.users import disable_user

    actor = act_as(app, by, Role.ADMIN)
    with app.db.session() as session:
        disable_user(session, username=username, actor=actor)
    click.echo(f"已停用用户 {username} / disabled user {username}")


@user_group.command("role")
@click.argument("username")
@click.option("--role", type=click.Choice(list(Role.ALL)), required=True, help="新角色 / new role")
@click.option(
    "--cert-no", default=None, help="执法证号（改为检查人员时必填）/ certificate no. (inspectors)"
)
@BY_OPTION
@click.pass_obj
def role_command(
    app: AppContext, username: str, role: str, cert_no: str | None, by: str | None
) -> None:
    """改变用户角色（须重新登录；不能把最后一个启用的管理员改为其他角色）/ give a user
    another role (they sign in again; the last active admin cannot be demoted)."""
    from supervision.accounts.users import set_role

    actor = act_as(app, by, Role.ADMIN)
    with app.db.session() as session:
        set_role(session, username=username, role=role, cert_no=cert_no, actor=actor)
    click.echo(f"用户 {username} 的角色改为 {Role.ZH[role]} / user {username} is now {role}")


@user_group.command("scope")
@click.argument("username")
@click.option(
    "--department",
    "departments",
    multiple=True,
    help="范围内的部门，可重复；省略则不限 / a department (repeatable); none: every one",
)
@click.option(
    "--region",
    default=None,
    help="地区前缀（15、1502、150203）；省略则不限 / region prefix; none: everywhere",
)
@BY_OPTION
@click.pass_obj
def scope_command(
    app: AppContext,
    username: str,
    departments: tuple[str, ...],
    region: str | None,
    by: str | None,
) -> None:
    """改变用户的范围（记入留痕；须重新登录）/ give a user another scope (recorded in the
    trail; they sign in again)."""
    from supervision.accounts.users import set_scope, user_scope

    actor = act_as(app, by, Role.ADMIN)
    with app.db.session() as session:
        user = set_scope(
            session, username=username, departments=list(departments), region=region, actor=actor
        )
        label = user_scope(user).label()
    click.echo(f"用户 {username} 的范围改为 {label} / user {username} has a new scope")

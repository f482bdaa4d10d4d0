"""Console users: accounts with exactly one role, argon2 password hashes.

Users have exactly one role (admin, planner, inspector, reviewer). Every change to users
is recorded in the trail, in the same transaction. Sign-in sessions are in
``supervision.accounts.sessions``, the sign-in throttle in ``supervision.accounts.throttle``.
"""

from __future__ import annotations

import functools
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, text
from sqlmodel import Session, col, select

from supervision import clock, trail
from supervision.accounts.scope import Scope, parse_region
from supervision.db import Database, table_of
from supervision.errors import NotFoundError, SupervisionError
from supervision.models.directories import Department
from supervision.models.fields import check_text, normalise_key
from supervision.models.users import ConsoleSession, ConsoleUser, Role

__all__ = [
    "MIN_PASSWORD",
    "add_user",
    "authenticate",
    "disable_user",
    "has_active_admin",
    "hash_password",
    "list_users",
    "set_role",
    "set_scope",
    "user_dict",
    "user_scope",
    "verify_password",
]

MIN_PASSWORD = 10
_HASHER = PasswordHasher()
_S = table_of(ConsoleSession)


def hash_password(password: str) -> str:
    """An argon2id hash of `password` (with its own salt and parameters)."""
    return _HASHER.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the user does not exist, so timing does not tell
    (made on first use: hashing costs ~0.1 s, which every import would otherwise pay)."""
    return hash_password("not-a-real-password-" + secrets.token_hex(8))


def add_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    cert_no: str | None = None,
    department_code: str | None = None,
    departments: list[str] | None = None,
    region: str | None = None,
    acting_scope: Scope | None = None,
    actor: str | None = None,
) -> ConsoleUser:
    """Create a user; refuses a duplicate name, an unknown role or a short password.

    The name is stored normalised (NFKC, trimmed) and may not hold invisible or control
    characters, so two names that look the same are the same name.

    The user's scope is ``region`` (a GB/T 2260 prefix) and ``departments`` (a reviewer's
    ``department_code`` counts as one); what is left out is taken from ``acting_scope``,
    the scope of the admin creating the user (None: the command line, full rights). A
    scope wider than the acting admin's is refused: an admin never grants more than they
    have. A user with exactly one department reviews that department's part of joint tasks."""
    problems: list[str] = []
    try:
        name = normalise_key(username)
    except ValueError as exc:
        name = ""
        problems.append(f"用户名：{exc}")
    if not problems and (not name or len(name) > 64 or any(c.isspace() for c in name)):
        problems.append("用户名须为 1–64 个字符且不含空格 / username: 1–64 characters, no spaces")
    try:
        check_text(display_name or "")
        check_text(cert_no or "")
    except ValueError as exc:
        problems.append(f"姓名或执法证号 / display name or certificate: {exc}")
    if role not in Role.ALL:
        problems.append(
            f"角色应为 {'、'.join(Role.ALL)} 之一 / role must be one of {', '.join(Role.ALL)}"
        )
    if len(password) < MIN_PASSWORD:
        problems.append(
            f"密码至少 {MIN_PASSWORD} 个字符 / the password needs at least {MIN_PASSWORD} characters"
        )
    cert = (cert_no or "").strip() or None
    if role == Role.INSPECTOR and cert is None:
        problems.append("检查人员须填写执法证号 / an inspector needs a certificate number")
    department = _department(session, department_code, problems)
    wanted = [d for d in (departments or []) if d and d.strip()]
    scope_departments = [d for d in (_department(session, d, problems) for d in wanted) if d]
    if department and department not in scope_departments:
        scope_departments.append(department)
    scope = _granted_scope(region, scope_departments, acting_scope, problems)
    if department is None and len(scope.departments) == 1:
        department = scope.departments[0]  # one department: they review its part
    if problems:
        raise SupervisionError("用户信息有误，未作任何更改", "invalid user; nothing was changed",
                               details=problems)  # fmt: skip
    if session.exec(select(ConsoleUser).where(col(ConsoleUser.username) == name)).first():
        raise SupervisionError(f"用户 {name} 已存在", f"user {name} already exists")
    user = ConsoleUser(
        username=name,
        display_name=(display_name or "").strip()[:100] or name,
        role=role,
        cert_no=cert,
        department_code=department,
        scope_region=scope.region,
        scope_departments=list(scope.departments),
        password_hash=hash_password(password),
        created_at=clock.now(),
    )
    session.add(user)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="user.add",
        obj=f"user:{name}",
        payload={"role": role, "cert_no": cert, "display_name": user.display_name}
        | ({"department": department} if department else {})
        | {"scope": scope.as_dict()},
    )
    return user


def user_scope(user: ConsoleUser) -> Scope:
    """The user's scope as stored."""
    return Scope.of(region=user.scope_region, departments=user.scope_departments)


def _granted_scope(
    region: str | None, departments: list[str], acting: Scope | None, problems: list[str]
) -> Scope:
    """The scope to store: what was asked, the acting admin's limits where nothing was asked;
    a problem when it is wider than the acting admin's own scope."""
    try:
        prefix = parse_region(region)
    except ValueError as exc:
        problems.append(str(exc))
        prefix = ""
    acting = acting or Scope.EVERYTHING
    scope = Scope.of(
        region=prefix or acting.region, departments=departments or list(acting.departments)
    )
    if not scope.within(acting):
        problems.append(
            f"不能授予超出本人范围（{acting.label()}）的范围（{scope.label()}）/ cannot grant a "
            f"scope ({scope.as_dict()}) wider than your own ({acting.as_dict()})"
        )
    return scope


def set_scope(
    session: Session,
    *,
    username: str,
    departments: list[str] | None,
    region: str | None,
    acting_scope: Scope | None = None,
    actor: str | None = None,
) -> ConsoleUser:
    """Give a user another scope (recorded in the trail as ``user.scope``, from → to); their
    sessions end, so the new scope applies at once. An admin may change only users inside
    their own scope (others are not found) and never grant a wider scope than their own."""
    user = _locked_user(session, username, scope=acting_scope)
    problems: list[str] = []
    codes = [d for d in (_department(session, d, problems) for d in departments or []) if d]
    scope = _granted_scope(region, codes, acting_scope, problems)
    if problems:
        raise SupervisionError("范围有误，未作任何更改", "invalid scope; nothing was changed",
                               details=problems)  # fmt: skip
    before = user_scope(user)
    if before == scope:
        raise SupervisionError(
            f"用户 {user.username} 的范围已是 {scope.label()}",
            f"user {user.username} already has this scope",
        )
    user.scope_region = scope.region
    user.scope_departments = list(scope.departments)
    if len(scope.departments) == 1:
        user.department_code = scope.departments[0]
    elif user.department_code not in scope.departments:
        user.department_code = None
    session.add(user)
    session.connection().execute(delete(_S).where(_S.c.user_id == user.id))
    trail.record(
        session, actor=actor, action="user.scope", obj=f"user:{user.username}",
        payload={"from": before.as_dict(), "to": scope.as_dict()},
    )  # fmt: skip
    return user


def _department(session: Session, code: str | None, problems: list[str]) -> str | None:
    """The department a user belongs to (normalised), which must be in the directory."""
    if code is None or not code.strip():
        return None
    try:
        department = normalise_key(code)
    except ValueError as exc:
        problems.append(f"部门 / department: {exc}")
        return None
    if session.get(Department, department) is None:
        problems.append(f"未知部门 {department} / unknown department {department}")
    return department


def has_active_admin(session: Session) -> bool:
    """Whether any active admin exists: while none does, the command line may create the
    first one without acting as a named user (there is nobody to act as yet)."""
    query = select(ConsoleUser.id).where(
        col(ConsoleUser.role) == Role.ADMIN, col(ConsoleUser.active).is_(True)
    )
    return session.exec(query.limit(1)).first() is not None


def list_users(session: Session, *, scope: Scope | None = None) -> list[ConsoleUser]:
    """Every user, or only those inside ``scope`` (an admin of a 盟市 sees its users)."""
    rows = session.exec(select(ConsoleUser).order_by(col(ConsoleUser.username))).all()
    return [u for u in rows if scope is None or user_scope(u).within(scope)]


def _locked_user(session: Session, username: str, *, scope: Scope | None = None) -> ConsoleUser:
    """The user, with the users' write lock held (SQLite: the database's write lock; PostgreSQL:
    the active admins' rows), so that two admins removing each other cannot both pass the
    last-admin check."""
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        conn.execute(text("UPDATE console_user SET id = id WHERE 1 = 0"))
    else:
        session.exec(
            select(ConsoleUser.id)
            .where(col(ConsoleUser.role) == Role.ADMIN, col(ConsoleUser.active).is_(True))
            .with_for_update()
        ).all()
    user = session.exec(
        select(ConsoleUser).where(col(ConsoleUser.username) == _lookup_name(username))
    ).first()
    if user is None or (scope is not None and not user_scope(user).within(scope)):
        raise NotFoundError(f"没有用户 {username}", f"no user {username}")
    return user


def _keep_an_admin(session: Session, user: ConsoleUser, *, doing_zh: str, doing_en: str) -> None:
    """Refuse to leave the console without an active admin (nobody could manage users)."""
    if user.role != Role.ADMIN or not user.active:
        return
    others = session.exec(
        select(ConsoleUser.id).where(
            col(ConsoleUser.role) == Role.ADMIN,
            col(ConsoleUser.active).is_(True),
            col(ConsoleUser.id) != user.id,
        )
    ).first()
    if others is None:
        raise SupervisionError(
            f"{user.username} 是最后一个启用的管理员，不能{doing_zh}；请先添加另一个管理员，未作任何更改",
            f"{user.username} is the last active admin and cannot be {doing_en}; add another "
            "admin first; nothing was changed",
        )


def set_role(
    session: Session,
    *,
    username: str,
    role: str,
    cert_no: str | None = None,
    department_code: str | None = None,
    acting_scope: Scope | None = None,
    actor: str | None = None,
) -> ConsoleUser:
    """Give a user another role; the last active admin cannot be demoted. An inspector
    needs a certificate number (``cert_no``, or the one the user has)."""
    if role not in Role.ALL:
        raise SupervisionError(
            f"角色应为 {'、'.join(Role.ALL)} 之一，而不是 {role[:40]!r}",
            f"role must be one of {', '.join(Role.ALL)}, not {role[:40]!r}",
        )
    user = _locked_user(session, username, scope=acting_scope)
    if user.role == role:
        raise SupervisionError(
            f"用户 {user.username} 的角色已是 {role}",
            f"user {user.username} already has role {role}",
        )
    if role != Role.ADMIN:
        _keep_an_admin(session, user, doing_zh="改为其他角色", doing_en="given another role")
    cert = (cert_no or "").strip() or user.cert_no
    if role == Role.INSPECTOR and not cert:
        raise SupervisionError(
            "检查人员须填写执法证号，未作任何更改", "an inspector needs a certificate number; "
            "nothing was changed",
        )  # fmt: skip
    before = user.role
    user.role = role
    user.cert_no = cert
    session.add(user)
    # Sessions carry the role: the user signs in again with the new one.
    session.connection().execute(delete(_S).where(_S.c.user_id == user.id))
    trail.record(
        session, actor=actor, action="user.role", obj=f"user:{user.username}",
        payload={"from": before, "to": role, "cert_no": cert},
    )  # fmt: skip
    return user


def disable_user(
    session: Session, *, username: str, acting_scope: Scope | None = None, actor: str | None = None
) -> ConsoleUser:
    """Disable a user and end all their sessions at once; the last active admin cannot be
    disabled. An admin reaches only the users inside their own scope."""
    user = _locked_user(session, username, scope=acting_scope)
    if not user.active:
        raise SupervisionError(f"用户 {username} 已停用", f"user {username} is already disabled")
    _keep_an_admin(session, user, doing_zh="停用", doing_en="disabled")
    user.active = False
    user.disabled_at = clock.now()
    session.add(user)
    session.connection().execute(delete(_S).where(_S.c.user_id == user.id))
    trail.record(session, actor=actor, action="user.disable", obj=f"user:{user.username}")
    return user


def authenticate(db: Database, *, username: str, password: str) -> ConsoleUser | None:
    """The active user with this name and password, or None (same work either way)."""
    with db.session() as session:
        user = session.exec(
            select(ConsoleUser).where(col(ConsoleUser.username) == _lookup_name(username))
        ).first()
    if user is None or not user.active:
        verify_password(_dummy_hash(), password)
        return None
    return user if verify_password(user.password_hash, password) else None


def user_dict(user: ConsoleUser) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "role_zh": Role.ZH.get(user.role, user.role),
        "cert_no": user.cert_no,
        "department": user.department_code,
        "scope": user_scope(user).as_dict(),
        "scope_label": user_scope(user).label(),
        "active": user.active,
        "created_at": clock.local(user.created_at).isoformat(timespec="seconds"),
    }


def _lookup_name(username: str) -> str:
    """A typed user name in its stored form; one that cannot be stored matches nobody."""
    try:
        return normalise_key(username)
    except ValueError:
        return " "  # no stored name holds a space


def _a(role: str) -> str:
    """A role with its article ("an admin", "a planner")."""
    return f"{'an' if role[:1] in 'aeiou' else 'a'} {role}"


def acting_user(session: Session, *, username: str | None, roles: tuple[str, ...]) -> str:
    """The trail's actor name (``console:USERNAME``, as for a signed-in console user) of
    the named, active console user whose role is one of ``roles``: how the command line
    acts as a person for every command that changes data (separated duties need named
    users). Refused, in Chinese and English, without a user name or with the wrong one."""
    wanted = "、".join(Role.ZH[r] for r in roles)
    if not (username and username.strip()):
        raise SupervisionError(
            f"这个命令会修改数据，必须以控制台用户（{wanted}）身份执行：--as USERNAME 或 "
            "SUPERVISION_USER",
            f"this command changes data and must act as a named console user "
            f"({', '.join(roles)}): --as USERNAME or SUPERVISION_USER",
        )
    name = username.strip()
    try:
        stored = normalise_key(name)
    except ValueError as exc:  # invisible or control characters: say which, never echo them
        raise SupervisionError(
            f"控制台用户名（actor）无效：{exc}", f"invalid console user name (actor): {exc}"
        ) from None
    user = session.exec(select(ConsoleUser).where(col(ConsoleUser.username) == stored)).first()
    if user is None or not user.active:
        raise SupervisionError(
            f"控制台用户 {name} 不存在或已停用",
            f"console user {name} does not exist or is disabled",
        )
    if user.role not in roles:
        raise SupervisionError(
            f"控制台用户 {name} 的角色是{Role.ZH.get(user.role, user.role)}，这个命令需要{wanted}",
            f"console user {name} is {_a(user.role)}; this command needs {' or '.join(map(_a, roles))}",
        )
    return f"console:{name}"

"""The demo's console users: one per role, with printed passwords, for the demo only.

``demo_users_step(db)`` is called by ``supervision demo``. Running it again gives the
same users new passwords (the printed ones always work). The inspector user is linked to
an inspector of the directory who holds assignments, when a draw exists, so "my
assignments" is not empty. Beside the province's accounts (no scope limit), two 盟市 —
呼和浩特市 (1501) and 包头市 (1502) — each get an admin, a planner and a reviewer of one
department (NMG-SJ), who see only their city's entities, findings and results.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlmodel import col, select

from supervision import trail
from supervision.accounts.scope import Scope
from supervision.accounts.users import add_user, hash_password
from supervision.db import Database
from supervision.models import Assignment, Department, Inspector
from supervision.models.users import ConsoleUser, Role

__all__ = ["DEMO_NOTE", "demo_users_step", "describe"]

DEMO_NOTE = (
    "仅供演示：这些账号和密码只用于本演示数据库，切勿用于真实数据。",
    "Demo only: these accounts and passwords are for this demo database; never use them "
    "with real data.",
)
_NAMES = {
    Role.ADMIN: ("demo-admin", "演示管理员"),
    Role.PLANNER: ("demo-planner", "演示计划员"),
    Role.INSPECTOR: ("demo-inspector", "演示检查人员"),
    Role.REVIEWER: ("demo-reviewer", "演示审核人"),
}
#: The two 盟市 with users of their own: region prefix → (user name part, city name).
CITIES = {"1501": ("hhht", "呼和浩特市"), "1502": ("bt", "包头市")}
#: The one department of the cities' users.
CITY_DEPARTMENT = "NMG-SJ"
_CITY_ROLES = (Role.ADMIN, Role.PLANNER, Role.REVIEWER)


def _accounts(with_cities: bool) -> list[tuple[str, str, str, Scope]]:
    """(user name, display name, role, scope) of every demo account, province first (the
    cities' only when the demo's department is in the directory)."""
    out = [(name, display, role, Scope.EVERYTHING) for role, (name, display) in _NAMES.items()]
    for region, (part, city) in CITIES.items() if with_cities else ():
        for role in _CITY_ROLES:
            out.append((f"demo-{part}-{role}", f"{city}{Role.ZH[role]}", role,
                        Scope(region, (CITY_DEPARTMENT,))))  # fmt: skip
    return out


def _inspector_cert(db: Database) -> str | None:
    with db.session() as session:
        assigned = session.exec(
            select(Assignment.cert_no).order_by(col(Assignment.task_code), col(Assignment.cert_no))
        ).first()
        if assigned:
            return assigned
        return session.exec(select(Inspector.cert_no).order_by(col(Inspector.cert_no))).first()


#: Who the trail records as creating or resetting the demo's users.
DEMO_ACTOR = "demo"


def demo_users_step(db: Database) -> list[dict[str, Any]]:
    """Create (or reset) one province user per role and the two cities' users; returns
    their names, passwords and scopes."""
    cert = _inspector_cert(db) or "DEMO-0001"
    out = []
    with db.session() as session:
        cities = session.get(Department, CITY_DEPARTMENT) is not None
        for username, display, role, scope in _accounts(cities):
            password = secrets.token_urlsafe(12)
            cert_no = cert if role == Role.INSPECTOR else None
            existing = session.exec(
                select(ConsoleUser).where(col(ConsoleUser.username) == username)
            ).first()
            if existing is None:
                add_user(session, username=username, password=password, role=role,
                         display_name=display, cert_no=cert_no, region=scope.region,
                         departments=list(scope.departments), actor=DEMO_ACTOR)  # fmt: skip
            else:
                existing.password_hash = hash_password(password)
                existing.active = True
                existing.disabled_at = None
                existing.cert_no = cert_no
                existing.scope_region = scope.region
                existing.scope_departments = list(scope.departments)
                session.add(existing)
                trail.record(
                    session, action="user.reset_demo", obj=f"user:{username}", actor=DEMO_ACTOR
                )
            out.append({"username": username, "role": role, "role_zh": Role.ZH[role],
                        "password": password, "cert_no": cert_no,
                        "scope": scope.as_dict(), "scope_label": scope.label(),
                        "note_zh": DEMO_NOTE[0], "note_en": DEMO_NOTE[1]})  # fmt: skip
    return out


def describe(users: list[dict[str, Any]], *, site_dir: str = "site") -> list[str]:
    """Lines for the demo to print: each user with password, the note, how to start."""
    lines = ["演示账号 / demo accounts:"]
    for u in users:
        cert = f"，执法证号 {u['cert_no']}" if u["cert_no"] else ""
        where = "" if not u["scope"]["region"] else f"（{u['scope_label']}）"
        lines.append(
            f"  {u['role_zh']} {u['role']}: {u['username']} / {u['password']}{cert}{where}"
        )
    lines.append(f"  {DEMO_NOTE[0]}")
    lines.append(f"  {DEMO_NOTE[1]}")
    lines.append("启动监管控制台（公示网站在 /site/）/ start the console (public site at /site/):")
    reviewer = _NAMES[Role.REVIEWER][0]  # publishing acts as a named console user
    lines.append(
        f"  supervision publish --out {site_dir} --as {reviewer} && supervision serve --out {site_dir}"
    )
    lines.append("  http://127.0.0.1:8000/")
    return lines

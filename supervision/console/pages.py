"""Rendering console pages with THE Jinja Environment (supervision.site.environment).

Console templates live under templates/console/ and extend ``console/base.html``. Labels
are written Chinese first with English beside them, so a page needs no language switch
and no per-request change to the shared Environment.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment

from supervision import clock
from supervision.accounts.sessions import Principal
from supervision.models.users import Role
from supervision.site.environment import environment

#: The console's navigation: (path, zh, en, roles allowed).
NAV: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("/", "工作台", "Dashboard", Role.ALL),
    ("/review", "复核队列", "Review queue", (Role.REVIEWER,)),
    ("/credit", "名录建议", "Register proposals", (Role.REVIEWER,)),
    ("/results", "结果审核", "Result review", (Role.REVIEWER,)),
    ("/tasks", "抽查任务", "Tasks", (Role.PLANNER,)),
    ("/plans", "年度计划", "Plans", (Role.PLANNER, Role.REVIEWER, Role.ADMIN)),
    ("/inspector", "我的检查", "My inspections", (Role.INSPECTOR,)),
    ("/users", "用户", "Users", (Role.ADMIN,)),
    ("/admin/directories", "名录库", "Directories", (Role.ADMIN,)),
    ("/admin/rules", "规则包", "Rule pack", (Role.ADMIN,)),
)

#: Messages shown after a redirect (?done=key).
DONE: dict[str, tuple[str, str]] = {
    "confirmed": ("已确认该发现", "Finding confirmed"),
    "dismissed": ("已驳回该发现", "Finding dismissed"),
    "credit_decided": ("已作出决定", "Decision recorded"),
    "credit_rejected": ("建议不予采纳", "Proposal rejected"),
    "created": ("任务已创建", "Task created"),
    "plan_published": (
        "计划已公示（下次发布网站时上网）",
        "Plan published (on the site at the next publication)",
    ),
    "committed": ("任务已锁定", "Task committed"),
    "drawn": ("已完成抽取", "Draw done"),
    "entered": ("检查结果已录入，待审核", "Result entered, awaiting review"),
    "approved": ("已审核通过", "Approved"),
    "returned": ("已退回", "Returned"),
    "published": ("已公示", "Published"),
    "user_added": ("用户已创建", "User added"),
    "user_disabled": ("用户已停用", "User disabled"),
    "user_role_changed": ("用户角色已改变（须重新登录）", "Role changed (the user signs in again)"),
    "user_scope_changed": (
        "用户范围已改变（须重新登录）",
        "Scope changed (the user signs in again)",
    ),
    "imported": ("导入完成", "Import done"),
}


def local_time(value: Any) -> str:
    """A stored time (or its ISO text) as Beijing time, to the minute (the ``local``
    filter): ``clock.shown``."""
    if value is None:
        return ""
    if isinstance(value, datetime | str):
        return clock.shown(value)
    return str(value)


def console_environment() -> Environment:
    """THE Environment, with the console's own ``local`` filter."""
    env = environment()
    env.filters.setdefault("local", local_time)
    return env


def back_path(request: Request) -> str:
    """Where "Back" goes: the page the request came from, if it is on this console (the
    Referer, sent same-origin only), else the dashboard. A link, not ``history.back()``:
    the Content-Security-Policy allows no inline script."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc or not referer.path.startswith("/"):
        return "/"
    return referer.path + (f"?{referer.query}" if referer.query else "")


def render(
    request: Request,
    template: str,
    *,
    status: int = 200,
    principal: Principal | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render a console page; every page gets the user, the nav and the CSRF token."""
    env = console_environment()
    who = principal if principal is not None else getattr(request.state, "principal", None)
    done = DONE.get(request.query_params.get("done", ""))
    body = env.get_template(template).render(
        {
            "principal": who,
            "csrf_token": who.csrf_token if who else "",
            "nav": [n for n in NAV if who and who.role in n[3]],
            "path": request.url.path,
            "done": done,
            "site_mounted": bool(getattr(request.app.state, "site_dir", None)),
            "back": back_path(request),
            **context,
        }
    )
    return HTMLResponse(body, status_code=status)


def redirect(path: str, **params: Any) -> RedirectResponse:
    """See Other to `path` (after a POST), with query parameters."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return RedirectResponse(path + ("?" + query if query else ""), status_code=303)

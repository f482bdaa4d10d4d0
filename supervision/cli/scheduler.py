"""`supervision scheduler ...`, `supervision schedule ...`, `supervision seed enter`, `supervision alerts`."""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

import click

from supervision import clock
from supervision.cli.beacon import seed_beacon
from supervision.cli.context import (
    AS_OPTION,
    JSON_OPTION,
    AppContext,
    act_as,
    emit_json,
    emit_table,
    task_code_argument,
)
from supervision.errors import SupervisionError
from supervision.models.users import Role
from supervision.scheduling import lease
from supervision.scheduling.alerts import alert_dict, open_alerts, resolve_alert_id
from supervision.scheduling.config import load_config
from supervision.scheduling.runs import last_runs
from supervision.scheduling.schedules import list_schedules, parse_time, schedule_dict, set_schedule
from supervision.scheduling.seeds import SEED_SOURCES, enter_seed

CONFIG_ENV = "SUPERVISION_SCHEDULER_CONFIG"
CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=CONFIG_ENV,
    default=None,
    help=f"调度配置文件（TOML）/ schedule configuration file (TOML; or ${CONFIG_ENV})",
)


def _t(value: Any) -> str:
    """A time in a table: Beijing time in the one format (``clock.shown``)."""
    return clock.shown(str(value)) if value else ""


@click.group("scheduler")
def scheduler_group() -> None:
    """调度进程：运行与状态 / the scheduler process: run it, see its state."""


@scheduler_group.command("run")
@CONFIG_OPTION
@click.option("-v", "--verbose", is_flag=True, help="详细日志 / debug logging")
@click.pass_obj
def scheduler_run(app: AppContext, config_path: Path | None, verbose: bool) -> None:
    """运行唯一的调度进程（前台）/ run the single scheduler process (foreground).

    \b
    另一个调度进程持有租约时拒绝启动（退出码 3）。
    Refuses to start while another live scheduler holds the lease (exit code 3).
    """
    from supervision.scheduling.service import SchedulerService

    config = load_config(config_path)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("apscheduler").setLevel(logging.DEBUG if verbose else logging.WARNING)
    service = SchedulerService(app.db, config)

    def _stop(signum: int, _frame: Any) -> None:
        # Raised in the main thread: leaves the scheduler's wait; start() then stops it,
        # waiting for running jobs, and gives the lease back.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second signal ends it at once
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        raise _Stopped(signum)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    click.echo(
        f"调度进程 {service.holder} 启动（pid {os.getpid()}，配置 {config.source}）/ "
        f"scheduler {service.holder} starting (config {config.source})",
        err=True,
    )
    try:
        service.start()
    except _Stopped as stop:
        click.echo(f"收到信号 {stop.args[0]}，已停止 / signal {stop.args[0]}: stopped", err=True)
        return
    finally:
        service.stop()
    if service.lease_lost:
        raise SupervisionError(
            "调度进程失去了租约（另一进程已接管），已停止",
            "the scheduler lost its lease (another process took over) and stopped",
        )


class _Stopped(Exception):
    """SIGTERM or SIGINT asked the scheduler to stop."""


@scheduler_group.command("status")
@CONFIG_OPTION
@JSON_OPTION
@click.option(
    "--runs", "limit", default=20, show_default=True, help="显示最近几次运行 / recent runs to show"
)
@click.pass_obj
def scheduler_status(app: AppContext, config_path: Path | None, as_json: bool, limit: int) -> None:
    """任务、下次运行时间、最近运行及结果 / jobs, next run times, last runs and outcomes."""
    from supervision.scheduling.service import stored_jobs

    config = load_config(config_path)
    holder = lease.current_lease(app.db)
    jobs = stored_jobs(app.db)
    with app.db.session() as session:
        runs = [
            {
                "job": r.job,
                "period": r.period,
                "status": r.status,
                "attempts": r.attempts,
                "started_at": clock.local(r.started_at).isoformat(),
                "finished_at": clock.local(r.finished_at).isoformat() if r.finished_at else None,
                "holder": r.holder,
                "result": r.result,
                "error": r.error,
            }
            for r in last_runs(session, limit=limit)
        ]
        schedules = [schedule_dict(s) for s in list_schedules(session)]
        alerts = len(open_alerts(session))
    data = {
        "lease": holder.to_dict() if holder else None,
        "config": config.to_dict(),
        "jobs": jobs,
        "task_schedules": schedules,
        "last_runs": runs,
        "open_alerts": alerts,
    }
    if as_json:
        emit_json(data)
        return
    if holder is None:
        click.echo("调度进程：未运行 / scheduler: not running")
    else:
        state = "运行中 running" if holder.alive() else "已失联 stale"
        click.echo(
            f"调度进程 / scheduler: {holder.holder} — {state}, "
            f"续约 renewed {clock.local(holder.renewed_at):%Y-%m-%d %H:%M:%S}"
        )
    emit_table(
        "调度任务 / jobs",
        ["编号 id", "名称 name", "触发 trigger", "下次运行 next run", "宽限 grace (s)"],
        [
            (
                j["id"],
                j.get("name"),
                j.get("trigger", j.get("error")),
                j.get("next_run_time"),
                j.get("misfire_grace_seconds"),
            )
            for j in jobs
        ],
    )
    emit_table(
        "最近运行 / last runs",
        ["任务 job", "期间 period", "结果 status", "次数 attempts", "完成 finished", "错误 error"],
        [
            (r["job"], r["period"], r["status"], r["attempts"], _t(r["finished_at"]), r["error"])
            for r in runs
        ],
    )
    click.echo(f"未处理提醒 / open alerts: {alerts}（supervision alerts）")


@scheduler_group.command("config")
@CONFIG_OPTION
@click.pass_obj
def scheduler_config(app: AppContext, config_path: Path | None) -> None:
    """检查并显示生效的调度配置 / check and print the effective configuration (JSON)."""
    emit_json(load_config(config_path).to_dict())


# --------------------------------------------------------------------------- schedules
@click.group("schedule")
def schedule_group() -> None:
    """任务排程：锁定时间、公开抽取时间、随机种子 / task schedules: commit, public draw, seed."""


@schedule_group.command("set")
@click.argument("task_code", metavar="TASK", callback=task_code_argument)
@click.option(
    "--commit-at",
    default=None,
    help="锁定时间（可省略：人工锁定）/ commit time (omit: commit by hand)",
)
@click.option(
    "--draw-at", required=True, help="公开抽取时间 / public draw time, e.g. 2026-12-01T09:30"
)
@click.option(
    "--seed-deadline",
    default=None,
    help="随机种子录入截止（默认=抽取时间）/ seed deadline (default: the draw time)",
)
@click.option(
    "--seed-source",
    type=click.Choice(sorted(SEED_SOURCES)),
    default="manual",
    show_default=True,
    help="随机种子来源 / seed source",
)
@AS_OPTION
@click.pass_obj
def schedule_set(
    app: AppContext,
    task_code: str,
    commit_at: str | None,
    draw_at: str,
    seed_deadline: str | None,
    seed_source: str,
    as_user: str | None,
) -> None:
    """设定任务排程；不带时区的时间按北京时间；须以计划人员身份执行（--as）/ schedule a task;
    times without offset are Beijing time; acts as a planner (--as)."""
    actor = act_as(app, as_user, Role.PLANNER)
    tz = clock.LOCAL_TZ
    draw = parse_time(draw_at, tz, "--draw-at")
    deadline = parse_time(seed_deadline, tz, "--seed-deadline") if seed_deadline else draw
    commit = parse_time(commit_at, tz, "--commit-at") if commit_at else None
    with app.db.session() as session:
        schedule = set_schedule(
            session,
            task_code=task_code,
            draw_at=draw,
            seed_deadline=deadline,
            commit_at=commit,
            source=seed_source,
            actor=actor,
        )
        info = schedule_dict(schedule)
    click.echo(
        f"已设定任务 {task_code} 的排程：锁定 {info['commit_at'] or '人工'}，抽取 {info['draw_at']}，"
        f"种子截止 {info['seed_deadline']}（{seed_source}）/ task {task_code} scheduled: "
        f"commit {info['commit_at'] or 'by hand'}, draw {info['draw_at']}, seed deadline {info['seed_deadline']}"
    )


@schedule_group.command("list")
@JSON_OPTION
@click.pass_obj
def schedule_list(app: AppContext, as_json: bool) -> None:
    """列出任务排程 / list task schedules."""
    with app.db.session() as session:
        rows = [schedule_dict(s) for s in list_schedules(session)]
    if as_json:
        emit_json(rows)
        return
    emit_table(
        "任务排程 / task schedules",
        [
            "任务 task",
            "锁定 commit",
            "抽取 draw",
            "种子截止 seed deadline",
            "来源 source",
            "已录入 entered",
            "状态 state",
        ],
        [
            (
                r["task"],
                _t(r["commit_at"]) or "人工 by hand",
                _t(r["draw_at"]),
                _t(r["seed_deadline"]),
                r["seed_source"],
                _t(r["seed_entered_at"]),
                r["state"] or "",
            )
            for r in rows
        ],
    )


@click.group("seed")
def seed_group() -> None:
    """随机种子 / seeds."""


seed_group.add_command(seed_beacon)  # `supervision seed beacon TASK [--from FILE]`


@seed_group.command("enter")
@click.argument("task_code", metavar="TASK", callback=task_code_argument)
@click.argument("seed")
@AS_OPTION
@click.pass_obj
def seed_enter(app: AppContext, task_code: str, seed: str, as_user: str | None) -> None:
    """录入随机种子（锁定之后、抽取之前；须以计划人员身份执行，--as）/ enter a task's seed
    (after the commit, before the draw; acts as a planner, --as).

    \b
    SEED 为 - 时从标准输入读取一行（不留在命令历史中）。
    SEED "-" reads one line from standard input (keeps it out of the shell history).
    """
    actor = act_as(app, as_user, Role.PLANNER)
    if seed == "-":
        seed = sys.stdin.readline().rstrip("\r\n")
    with app.db.session() as session:
        schedule = enter_seed(session, task_code=task_code, seed=seed, actor=actor)
        entered = clock.local(schedule.seed_entered_at or clock.now())
    click.echo(
        f"已录入任务 {task_code} 的随机种子（{entered:%Y-%m-%d %H:%M:%S}），将在抽取时使用 / "
        f"seed of task {task_code} recorded at {entered:%Y-%m-%d %H:%M:%S}; the draw job will use it"
    )


# --------------------------------------------------------------------------- alerts
@click.command("alerts")
@JSON_OPTION
@click.option(
    "--resolve", "resolve_id", type=int, default=None, help="标记某条提醒已处理 / resolve alert ID"
)
@click.pass_obj
def alerts_command(app: AppContext, as_json: bool, resolve_id: int | None) -> None:
    """未处理的提醒 / open alerts."""
    with app.db.session() as session:
        if resolve_id is not None:
            resolve_alert_id(session, alert_id=resolve_id)
            click.echo(f"提醒 {resolve_id} 已标记处理 / alert {resolve_id} resolved")
            return
        rows = [alert_dict(a) for a in open_alerts(session)]
    if as_json:
        emit_json(rows)
        return
    emit_table(
        "未处理提醒 / open alerts",
        ["编号 id", "类别 kind", "对象 object", "提醒 message", "首次 raised", "次数 times"],
        [
            (
                a["id"],
                a["kind"],
                a["object"],
                f"{a['message_zh']}\n{a['message_en']}",
                _t(a["raised_at"]),
                a["times"],
            )
            for a in rows
        ],
    )

"""The alerts of the task jobs (commit and draw) when they cannot do their work on time:
bilingual messages built from the schedule (no I/O)."""

from __future__ import annotations

from datetime import datetime, timedelta

from supervision import clock
from supervision.scheduling.alerts import AlertKind, AlertMessage


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def _at(moment: datetime) -> str:
    return f"{clock.local(moment):%Y-%m-%d %H:%M}"


def commit_missed(code: str, commit_at: datetime, late: timedelta) -> AlertMessage:
    return AlertMessage(
        AlertKind.COMMIT_MISSED,
        code,
        f"任务 {code} 未能按时锁定（计划 {_at(commit_at)}，"
        f"已晚 {_minutes(late)} 分钟），调度不再自动锁定；请人工处理并重新排程",
        f"task {code} was not committed on time (due {_at(commit_at)}, "
        f"{_minutes(late)} min late); the scheduler will not commit it; handle it and reschedule",
    )


def draw_missed(code: str, draw_at: datetime, late: timedelta, grace: timedelta) -> AlertMessage:
    return AlertMessage(
        AlertKind.DRAW_MISSED,
        code,
        f"任务 {code} 的公开抽取时间 {_at(draw_at)} 已错过 {_minutes(late)} 分钟"
        f"（超过宽限 {_minutes(grace)} 分钟），调度不再自动抽取；请重新排程或人工公开抽取",
        f"the public draw of task {code} at {_at(draw_at)} was missed "
        f"by {_minutes(late)} min (grace {_minutes(grace)} min); the scheduler will not draw late; "
        "reschedule it or draw it in public by hand",
    )


def seed_deadline_passed(code: str, seed_deadline: datetime) -> AlertMessage:
    return AlertMessage(
        AlertKind.SEED_DEADLINE_PASSED,
        code,
        f"任务 {code} 到种子录入截止时间 {_at(seed_deadline)} 仍无随机种子，未抽取；请重新排程",
        f"task {code} had no seed by its seed deadline {_at(seed_deadline)}; "
        "not drawn; reschedule it",
    )


def seed_missing(
    code: str, seed_deadline: datetime, not_ready: tuple[str, str], retry_seconds: int
) -> AlertMessage:
    return AlertMessage(
        AlertKind.SEED_MISSING,
        code,
        f"任务 {code} 到抽取时间未能抽取：{not_ready[0]}。将每 {retry_seconds} 秒重试，"
        f"直到 {_at(seed_deadline)}（supervision seed enter {code} 种子）",
        f"task {code} could not be drawn at draw time: {not_ready[1]}. Retrying every "
        f"{retry_seconds} s until {_at(seed_deadline)} "
        f"(supervision seed enter {code} SEED)",
    )

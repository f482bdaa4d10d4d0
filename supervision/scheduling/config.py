"""Schedule configuration: a TOML file, checked in full, with every default written down.

```toml
timezone = "Asia/Shanghai"          # all cron times are read in this zone

[scheduler]
lease_ttl_seconds = 120             # a lease not renewed for this long may be taken over
heartbeat_seconds = 30              # how often the running scheduler renews its lease
sync_seconds = 60                   # how often task schedules are re-read from the database

[jobs.nightly_check]                # one table per recurring job (names in RECURRING_JOBS)
cron = "30 1 * * *"                 # minute hour day month day-of-week (names: mon-fri)
misfire_grace_seconds = 43200       # a run missed by more than this is skipped, with an alert
enabled = true

[tasks]
commit_grace_seconds = 86400        # commit late, but never after the draw time
draw_grace_seconds = 600            # a draw later than this after its time is not made
seed_retry_seconds = 300            # with no seed at draw time, try again this often

[deadlines]
warn_workdays = 3                   # alert when a publication is due within this many working days

[plans]
warn_from_month = 10                # warn of a plan target projected short from this month (1-12)

[site]
out_dir = "site"                    # rebuild the public site here after each publication
languages = "all"                   # zh, en or all; without out_dir the rebuild is skipped
```

Day-of-week numbers are refused: APScheduler 3 counts 0 as Monday where crontab counts
0 as Sunday, so ``1-5`` would silently mean Tuesday to Saturday. Use ``mon-fri``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from supervision.errors import ValidationFailed

DEFAULT_TIMEZONE = "Asia/Shanghai"

#: Recurring jobs: name → (default cron, default grace seconds, zh, en).
RECURRING_JOBS: dict[str, tuple[str, int, str, str]] = {
    "nightly_check": (
        "30 1 * * *",
        12 * 3600,
        "每晚增量合规核查",
        "nightly incremental compliance check",
    ),
    "deadline_watch": ("0 7 * * *", 12 * 3600, "期限监控", "deadline watch"),
    "publish_results": (
        "0 8 * * *",
        12 * 3600,
        "公示已审核结果",
        "publication of approved results",
    ),
    "trail_checkpoint": ("45 0 * * *", 12 * 3600, "每日留痕检查点", "daily trail checkpoint"),
    "plan_watch": ("30 7 * * *", 12 * 3600, "计划覆盖率监控", "plan coverage watch"),
}


@dataclass(frozen=True)
class RecurringJob:
    name: str
    cron: str
    misfire_grace_seconds: int
    enabled: bool = True

    def trigger(self, timezone: str) -> CronTrigger:
        return cron_trigger(self.cron, timezone)


@dataclass(frozen=True)
class TaskTimings:
    commit_grace_seconds: int = 24 * 3600
    draw_grace_seconds: int = 600
    seed_retry_seconds: int = 300


@dataclass(frozen=True)
class SchedulerConfig:
    timezone: str = DEFAULT_TIMEZONE
    lease_ttl_seconds: int = 120
    heartbeat_seconds: int = 30
    sync_seconds: int = 60
    jobs: dict[str, RecurringJob] = field(default_factory=dict)
    tasks: TaskTimings = field(default_factory=TaskTimings)
    warn_workdays: int = 3
    plan_warn_from_month: int = 10
    site_dir: str | None = None
    site_languages: str = "all"
    source: str = "(defaults)"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def enabled_jobs(self) -> list[RecurringJob]:
        return [job for job in self.jobs.values() if job.enabled]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "timezone": self.timezone,
            "scheduler": {
                "lease_ttl_seconds": self.lease_ttl_seconds,
                "heartbeat_seconds": self.heartbeat_seconds,
                "sync_seconds": self.sync_seconds,
            },
            "jobs": {
                name: {
                    "cron": job.cron,
                    "misfire_grace_seconds": job.misfire_grace_seconds,
                    "enabled": job.enabled,
                }
                for name, job in self.jobs.items()
            },
            "tasks": {
                "commit_grace_seconds": self.tasks.commit_grace_seconds,
                "draw_grace_seconds": self.tasks.draw_grace_seconds,
                "seed_retry_seconds": self.tasks.seed_retry_seconds,
            },
            "deadlines": {"warn_workdays": self.warn_workdays},
            "plans": {"warn_from_month": self.plan_warn_from_month},
            "site": {"out_dir": self.site_dir, "languages": self.site_languages},
        }


def default_jobs() -> dict[str, RecurringJob]:
    return {
        name: RecurringJob(name, cron, grace)
        for name, (cron, grace, _, _) in RECURRING_JOBS.items()
    }


_WEEKDAY_NUMBER = re.compile(r"\d")


def cron_trigger(expr: str, timezone: str) -> CronTrigger:
    """A CronTrigger from a 5-field crontab line; raises ValueError (bilingual) if invalid."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(
            f"cron 表达式应有 5 个字段（分 时 日 月 星期），现有 {len(fields)} 个 / "
            f"a cron expression has 5 fields (minute hour day month day-of-week), got {len(fields)}"
        )
    if _WEEKDAY_NUMBER.search(fields[4]):
        raise ValueError(
            f"星期字段请用英文缩写（如 mon-fri），不要用数字：{fields[4]} / "
            f"write day-of-week with names (e.g. mon-fri), not numbers: {fields[4]} "
            "(APScheduler 3 counts 0 as Monday, crontab as Sunday)"
        )
    try:
        return CronTrigger.from_crontab(expr, timezone=timezone)
    except ValueError as exc:
        raise ValueError(
            f"cron 表达式无效：{expr} / invalid cron expression {expr!r}: {exc}"
        ) from None


def _positive_int(
    data: dict[str, Any], key: str, default: int, where: str, problems: list[str]
) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        problems.append(f"{where}.{key}: 应为正整数 / must be a positive integer (got {value!r})")
        return default
    return value


def _unknown(data: dict[str, Any], allowed: set[str], where: str, problems: list[str]) -> None:
    for key in sorted(set(data) - allowed):
        problems.append(f"{where}{key}: 未知配置项 / unknown setting")


def _table(
    data: dict[str, Any], key: str, allowed: set[str] | None, problems: list[str]
) -> dict[str, Any]:
    """Section ``key`` of the file: a table (else a problem and an empty one), whose keys
    must be among ``allowed`` (None: any key, checked by the caller)."""
    section = data.get(key, {})
    if not isinstance(section, dict):
        problems.append(f"{key}: 应为表 / must be a table")
        return {}
    if allowed is not None:
        _unknown(section, allowed, f"{key}.", problems)
    return section


def _parse_jobs(
    data: dict[str, Any], timezone: str, problems: list[str]
) -> dict[str, RecurringJob]:
    """The ``[jobs.*]`` tables over the defaults; problems are appended."""
    jobs = default_jobs()
    given = _table(data, "jobs", None, problems)
    for name, spec in given.items():
        where = f"jobs.{name}"
        if name not in RECURRING_JOBS:
            problems.append(
                f"{where}: 未知任务，可选 {', '.join(RECURRING_JOBS)} / unknown job, "
                f"choose from {', '.join(RECURRING_JOBS)}"
            )
            continue
        if not isinstance(spec, dict):
            problems.append(f"{where}: 应为表 / must be a table")
            continue
        _unknown(spec, {"cron", "misfire_grace_seconds", "enabled"}, f"{where}.", problems)
        base = jobs[name]
        cron = str(spec.get("cron", base.cron))
        try:
            cron_trigger(cron, timezone)
        except ValueError as exc:
            problems.append(f"{where}.cron: {exc}")
        enabled = spec.get("enabled", True)
        if not isinstance(enabled, bool):
            problems.append(f"{where}.enabled: 应为 true 或 false / must be true or false")
            enabled = True
        grace = _positive_int(
            spec, "misfire_grace_seconds", base.misfire_grace_seconds, where, problems
        )
        jobs[name] = replace(base, cron=cron, misfire_grace_seconds=grace, enabled=enabled)
    return jobs


def _parse_site(
    data: dict[str, Any], standard: SchedulerConfig, problems: list[str]
) -> tuple[str | None, Any]:
    """The ``[site]`` table: output folder and languages; problems are appended."""
    site = _table(data, "site", {"out_dir", "languages"}, problems)
    site_dir = site.get("out_dir")
    if site_dir is not None and (not isinstance(site_dir, str) or not site_dir.strip()):
        problems.append("site.out_dir: 应为目录路径 / must be a folder path")
        site_dir = None
    languages = site.get("languages", standard.site_languages)
    if languages not in ("zh", "en", "all"):
        problems.append("site.languages: 应为 zh、en 或 all / must be zh, en or all")
        languages = standard.site_languages
    return site_dir, languages


def parse_config(data: dict[str, Any], source: str = "(config)") -> SchedulerConfig:
    """Check a configuration mapping in full; every problem is listed, in both languages."""
    problems: list[str] = []
    _unknown(
        data, {"timezone", "scheduler", "jobs", "tasks", "deadlines", "plans", "site"}, "", problems
    )
    timezone = data.get("timezone", DEFAULT_TIMEZONE)
    try:
        ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"timezone: 未知时区 / unknown time zone {timezone!r}")
        timezone = DEFAULT_TIMEZONE
    standard = SchedulerConfig()  # the defaults
    sched = _table(
        data, "scheduler", {"lease_ttl_seconds", "heartbeat_seconds", "sync_seconds"}, problems
    )
    ttl = _positive_int(
        sched, "lease_ttl_seconds", standard.lease_ttl_seconds, "scheduler", problems
    )
    heartbeat = _positive_int(
        sched, "heartbeat_seconds", standard.heartbeat_seconds, "scheduler", problems
    )
    sync = _positive_int(sched, "sync_seconds", standard.sync_seconds, "scheduler", problems)
    if heartbeat * 2 > ttl:
        problems.append(
            "scheduler.heartbeat_seconds: 续约间隔应不超过租约时长的一半 / "
            f"the heartbeat ({heartbeat} s) must be at most half the lease TTL ({ttl} s)"
        )
    jobs = _parse_jobs(data, str(timezone), problems)
    tasks = _table(
        data,
        "tasks",
        {"commit_grace_seconds", "draw_grace_seconds", "seed_retry_seconds"},
        problems,
    )
    defaults = standard.tasks
    timings = TaskTimings(
        commit_grace_seconds=_positive_int(
            tasks, "commit_grace_seconds", defaults.commit_grace_seconds, "tasks", problems
        ),
        draw_grace_seconds=_positive_int(
            tasks, "draw_grace_seconds", defaults.draw_grace_seconds, "tasks", problems
        ),
        seed_retry_seconds=_positive_int(
            tasks, "seed_retry_seconds", defaults.seed_retry_seconds, "tasks", problems
        ),
    )
    deadlines = _table(data, "deadlines", {"warn_workdays"}, problems)
    warn = _positive_int(deadlines, "warn_workdays", standard.warn_workdays, "deadlines", problems)
    plans = _table(data, "plans", {"warn_from_month"}, problems)
    from_month = _positive_int(
        plans, "warn_from_month", standard.plan_warn_from_month, "plans", problems
    )
    if from_month > 12:
        problems.append(f"plans.warn_from_month: 应为 1-12 / must be 1-12 (got {from_month})")
        from_month = standard.plan_warn_from_month
    site_dir, languages = _parse_site(data, standard, problems)
    if problems:
        raise ValidationFailed(
            f"调度配置 {source} 有 {len(problems)} 处错误",
            f"the schedule configuration {source} has {len(problems)} problem(s)",
            details=problems,
        )
    return SchedulerConfig(
        timezone=str(timezone),
        lease_ttl_seconds=ttl,
        heartbeat_seconds=heartbeat,
        sync_seconds=sync,
        jobs=jobs,
        tasks=timings,
        warn_workdays=warn,
        plan_warn_from_month=from_month,
        site_dir=site_dir,
        site_languages=str(languages),
        source=source,
    )


def load_config(path: str | Path | None) -> SchedulerConfig:
    """The configuration in a TOML file, or the defaults when no file is given."""
    if path is None:
        return parse_config({}, "(defaults)")
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValidationFailed(
            f"找不到调度配置文件 {file}", f"schedule configuration file {file} not found"
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            f"调度配置文件 {file} 不是有效的 TOML", f"{file} is not valid TOML: {exc}"
        ) from None
    return parse_config(data, str(file))

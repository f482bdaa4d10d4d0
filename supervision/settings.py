"""Every setting read from the environment, in one place: ``Settings``.

Each field is read from ``SUPERVISION_<FIELD NAME IN CAPITALS>`` (``env_name``); the names
are a public contract (deployments set them) and README.md lists them all. An empty value
counts as unset. Command-line options, where a command has one, still win over these.

``settings()`` reads the environment when it is called, not when this module is imported,
so a changed variable is seen by the next call (tests set variables as they go); the parsed
object is reused while the ``SUPERVISION_*`` variables stay the same. A value that cannot be
parsed is a ``SupervisionError`` naming the variable.
"""

from __future__ import annotations

import ipaddress
import os
from decimal import Decimal
from functools import lru_cache
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from supervision.errors import SupervisionError

ENV_PREFIX = "SUPERVISION_"
DEFAULT_DATABASE_URL = "sqlite:///supervision.db"
#: The largest evidence file stored with a result unless $SUPERVISION_EVIDENCE_MAX_BYTES says.
DEFAULT_EVIDENCE_MAX_BYTES = 20 * 1024 * 1024
#: drand's public HTTP endpoints for the League of Entropy mainnet, from its HTTP API reference
#: (https://docs.drand.love/docs/dev-guide/3-4-dev-guide-http-api); see supervision.draw.beacon.
DEFAULT_BEACON_URLS = (
    "https://api.drand.sh,https://api2.drand.sh,https://api3.drand.sh,https://drand.cloudflare.com"
)


class Settings(BaseSettings):
    """The process's settings, from ``SUPERVISION_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_ignore_empty=True, frozen=True)

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="数据库地址（命令行 --db 优先）；PostgreSQL 用 postgresql+psycopg://user@host/db / "
        "database URL (--db wins); PostgreSQL: postgresql+psycopg://user@host/db",
    )
    calendar_file: str | None = Field(
        default=None,
        description="补充日历文件（YAML/JSON，格式见 README“工作日历”），用于包中尚无的年份；"
        "文件改动后重新读取（命令行 --calendar 优先；calendar import 默认写入此文件）/ "
        "extra-days calendar file (YAML/JSON, format in README) for years the package does not "
        "know yet; read again when the file changes (--calendar wins; calendar import writes it)",
    )
    checklists_dir: str | None = Field(
        default=None,
        description="检查实施细则目录（一细则，默认为随包提供的 checklists/）；录入带检查表答案的结果时从这里读取细则 / "
        "inspection checklists folder (default: the shipped checklists/); results entered with checklist answers read their checklist from it",
    )
    credit_reasons_file: str | None = Field(
        default=None,
        description="名录列入、移出理由目录的补充文件（YAML/JSON，按代码替换或增加随包理由）/ "
        "extra listing and removal reasons (YAML/JSON), replacing or adding to the built-in "
        "catalogue by code",
    )
    evidence_max_bytes: int = Field(
        default=DEFAULT_EVIDENCE_MAX_BYTES,
        description="检查结果证据文件的大小上限（字节）/ "
        "the largest evidence file stored with an inspection result, in bytes",
    )
    site_dir: str | None = Field(
        default=None,
        description="控制台在 /site/ 提供的公示网站目录（supervision serve 为其工作进程设置）/ "
        "published site directory the console serves at /site/ "
        "(supervision serve sets it for its workers)",
    )
    console_threads: int | None = Field(
        default=None,
        description="控制台处理数据库调用的线程数（未设：anyio 默认 40；supervision serve 为其"
        "工作进程设置）/ console worker threads for database calls (unset: anyio's 40; "
        "supervision serve sets it for its workers)",
    )
    secure_cookies: bool = Field(
        default=False,
        description="任何非空值：会话 Cookie 带 Secure 标记（HTTPS 反向代理之后）；supervision serve "
        "为其工作进程设置 / any non-empty value: the session cookie is Secure (behind an "
        "HTTPS reverse proxy); supervision serve sets it for its workers",
    )
    scheduler_config: str | None = Field(
        default=None,
        description="调度配置文件（TOML），供 supervision scheduler run/status/config 使用"
        "（命令行 --config 优先）/ scheduler configuration file (TOML) for supervision "
        "scheduler run/status/config (--config wins)",
    )
    beacon_urls: str = Field(
        default=DEFAULT_BEACON_URLS,
        description="drand 公共随机信标的 HTTP 端点，逗号分隔，依次尝试 / drand HTTP endpoints, "
        "comma-separated, tried in turn",
    )
    beacon_timeout: float = Field(
        default=5.0,
        gt=0,
        description="向每个 drand 端点请求的超时（秒）/ timeout of each request to a drand endpoint, "
        "in seconds",
    )
    beacon_margin: int = Field(
        default=600,
        ge=0,
        description="以信标为种子的任务锁定时，所选轮次至少要在锁定时间之后多少秒 / how many "
        "seconds after the commit the committed beacon round must lie, at least",
    )

    publishing_authority: str = Field(
        default="",
        max_length=100,
        description="公示网站的发布机关（如 内蒙古自治区市场监督管理局），显示在页眉、页脚、订阅源和开放数据"
        "说明中 / the publishing authority of the public site (e.g. 内蒙古自治区市场监督管理局), "
        "shown in its header, footer, feed and open-data metadata",
    )

    trusted_proxies: str = Field(
        default="",
        description="可信反向代理的地址或网段，逗号分隔（如 127.0.0.1,10.0.0.0/8）；只有来自这些地址的请求的 "
        "X-Forwarded-For / X-Forwarded-Proto 才被采信（用于登录限流和留痕中的客户端地址）；未设：不信任任何代理 / "
        "addresses or networks of trusted reverse proxies, comma-separated (e.g. "
        "127.0.0.1,10.0.0.0/8); X-Forwarded-For / X-Forwarded-Proto are believed only from "
        "them (the client address of the sign-in throttle and the trail); unset: no proxy is "
        "trusted",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                ipaddress.ip_network(part.strip(), strict=False)  # ValueError: not an address
        return value

    @property
    def trusted_proxy_list(self) -> list[str]:
        """The trusted proxies as a list (empty: none)."""
        return [part.strip() for part in self.trusted_proxies.split(",") if part.strip()]

    annual_report_first_year: int = Field(
        default=2013,
        description="最早要求年报的报告年度（只导入近年年报的局可以调后）；成立当年的年报在次年报送 / "
        "the first report year checked (a bureau importing only recent reports can move it "
        "later); the report for the year of establishment is filed the year after",
    )
    yearly_inspection_cap: int | None = Field(
        default=None,
        ge=1,
        description="每户每个自然年度接受抽查的次数上限（跨任务、跨部门，联合抽查计一次）；锁定任务时排除已达上限的"
        "主体 / the most inspections of one entity in a calendar year, across tasks and "
        "departments (a joint task counts once); committing a task excludes entities at the cap",
    )
    key_item_min_ratio: Decimal | None = Field(
        default=None,
        gt=0,
        le=1,
        description="重点检查事项的最低抽查比例（如 0.05）：含重点事项的任务，每个风险类别的比例都不得低于它，否则拒绝锁定 / "
        "the lowest sampling ratio for key items (重点检查事项, e.g. 0.05): committing a task "
        "with a key item and any risk class's ratio below it is refused",
    )
    user: str | None = Field(
        default=None,
        description="命令行以哪个控制台用户身份执行修改数据的命令（命令行 --as/--by 优先）/ the "
        "console user the command line acts as for commands that change data (--as/--by wins)",
    )

    @field_validator("secure_cookies", mode="before")
    @classmethod
    def _any_value_is_on(cls, value: Any) -> Any:
        # Any non-empty value turns it on, as it always has ("1" from supervision serve).
        return bool(value) if isinstance(value, str) else value


#: What a field's value must look like, for the error when it does not.
_EXPECTED: dict[str, tuple[str, str]] = {
    "evidence_max_bytes": ("必须是字节数（整数）", "must be a number of bytes"),
    "console_threads": ("必须是线程数（整数）", "must be a number of threads"),
    "beacon_timeout": ("必须是正的秒数", "must be a positive number of seconds"),
    "beacon_margin": ("必须是非负的秒数（整数）", "must be a whole number of seconds, 0 or more"),
    "trusted_proxies": (
        "必须是逗号分隔的 IP 地址或网段",
        "must be comma-separated IP addresses or networks",
    ),
    "annual_report_first_year": ("必须是年份（整数）", "must be a year"),
    "yearly_inspection_cap": ("必须是正整数", "must be a positive whole number"),
    "key_item_min_ratio": ("必须是大于 0、不大于 1 的比例", "must be a ratio above 0, at most 1"),
}


def env_name(field: str) -> str:
    """The environment variable a ``Settings`` field is read from."""
    return f"{ENV_PREFIX}{field.upper()}"


def settings() -> Settings:
    """The settings as the environment has them now."""
    return _parsed(
        tuple(
            sorted(
                (k.upper(), v) for k, v in os.environ.items() if k.upper().startswith(ENV_PREFIX)
            )
        )
    )


@lru_cache(maxsize=8)
def _parsed(_environment: tuple[tuple[str, str], ...]) -> Settings:
    """``Settings()`` for one state of the ``SUPERVISION_*`` variables (the cache key)."""
    try:
        return Settings()
    except ValidationError as exc:
        errors = exc.errors()
    zh, en = [], []
    for error in errors:
        field = str(error["loc"][0]) if error["loc"] else ""
        name, value = env_name(field), error.get("input")
        expected_zh, expected_en = _EXPECTED.get(field, ("的值无效", "has an invalid value"))
        zh.append(f"环境变量 {name} {expected_zh}：{value!r}")
        en.append(f"environment variable {name} {expected_en}: {value!r}")
    raise SupervisionError(
        "；".join(zh), "; ".join(en), details=[str(error["msg"]) for error in errors]
    )

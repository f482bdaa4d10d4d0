"""click's own errors (a missing argument, an unknown option or command, a bad value) in
Chinese and English, like every other error of the command line.

``bilingual`` turns a ``click.UsageError`` into a ``BilingualUsageError`` that shows the
usage line, where to find help, then ``错误：…`` and ``Error: …``; the exit code stays 2.
The top-level group applies it to its own parsing and to every subcommand's.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import IO, Any

import click
from click.exceptions import (
    BadArgumentUsage,
    BadOptionUsage,
    BadParameter,
    MissingParameter,
    NoSuchOption,
    UsageError,
)

__all__ = ["BilingualUsageError", "bilingual"]

_KIND_ZH = {"argument": "参数", "option": "选项", "parameter": "参数"}
_NO_SUCH_COMMAND = re.compile(r"^No such command '(?P<name>.*)'\.$")


class BilingualUsageError(UsageError):
    """A usage error said in Chinese, then English."""

    def __init__(self, zh: str, en: str, ctx: click.Context | None) -> None:
        super().__init__(en, ctx)
        self.zh = zh

    def show(self, file: IO[Any] | None = None) -> None:
        def say(line: str) -> None:
            click.echo(line, file=file, err=file is None)

        if self.ctx is not None:
            say(self.ctx.get_usage())
            if self.ctx.command.get_help_option(self.ctx) is not None:
                names = self.ctx.command.get_help_option_names(self.ctx)
                say(f"帮助 / help: {self.ctx.command_path} {max(names, key=len)}")
            say("")
        say(f"错误：{self.zh}")
        say(f"Error: {self.format_message()}")


def _hint(exc: MissingParameter | BadParameter) -> str:
    hint = exc.param_hint
    if hint is None and exc.param is not None and exc.ctx is not None:
        hint = exc.param.get_error_hint(exc.ctx)
    if isinstance(hint, str):
        return hint
    if hint:
        return " / ".join(f"'{h}'" for h in hint)
    return ""


#: click's usual value messages, in Chinese (anything else is kept in English).
_VALUE_ZH: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(?P<v>'.*') is not a valid integer\.?$"), "{v} 不是整数"),
    (re.compile(r"^(?P<v>'.*') is not a valid float\.?$"), "{v} 不是数字"),
    (re.compile(r"^(?P<v>'.*') is not one of (?P<c>.*)\.$"), "{v} 不是可选值（{c}）之一"),
    (re.compile(r"^(?P<v>.*) is not in the range (?P<c>.*)\.$"), "{v} 不在范围 {c} 之内"),
    (re.compile(r"^(?P<v>.*) is not (?P<c>[<>]=? ?-?\d+)\.$"), "{v} 应当 {c}"),
    (re.compile(r"^(?:File|Path|Directory) (?P<v>'.*') does not exist\.$"), "{v} 不存在"),
    (re.compile(r"^(?:File|Path) (?P<v>'.*') is a directory\.$"), "{v} 是文件夹，不是文件"),
    (re.compile(r"^(?:Directory|Path) (?P<v>'.*') is a file\.$"), "{v} 是文件，不是文件夹"),
    (re.compile(r"^Option (?P<v>'.*') requires an argument\.$"), "选项 {v} 需要一个值"),
    (re.compile(r"^Option (?P<v>'.*') requires (?P<c>\d+) arguments\.$"), "选项 {v} 需要 {c} 个值"),
    (re.compile(r"^Got unexpected extra arguments? \((?P<v>.*)\)$"), "多余的参数：{v}"),
)


def _value_zh(message: str) -> str:
    for pattern, zh in _VALUE_ZH:
        found = pattern.match(message)
        if found is not None:
            return zh.format(**found.groupdict())
    return message


def _suggest(name: str, choices: Iterable[str]) -> list[str]:
    return difflib.get_close_matches(name, sorted(choices), n=3, cutoff=0.5)


def bilingual(exc: UsageError) -> UsageError:
    """The same error in both languages (an already bilingual one is returned as is)."""
    if isinstance(exc, BilingualUsageError):
        return exc
    en = exc.format_message()
    ctx = exc.ctx
    if isinstance(exc, MissingParameter):
        kind = exc.param_type or (exc.param.param_type_name if exc.param else "parameter")
        zh = f"缺少{_KIND_ZH.get(kind, '参数')} {_hint(exc)}".rstrip()
    elif isinstance(exc, NoSuchOption):
        zh = f"没有选项 {exc.option_name}"
        if exc.possibilities:
            zh += f"；您是不是要用：{'、'.join(sorted(exc.possibilities))}"
    elif isinstance(exc, BadParameter):
        zh = f"{_hint(exc)} 的值无效：{_value_zh(exc.message)}"
    elif isinstance(exc, BadOptionUsage | BadArgumentUsage):
        zh = _value_zh(exc.message)
    elif (found := _NO_SUCH_COMMAND.match(en)) is not None:
        name = found.group("name")
        zh = f"没有命令 {name}"
        group = ctx.command if ctx is not None else None
        if isinstance(group, click.Group) and ctx is not None:
            near = _suggest(name, group.list_commands(ctx))
            if near:
                zh += f"；您是不是要用：{'、'.join(near)}"
                en += f" Did you mean: {', '.join(near)}?"
    else:
        zh = _value_zh(en)
        if zh == en:
            zh = f"命令行用法有误：{en}"
    return BilingualUsageError(zh, en, ctx)

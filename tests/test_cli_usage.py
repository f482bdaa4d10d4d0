"""click's own errors are bilingual like every other error of the command line."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from supervision.cli import main


@pytest.mark.parametrize(
    ("argv", "zh", "en"),
    [
        (["import"], "错误：缺少参数", "Error: Missing argument"),
        (["task", "show"], "错误：缺少参数 'TASK_CODE'", "Missing argument 'TASK_CODE'"),
        (["review", "list", "--bogus"], "错误：没有选项 --bogus", "No such option '--bogus'"),
        (["--bogus"], "错误：没有选项 --bogus", "No such option"),
        (["revew"], "错误：没有命令 revew；您是不是要用：review", "Did you mean: review"),
        (["review", "list", "--limit", "x"], "'x' 不是整数", "'x' is not a valid integer"),
        (["review", "list", "--severity", "xx"], "'xx' 不是可选值", "is not one of"),
        (["list", "entities", "--limit", "0"], "不在范围", "is not in the range"),
        (["import", "entities", "x.csv", "--encoding"], "选项 '--encoding' 需要一个值", "requires"),
        (["review", "list", "extra"], "多余的参数：extra", "unexpected extra argument"),
    ],
)
def test_usage_errors_are_bilingual(argv: list[str], zh: str, en: str) -> None:
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 2, result.output
    assert zh in result.stderr and en in result.stderr, result.stderr
    if "requires" not in en:  # click gives that one without its command
        assert "Usage:" in result.stderr and "--help" in result.stderr
    assert "Traceback" not in result.stderr

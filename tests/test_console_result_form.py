"""The result form in a real browser (Chromium via Playwright, JavaScript on) offers only
what the chosen code allows (results' CODE_RULES): its sub-codes and follow-ups, with
the finding and the follow-up reference required when the table says so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import site_support as s
from test_console_support import PASSWORD, ConsoleServer, build_console

from supervision.db import Database
from supervision.reference.result_codes import CODE_RULES, FOLLOW_UPS, SUB_CODES

pytestmark = pytest.mark.slow


def _enabled(page: Any, select: str) -> list[str]:
    return [
        str(v)
        for v in page.eval_on_selector_all(
            f"{select} option", "os => os.filter(o => !o.disabled).map(o => o.value)"
        )
        if v
    ]


def test_the_form_offers_only_what_the_code_allows(
    browser: Any, db: Database, tmp_path: Path
) -> None:
    data = build_console(db, tmp_path)
    with ConsoleServer(db) as base:
        context = browser.new_context(java_script_enabled=True)
        page = context.new_page()
        page.goto(f"{base}/login")
        page.fill("#username", "inspector")
        page.fill("#password", PASSWORD)
        page.click("form.login button[type=submit]")
        page.wait_for_load_state()
        page.goto(f"{base}/inspector/result?task={s.TASK}&uscc={data['inspector_uscc']}")
        for code, rule in CODE_RULES.items():
            page.select_option("#code-0", code)
            assert _enabled(page, "#sub-0") == list(rule.sub_codes), code
            assert _enabled(page, "#fu-0") == list(rule.follow_ups), code
            assert page.eval_on_selector("#finding-0", "e => e.required") == (
                rule.finding_min > 0
            ), code
            assert page.eval_on_selector("#sub-0", "e => e.required") == rule.sub_code_required
            chosen = page.eval_on_selector("#fu-0", "e => e.value")
            assert chosen in rule.follow_ups, code
        page.select_option("#code-0", "A")
        page.select_option("#fu-0", "penalty")
        assert page.eval_on_selector("#fur-0", "e => e.required") is True
        page.select_option("#fu-0", "routine")
        assert page.eval_on_selector("#fur-0", "e => e.required") is False
        assert set(SUB_CODES) == set(CODE_RULES["A"].sub_codes)
        assert set(CODE_RULES["A"].follow_ups) < set(FOLLOW_UPS)
        context.close()

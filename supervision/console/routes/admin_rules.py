"""The rule pack (admin): the pack in use, each rule, lint and example tests, candidate packs.

The pack in use is the console's ``rules_dir`` (``create_app(rules_dir=...)``), else the
shipped ``rules/`` pack, which is also what ``supervision check`` and the scheduler use by
default. There is no stored "active pack" to switch, so the console shows and tests packs
but never replaces one: a new pack is deployed as files, as before.

Lint and the example tests are ``lint_pack`` and ``run_examples`` (``supervision rules
lint|test``) on the real durable-rules engine. A candidate pack (one YAML file, or a zip
of a pack folder) is unpacked into a temporary directory and linted, tested and dry-run
against the stored records with ``checks.run.dry_run`` (``supervision check --dry-run``):
per rule, findings new / gone / unchanged against the open ones, in a transaction that
is rolled back. None of this changes anything, so none of it is a trail event (the trail
records changes; ``check --dry-run`` and ``rules lint|test`` record nothing either).

Engine work (examples, dry runs) runs one at a time per console process: a durable-rules
engine is not thread-safe, and a second request is told to retry instead of queueing.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import textwrap
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from supervision import clock
from supervision.console.deps import AdminUser, DbDep, RulesDir
from supervision.console.pages import render
from supervision.console.routes.admin_uploads import (
    MAX_PACK_BYTES,
    extract_pack_zip,
    form_text,
    form_upload,
    safe_name,
    save_upload,
    upload_guard,
)
from supervision.db import Database, table_of
from supervision.errors import NotFoundError, SupervisionError
from supervision.models import CheckRun
from supervision.models.findings import SEVERITY_ZH
from supervision.rules.pack import Rule, RulePack, default_rules_dir, lint_pack
from supervision.rules.yamlsrc import load_located

router = APIRouter()
GUARD = upload_guard(MAX_PACK_BYTES)
PACK_TYPES = (".yaml", ".yml", ".zip")

_ENGINE = threading.Lock()


@contextmanager
def engine_turn() -> Iterator[None]:
    """Hold the console's one engine slot, or refuse at once when it is taken."""
    if not _ENGINE.acquire(blocking=False):
        raise SupervisionError(
            "另一项规则测试或试运行正在进行，请稍后再试",
            "another rule test or dry run is running; try again shortly",
        )
    try:
        yield
    finally:
        _ENGINE.release()


async def _pack_root(configured: RulesDir) -> Path:
    """The pack in use: the console's configured rules_dir, else the shipped pack."""
    return configured if configured is not None else default_rules_dir()


#: The rule pack in use (a route dependency).
PackRoot = Annotated[Path, Depends(_pack_root)]


# ---------------------------------------------------------------- what the pack says
def rule_summary(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "version": rule.version,
        "title_zh": rule.title_zh,
        "title_en": rule.title_en,
        "department": rule.department,
        "severity": rule.severity,
        "legal_basis": [{"law": b.law, "article": b.article} for b in rule.legal_basis],
        "result_code": rule.result_code,
        "effective_from": rule.effective_from.isoformat(),
        "effective_to": rule.effective_to.isoformat() if rule.effective_to else None,
        "examples": len(rule.examples),
        "file": rule.file,
        "line": rule.line,
    }


def last_run(db: Database) -> dict[str, Any] | None:
    """The latest check run's pack digest, to tell whether the stored findings used this pack."""
    with db.engine.connect() as conn:
        table = table_of(CheckRun)
        row = conn.execute(
            select(table.c.id, table.c.pack_digest, table.c.as_of, table.c.started_at)
            .order_by(table.c.id.desc())
            .limit(1)
        ).first()
    if row is None:
        return None
    return {"id": row.id, "pack_digest": row.pack_digest, "as_of": row.as_of.isoformat(),
            "started_at": row.started_at}  # fmt: skip


def pack_overview(db: Database, root: Path) -> dict[str, Any]:
    """The pack in use: root, digest, files and every rule (or its lint errors)."""
    report = lint_pack(root)
    pack = report.pack
    return {
        "root": str(root),
        "ok": report.ok,
        "digest": pack.digest if pack else None,
        "files": report.files,
        "rules": [rule_summary(r) for r in pack.rules] if pack else [],
        "issues": report.to_dict()["issues"],
        "last_run": last_run(db),
    }


def rule_source(root: Path, rule: Rule) -> tuple[str, str]:
    """The rule as written in its file, and its ``when:`` block (comments kept)."""
    lines = (root / rule.file).read_text(encoding="utf-8").splitlines()
    located = load_located("\n".join(lines))
    rules = located.value.get("rules", []) if isinstance(located.value, dict) else []
    index = next(
        (i for i, r in enumerate(rules) if isinstance(r, dict) and r.get("id") == rule.id), None
    )
    if index is None:  # cannot happen for a rule that was just linted from this file
        return "", ""
    start = located.lines[("rules", index)]
    end = located.lines[("rules", index + 1)] - 1 if index + 1 < len(rules) else len(lines)
    keys = list(rules[index])
    when_start = located.lines.get(("rules", index, "when"), start)
    later = [
        located.lines[("rules", index, k)]
        for k in keys
        if located.lines.get(("rules", index, k), 0) > when_start
    ]
    when_end = min(later) - 1 if later else end

    def block(first: int, last: int) -> str:
        chunk = lines[first - 1 : last]
        while chunk and not chunk[-1].strip():
            chunk.pop()
        # A "- id:" first line is indented like the keys below it once the dash is a space.
        text = "\n".join(chunk)
        return textwrap.dedent(text.replace("- ", "  ", 1) if first == start else text)

    return block(start, end), block(when_start, when_end)


def rule_detail(root: Path, rule_id: str) -> dict[str, Any]:
    """One rule of the pack in use: its fields, its source and condition, its examples."""
    report = lint_pack(root)
    if report.pack is None:
        raise SupervisionError(
            "使用中的规则包有错误，无法显示规则", "the pack in use has errors; rules cannot be shown",
            details=[str(i) for i in report.issues],
        )  # fmt: skip
    try:
        rule = report.pack.rule(rule_id)
    except KeyError:
        raise NotFoundError(
            f"规则包中没有规则 {rule_id}", f"no rule {rule_id} in the pack"
        ) from None
    source, when = rule_source(root, rule)
    examples = [
        {"name": e.name, "line": e.line, "facts": list(e.facts),
         "expect": None if e.expect is None else [list(g) for g in e.expect]}
        for e in rule.examples
    ]  # fmt: skip
    return rule_summary(rule) | {
        "description": rule.description,
        "params": rule.params,
        "on_confirm": rule.on_confirm,
        "source": source,
        "when_source": when,
        "example_list": examples,
        "digest": report.pack.digest,
    }


# ---------------------------------------------------------------- lint, test, dry run
def lint_result(root: Path, label: str | None = None) -> dict[str, Any]:
    """``supervision rules lint``: every problem with file, line and key."""
    return lint_pack(root).to_dict(label)


def example_results(pack: RulePack) -> dict[str, Any]:
    """``supervision rules test``: every example on the real engine, pass or fail."""
    from supervision.rules.examples import run_examples  # the engine: loaded when used

    with engine_turn():
        results = run_examples(pack)
    failed = sum(1 for r in results if not r.passed)
    return {"ok": not failed, "passed": len(results) - failed, "failed": failed,
            "examples": [r.to_dict() for r in results]}  # fmt: skip


def lint_and_test(root: Path) -> dict[str, Any]:
    """Lint, then (when the pack is sound) run every example."""
    report = lint_pack(root)  # one lint: it compiles every condition on the engine
    tests = example_results(report.pack) if report.ok and report.pack else None
    return {"lint": report.to_dict(), "tests": tests}


def dry_run_result(db: Database, pack: RulePack, as_of: dt.date) -> dict[str, Any]:
    """``supervision check --dry-run``: per rule new / gone / unchanged, nothing written."""
    from supervision.checks.dry_run import dry_run  # the check machinery: loaded when used

    with engine_turn():
        report = dry_run(db, pack=pack, as_of=as_of, workers=1)
    return report.to_dict()


def compare_packs(current: RulePack | None, candidate: RulePack) -> list[dict[str, Any]]:
    """Rule by rule: added, removed, new version, changed at the same version, unchanged."""
    old = {r.id: r for r in current.rules} if current else {}
    new = {r.id: r for r in candidate.rules}
    out = []
    for rule_id in sorted(old.keys() | new.keys()):
        a, b = old.get(rule_id), new.get(rule_id)
        if a is None:
            change = "added"
        elif b is None:
            change = "removed"
        elif a.version != b.version:
            change = "version"
        elif (a.condition, a.params, a.effective_from, a.effective_to, a.severity,
              a.result_code) != (b.condition, b.params, b.effective_from, b.effective_to,
                                 b.severity, b.result_code):  # fmt: skip
            change = "changed_same_version"
        else:
            change = "unchanged"
        out.append({"id": rule_id, "change": change,
                     "old_version": a.version if a else None,
                     "new_version": b.version if b else None})  # fmt: skip
    return out


CHANGE_ZH = {
    "added": ("新增", "added"),
    "removed": ("删除", "removed"),
    "version": ("新版本", "new version"),
    "changed_same_version": ("内容改变但版本未变", "changed without a new version"),
    "unchanged": ("未变", "unchanged"),
}


def check_candidate(
    db: Database, root: Path, current_root: Path, *, name: str, run_tests: bool,
    run_dry: bool, as_of: dt.date,
) -> dict[str, Any]:  # fmt: skip
    """Lint a candidate pack unpacked at `root`; if sound, test it and dry-run it."""
    report = lint_pack(root)
    lint = report.to_dict(name)
    out: dict[str, Any] = {"lint": lint, "tests": None, "dry_run": None, "changes": None}
    if report.pack is None:
        return out
    current = lint_pack(current_root).pack
    out["changes"] = compare_packs(current, report.pack)
    out["current_digest"] = current.digest if current else None
    if run_tests:
        out["tests"] = example_results(report.pack)
    if run_dry:
        out["dry_run"] = dry_run_result(db, report.pack, as_of)
    return out


def _parse_day(text: str) -> dt.date:
    if not text:
        return clock.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise SupervisionError(
            f"检查日期 {text} 无效，应为 YYYY-MM-DD", f"invalid as-of date {text}: use YYYY-MM-DD"
        ) from None


def _checked(value: str) -> bool:
    return value in ("1", "on", "true", "yes")


async def receive_candidate(request: Request, db: Database, current: Path) -> dict[str, Any]:
    """Read the multipart form, unpack the candidate into a temp dir, check it there."""
    form = await request.form()  # closed by the upload guard, however the request ends
    upload = form_upload(form)
    name = safe_name(upload.filename, PACK_TYPES)
    as_of = _parse_day(form_text(form, "as_of"))
    run_tests = _checked(form_text(form, "test", "1"))
    run_dry = _checked(form_text(form, "dry_run", "1"))
    with tempfile.TemporaryDirectory(prefix="sv-pack-") as tmp:
        pack_dir = Path(tmp) / "pack"
        pack_dir.mkdir()
        skipped: list[str] = []
        if name.lower().endswith(".zip"):
            archive = Path(tmp) / "upload.zip"
            await save_upload(upload, archive, MAX_PACK_BYTES)
            skipped = await run_in_threadpool(extract_pack_zip, archive, pack_dir)
        else:
            await save_upload(upload, pack_dir / name, MAX_PACK_BYTES)
        result = await run_in_threadpool(
            partial(check_candidate, db, pack_dir, current, name=name, run_tests=run_tests,
                    run_dry=run_dry, as_of=as_of)
        )  # fmt: skip
    return result | {"name": name, "skipped": skipped, "as_of": as_of.isoformat()}


def _report_page(request: Request, title: tuple[str, str], result: dict[str, Any]) -> HTMLResponse:
    shown: dict[str, Any] = {
        "name": None,
        "skipped": [],
        "changes": None,
        "tests": None,
        "dry_run": None,
    }
    return render(request, "console/admin_rules_report.html", title=title,
                  result=shown | result, change_zh=CHANGE_ZH)  # fmt: skip


# ---------------------------------------------------------------- pages
@router.get("/admin/rules", response_class=HTMLResponse)
def rules_page(request: Request, db: DbDep, root: PackRoot, who: AdminUser) -> HTMLResponse:
    """The pack in use: digest and every rule; lint and test buttons; candidate upload."""
    data = pack_overview(db, root)
    return render(request, "console/admin_rules.html", pack=data, severity_zh=SEVERITY_ZH,
                  today=clock.today().isoformat())  # fmt: skip


@router.get("/admin/rules/rule", response_class=HTMLResponse)
def rule_page(request: Request, id: str, root: PackRoot, who: AdminUser) -> HTMLResponse:
    """One rule: fields, legal basis, its condition as written, its examples."""
    data = rule_detail(root, id)
    return render(request, "console/admin_rule.html", rule=data, severity_zh=SEVERITY_ZH)


@router.post("/admin/rules/lint", response_class=HTMLResponse)
def lint_form(request: Request, root: PackRoot, who: AdminUser) -> HTMLResponse:
    """Lint the pack in use (schema, legal basis, a real durable-rules compile)."""
    lint = lint_result(root)
    return _report_page(request, ("规则检查", "Lint"), {"lint": lint})


@router.post("/admin/rules/test", response_class=HTMLResponse)
def test_form(request: Request, root: PackRoot, who: AdminUser) -> HTMLResponse:
    """Run every example of the pack in use on the real engine."""
    result = lint_and_test(root)
    return _report_page(request, ("示例测试", "Example tests"), result)


@router.post("/admin/rules/candidate", response_class=HTMLResponse)
async def candidate_form(
    request: Request,
    _size: Annotated[None, Depends(GUARD)],
    db: DbDep,
    root: PackRoot,
    who: AdminUser,
) -> HTMLResponse:
    """Lint, test and dry-run an uploaded candidate pack; nothing is written or replaced."""
    result = await receive_candidate(request, db, root)
    return _report_page(request, ("候选规则包", "Candidate pack"), result)

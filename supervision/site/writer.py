"""The output folder of a publish: files written only when their content changed.

The folder holds ``.manifest.json``: the SHA-256 of every file the publisher wrote, by
path, and of every page's context. A page whose context (and the templates, catalogs
and site code: ``renderer_fingerprint``) is unchanged is not even rendered; any other page
is rendered, hashed and written only when its hash differs from the manifest's (or the
file is gone); files the site no longer has are removed. So a republish with nothing
changed writes nothing, not even the manifest.

Every file is written atomically: into a temporary file under ``.publishing/`` in the
output folder (the same file system), then renamed over the old one, so a reader (or a
publish killed with ``kill -9``) sees the old page or the new one, never a cut or empty
one. The manifest is written last, the same way. Temporary files of a killed publish are
removed by the next one.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supervision import clock
from supervision.paths import templates_dir
from supervision.reference import vocab
from supervision.site import i18n
from supervision.site.opendata import STAMP

MANIFEST = ".manifest.json"
MANIFEST_VERSION = 1
STAGING = ".publishing"  # temporary files, renamed into place (see the module docstring)


@dataclass
class PublishReport:
    """What a publish did: pages rendered, files written, unchanged and removed."""

    out_dir: str
    languages: list[str]
    pages: int = 0
    files: int = 0
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    seconds: float = 0.0
    written_paths: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)
    # tasks left off the site: their folder is an earlier task's (site.data._load_tasks)
    withheld: list[dict[str, str]] = field(default_factory=list)

    def withheld_message(self) -> tuple[str, str] | None:
        """Chinese and English lines naming the withheld tasks, or None."""
        if not self.withheld:
            return None
        names = "、".join(f"{w['code']}（与 {w['clashes_with']} 目录相同）" for w in self.withheld)
        names_en = "; ".join(
            f"{w['code']} (same folder as {w['clashes_with']})" for w in self.withheld
        )
        return (
            f"以下任务未发布到公示网站，其余内容已发布：{names}",
            f"these tasks were left off the public site, everything else was published: {names_en}",
        )

    def lap(self, phase: str, since: float) -> float:
        """Record the seconds spent in `phase` since `since`; returns now."""
        now = time.perf_counter()
        self.phases[phase] = round(self.phases.get(phase, 0.0) + now - since, 3)
        return now

    def as_dict(self) -> dict[str, Any]:
        return {
            "out_dir": self.out_dir,
            "languages": self.languages,
            "pages": self.pages,
            "files": self.files,
            "written": self.written,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "seconds": round(self.seconds, 3),
            "phases": self.phases,
            "withheld": self.withheld,
        }


class SiteWriter:
    """Writes files into the output folder when their content hash changed."""

    def __init__(self, root: Path, report: PublishReport, *, keep_paths: bool = False) -> None:
        self.root = root
        self.report = report
        self.keep_paths = keep_paths
        path = root / MANIFEST
        self.old: dict[str, str] = {}
        self.old_exports: dict[str, str] = {}
        self.fairness: dict[str, Any] = {}
        self.old_contexts: dict[str, str] = {}
        self.contexts: dict[str, str] = {}
        if path.is_file():
            try:
                stored = json.loads(path.read_text(encoding="utf-8"))
                if stored.get("version") == MANIFEST_VERSION:
                    self.old = dict(stored.get("files", {}))
                    self.old_exports = dict(stored.get("exports", {}))
                    self.fairness = dict(stored.get("fairness", {}))
                    if stored.get("renderer") == renderer_fingerprint():
                        self.old_contexts = dict(stored.get("contexts", {}))
            except (OSError, ValueError):
                self.old = {}
        self.files: dict[str, str] = {}
        self.exports: dict[str, str] = {}
        self._dirs: set[str] = set()
        self.staging = root / STAGING
        _remove_stale_staging(self.staging)
        self._serial = 0

    def _write(self, path: str, content: bytes) -> None:
        target = self.root / path
        parent = os.path.dirname(path)
        if parent not in self._dirs:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._dirs.add(parent)
        write_atomically(target, content, self._temporary())
        self.report.written += 1
        if self.keep_paths:
            self.report.written_paths.append(path)

    def emit(self, path: str, content: bytes) -> None:
        """Write `content` at `path` unless the same content is already there."""
        digest = hashlib.sha256(content).hexdigest()
        self.files[path] = digest
        self.report.files += 1
        if self.old.get(path) == digest and os.path.exists(self.root / path):
            self.report.unchanged += 1
            return
        self._write(path, content)

    def emit_stamped(self, path: str, content: bytes) -> None:
        """Like emit, but the hash ignores the extract time, filled in only when written."""
        digest = hashlib.sha256(content).hexdigest()
        self.files[path] = digest
        self.report.files += 1
        if self.old.get(path) == digest and os.path.exists(self.root / path):
            self.report.unchanged += 1
            return
        stamp = clock.local(clock.now()).isoformat(timespec="seconds").encode()
        self._write(path, content.replace(STAMP.encode(), stamp))

    def reuse_page(self, path: str, context_key: str) -> bool:
        """Keep a page without rendering it when its context and the renderer are unchanged."""
        self.contexts[path] = context_key
        if self.old_contexts.get(path) != context_key:
            return False
        return self.keep(path)

    def keep(self, path: str) -> bool:
        """Carry an unchanged file over without re-reading it; False if it is gone."""
        digest = self.old.get(path)
        if digest is None or not os.path.exists(self.root / path):
            return False
        self.files[path] = digest
        self.report.files += 1
        self.report.unchanged += 1
        return True

    def finish(self, scopes: Iterable[str]) -> None:
        """Remove files of the built scopes that the site no longer has; save the manifest."""
        scopes = list(scopes)
        for path in sorted(set(self.old) - set(self.files)):
            in_scope = any(path.startswith(s) if s else not path.startswith("en/") for s in scopes)
            if not in_scope:
                self.files[path] = self.old[path]  # another language's file: keep it
                continue
            target = self.root / path
            if target.is_file():
                target.unlink()
                self.report.removed += 1
            _prune_dirs(target.parent, self.root)
        document = {
            "version": MANIFEST_VERSION,
            "files": dict(sorted(self.files.items())),
            "exports": dict(sorted(self.exports.items())),
            "fairness": dict(sorted(self.fairness.items())),
            "renderer": renderer_fingerprint(),
            "contexts": dict(sorted(self.contexts.items())),
        }
        content = (json.dumps(document, ensure_ascii=False, indent=0) + "\n").encode("utf-8")
        manifest = self.root / MANIFEST
        if not manifest.is_file() or manifest.read_bytes() != content:
            write_atomically(manifest, content, self._temporary())
        with contextlib.suppress(OSError):  # not empty: another publish is writing here now
            self.staging.rmdir()

    def _temporary(self) -> Path:
        """A fresh temporary path of this process (forked render workers included)."""
        self._serial += 1
        self.staging.mkdir(exist_ok=True)
        return self.staging / f"{os.getpid()}-{self._serial}.tmp"


def write_atomically(target: Path, content: bytes, temporary: Path) -> None:
    """Write `content` to `temporary`, then rename it over `target` (atomic on POSIX and
    Windows): `target` is the old file or the new one, never partly written."""
    try:
        with open(temporary, "wb") as fh:
            fh.write(content)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _remove_stale_staging(staging: Path) -> None:
    """Remove temporary files left by publishes that were killed (their process is gone)."""
    if not staging.is_dir():
        return
    for file in staging.iterdir():
        pid = file.name.split("-", 1)[0]
        if not (pid.isdigit() and process_running(int(pid))):
            file.unlink(missing_ok=True)


def process_running(pid: int) -> bool:
    """True while a process with this pid exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return pid != 0


def _prune_dirs(directory: Path, root: Path) -> None:
    while directory != root and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent


@functools.cache
def renderer_fingerprint() -> str:
    """What else decides a page: the templates, the catalogs and the site's code.

    A page whose context key and this fingerprint both match the last publish is the
    same page, so it is not rendered again; any change to a template, a translation or
    the site package renders everything once more.
    """
    digest = hashlib.sha256()
    sources = [templates_dir(), i18n.LOCALE_DIR, Path(__file__).resolve().parent]
    for folder in sources:
        for file in sorted(folder.rglob("*")):
            if file.is_file() and file.suffix in (".html", ".xml", ".po", ".py", ".css", ".js"):
                digest.update(file.relative_to(folder).as_posix().encode())
                digest.update(file.read_bytes())
    digest.update(Path(vocab.__file__).read_bytes())  # the `word` filter's English words
    return digest.hexdigest()

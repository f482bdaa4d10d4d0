"""The folder name of a task or plan code on the public site: readable, safe and injective.

A code is its own folder name when that is safe: Chinese stays readable
(``蒙市监抽查〔2026〕1号``). Characters unsafe in a path or a URL
(``/ \\ : * ? " < > | % # & + ;``, whitespace, control characters, a leading dot) become
``_``, and then ``-`` and the first 8 hex digits of the SHA-256 of the code are appended.

Injective: a name without that suffix is the code itself, so two such names differ when the
codes do. A code that itself ends like a suffix (``-`` and 8 lowercase hex digits, e.g.
``A_B-23519a43``, another code's name) gets a suffix too, so a suffixed name is never the
name of an unsuffixed code; two suffixed names differ in their hashes (or, in the
astronomically unlikely case of a 32-bit collision, are caught with the case clashes below).
Codes differing only in case (``t1``, ``T1``) would share a folder on a case-insensitive
disk: creating such a code is refused (``draw.tasks.create_task``), and the publisher keeps
the earlier task of any clash it still finds and withholds the later one, naming it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_UNSAFE = re.compile(r'[\\/:*?"<>|%#&+;\s\x00-\x1f\x7f]')
_SUFFIX = re.compile(r"-[0-9a-f]{8}\Z")


def folder_name(code: str) -> str:
    """The folder name of a task or plan code (see the module docstring)."""
    text = unicodedata.normalize("NFC", code)
    cleaned = _UNSAFE.sub("_", text)
    if cleaned.startswith("."):
        cleaned = "_" + cleaned[1:]
    if cleaned != code or not cleaned or _SUFFIX.search(cleaned):
        cleaned += "-" + hashlib.sha256(code.encode("utf-8")).hexdigest()[:8]
    return cleaned


def folder_key(code: str) -> str:
    """What must differ between two codes' folders on every disk (case-insensitive too)."""
    return folder_name(code).casefold()

"""Languages of the public site: zh-CN is the source language, English is a Babel catalog.

Messages are written in Chinese in the templates and in the site's Python code; the English
build translates them through ``locale/en/LC_MESSAGES/messages.po``. The ``.po`` file is
compiled with Babel's API when first needed (no ``.mo`` is shipped). Extraction::

    pybabel extract -F babel.cfg -o supervision/site/locale/messages.pot .
    pybabel update -i supervision/site/locale/messages.pot -d supervision/site/locale

In strict mode a message missing from the catalog raises ``UntranslatedMessage``, so an
English build with an untranslated message fails instead of showing Chinese.
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path
from typing import Any

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES: dict[str, dict[str, str]] = {
    "zh": {"tag": "zh-CN", "name": "中文", "prefix": ""},
    "en": {"tag": "en", "name": "English", "prefix": "en/"},
}
DEFAULT_LANGUAGE = "zh"


class UntranslatedMessage(LookupError):
    """A message of the English build has no translation in the catalog."""


def catalog_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"


@cache
def _compiled(lang: str) -> bytes:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with catalog_path(lang).open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


class SiteTranslations(gettext.GNUTranslations):
    """A compiled catalog that can refuse messages it does not know (strict mode)."""

    strict = False

    def _known(self, message: str) -> bool:
        return message in self._catalog  # type: ignore[attr-defined]

    def gettext(self, message: str) -> str:
        if self.strict and message and not self._known(message):
            raise UntranslatedMessage(f"no English translation for {message!r}")
        return super().gettext(message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        if self.strict and not self._known((msgid1, 0)):  # type: ignore[arg-type]
            raise UntranslatedMessage(f"no English translation for {msgid1!r}")
        return super().ngettext(msgid1, msgid2, n)

    def pgettext(self, context: str, message: str) -> str:
        return self.gettext(message)

    def npgettext(self, context: str, msgid1: str, msgid2: str, n: int) -> str:
        return self.ngettext(msgid1, msgid2, n)


def translations(lang: str, *, strict: bool = False) -> gettext.NullTranslations:
    """The translations of `lang`: identity for zh, the compiled English catalog for en."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {sorted(LANGUAGES)}")
    if lang == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    result = SiteTranslations(io.BytesIO(_compiled(lang)))
    result.strict = strict
    return result


def vocab_english() -> dict[str, str]:
    """English display words for the stored Chinese vocabulary (entity type, status, ...)."""
    from supervision.reference.vocab import (
        EntitySize,
        EntityStatus,
        EntityType,
        InspectionMethod,
        InspectorStatus,
        ItemKind,
    )

    words: dict[str, str] = {}
    for vocab in (
        EntityType,
        EntityStatus,
        EntitySize,
        InspectorStatus,
        ItemKind,
        InspectionMethod,
    ):
        words.update({k: v.replace("_", " ") for k, v in vocab.english().items()})
    return words


def word(value: Any, lang: str) -> str:
    """A stored vocabulary value shown in `lang` (data such as names stay as they are)."""
    text = "" if value is None else str(value)
    if lang == DEFAULT_LANGUAGE:
        return text
    return _vocab().get(text, text)


@cache
def _vocab() -> dict[str, str]:
    return vocab_english()

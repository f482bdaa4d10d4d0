"""THE Jinja Environment of the public site: one per process, templates compiled once.

FileSystemLoader(templates_dir()), autoescape for .html/.xml/.svg (and strings), StrictUndefined
so a missing value is an error rather than an empty cell, the i18n extension with new-style
gettext (``_("…")`` autoescapes and formats).

Language is a property of each render, never of the Environment: the Environment is shared
by every thread of a process (a publish, public search requests, console pages), so a
render passes ``language(lang)`` (``_``, ``gettext``, ``lang``, ``colon``, ``lparen``,
``rparen``, ``semi``, ``listsep``, ``comma``, ``stop``, ``lang_tag``)
in its own context; those names win over the Environment's globals, which hold the
default language and are never switched.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup

from supervision.paths import templates_dir
from supervision.site import i18n


def _href(path: str, root: str = "") -> str:
    """A link from a page at depth `root` ("../../") to a site path, percent-encoded."""
    return root + quote(path, safe="/#?=&")


def _number(value: Any) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _percent(value: Any, digits: int = 1) -> str:
    try:
        return f"{float(value) * 100:.{digits}f}%"
    except (TypeError, ValueError):
        return str(value)


@pass_context
def _word(context: Context, value: Any) -> str:
    """A stored vocabulary value (企业, 存续, 一般 ...) in the page's language."""
    return i18n.word(value, context["lang"])


@cache
def environment() -> Environment:
    """The one Environment (cached per process)."""
    env = Environment(
        loader=FileSystemLoader(str(templates_dir())),
        autoescape=select_autoescape(
            enabled_extensions=("html", "htm", "xml", "svg"), default_for_string=True
        ),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
        cache_size=-1,
    )
    env.filters["href"] = _href
    env.filters["number"] = _number
    env.filters["percent"] = _percent
    env.filters["word"] = _word
    # The i18n extension's own globals, and the default language's names: never changed
    # afterwards (other languages come in each render's context, see ``language``).
    env.install_gettext_translations(  # type: ignore[attr-defined]
        i18n.translations(i18n.DEFAULT_LANGUAGE), newstyle=True
    )
    env.globals.update(language(i18n.DEFAULT_LANGUAGE))
    return env


def _fast_gettext(translations: Any) -> Any:
    """New-style gettext for autoescaped templates, with each message's Markup cached.

    Same result as Jinja's new-style gettext (the translation is trusted markup, the
    variables are escaped by ``Markup % …``), without a context lookup, a new Markup and
    a format on every call: a page calls it dozens of times.
    """
    cache: dict[str, Markup] = {}

    def gettext(message: str, **variables: Any) -> Markup:
        value = cache.get(message)
        if value is None:
            value = cache[message] = Markup(translations.gettext(message))
        return value % variables if variables else value

    return gettext


@cache
def language(lang: str, *, strict: bool = False) -> dict[str, Any]:
    """The names a template needs to render in `lang`: pass them in the render's context,
    e.g. ``template.render(context, **language("en"))``. Cached: the same objects each time.
    """
    translations = i18n.translations(lang, strict=strict)
    gettext = _fast_gettext(translations)
    return {
        "_": gettext,
        "gettext": gettext,
        "lang": lang,
        "colon": "：" if lang == i18n.DEFAULT_LANGUAGE else ": ",
        # our own punctuation around data: full-width in Chinese, ASCII in English
        "lparen": "（" if lang == i18n.DEFAULT_LANGUAGE else " (",
        "rparen": "）" if lang == i18n.DEFAULT_LANGUAGE else ")",
        "semi": "；" if lang == i18n.DEFAULT_LANGUAGE else "; ",
        "listsep": "、" if lang == i18n.DEFAULT_LANGUAGE else ", ",
        "comma": "，" if lang == i18n.DEFAULT_LANGUAGE else ", ",
        "stop": "。" if lang == i18n.DEFAULT_LANGUAGE else ".",
        "lang_tag": i18n.LANGUAGES[lang]["tag"],
    }

"""Where the shipped rule pack and templates live.

In a checkout they are the top-level ``rules/`` and ``templates/`` folders; in an
installed wheel they are carried inside the package as ``supervision/_shipped/``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def locate(name: str, package: Path = _PACKAGE) -> Path:
    """The shipped folder `name` for the package at `package`: wheel copy first, then checkout."""
    shipped = package / "_shipped" / name
    if shipped.is_dir():
        return shipped
    checkout = package.parent / name
    if checkout.is_dir() and (package.parent / "pyproject.toml").is_file():
        return checkout
    raise FileNotFoundError(
        f"找不到随包提供的 {name}/ 目录 / the shipped {name}/ folder is missing "
        f"(looked in {shipped} and {checkout})"
    )


def rules_dir() -> Path:
    """The default rule pack folder."""
    return locate("rules")


def templates_dir() -> Path:
    """The Jinja templates folder."""
    return locate("templates")


def checklists_dir() -> Path:
    """The shipped inspection checklists folder (一细则)."""
    return locate("checklists")

"""A console user's scope: the departments and the region (a GB/T 2260 prefix) their role reaches.

One deployment serves a whole province: a 旗县 reviewer sees only their county's findings, a
盟市 planner only their departments' tasks. A scope is two limits, each "no limit" when
empty: ``region`` is a code prefix (``15`` the province, ``1502`` 包头市, ``150203`` a
district) that an entity's ``region_code`` must start with; ``departments`` the department
codes a task or finding must share. The province admin has neither limit (``Scope.EVERYTHING``).

Pure: the database edge (``supervision.accounts.scoping``) turns a scope into query conditions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from supervision.reference.regions import PROVINCES, region_table

__all__ = ["Scope", "parse_region"]

_PREFIX = re.compile(r"^(\d{2}|\d{4}|\d{6})$")


def parse_region(text: str | None) -> str:
    """A scope's region prefix from what a person typed: ``15``, ``1502``, ``150203``, or a
    6-digit code (``150200`` → ``1502``); empty for none. Raises ValueError (bilingual) for
    anything that is not a known GB/T 2260 division."""
    code = (text or "").strip()
    if not code:
        return ""
    if not _PREFIX.match(code):
        raise ValueError(
            f"地区应为 2、4 或 6 位行政区划代码（如 15、1502、150203），而不是 {code[:20]!r} / "
            f"a region is a 2-, 4- or 6-digit GB/T 2260 code (15, 1502, 150203), not {code[:20]!r}"
        )
    if len(code) == 6:
        code = code[:2] if code.endswith("0000") else code[:4] if code.endswith("00") else code
    known = code[:2] in PROVINCES and (len(code) == 2 or code.ljust(6, "0") in region_table())
    if not known:
        raise ValueError(
            f"地区 {code} 不是 GB/T 2260 行政区划 / region {code} is not a GB/T 2260 division"
        )
    return code


@dataclass(frozen=True)
class Scope:
    """What a user's role reaches: ``region`` (a code prefix; "" everywhere) and
    ``departments`` (sorted codes; empty: every department)."""

    region: str = ""
    departments: tuple[str, ...] = ()

    EVERYTHING: ClassVar[Scope]

    @classmethod
    def of(cls, *, region: str | None, departments: Iterable[str] | None) -> Scope:
        return cls(region or "", tuple(sorted(set(departments or ()))))

    @property
    def unlimited(self) -> bool:
        """No limit at all (the province admin, the command line)."""
        return not self.region and not self.departments

    def covers_region(self, region_code: str | None) -> bool:
        """Whether an entity (or inspector, department…) of this region code is in scope."""
        return not self.region or (region_code or "").startswith(self.region)

    def covers_departments(self, departments: Iterable[str]) -> bool:
        """Whether something of these departments (a joint task: any of them) is in scope."""
        return not self.departments or bool(set(self.departments) & set(departments))

    def within(self, other: Scope) -> bool:
        """Whether this scope is no wider than ``other`` (what an admin of ``other`` may grant)."""
        region_ok = self.region.startswith(other.region)
        departments_ok = not other.departments or (
            bool(self.departments) and set(self.departments) <= set(other.departments)
        )
        return region_ok and departments_ok

    def label(self) -> str:
        """``地区 1502 · 部门 NMG-SJ`` / ``全部 all`` for display in lists."""
        region = f"地区 {self.region}" if self.region else "全部地区"
        departments = "部门 " + "、".join(self.departments) if self.departments else "全部部门"
        return f"{region} · {departments}"

    def as_dict(self) -> dict[str, object]:
        return {"region": self.region, "departments": list(self.departments)}


Scope.EVERYTHING = Scope()

"""Registration codes of the demo's entities: GB 32100 USCC from an organisation code
body (GB 11714), and the bodies themselves (old 8-digit codes before the 2015 reform,
assigned "MA" codes after).
"""

from __future__ import annotations

from datetime import date

from supervision.demo.catalog import COOPERATIVE, ENTERPRISE, INDIVIDUAL
from supervision.models.fields import USCC_ALPHABET, uscc_check_char

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714 organisation code check
NEW_CODES = len(USCC_ALPHABET) ** 6  # "MA" + 6 characters, the post-2015 form
OLD_CODES = 10**8  # eight digits, organisation codes converted in 2015–2017
REFORM_DAY = date(2015, 10, 1)  # 三证合一: new registrations get a USCC from here on
#: GB 32100: registration authority 9 (market regulation), then the entity class.
TYPE_DIGIT = {ENTERPRISE: "1", INDIVIDUAL: "2", COOPERATIVE: "3"}
_ORG_VALUE = {c: int(c, 36) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


def org_check(body: str) -> str:
    """GB 11714 check character of an 8-character organisation code body."""
    total = sum(map(int.__mul__, map(_ORG_VALUE.__getitem__, body), _ORG_WEIGHTS))
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def to_base(value: int, alphabet: str, width: int) -> str:
    digits = []
    n = len(alphabet)
    for _ in range(width):
        value, rem = divmod(value, n)
        digits.append(alphabet[rem])
    return "".join(reversed(digits))


def uscc_of(entity_type: str, region: str, body: str) -> str:
    """The 18-character USCC of an entity of `entity_type` registered in `region`."""
    first17 = f"9{TYPE_DIGIT[entity_type]}{region}{body}{org_check(body)}"
    return first17 + uscc_check_char(first17)

"""Vietnamese mobile numbers in one stored form, "0XXXXXXXXX", so that the roster and a
contact shared on a messenger ("84912345678", "+84 912 345 678") compare equal."""

from __future__ import annotations

import re

# Mobile numbers since the 2018 renumbering: 03x, 05x, 07x, 08x, 09x.
_MOBILE_FIRST_DIGITS = frozenset("35789")
_SEPARATORS = re.compile(r"[\s.\-()]+")
COUNTRY_CODE = "84"


def normalise_phone(text: str) -> str | None:
    """The number as "0XXXXXXXXX", or None if it is not a Vietnamese mobile number.

    Accepts "+84", "0084", "84" and "0" prefixes with spaces, dots, dashes or brackets, a
    "(0)" after the country code, and nine digits alone: a spreadsheet that stored the
    number as a number has dropped its leading zero."""
    digits = _SEPARATORS.sub("", text.strip())
    international = False
    if digits.startswith("+"):
        digits = digits[1:]
        international = True
    elif digits.startswith("00"):
        digits = digits[2:]
        international = True
    if not digits.isdigit():
        return None
    if international or (len(digits) == 11 and digits.startswith(COUNTRY_CODE)):
        if not digits.startswith(COUNTRY_CODE):
            return None
        digits = digits[len(COUNTRY_CODE) :]
        if len(digits) == 10:
            digits = digits.removeprefix("0")
    elif len(digits) == 10:
        if not digits.startswith("0"):
            return None
        digits = digits[1:]
    if len(digits) != 9 or digits[0] not in _MOBILE_FIRST_DIGITS:
        return None
    return "0" + digits

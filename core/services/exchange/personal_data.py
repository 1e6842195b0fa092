"""Personal data in free text: e-mail addresses, phone numbers and Swedish personal identity numbers.

A bundle carries no personal data by construction (no people, no accounts), but an idea's
title or description is written by a citizen and may contain a contact detail. The exporter
replaces each such detail with ``[redacted]`` before the text leaves the instance, and the
importer does the same with a sibling's bundle (an older release may not have), so the detail
is never stored or passed on by the next export.

Personal identity numbers (personnummer, samordningsnummer) are recognised by their date and
their check digit (Luhn), so an order number with ten digits is left alone.
"""

from __future__ import annotations

import re

REDACTED = "[redacted]"

_EMAIL = r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+"
# Swedish numbers: +46 / 0046 / 0, an area code and at least five more digits, in the
# groupings people write (070-123 45 67, 08-123 456 78, +46 70 123 45 67, 0980 123 45).
_PHONE = r"(?<![\w+])(?:\+46|0046|0)[ \-]?(?:\(0\))?[ \-]?\d{1,3}[ \-/]?\d(?:[ \-]?\d){4,7}(?!\d)"
_IDENTITY = r"(?<!\d)(?:19|20)?(?P<yy>\d{2})(?P<mm>\d{2})(?P<dd>\d{2})[-+ ]?(?P<nnnn>\d{4})(?!\d)"

_PATTERN = re.compile(f"(?P<email>{_EMAIL})|(?P<identity>{_IDENTITY})|(?P<phone>{_PHONE})")
#: A cheap test first: most texts have neither an @ nor six digits in a row (two tests: a
#: pattern that begins with a digit is found faster than one with an alternative).
_DIGITS = re.compile(r"\d[\d \-+/]{5,}\d")


def _luhn(digits: str) -> bool:
    total = 0
    for i, d in enumerate(int(c) for c in digits):
        d = d * 2 if i % 2 == 0 else d
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _identity_number(match: re.Match[str]) -> bool:
    year, month, day, last = match.group("yy", "mm", "dd", "nnnn")
    day_number = int(day) - 60 if int(day) > 60 else int(day)  # samordningsnummer: day + 60
    return 1 <= int(month) <= 12 and 1 <= day_number <= 31 and _luhn(year + month + day + last)


def _replace(match: re.Match[str]) -> str:
    if match.group("identity") and not _identity_number(match):
        # Not a personal identity number; it may still hold a phone number further on.
        return match.group(0)
    return REDACTED


def redact(text: str) -> str:
    """The text with every e-mail address, phone number and personal identity number replaced."""
    if not text or ("@" not in text and not _DIGITS.search(text)):
        return text
    return _PATTERN.sub(_replace, text)


def contains_personal_data(text: str) -> bool:
    return redact(text) != text

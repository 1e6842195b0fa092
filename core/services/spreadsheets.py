"""CSV files that are safe to open in a spreadsheet: no cell runs as a formula.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read
by Excel, LibreOffice and Google Sheets as a formula (``=HYPERLINK(…)`` turns an idea's
title into a link that leaks data; DDE formulas run commands). Following OWASP's "CSV
injection" rule, such a text gets a leading apostrophe, which the spreadsheet shows as text
and does not display. Numbers are written as they are: a negative figure stays a number.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import Any

#: The first characters that make a spreadsheet treat a cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """The value as a CSV cell: text that a spreadsheet would run gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeDictWriter(csv.DictWriter):  # type: ignore[type-arg]
    """``csv.DictWriter`` that neutralises every text cell (see ``neutralise``).

    ``quoting=csv.QUOTE_ALL`` also keeps a cell holding ``;`` whole in a spreadsheet whose
    list separator is the semicolon (Swedish Excel), where ``a;=b`` would otherwise become a
    second cell starting with ``=``.
    """

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow({key: neutralise(value) for key, value in rowdict.items()})

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:
        for row in rowdicts:
            self.writerow(row)

"""Figures in templates go through Babel (Flask-Babel's format_decimal/format_percent or the
``number`` filter), so Swedish pages print "0,042" and "22 %", not "0.042" and "22%".

A printf-style number format (``"%.3f"|format(x)``) always writes a point: this test finds
any left in core's and the plugins' templates.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRINTF_NUMBER = re.compile(
    r"""["'][^"']*%[-+ 0#]*\d*(?:\.\d+)?[dfeEgGi%][^"']*["']\s*\|\s*format"""
)


def _templates() -> list[Path]:
    folders = [ROOT / "core" / "web" / "templates", *ROOT.glob("plugins/*/templates")]
    return sorted(p for folder in folders for p in folder.rglob("*.html"))


def test_no_template_formats_a_number_with_printf():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _templates()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if PRINTF_NUMBER.search(line)
    ]
    assert not found, "format numbers with Babel instead:\n" + "\n".join(found)


def test_the_check_finds_printf_numbers():
    assert PRINTF_NUMBER.search('<td>{{ "%.3f"|format(r.tau2) }}</td>')
    assert PRINTF_NUMBER.search("{{ '%d'|format(n) }}")
    assert not PRINTF_NUMBER.search('{% set w = metrics["incidence_%sm"|format(months)] %}')

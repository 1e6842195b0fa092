"""CSV cells never run as formulas in a spreadsheet, in every CSV the platform writes."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from innoplat.core.services.spreadsheets import SafeDictWriter, neutralise

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("https://evil.example","Klicka")', '\'=HYPERLINK("https://evil.example","Klicka")'),
        ("+46 70 123 45 67", "'+46 70 123 45 67"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTabb", "'\tTabb"),
        ("\rRetur", "'\rRetur"),
        ("Snösmältning = värme", "Snösmältning = värme"),
        ("", ""),
        (-1.5, -1.5),
        (None, None),
    ],
)  # fmt: skip
def test_text_a_spreadsheet_would_run_gets_a_leading_apostrophe(cell, written):
    assert neutralise(cell) == written


def test_the_writer_neutralises_every_cell_and_keeps_numbers():
    out = io.StringIO()
    writer = SafeDictWriter(out, fieldnames=["title", "value"], lineterminator="\n")
    writer.writeheader()
    writer.writerows([{"title": "=1+1", "value": -2}, {"title": "Ok", "value": 3}])
    assert list(csv.DictReader(io.StringIO(out.getvalue()))) == [
        {"title": "'=1+1", "value": "-2"},
        {"title": "Ok", "value": "3"},
    ]


def test_every_csv_the_platform_writes_goes_through_the_safe_writer():
    """A new export written with csv.writer or csv.DictWriter would let formulas through."""
    plain = re.compile(r"\bcsv\.(writer|DictWriter)\(")
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("core", "plugins")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path.name != "spreadsheets.py" and plain.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], (
        f"use SafeDictWriter (innoplat.core.toolkit, core.services.spreadsheets) in {offenders}"
    )

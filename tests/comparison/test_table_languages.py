"""``--lang`` of ``innoplat compare`` and ``innoplat evidence``: every word of the human table
follows it (headings, titles, notes, method names); CSV and JSON do not change with it."""

from __future__ import annotations

import re

import pytest

from innoplat.core.config import KNOWN_LOCALES

AS_OF = ("--as-of", "2026-01-01")
DESCRIPTIVE = ("compare", "--metric", "implementation_share,median_days_in_pilot")

#: The English words of the tables' headings, titles and notes (not of method names or keys).
ENGLISH = (
    "Method",
    "Cities",
    "City",
    "share of ideas",
    "interval",
    "fewer than",
    "low–high",
    "Pooled",
    "pooled",
    "Risk ratio",
    "risk ratio",
    "Prediction",
    "Per city",
    "months",
    "without",
    "Crude",
    "Adjusted",
    "still at risk",
    "observational",
    "No method",
)


@pytest.fixture
def table(innoplat):
    """``innoplat ARGS``: (exit code, its output with no spaces at the ends of lines)."""

    def run(*args: str) -> tuple[int, str]:
        code, out, _ = innoplat(*args)
        return code, "\n".join(line.rstrip() for line in out.splitlines()) + "\n"

    return run


def _english(text: str) -> list[str]:
    """The English words left in a table, leaving out method keys (the same in every language)."""
    words = re.sub(r"\([a-z0-9_]+\)", "", text)
    return [w for w in ENGLISH if re.search(rf"\b{w}\b", words)]


def test_the_comparison_table_speaks_swedish_with_lang_sv(with_demo, table):
    code, sv = table(*DESCRIPTIVE, "--lang", "sv")
    assert code == 0
    assert "Andel införda (implementation_share, andel av idéerna)" in sv
    assert "Mediandagar i pilot (median_days_in_pilot, dagar)" in sv
    assert re.search(r"^Metod\s+kiruna$", sv, re.MULTILINE)
    assert re.search(r"^Levande labb \(living_lab\)\s+\d+\xa0%", sv, re.MULTILINE)
    assert "(lägsta–högsta): 95 %-intervall. * färre än 30 idéer." in sv
    assert _english(sv) == []


def test_the_comparison_table_speaks_english_with_lang_en(with_demo, table):
    code, en = table(*DESCRIPTIVE, "--lang", "en")
    assert code == 0
    assert "Share implemented (implementation_share, share of ideas)" in en
    assert re.search(r"^Method\s+kiruna$", en, re.MULTILINE)
    assert re.search(r"^Living lab \(living_lab\)\s+\d+%", en, re.MULTILINE)
    assert re.search(r"\d+ d \(\d+ d–\d+ d\)", en)
    assert "(low–high): 95 % interval. * fewer than 30 ideas." in en
    assert "Levande labb" not in en and "Metod " not in en


@pytest.mark.parametrize(
    ("lang", "method", "days"),
    [("fi", "Menetelmä", "pv"), ("se", "Metoda", "beaivvi"), ("fit", "Metoodi", "pv")],
)
def test_the_other_languages_name_the_columns_and_units_too(with_demo, table, lang, method, days):
    _, out = table(*DESCRIPTIVE, "--lang", lang)
    assert re.search(rf"^{method}\s+kiruna$", out, re.MULTILINE)
    assert re.search(rf"\d+ {days} \(\d+ {days}–\d+ {days}\)", out)
    # No name in this language in the catalogue: Kiruna's default language, as on its pages.
    assert "Levande labb (living_lab)" in out
    assert _english(out) == []


def test_the_evidence_tables_speak_swedish_with_lang_sv(with_demo, table):
    code, sv = table("evidence", *AS_OF, "--lang", "sv")
    assert code == 0
    for heading in (
        "Sammanvägd riskkvot för införande inom 12 månader",
        "Per kommun: kumulativ incidens av införande",
        "Per kommun: riskkvot inom 12 månader",
    ):
        assert re.search(rf"^{heading}$", sv, re.MULTILINE)
    assert re.search(
        r"^Metod\s+Riskkvot \(95 %\)\s+Prediktionsintervall\s+τ²\s+I²\s+Kommuner$", sv, re.M
    )
    assert re.search(
        r"^Kommun\s+Metod\s+6 månader\s+12 månader\s+24 månader\s+12 månader utan metoden$",
        sv,
        re.M,
    )
    assert re.search(r"^Kommun\s+Metod\s+Ojusterad\s+Justerad \(år, fokusområde\)\s+n$", sv, re.M)
    assert re.search(r"^Levande labb \(living_lab\)\s+inte sammanvägd\s+1$", sv, re.M)  # one city
    assert "(lägsta–högsta): 95 %-intervall. [n]: idéer som ännu är i risk." in sv
    assert "Uppgifterna är observationsdata" in sv
    assert _english(sv) == []


def test_the_evidence_tables_speak_english_with_lang_en(with_demo, table):
    _, en = table("evidence", *AS_OF, "--lang", "en")
    assert re.search(
        r"^Method\s+Risk ratio \(95 %\)\s+Prediction interval\s+τ²\s+I²\s+Cities$", en, re.M
    )
    assert re.search(
        r"^City\s+Method\s+6 months\s+12 months\s+24 months\s+12 months without the method$",
        en,
        re.M,
    )
    assert re.search(r"^Living lab \(living_lab\)\s+not pooled\s+1$", en, re.M)
    assert "(low–high): 95 % interval. [n]: ideas still at risk. The data are observational" in en


def test_the_pooled_comparison_speaks_the_language_too(with_demo, table):
    _, sv = table("compare", "--pooled", *AS_OF, "--lang", "sv")
    assert sv.startswith("Sammanvägd riskkvot för införande inom 12 månader\nMetod ")
    assert "inte sammanvägd" in sv and "(lägsta–högsta): 95 %-intervall. Uppgifterna" in sv
    assert _english(sv) == []


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_methods_go_in_the_order_of_their_names_in_the_language(with_demo, table, lang):
    """Ties in the ranking (here: one city, nothing pooled) and each city's rows are in the
    order of the names the reader sees, as in the comparison table, not of their keys."""
    _, out = table("evidence", *AS_OF, "--lang", lang)
    blocks = [b.splitlines()[2:] for b in out.split("\n\n")[:3]]
    ranked = [re.split(r" \(", line)[0] for line in blocks[0]]
    per_city = [re.split(r"  +", line)[1] for line in blocks[1]]
    assert len(ranked) >= 5 and ranked == sorted(ranked, key=str.lower)
    assert per_city == sorted(per_city, key=str.lower) and len(per_city) == len(ranked)


def test_nothing_applied_is_said_in_the_language(with_demo, table):
    for command in (("compare",), ("evidence", *AS_OF), ("compare", "--pooled", *AS_OF)):
        _, sv = table(*command, "--since", "2999-01-01", "--lang", "sv")
        assert sv == "Ingen metod tillämpades på någon idé i dessa kommuner (under perioden).\n"


@pytest.mark.parametrize(
    "command",
    [("compare",), ("compare", "--pooled", *AS_OF), ("evidence", *AS_OF)],
    ids=["compare", "pooled", "evidence"],
)
def test_csv_and_json_are_the_same_in_every_language(with_demo, innoplat, command):
    for output in ("csv", "json"):
        code, english, _ = innoplat(*command, "--format", output, "--lang", "en")
        assert code == 0 and "living_lab" in english
        for lang in KNOWN_LOCALES:
            assert innoplat(*command, "--format", output, "--lang", lang)[1] == english, lang


def test_the_help_no_longer_says_the_headings_stay_english(run_cli):
    for command in ("compare", "evidence"):
        _, out, _ = run_cli(command, "--help")
        assert "stay English" not in out and "headings" in out

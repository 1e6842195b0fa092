"""``innoplat compare --pooled``: the pooled rows of ``innoplat evidence`` and the API, one code."""

from __future__ import annotations

import csv
import io
import json

import pytest

from innoplat.core.cli import main
from innoplat.core.services.evidence.analysis import EVIDENCE_KEYS
from innoplat.core.web import create_app

AS_OF = "2026-01-01"


@pytest.fixture
def innoplat(capsys, database_url):
    def run(*args: str) -> tuple[int, str, str]:
        code = 0
        try:
            main([*args, "--db", database_url])
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _pooled(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["metric"] == "pooled_risk_ratio_12m"]


def test_csv_and_json_carry_the_pooled_rows_of_the_api_and_of_evidence(three_cities, innoplat):
    client = create_app(platform=three_cities, config={"TESTING": True}).test_client()
    api = client.get(f"/api/v1/evidence?as_of={AS_OF}").get_json()["rows"]
    code, out, _ = innoplat("compare", "--pooled", "--as-of", AS_OF, "--format", "json")
    assert code == 0
    pooled = json.loads(out)
    assert pooled == _pooled(api) and len(pooled) >= 3
    assert any(r["value"] is not None for r in pooled)  # some methods are pooled, not all empty
    _, out, _ = innoplat("evidence", "--public-only", "--as-of", AS_OF, "--format", "json")
    assert _pooled(json.loads(out)) == pooled
    _, out, _ = innoplat("compare", "--pooled", "--as-of", AS_OF, "--format", "csv")
    _, every, _ = innoplat("evidence", "--public-only", "--as-of", AS_OF, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert tuple(rows[0]) == EVIDENCE_KEYS
    assert rows == [r for r in csv.DictReader(io.StringIO(every)) if r["city"] == ""]
    assert [(r["method"], r["n"]) for r in rows] == [(r["method"], str(r["n"])) for r in pooled]


def test_the_table_ranks_the_methods_in_the_chosen_language(three_cities, innoplat):
    code, en, _ = innoplat("compare", "--pooled", "--as-of", AS_OF)
    assert code == 0
    assert "Pooled risk ratio of implementation within 12 months" in en
    assert "Per city" not in en  # the pooled rows only; `innoplat evidence` has the rest
    _, sv, _ = innoplat("compare", "--pooled", "--as-of", AS_OF, "--lang", "sv")
    _, json_out, _ = innoplat("compare", "--pooled", "--as-of", AS_OF, "--format", "json")
    best = max((r for r in json.loads(json_out) if r["value"]), key=lambda r: r["value"])
    (line_en,) = [line for line in en.splitlines() if f"({best['method']}) " in line]
    (line_sv,) = [line for line in sv.splitlines() if f"({best['method']}) " in line]
    assert f"{best['value']:.2f}×" in line_en and f"{best['tau2']:.3f}" in line_en
    assert f"{best['value']:.2f}×".replace(".", ",") in line_sv
    assert f"{best['tau2']:.3f}".replace(".", ",") in line_sv
    assert f"{best['i2'] * 100:.0f}\xa0%" in line_sv and f"{best['i2'] * 100:.0f}%" in line_en


def test_the_descriptive_table_follows_the_language_too(three_cities, innoplat):
    _, en, _ = innoplat("compare", "--metric", "lift", "--methods", "living_lab")
    _, sv, _ = innoplat("compare", "--metric", "lift", "--methods", "living_lab", "--lang", "sv")
    assert "Lift (lift, ratio)" in en and "× (" in en
    en_figures = [w for w in en.split() if w.endswith("×")]
    sv_figures = [w for w in sv.split() if w.endswith("×")]
    assert en_figures and [w.replace(".", ",") for w in en_figures] == sv_figures


@pytest.mark.parametrize(
    ("extra", "field"),
    [(("--metric", "lift"), "--metric"), (("--staff-view",), "--staff-view")],
)
def test_options_that_do_not_apply_are_refused_in_one_line(three_cities, innoplat, extra, field):
    code, out, err = innoplat("compare", "--pooled", *extra)
    assert code == 1 and out == ""
    assert err.startswith(f"Error: {field}: does not go with --pooled") and err.count("\n") == 1


def test_as_of_goes_with_pooled_only(three_cities, innoplat):
    code, _, err = innoplat("compare", "--as-of", AS_OF)
    assert code == 1 and err == "Error: --as-of: goes with --pooled only\n"

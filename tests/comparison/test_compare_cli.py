"""``innoplat compare``: a readable table in the terminal, CSV and JSON rows for tools."""

from __future__ import annotations

import csv
import io
import json

from innoplat.core.services.comparison import ROW_KEYS


def test_csv_rows_have_exactly_the_documented_keys_and_parse_with_types(with_demo, innoplat):
    code, out, _ = innoplat("compare", "--format", "csv")
    assert code == 0
    reader = csv.DictReader(io.StringIO(out))
    assert tuple(reader.fieldnames) == ROW_KEYS
    rows = list(reader)
    assert rows
    for row in rows:
        assert row["city"] == "kiruna"
        assert row["small_sample"] in ("true", "false")
        int(row["n"])
        for key in ("value", "low", "high"):
            assert row[key] == "" or float(row[key]) >= 0
    shares = [r for r in rows if r["metric"] == "implementation_share"]
    assert all(float(r["low"]) <= float(r["value"]) <= float(r["high"]) for r in shares)


def test_pandas_reads_the_csv(with_demo, innoplat):
    import pandas

    _, out, _ = innoplat("compare", "--format", "csv", "--metric", "lift")
    frame = pandas.read_csv(io.StringIO(out))
    assert list(frame.columns) == list(ROW_KEYS)
    assert frame["small_sample"].dtype == bool
    assert set(frame["metric"]) == {"lift"}


def test_json_rows_match_the_csv(with_demo, innoplat):
    _, out, _ = innoplat(
        "compare", "--format", "json", "--methods", "living_lab,test_bed", "--metric", "lift"
    )
    rows = json.loads(out)
    assert {r["method"] for r in rows} == {"living_lab", "test_bed"}
    assert all(tuple(r) == ROW_KEYS for r in rows)
    assert all(isinstance(r["small_sample"], bool) and isinstance(r["n"], int) for r in rows)


def test_the_table_shows_intervals_and_marks_small_samples(with_demo, innoplat):
    code, out, _ = innoplat(
        "compare", "--metric", "implementation_share", "--metric", "median_days_in_pilot"
    )
    assert code == 0
    assert "Share implemented (implementation_share, share of ideas)" in out
    assert "Living lab (living_lab)" in out and "kiruna" in out
    assert "%–" in out  # a share with its interval, e.g. 48% (44%–52%)
    assert "* fewer than 30 ideas" in out


def test_since_and_cities_narrow_the_comparison(with_demo, innoplat):
    _, every, _ = innoplat("compare", "--format", "json", "--metric", "ideas_with_method")
    _, later, _ = innoplat(
        "compare",
        "--format",
        "json",
        "--metric",
        "ideas_with_method",
        "--since",
        "2025-01-01",
        "--cities",
        "kiruna",
    )
    total = sum(r["value"] for r in json.loads(every))
    assert 0 < sum(r["value"] for r in json.loads(later)) < total


def test_a_bad_option_is_one_clear_line(with_demo, innoplat):
    code, _, err = innoplat("compare", "--metric", "happiness")
    assert code == 1
    assert err.startswith("Error: metrics: happiness unknown") and "Traceback" not in err
    code, _, err = innoplat("compare", "--cities", "atlantis")
    assert code == 1 and "cities: atlantis not in this database" in err


def test_public_figures_by_default_and_the_staff_view_on_request(with_demo, innoplat):
    """Internal demo ideas count only with --staff-view; the mean score needs it too."""
    code, out, _ = innoplat("compare", "--metric", "ideas_with_method", "--format", "json")
    assert code == 0
    public = {r["method"]: r["value"] for r in json.loads(out)}
    code, out, _ = innoplat(
        "compare", "--metric", "ideas_with_method", "--format", "json", "--staff-view"
    )
    assert code == 0
    staff = {r["method"]: r["value"] for r in json.loads(out)}
    assert staff.keys() == public.keys()
    assert all(staff[m] >= public[m] for m in public) and sum(staff.values()) > sum(public.values())
    code, _, err = innoplat("compare", "--metric", "evaluation_mean_score")
    assert code == 1 and "staff only" in err and "Traceback" not in err
    code, _, _ = innoplat("compare", "--metric", "evaluation_mean_score", "--staff-view")
    assert code == 0

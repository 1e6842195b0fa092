"""``innoplat evidence``: the table, and CSV/JSON with the same rows as method_evidence."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pytest

from innoplat.core.services.evidence.analysis import EVIDENCE_KEYS, method_evidence
from innoplat.core.testing import with_demo_ideas

AS_OF = datetime(2026, 1, 1)


@pytest.fixture
def innoplat(run_cli, database_url):
    return lambda *args: run_cli(*args, "--db", database_url)


@pytest.fixture
def with_demo(platform):
    return with_demo_ideas(platform, 400, seed=5, now=AS_OF)


def test_csv_and_json_carry_the_same_rows_as_the_service(with_demo, innoplat):
    with with_demo.transaction() as session:
        expected = method_evidence(session, as_of=AS_OF).rows
    code, out, _ = innoplat("evidence", "--as-of", "2026-01-01", "--format", "json")
    assert code == 0
    assert json.loads(out) == expected
    _, out, _ = innoplat("evidence", "--as-of", "2026-01-01", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert tuple(rows[0]) == EVIDENCE_KEYS and len(rows) == len(expected)
    for got, want in zip(rows, expected, strict=True):
        assert got["metric"] == want["metric"] and got["city"] == (want["city"] or "")
        if want["value"] is not None:
            assert float(got["value"]) == pytest.approx(want["value"])


def test_the_table_ranks_pooled_methods_and_shows_every_city(with_demo, innoplat):
    code, out, _ = innoplat("evidence", "--as-of", "2026-01-01")
    assert code == 0
    assert "Pooled risk ratio of implementation within 12 months" in out
    assert "not pooled" in out  # one city: nothing to pool
    assert "Living lab (living_lab)" in out and "kiruna" in out
    assert "The data are observational" in out


def test_a_bad_date_is_one_line_naming_the_option(with_demo, innoplat):
    code, out, err = innoplat("evidence", "--as-of", "someday")
    assert code != 0 and "--as-of" in err and "Traceback" not in err

"""Each formula of docs/comparing.md ("The metrics") on a case computed by hand."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select

from innoplat.core.services import comparison, ideas, methods


def _implemented_after(session, city, days, *, method=True, implemented=True):
    submitted = datetime(2025, 1, 1)
    idea = ideas.submit_idea(session, city, title="Idé", submitted_at=submitted)
    if implemented:
        ideas.move_idea(session, idea, "bedomning", at=submitted + timedelta(days=1))
        ideas.move_idea(session, idea, "utveckling", at=submitted + timedelta(days=2))
        ideas.move_idea(session, idea, "inford", at=submitted + timedelta(days=days))
    if method:
        methods.apply_method(session, idea, "living_lab", started_on=submitted.date())
    return idea


def _row(rows, metric):
    (row,) = [r for r in rows if r["metric"] == metric and r["method"] == "living_lab"]
    return row


def test_lift_is_exact_and_only_its_interval_is_corrected(db_session, city):
    """0 of 5 implemented with the method, 2 of 4 without: the lift is 0, not a corrected 0.2."""
    for _ in range(5):
        _implemented_after(db_session, city, 0, implemented=False)
    for implemented in (True, True, False, False):
        _implemented_after(db_session, city, 30, method=False, implemented=implemented)
    db_session.flush()
    lift = _row(comparison.compare_methods(db_session, metrics=["lift"]), "lift")
    assert lift["value"] == 0
    # Haldane: (0.5/6) / (2.5/5) = 1/6; se = √(1/0.5 − 1/6 + 1/2.5 − 1/5)
    se = math.sqrt(2 - 1 / 6 + 0.4 - 0.2)
    assert lift["low"] == pytest.approx(math.exp(math.log(1 / 6) - comparison.Z95 * se))
    assert lift["high"] == pytest.approx(math.exp(math.log(1 / 6) + comparison.Z95 * se))


def test_lift_is_empty_but_bounded_when_no_other_idea_was_implemented():
    ratio, low, high = comparison.risk_ratio(3, 10, 0, 5)
    assert ratio is None  # 0.3 ÷ 0 has no finite value
    # Haldane: (3.5/11) / (0.5/6); se = √(1/3.5 − 1/11 + 1/0.5 − 1/6)
    centre = math.log((3.5 / 11) / (0.5 / 6))
    se = math.sqrt(1 / 3.5 - 1 / 11 + 2 - 1 / 6)
    assert (low, high) == pytest.approx(
        (math.exp(centre - comparison.Z95 * se), math.exp(centre + comparison.Z95 * se))
    )


def test_median_interval_ranks_are_the_documented_ones():
    # r = n/2 − 0.98√n and s = 1 + n/2 + 0.98√n, rounded: by hand
    assert comparison.median_ranks(5) is None  # r = 2.5 − 2.19 = 0.31 → 0
    assert comparison.median_ranks(6) == (1, 6)  # 3 − 2.40 = 0.60 → 1; 4 + 2.40 = 6.40 → 6
    assert comparison.median_ranks(10) == (2, 9)  # 5 − 3.10 = 1.90; 6 + 3.10 = 9.10
    assert comparison.median_ranks(30) == (10, 21)  # 15 − 5.37 = 9.63; 16 + 5.37 = 21.37
    assert comparison.median_ranks(100) == (40, 61)  # 50 − 9.8 = 40.2; 51 + 9.8 = 60.8


def test_median_days_to_implemented_from_six_ideas_on(db_session, city):
    for days in (50, 10, 30, 60, 20, 40):
        _implemented_after(db_session, city, days)
    db_session.flush()
    rows = comparison.compare_methods(db_session, metrics=["median_days_to_implemented"])
    median = _row(rows, "median_days_to_implemented")
    assert (median["value"], median["low"], median["high"], median["n"]) == (35, 10, 60, 6)


def test_medians_have_no_interval_below_six_ideas(db_session, city):
    for days in (10, 20, 30, 40, 50):
        _implemented_after(db_session, city, days)
    db_session.flush()
    rows = comparison.compare_methods(db_session, metrics=["median_days_to_implemented"])
    median = _row(rows, "median_days_to_implemented")
    assert (median["value"], median["low"], median["high"]) == (30, None, None)


def test_sql_picks_the_documented_order_statistics_for_every_n(db_session):
    """The SQL rank test (squares instead of √) agrees with ``median_ranks`` for n = 1…120."""
    rng = random.Random(3)
    data = []
    for n in range(1, 121):
        data += [(n, v) for v in rng.sample(range(10 * n), n)]
    source = Table(
        "median_ranks_case", MetaData(), Column("city_id", Integer), Column("v", Integer)
    )
    source.create(db_session.connection())
    db_session.execute(insert(source), [{"city_id": n, "v": v} for n, v in data])
    rows = select(source.c.city_id, source.c.city_id.label("method"), source.c.v).subquery()
    median = comparison._median_cte(rows, rows.c.v, "m")
    got = {r.city_id: r for r in db_session.execute(select(median))}
    for n in range(1, 121):
        ordered = sorted(v for city, v in data if city == n)
        ranks = comparison.median_ranks(n)
        low = ordered[ranks[0] - 1] if ranks else None
        high = ordered[ranks[1] - 1] if ranks else None
        found = (got[n].low, got[n].high) if ranks else (None, None)
        assert found == (low, high), n


def test_t_quantiles_are_exact():
    assert comparison.t95(1) == pytest.approx(12.7062047, abs=1e-7)
    assert comparison.t95(5) == pytest.approx(2.5705818, abs=1e-7)
    assert comparison.t95(120) == pytest.approx(1.9799304, abs=1e-7)

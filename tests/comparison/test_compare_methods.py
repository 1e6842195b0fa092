"""compare_methods: every built-in metric on a small case worked out by hand, and its contract."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from innoplat.core.errors import ValidationError
from innoplat.core.services import actors, comparison, ideas, methods
from innoplat.core.services.comparison import ROW_KEYS


def _idea(
    session, city, *, path, method_keys=(), owner=None, partners=(), submitted=datetime(2025, 1, 1)
):
    """An idea submitted at ``submitted`` and moved along ``path`` [(stage, datetime), …]."""
    idea = ideas.submit_idea(
        session, city, title="Idé", owner_organisation=owner, submitted_at=submitted
    )
    for stage, at in path:
        ideas.move_idea(session, idea, stage, at=at)
    for key in method_keys:
        methods.apply_method(session, idea, key, started_on=date(2025, 1, 5))
    for org, role in partners:
        actors.add_participation(session, idea, org, role)
    return idea


EARLY = [("bedomning", datetime(2025, 1, 11)), ("utveckling", datetime(2025, 1, 21))]


@pytest.fixture
def hand_case(db_session, city):
    """Seven ideas whose figures docs/comparing.md's definitions give by hand.

    living_lab (since 2025): A, B, C, G — A, B and G implemented (61, 41 and 30 days),
    A and B piloted for 30 and 10 days; B later closed (it still counts as implemented).
    Without living_lab: D implemented, E closed, F just submitted. H (2024) has
    living_lab but falls before ``since``. test_bed via Kiruna's local test environment
    method: A and C.
    """
    s = db_session
    _idea(
        s, city, method_keys=["living_lab", "kiruna-arktisk-testmiljo"],
        owner="kiruna-kommun", partners=[("ltu", "partner")],
        path=[*EARLY, ("test", datetime(2025, 2, 1)), ("inford", datetime(2025, 3, 3))],
    )  # fmt: skip
    _idea(
        s, city, method_keys=["living_lab"],
        owner="tekniska-verken-i-kiruna", partners=[("kirunabostader", "partner")],
        path=[*EARLY, ("test", datetime(2025, 2, 1)), ("inford", datetime(2025, 2, 11)),
              ("avslutad", datetime(2025, 6, 1))],
    )  # fmt: skip
    _idea(
        s, city, method_keys=["living_lab", "kiruna-arktisk-testmiljo"],
        path=[("bedomning", datetime(2025, 1, 11)), ("avslutad", datetime(2025, 2, 1))],
    )  # fmt: skip
    _idea(s, city, path=[*EARLY, ("inford", datetime(2025, 4, 11))], owner="kiruna-kommun")
    _idea(s, city, path=[("avslutad", datetime(2025, 1, 2))])
    _idea(s, city, path=[])
    _idea(s, city, method_keys=["living_lab"], path=[*EARLY, ("inford", datetime(2025, 1, 31))])
    _idea(s, city, method_keys=["living_lab"], path=[], submitted=datetime(2024, 6, 1))
    s.flush()
    return s


def _by_key(rows):
    return {(r["method"], r["metric"]): r for r in rows}


def test_each_metric_matches_the_hand_computed_figures(hand_case):
    rows = _by_key(comparison.compare_methods(hand_case, since="2025-01-01"))
    ll = lambda metric: rows[("living_lab", metric)]  # noqa: E731

    assert ll("ideas_with_method")["value"] == 4 and ll("ideas_with_method")["n"] == 4
    share = ll("implementation_share")
    assert share["value"] == pytest.approx(0.75)
    assert (share["low"], share["high"]) == pytest.approx((0.30064184, 0.95441274))
    lift = ll("lift")
    assert lift["value"] == pytest.approx(2.25)  # (3/4) / (1/3)
    assert (lift["low"], lift["high"]) == pytest.approx((0.41211684, 12.28413776))
    assert ll("median_days_to_implemented")["value"] == pytest.approx(41)
    assert ll("median_days_to_implemented")["n"] == 3
    assert ll("median_days_in_pilot")["value"] == pytest.approx(20)
    assert ll("median_days_in_pilot")["n"] == 2
    kinds = ll("org_kinds_per_idea")
    assert kinds["value"] == pytest.approx(0.75)  # 2, 1, 0, 0 kinds
    # sd 0.957427, t(3) = 3.182446: 0.75 + 3.182446 · 0.957427 / 2
    assert kinds["low"] == 0 and kinds["high"] == pytest.approx(2.27348018)
    crossing = ll("cross_boundary_share")  # A (two kinds) and B (two companies, one kind)
    assert crossing["value"] == pytest.approx(0.5)
    assert (crossing["low"], crossing["high"]) == pytest.approx((0.15003899, 0.84996101))


def test_a_local_method_counts_under_its_shared_key(hand_case):
    rows = _by_key(comparison.compare_methods(hand_case, since="2025-01-01"))
    assert rows[("test_bed", "ideas_with_method")]["value"] == 2
    assert rows[("test_bed", "implementation_share")]["value"] == pytest.approx(0.5)
    assert not any(r["method"].startswith("kiruna") for r in map(dict, rows.values()))
    by_local_key = comparison.compare_methods(
        hand_case, methods=["kiruna-arktisk-testmiljo"], metrics=["ideas_with_method"]
    )
    assert [(r["method"], r["value"]) for r in by_local_key] == [("test_bed", 2)]


def test_since_keeps_only_later_ideas(hand_case):
    every = _by_key(comparison.compare_methods(hand_case, metrics=["ideas_with_method"]))
    later = _by_key(
        comparison.compare_methods(hand_case, since=date(2025, 1, 1), metrics=["ideas_with_method"])
    )
    assert every[("living_lab", "ideas_with_method")]["value"] == 5
    assert later[("living_lab", "ideas_with_method")]["value"] == 4


def test_rows_are_tidy_and_small_samples_are_flagged(hand_case):
    rows = comparison.compare_methods(hand_case)
    assert rows and all(tuple(r) == ROW_KEYS for r in rows)
    assert {r["city"] for r in rows} == {"kiruna"}
    assert all(r["small_sample"] for r in rows)  # a handful of ideas, all below 30


def test_filters_by_method_and_metric_in_the_order_asked(hand_case):
    rows = comparison.compare_methods(
        hand_case, methods=["living_lab"], metrics=["lift", "ideas_with_method"]
    )
    assert [(r["method"], r["metric"]) for r in rows] == [
        ("living_lab", "lift"),
        ("living_lab", "ideas_with_method"),
    ]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"cities": ["atlantis"]}, "cities"),
        ({"methods": ["crystal_ball"]}, "methods"),
        ({"metrics": ["happiness"]}, "metrics"),
        ({"since": "last tuesday"}, "since"),
    ],
)
def test_unknown_names_are_refused_naming_the_option(db_session, city, options, field):
    with pytest.raises(ValidationError) as error:
        comparison.compare_methods(db_session, **options)
    assert error.value.field == field


def test_an_empty_city_gives_no_rows(db_session, city):
    assert comparison.compare_methods(db_session) == []


def test_method_across_cities_gives_the_method_page_its_table(hand_case):
    found = comparison.method_across_cities(hand_case, "living_lab")
    assert found["method"] == "living_lab"
    assert [c.slug for c in found["cities"]] == ["kiruna"]
    assert found["table"]["kiruna"]["ideas_with_method"]["value"] == 5


def test_statistics_helpers_handle_edge_cases():
    assert comparison.wilson(0, 0) == (None, None, None)
    p, low, high = comparison.wilson(0, 10)
    assert p == 0 and low == 0 and 0 < high < 0.35
    ratio, low, high = comparison.risk_ratio(0, 10, 5, 10)  # exact 0; Haldane keeps the interval
    assert ratio == 0 and 0 < low < high
    assert comparison.risk_ratio(3, 10, 0, 0) == (None, None, None)

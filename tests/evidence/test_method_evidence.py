"""method_evidence on a case worked out by hand, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from innoplat.core.models import City
from innoplat.core.services import ideas, methods
from innoplat.core.services.evidence.analysis import EVIDENCE_KEYS, data_date, method_evidence

AS_OF = datetime(2026, 1, 1)


def _idea(session, city, submitted, *, implemented=None, closed=None, method=True, **extra):
    idea = ideas.submit_idea(session, city, title="Idé", submitted_at=submitted, **extra)
    if implemented:
        ideas.move_idea(session, idea, "bedomning", at=submitted)
        ideas.move_idea(session, idea, "utveckling", at=submitted)
        ideas.move_idea(session, idea, "inford", at=implemented)
    if closed:
        ideas.move_idea(session, idea, "avslutad", at=closed)
    if method:
        methods.apply_method(session, idea, "living_lab", started_on=date(2024, 1, 1))
    return idea


@pytest.fixture
def hand_case(db_session, city):
    """With living_lab: A implemented on day 60, B closed on day 31, C open for 731 days,
    D open for 92 days. Without: E implemented on day 244, F open for 731 days."""
    s = db_session
    start = datetime(2024, 1, 1)
    _idea(s, city, start, implemented=datetime(2024, 3, 1))
    _idea(s, city, start, closed=datetime(2024, 2, 1))
    _idea(s, city, start)
    _idea(s, city, datetime(2025, 10, 1))
    _idea(s, city, start, implemented=datetime(2024, 9, 1), method=False)
    _idea(s, city, start, method=False)
    s.flush()
    return s


def _rows(session, **options):
    result = method_evidence(session, as_of=AS_OF, **options)
    return {(r["city"], r["method"], r["metric"]): r for r in result.rows}


def test_cumulative_incidence_with_and_without_the_method(hand_case):
    rows = _rows(hand_case)
    at = lambda metric: rows[("kiruna", "living_lab", metric)]  # noqa: E731
    # With: closure at 31 leaves 3 of 4 event-free; implementation at 60 takes 1 of the 3 at
    # risk: F = 3/4 · 1/3 = 0.25. At risk at day 183: C only (D left follow-up on day 92).
    for months in (6, 12, 24):
        assert at(f"incidence_{months}m")["value"] == pytest.approx(0.25)
        assert at(f"incidence_{months}m")["at_risk"] == 1
        assert at(f"incidence_{months}m")["n"] == 4
    # Without: E implemented on day 244 of 2 at risk.
    assert at("incidence_6m_without")["value"] == 0
    assert at("incidence_6m_without")["at_risk"] == 2
    assert at("incidence_12m_without")["value"] == pytest.approx(0.5)
    assert at("incidence_12m_without")["at_risk"] == 1


def test_crude_and_adjusted_risk_ratio_within_twelve_months(hand_case):
    rows = _rows(hand_case)
    crude = rows[("kiruna", "living_lab", "crude_risk_ratio_12m")]
    adjusted = rows[("kiruna", "living_lab", "adjusted_risk_ratio_12m")]
    # D has less than 365 days of follow-up: 1 of A, B, C against 1 of E, F.
    assert crude["value"] == pytest.approx((1 / 3) / (1 / 2)) and crude["n"] == 3
    # One stratum (2024, no focus area): MH equals the crude ratio, and the Greenland–Robins
    # variance (3·2·2 − 1·1·5)/25 ÷ (0.4 · 0.6) = 7/6 equals Katz's 1 − 1/3 + 1 − 1/2.
    assert adjusted["value"] == pytest.approx(crude["value"])
    assert (adjusted["low"], adjusted["high"]) == pytest.approx((crude["low"], crude["high"]))


def test_rows_are_tidy_and_one_city_is_not_pooled(hand_case):
    result = method_evidence(hand_case, as_of=AS_OF)
    assert all(tuple(r) == EVIDENCE_KEYS for r in result.rows)
    (pooled,) = [r for r in result.rows if r["metric"] == "pooled_risk_ratio_12m"]
    assert pooled["city"] is None and pooled["value"] is None and pooled["n"] == 1


def test_stratification_moves_a_confounded_ratio(db_session, city):
    """The method is used mostly in the year when everything got implemented: the crude ratio
    is inflated, the ratio within years is 1."""
    s = db_session
    for year, with_n, with_k, without_n, without_k in ((2023, 8, 6, 2, 1), (2024, 2, 0, 8, 0)):
        start = datetime(year, 2, 1)
        done = datetime(year, 4, 1)
        for i in range(with_n):
            _idea(s, city, start, implemented=done if i < with_k else None)
        for i in range(without_n):
            _idea(s, city, start, implemented=done if i < without_k else None, method=False)
    s.flush()
    rows = _rows(s)
    crude = rows[("kiruna", "living_lab", "crude_risk_ratio_12m")]["value"]
    adjusted = rows[("kiruna", "living_lab", "adjusted_risk_ratio_12m")]["value"]
    assert crude == pytest.approx((6 / 10) / (1 / 10))
    # 2023: a·n0/N = 6·2/10, c·n1/N = 1·8/10; 2024 adds nothing: 1.2 / 0.8
    assert adjusted == pytest.approx(1.5)


def test_public_figures_count_public_ideas_only(hand_case, city):
    _idea(hand_case, city, datetime(2024, 1, 1), implemented=datetime(2024, 1, 20),
          visibility="internal")  # fmt: skip
    hand_case.flush()
    every = _rows(hand_case)[("kiruna", "living_lab", "incidence_6m")]
    public = _rows(hand_case, public_only=True)[("kiruna", "living_lab", "incidence_6m")]
    assert every["n"] == 5 and public["n"] == 4
    assert public["value"] == pytest.approx(0.25)


def test_open_ideas_of_a_peer_end_at_its_bundle_date():
    exported = datetime(2025, 6, 1)
    peer = City(slug="lund", is_peer=True, peer_exported_at=exported, synced_at=AS_OF)
    assert data_date(peer, AS_OF) == exported
    assert data_date(City(slug="kiruna", is_peer=False), AS_OF) == AS_OF


def test_the_own_city_is_counted_as_of_the_start_of_today_and_kept_all_day(
    db_session, city, monkeypatch
):
    """Asked without a date, the instance's own city's follow-up ends at 00:00 UTC today: an
    idea submitted since then waits for tomorrow's figures, and the day's counts are kept
    (asking again does not count again)."""
    from innoplat.core.models import utcnow
    from innoplat.core.services import facts
    from innoplat.core.services.evidence import analysis

    today = datetime.combine(utcnow().date(), datetime.min.time())
    _idea(db_session, city, datetime(2024, 1, 1), implemented=datetime(2024, 3, 1))
    _idea(db_session, city, utcnow())  # submitted today, after 00:00
    db_session.flush()
    facts.clear_cache(db_session)
    found = method_evidence(db_session, methods=["living_lab"])
    assert found.as_of == today
    incidence = next(r for r in found.rows if r["metric"] == "incidence_6m")
    assert incidence["n"] == 1  # today's idea is not counted yet

    def refuse(*_args, **_kwargs):
        raise AssertionError("counted again")

    monkeypatch.setattr(analysis, "_statements", refuse)
    facts.clear_cache()  # also in another worker: from the stored figures
    assert method_evidence(db_session, methods=["living_lab"]).rows == found.rows

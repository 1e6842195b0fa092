"""compare_methods recovers effects planted in synthetic data, within its 95 % intervals."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from innoplat.core.config import CityDefinition, DemoMethodProfile, DemoProfile, load_city
from innoplat.core.models import City, Idea, Visibility
from innoplat.core.services import comparison, demo

IDEAS = 2000


def _planted(slug: str, base: float, lift: float) -> CityDefinition:
    """The city with a demo profile of one method applied to half the ideas, with a known lift."""
    definition = load_city(slug)
    profile = DemoProfile(
        years=(2012, 2016),  # long ago: every synthetic idea has finished its path by 2026
        base_implementation_rate=base,
        methods={"living_lab": DemoMethodProfile(share=0.5, lift=lift)},
    )
    config = definition.config.model_copy(update={"demo": profile})
    return CityDefinition(config=config, folder=definition.folder)


@pytest.fixture
def planted(make_platform):
    """Kiruna: living lab doubles a 20 % implementation rate. Lund: no effect on 30 %."""
    for slug, base, lift in (("kiruna", 0.20, 2.0), ("lund", 0.30, 1.0)):
        definition = _planted(slug, base, lift)
        platform = make_platform(city=definition)
        with platform.transaction() as session:
            demo.load_demo(
                session, definition, platform.city_row(session), ideas=IDEAS, seed=7,
                now=datetime(2026, 1, 1),
            )  # fmt: skip
    return platform


def _figure(rows, city, metric):
    (row,) = [
        r
        for r in rows
        if r["city"] == city and r["method"] == "living_lab" and r["metric"] == metric
    ]
    return row


def test_planted_shares_and_lifts_fall_inside_the_intervals(planted):
    with planted.transaction() as session:
        rows = comparison.compare_methods(session, methods=["living_lab"])
        public = dict(
            session.execute(
                select(City.slug, func.count())
                .join(Idea, Idea.city_id == City.id)
                .where(Idea.visibility == Visibility.public)
                .group_by(City.slug)
            ).all()
        )
    expected = {"kiruna": (0.40, 2.0), "lund": (0.30, 1.0)}
    for city, (share, lift) in expected.items():
        got_share = _figure(rows, city, "implementation_share")
        assert got_share["low"] <= share <= got_share["high"], (city, got_share)
        got_lift = _figure(rows, city, "lift")
        assert got_lift["low"] <= lift <= got_lift["high"], (city, got_lift)
        n = _figure(rows, city, "ideas_with_method")["value"]
        # Half the public ideas (the public figures count no other), within 4 sd.
        assert public[city] < IDEAS and abs(n - public[city] / 2) < 4 * (public[city] * 0.25) ** 0.5
        assert not got_lift["small_sample"]


def test_the_comparison_tells_a_real_effect_from_none(planted):
    with planted.transaction() as session:
        rows = comparison.compare_methods(session, methods=["living_lab"], metrics=["lift"])
    assert _figure(rows, "kiruna", "lift")["low"] > 1.0  # the planted doubling is detected
    lund = _figure(rows, "lund", "lift")
    assert lund["low"] < 1.0 < lund["high"]  # and no effect where none was planted


def test_collaborative_methods_bring_partners(planted):
    """The generator adds a partner to every living-lab idea: all of them cross boundaries."""
    with planted.transaction() as session:
        rows = comparison.compare_methods(
            session, methods=["living_lab"], metrics=["cross_boundary_share", "org_kinds_per_idea"]
        )
    for city in ("kiruna", "lund"):
        assert _figure(rows, city, "cross_boundary_share")["value"] == 1
        assert _figure(rows, city, "org_kinds_per_idea")["value"] > 1

"""Fixtures of the evidence tests: three cities with synthetic ideas in one database."""

from __future__ import annotations

from datetime import datetime

import pytest

from innoplat.core.config import load_city
from innoplat.core.services import demo

NOW = datetime(2026, 1, 1)


@pytest.fixture
def three_cities(make_platform):
    """Göteborg, Lund and Kiruna (the instance's own) with synthetic ideas in one database."""
    platform = None
    for slug in ("goteborg", "lund", "kiruna"):
        definition = load_city(slug)
        platform = make_platform(city=definition)
        with platform.transaction() as session:
            demo.load_demo(
                session, definition, platform.city_row(session), ideas=300, seed=3, now=NOW
            )
    return platform

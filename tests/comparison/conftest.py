"""Comparison tests share a Kiruna instance with a few hundred synthetic ideas."""

from __future__ import annotations

import pytest

from innoplat.core.testing import with_demo_ideas


@pytest.fixture
def with_demo(platform):
    """The test's Kiruna platform with 400 synthetic ideas (deterministic)."""
    return with_demo_ideas(platform, 400, seed=5)


@pytest.fixture
def innoplat(run_cli, database_url):
    """Run ``innoplat ARGS --db <this test's database>`` in-process: (exit code, stdout, stderr)."""
    return lambda *args: run_cli(*args, "--db", database_url)

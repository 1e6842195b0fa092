"""Comparison tests share a Kiruna instance with a few hundred synthetic ideas."""

from __future__ import annotations

from datetime import datetime

import pytest

from innoplat.core.cli import main
from innoplat.core.services import demo


@pytest.fixture
def with_demo(platform):
    """The test's Kiruna platform with 400 synthetic ideas (deterministic)."""
    with platform.transaction() as session:
        demo.load_demo(
            session,
            platform.city,
            platform.city_row(session),
            ideas=400,
            seed=5,
            now=datetime(2026, 1, 1),
        )
    return platform


@pytest.fixture
def innoplat(capsys, database_url):
    """Run ``innoplat ARGS --db <this test's database>`` in-process: (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        code = 0
        try:
            main([*args, "--db", database_url])
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run

"""Fixtures for the web tests: clients signed in with a role in Kiruna."""

from __future__ import annotations

import pytest
from web_helpers import make_account, sign_in


@pytest.fixture
def coordinator(app, client):
    """A client signed in as a coordinator of Kiruna."""
    sign_in(client, make_account(app, "coordinator"))
    return client


@pytest.fixture
def member(app, client):
    """A client signed in as a member of Kiruna (views, never changes)."""
    sign_in(client, make_account(app, "member"))
    return client

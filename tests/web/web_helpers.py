"""Helpers for the web tests: CSRF tokens from rendered forms, staff accounts, signing in."""

from __future__ import annotations

import re

from innoplat.core.services import accounts
from innoplat.core.services import ideas as idea_service

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client, url: str) -> str:
    """The CSRF token of the first form on ``url``, as a browser would send it back."""
    page = client.get(url).get_data(as_text=True)
    match = _TOKEN.search(page)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def post_form(client, url: str, data: dict, *, form_url: str | None = None, **kwargs):
    """Fill in and send the form on ``form_url`` (default: ``url``) with its CSRF token."""
    return client.post(
        url, data={**data, "csrf_token": csrf_token(client, form_url or url)}, **kwargs
    )


def make_account(app, role: str = "coordinator", email: str | None = None, city_platform=None):
    platform = city_platform or app.extensions["innoplat"]
    email = email or f"{role}@kiruna.example"
    with platform.transaction() as session:
        city = platform.city_row(session)
        accounts.create_account(
            session, city, email=email, name=f"Anna {role.title()}", password=PASSWORD, role=role
        )
    return email


def sign_in(client, email: str, password: str = PASSWORD):
    return post_form(client, "/login", {"email": email, "password": password})


def add_idea(app, **fields):
    """An idea stored directly through the service; returns its reference."""
    platform = app.extensions["innoplat"]
    fields.setdefault("title", "Uppvärmda busshållplatser")
    with platform.transaction() as session:
        return idea_service.submit_idea(session, platform.city_row(session), **fields).reference

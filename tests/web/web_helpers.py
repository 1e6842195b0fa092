"""Helpers for the web tests: CSRF tokens from rendered forms, staff accounts, signing in."""

from __future__ import annotations

import re

from innoplat.core.services import ideas as idea_service
from innoplat.core.testing import add_account

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


def edit_form(**fields: str) -> dict[str, str]:
    """The edit form of a public idea never edited before (version 1), as its page fills it in."""
    return {
        "title": "",
        "summary": "",
        "description": "",
        "visibility": "public",
        "version": "1",
        **fields,
    }


#: The method form applying a living lab that started on 1 March 2026.
LIVING_LAB = {"method": "living_lab", "outcome": "ongoing", "started_on": "2026-03-01"}


def make_account(app, role: str = "coordinator", email: str | None = None, city_platform=None):
    platform = city_platform or app.extensions["innoplat"]
    email = email or f"{role}@kiruna.example"
    add_account(platform, role, email=email, name=f"Anna {role.title()}", password=PASSWORD)
    return email


def sign_in(client, email: str, password: str = PASSWORD):
    return post_form(client, "/login", {"email": email, "password": password})


def add_idea(app, **fields):
    """An idea stored directly through the service; returns its reference."""
    platform = app.extensions["innoplat"]
    fields.setdefault("title", "Uppvärmda busshållplatser")
    with platform.transaction() as session:
        return idea_service.submit_idea(session, platform.city_row(session), **fields).reference

"""Links that leave the site come from INNOPLAT_BASE_URL, never from the request's Host header."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from innoplat.core.errors import ConfigError, StartupFailed
from innoplat.core.services import ideas
from innoplat.plugins.notifications.models import OutboxMessage

BASE = "https://innovation.kiruna.example"
EVIL = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}


@pytest.fixture
def site(make_app):
    app = make_app(
        config={"WTF_CSRF_ENABLED": False, "INNOPLAT_BASE_URL": BASE + "/"},
        plugins=["voting", "notifications", "opendata"],
    )
    platform = app.extensions["innoplat"]
    with platform.transaction() as session:
        reference = ideas.submit_idea(session, platform.city_row(session), title="Snö").reference
    return app, reference


def _mails(app):
    with app.extensions["innoplat"].transaction() as session:
        return [m.body for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def test_a_confirmation_link_ignores_the_host_header(site):
    """Issue 8: ``Host: evil.example`` got ``http://evil.example/voting/confirm/…`` mailed out."""
    app, reference = site
    client = app.test_client()
    response = client.post(
        f"/voting/support/{reference}", data={"email": "anna@example.org"}, headers=EVIL
    )
    assert response.status_code == 303
    (body,) = _mails(app)
    assert "evil.example" not in body
    assert re.search(rf"{re.escape(BASE)}/voting/confirm/\S+", body)


def test_open_data_urls_ignore_the_host_header(site):
    app, reference = site
    client = app.test_client()
    ideas_json = json.loads(client.get("/opendata/ideas.json", headers=EVIL).get_data(as_text=True))
    assert ideas_json["ideas"][0]["url"] == f"{BASE}/ideas/{reference}"
    csv_text = client.get("/opendata/ideas.csv", headers=EVIL).get_data(as_text=True)
    assert f"{BASE}/ideas/{reference}" in csv_text and "evil.example" not in csv_text
    popolo = client.get("/opendata/popolo.json", headers=EVIL).get_data(as_text=True)
    assert "evil.example" not in popolo


def test_production_refuses_to_start_without_a_base_url(make_platform, monkeypatch):
    from innoplat.core.web import create_app

    monkeypatch.delenv("INNOPLAT_BASE_URL", raising=False)
    with pytest.raises(StartupFailed) as error:
        create_app(platform=make_platform(), config={"SECRET_KEY": "x"})
    assert isinstance(error.value.error, ConfigError)
    message = str(error.value)
    assert message.startswith("INNOPLAT_BASE_URL: is not set") and "\n" not in message
    monkeypatch.setenv("INNOPLAT_BASE_URL", "innovation.kiruna.se")
    with pytest.raises(StartupFailed, match="expected the address citizens open"):
        create_app(platform=make_platform(), config={"SECRET_KEY": "x"})
    monkeypatch.setenv("INNOPLAT_BASE_URL", BASE)
    app = create_app(platform=make_platform(), config={"SECRET_KEY": "x"})
    assert app.config["INNOPLAT_BASE_URL"] == BASE


def test_the_development_server_links_to_itself(make_platform, monkeypatch):
    from innoplat.core.web import create_app

    monkeypatch.delenv("INNOPLAT_BASE_URL", raising=False)
    app = create_app(platform=make_platform(), config={"DEBUG": True, "SECRET_KEY": "x"})
    assert app.config["INNOPLAT_BASE_URL"] == "http://localhost:5000"

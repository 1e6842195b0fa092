"""Security: headers, cookies, CSRF, and a database that is down (503, nothing half-written)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from web_helpers import post_form

from innoplat.core.models import Idea
from innoplat.core.platform import Platform
from innoplat.core.services import audit
from innoplat.core.web import create_app


def test_every_page_sends_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert (
        "script-src 'self'" in csp
        and "frame-ancestors 'none'" in csp
        and "default-src 'self'" in csp
    )
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_pages_use_no_inline_script_or_style_and_no_cdn(client):
    page = client.get("/").get_data(as_text=True)
    # Scripts only as files from this site (the CSP's script-src 'self'), never inline.
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", page, flags=re.S)
    assert scripts and all(body.strip() == "" for body in scripts)
    assert re.findall(r"<script\b[^>]*>", page) == ['<script src="/static/site.js" defer>']
    assert "<style" not in page and ' style="' not in page
    assert "https://" not in page.split("<body")[0]  # every stylesheet is served from this site


def test_the_session_cookie_is_httponly_and_samesite_lax(app, client):
    post_form(client, "/ideas/new", {"title": "x", "preview": "1"})
    cookie = client.get_cookie("session")
    assert (
        cookie is not None and cookie.http_only and cookie.same_site == "Lax" and not cookie.secure
    )


def test_secure_cookies_behind_tls(monkeypatch, make_app):
    monkeypatch.setenv("INNOPLAT_SECURE_COOKIES", "1")
    app = make_app()
    assert (
        app.config["SESSION_COOKIE_SECURE"] is True and app.config["REMEMBER_COOKIE_SECURE"] is True
    )


def test_a_database_that_is_down_gives_a_friendly_503(tmp_path, monkeypatch):
    monkeypatch.setenv("INNOPLAT_INSTANCE_PATH", str(tmp_path))
    platform = Platform.open("kiruna", "postgresql://nobody@127.0.0.1:9/nothing?connect_timeout=2")
    try:
        app = create_app(platform=platform, config={"TESTING": True})
        response = app.test_client().get("/ideas?lang=en")
        assert response.status_code == 503
        page = response.get_data(as_text=True)
        assert "temporarily unavailable" in page and "Traceback" not in page
    finally:
        platform.dispose()


def test_a_connection_lost_mid_submission_stores_nothing(app, client, monkeypatch):
    def lost(*args, **kwargs):
        raise OperationalError(
            "INSERT INTO audit_event", {}, Exception("server closed the connection unexpectedly")
        )

    monkeypatch.setattr(audit, "record", lost)
    response = post_form(client, "/ideas/new", {"title": "Halvskriven idé", "send": "1"})
    assert response.status_code == 503
    assert "Vi når inte databasen" in response.get_data(as_text=True)
    with app.extensions["innoplat"].transaction() as session:
        assert session.scalar(select(func.count()).select_from(Idea)) == 0


def test_an_unexpected_error_is_a_friendly_500_without_traceback(app, client, monkeypatch):
    from innoplat.core.services import ideas

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(ideas, "funnel", broken)
    response = client.get("/")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Något gick fel" in page and "secret internals" not in page and "Traceback" not in page


@pytest.mark.parametrize("url", ["/ideas/new", "/login"])
def test_forms_without_a_csrf_token_are_refused(client, url):
    assert (
        client.post(url, data={"title": "x", "email": "a@b.se", "password": "x"}).status_code == 400
    )

"""Staff sessions end when they should, cookies and keys are safe in production, bodies are bounded."""

from __future__ import annotations

import re
import stat

import pytest
from web_helpers import PASSWORD, csrf_token, make_account, post_form, sign_in

from innoplat.core.errors import StartupFailed
from innoplat.core.web import create_app, stored_secret_key

NEW_PASSWORD = "ett helt nytt lösenord"


def _session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None, "no session cookie"
    return cookie.value


def _with_cookie(app, value: str):
    """Another browser holding a copy of a session cookie (saved, stolen or synced)."""
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def test_a_session_cookie_saved_before_signing_out_opens_nothing_afterwards(app, client):
    sign_in(client, make_account(app))
    saved = _session_cookie(client)
    assert _with_cookie(app, saved).get("/dashboard").status_code == 200
    assert post_form(client, "/logout", {}).status_code == 302
    assert client.get("/dashboard").status_code == 302
    replayed = _with_cookie(app, saved).get("/dashboard")
    assert replayed.status_code == 302 and "/login" in replayed.headers["Location"]


def test_changing_the_password_signs_out_every_other_session(app, client):
    email = make_account(app)
    sign_in(client, email)
    elsewhere = app.test_client()
    sign_in(elsewhere, email)
    response = post_form(
        client,
        "/account/password",
        {"current": PASSWORD, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert client.get("/dashboard").status_code == 200  # this browser stays signed in
    assert elsewhere.get("/dashboard").status_code == 302
    assert sign_in(app.test_client(), email).status_code == 400  # the old password is gone
    assert sign_in(app.test_client(), email, NEW_PASSWORD).status_code == 302


def test_a_wrong_current_password_changes_nothing(app, client):
    email = make_account(app)
    sign_in(client, email)
    response = post_form(
        client,
        "/account/password",
        {"current": "inte mitt lösenord", "new": NEW_PASSWORD, "repeat": NEW_PASSWORD},
    )
    assert response.status_code == 400
    assert "Det här är inte ditt nuvarande lösenord." in response.get_data(as_text=True)
    assert sign_in(app.test_client(), email).status_code == 302


def test_setting_a_password_on_the_command_line_signs_the_account_out(
    app, client, database_url, run_cli
):
    email = make_account(app)
    sign_in(client, email)
    args = ("users", "password", "--email", email, "--password-stdin", "--db", database_url)
    code, out, err = run_cli(*args, input=NEW_PASSWORD + "\n")
    assert code == 0, err
    assert "sessions are signed out" in out
    assert client.get("/dashboard").status_code == 302
    assert sign_in(app.test_client(), email, NEW_PASSWORD).status_code == 302


def test_the_csrf_token_changes_at_sign_in(app, client):
    """A token learnt before sign-in (e.g. planted by an attacker) does not work for staff forms."""
    before = csrf_token(client, "/login")
    sign_in(client, make_account(app))
    after = csrf_token(client, "/logout")
    assert before != after
    assert client.post("/logout", data={"csrf_token": before}).status_code == 400
    assert client.get("/dashboard").status_code == 200


def test_over_https_the_cookie_is_secure_and_hsts_is_sent(app, client):
    email = make_account(app)
    https = "https://localhost"
    page = client.get("/login", base_url=https).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
        base_url=https,
        headers={"Referer": f"{https}/login"},  # Flask-WTF checks it on HTTPS
    )
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    plain = client.get("/")
    assert "Strict-Transport-Security" not in plain.headers
    language = client.get("/?lang=en", base_url=https).headers["Set-Cookie"]
    assert "innoplat_lang=en" in language and "Secure" in language


def test_over_plain_http_the_cookie_works_without_secure(app, client):
    """``innoplat serve`` on a laptop: signing in over http://localhost keeps working."""
    response = sign_in(client, make_account(app))
    assert "Secure" not in response.headers["Set-Cookie"]


def test_the_production_app_refuses_to_start_without_a_secret_key(platform, monkeypatch):
    monkeypatch.delenv("INNOPLAT_SECRET_KEY", raising=False)
    with pytest.raises(StartupFailed) as refused:
        create_app(platform=platform)
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith("INNOPLAT_SECRET_KEY is not set")
    assert "export INNOPLAT_SECRET_KEY=" in message
    monkeypatch.setenv("INNOPLAT_SECRET_KEY", "a" * 64)
    monkeypatch.setenv("INNOPLAT_BASE_URL", "https://innovation.kiruna.example")
    assert create_app(platform=platform).secret_key == "a" * 64


def test_the_development_server_keeps_its_key_in_the_instance_folder(tmp_path):
    key = stored_secret_key(tmp_path)
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert stored_secret_key(tmp_path) == key  # sessions survive a restart
    mode = (tmp_path / "secret_key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_a_too_large_form_gets_the_friendly_413_page(make_app):
    app = make_app(config={"MAX_CONTENT_LENGTH": 10_000})
    client = app.test_client()
    token = csrf_token(client, "/ideas/new")
    response = client.post(
        "/ideas/new",
        data={"title": "Stor", "description": "x" * 20_000, "send": "1", "csrf_token": token},
    )
    assert response.status_code == 413
    assert "för stort" in response.get_data(as_text=True)


def test_a_too_large_api_body_gets_a_json_413(make_app):
    app = make_app(config={"MAX_CONTENT_LENGTH": 10_000})
    response = app.test_client().post(
        "/api/v1/ideas", json={"title": "Stor", "description": "x" * 20_000}
    )
    assert response.status_code == 413
    assert "10000 bytes" in response.get_json()["error"]["message"]


def test_the_default_body_limit_is_one_mebibyte(app):
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024

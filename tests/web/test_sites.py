"""One install, many cities: one WSGI app, a city per host name or path prefix, nothing shared."""

from __future__ import annotations

import re

import pytest
from werkzeug.test import Client

from innoplat.core.errors import ConfigError
from innoplat.core.platform import Platform
from innoplat.core.testing import PASSWORD, add_account, city_with_plugins
from innoplat.core.web.sites import create_sites_app, flask_apps, parse_sites

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def two_cities(platform, database_url, tmp_path):
    """Kiruna (the fixture's city) and Lund in one database, and a city whose city.toml is broken."""
    lund = Platform.open(city_with_plugins("lund"), database_url)
    lund.sync()
    lund.dispose()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "city.toml").write_text('name = "unterminated\n', encoding="utf-8")
    sites = parse_sites(
        {
            "cities": {
                "kiruna": {"prefix": "/kiruna", "hosts": ["innovation.kiruna.example"]},
                "lund": {"hosts": ["future.lund.example"], "prefix": "/lund"},
                "broken": {"folder": str(broken)},
            }
        }
    )
    dispatcher = create_sites_app(
        sites, database_url, config={"TESTING": True, "SECRET_KEY": "one secret for the install"}
    )
    yield dispatcher
    dispatcher.apps["kiruna"].extensions["innoplat"].dispose()  # the engine all cities share


def _sign_in(client: Client, prefix: str, email: str):
    page = client.get(f"{prefix}/login").get_data(as_text=True)
    token = _TOKEN.search(page).group(1)
    return client.post(
        f"{prefix}/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )


def test_each_city_is_served_at_its_prefix_and_host_with_its_own_plugins(two_cities):
    client = Client(two_cities)
    kiruna = client.get("/kiruna/?lang=en").get_data(as_text=True)
    lund = client.get("/lund/?lang=en").get_data(as_text=True)
    assert "Kiruna" in kiruna and "Future by Lund" in lund
    assert 'href="/kiruna/' in kiruna  # links stay under the city's prefix
    by_host = client.get("/?lang=en", headers={"Host": "future.lund.example"})
    assert "Future by Lund" in by_host.get_data(as_text=True)
    # Voting is enabled for Kiruna only: Lund's requests never reach the plugin.
    assert client.get("/kiruna/voting/").status_code != 404
    assert client.get("/lund/voting/").status_code == 404
    assert client.get("/voting/", headers={"Host": "future.lund.example"}).status_code == 404
    assert client.get("/nowhere/").status_code == 404


def test_a_broken_city_toml_takes_only_its_own_city_down(two_cities):
    client = Client(two_cities)
    assert "broken" in two_cities.problems and "city.toml" in two_cities.problems["broken"]
    response = client.get("/broken/")
    assert response.status_code == 503
    assert "other cities are not affected" in response.get_data(as_text=True)
    assert client.get("/kiruna/").status_code == 200 and client.get("/lund/").status_code == 200


def test_a_kiruna_account_is_a_stranger_on_lunds_pages(two_cities):
    kiruna_app = two_cities.apps["kiruna"]
    platform = kiruna_app.extensions["innoplat"]
    add_account(platform, "admin", email="admin@kiruna.example", name="Kiruna admin")
    client = Client(two_cities)
    assert _sign_in(client, "/kiruna", "admin@kiruna.example").status_code == 302
    assert client.get("/kiruna/dashboard").status_code == 200
    stranger = client.get("/lund/dashboard")
    assert stranger.status_code == 302 and stranger.headers["Location"].startswith("/lund/login")
    cookies = {c.key: c for c in client._cookies.values()}
    assert (
        "innoplat_session_kiruna" in cookies
        and cookies["innoplat_session_kiruna"].path == "/kiruna"
    )
    # Copying Kiruna's session cookie into Lund's name does not sign in on Lund either:
    # each city's sessions are signed with a key of its own.
    client.set_cookie(
        "innoplat_session_lund", cookies["innoplat_session_kiruna"].value, path="/lund"
    )
    assert client.get("/lund/dashboard").status_code == 302
    # And signing in on Lund's form with the Kiruna account fails: no role there.
    assert _sign_in(client, "/lund", "admin@kiruna.example").status_code == 400


def test_rate_limits_are_counted_per_city(two_cities):
    for app in flask_apps(two_cities).values():
        app.config["INNOPLAT_LOGIN_LIMIT"] = "2 per minute"
    client = Client(two_cities)
    statuses = [_sign_in(client, "/kiruna", "x@example.org").status_code for _ in range(3)]
    assert statuses[-1] == 429
    assert _sign_in(client, "/lund", "x@example.org").status_code == 400


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "sites: cities: name at least one city"),
        ({"cities": {"a": {"prefix": "kiruna"}}}, "cities.a.prefix: expected a path"),
        (
            {"cities": {"a": {"prefix": "/x"}, "b": {"prefix": "/x/"}}},
            "cities.b.prefix: also used by a",
        ),
        (
            {"cities": {"a": {"hosts": ["h.example"]}, "b": {"hosts": ["H.example"]}}},
            "cities.b.hosts: H.example is also a's",
        ),
        ({"cities": {"a": {"port": 1}}}, "cities.a.port: unknown key"),
    ],
)
def test_a_bad_sites_file_is_named_key_by_key(raw, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_sites(raw)

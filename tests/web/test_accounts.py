"""Staff accounts: signing in and out, roles per city, and cities kept apart in one database."""

from __future__ import annotations

from web_helpers import PASSWORD, add_idea, csrf_token, make_account, post_form, sign_in

from innoplat.core.models import Account
from innoplat.core.services import accounts
from innoplat.core.web import create_app


def test_passwords_are_stored_as_argon2_hashes(app):
    email = make_account(app, "admin")
    with app.extensions["innoplat"].transaction() as session:
        account = session.query(Account).filter_by(email=email).one()
        assert account.password_hash.startswith("$argon2") and PASSWORD not in account.password_hash


def test_staff_sign_in_and_out(app, client):
    email = make_account(app, "coordinator")
    response = sign_in(client, email)
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Inloggad som Anna Coordinator (Samordnare)" in dashboard
    out = post_form(client, "/logout", {})
    assert out.status_code == 302
    assert client.get("/dashboard").status_code == 302  # back to the sign-in page


def test_a_wrong_password_is_refused_with_a_message(app, client):
    email = make_account(app, "coordinator")
    response = sign_in(client, email, "wrong password")
    assert response.status_code == 400
    assert "E-postadressen eller lösenordet är fel" in response.get_data(as_text=True)


def test_sign_in_redirects_only_within_the_site(app, client):
    email = make_account(app, "member")
    token = csrf_token(client, "/login")
    response = client.post(
        "/login?next=https://evil.example/",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/dashboard"


def test_pages_for_staff_send_visitors_to_sign_in(client):
    response = client.get("/dashboard")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


def test_sign_in_is_rate_limited(make_app):
    app = make_app(config={"INNOPLAT_LOGIN_LIMIT": "2 per minute"})
    client = app.test_client()
    statuses = [sign_in(client, "nobody@example.org", "wrong").status_code for _ in range(3)]
    assert statuses == [400, 400, 429]


def test_a_member_of_another_city_sees_no_internal_data(make_platform):
    """Two cities in one database: Lund's staff cannot sign in to Kiruna or see its internal ideas."""
    kiruna = create_app(platform=make_platform(city="kiruna"), config={"TESTING": True})
    lund = create_app(platform=make_platform(city="lund"), config={"TESTING": True})
    internal = add_idea(kiruna, title="Kirunas interna budget", visibility="internal")
    lund_email = make_account(lund, "admin", email="admin@lund.example")

    kiruna_client = kiruna.test_client()
    assert sign_in(kiruna_client, lund_email).status_code == 400  # no role in Kiruna
    assert kiruna_client.get(f"/ideas/{internal}").status_code == 404
    assert kiruna_client.get("/dashboard").status_code == 302

    lund_client = lund.test_client()
    assert sign_in(lund_client, lund_email).status_code == 302
    assert lund_client.get(f"/ideas/{internal}").status_code == 404
    assert "Kirunas interna budget" not in lund_client.get("/ideas").get_data(as_text=True)
    assert lund_client.get(f"/ideas/{internal}/edit").status_code == 404

    # A session cookie made by Lund's app is worth nothing in Kiruna's, even with the same secret key.
    shared = {"SECRET_KEY": "same-secret", "TESTING": True}
    kiruna2 = create_app(platform=kiruna.extensions["innoplat"], config=shared)
    lund2 = create_app(platform=lund.extensions["innoplat"], config=shared)
    lund2_client = lund2.test_client()
    sign_in(lund2_client, lund_email)
    cookie = lund2_client.get_cookie("session")
    stolen = kiruna2.test_client()
    stolen.set_cookie("session", cookie.value)
    assert stolen.get(f"/ideas/{internal}").status_code == 404
    assert stolen.get("/dashboard").status_code == 302


def _create_user(run_cli, database_url: str, *options: str, password: str):
    """``innoplat users create`` with the password typed on standard input."""
    return run_cli(
        "users", "create", "--db", database_url, *options, "--password-stdin", input=f"{password}\n"
    )


def test_users_create_command_with_password_on_stdin(database_url, platform, run_cli):
    options = ("--city", "kiruna", "--email", "Ny@Kiruna.example", "--name", "Ny Person")
    password = "a long enough password"
    code, out, err = _create_user(
        run_cli, database_url, *options, "--role", "admin", password=password
    )
    assert code == 0, err
    assert "ny@kiruna.example is admin of kiruna" in out
    with platform.transaction() as session:
        account = accounts.authenticate(session, "ny@kiruna.example", password)
        assert (
            account is not None
            and accounts.role_in(account, platform.city_row(session)).value == "admin"
        )
    listed = run_cli("users", "list", "--city", "kiruna", "--db", database_url, "--json")[1]
    assert '"role": "admin"' in listed


def test_users_create_refuses_a_short_password(database_url, platform, run_cli):
    options = ("--email", "a@kiruna.example", "--name", "A")
    code, out, err = _create_user(run_cli, database_url, *options, password="short")
    assert code != 0
    assert "password" in err

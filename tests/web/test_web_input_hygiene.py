"""Bad input on the web pages is a 400 naming the field, never a 500 (fuzzing findings of issue 8)."""

from __future__ import annotations

import io

import pytest
from web_helpers import PASSWORD, add_idea, make_account, post_form, sign_in

from innoplat.core.cli import main
from innoplat.core.errors import ValidationError
from innoplat.core.models import Account, AuditEvent, Organisation
from innoplat.core.services import accounts, actors
from innoplat.core.services import ideas as idea_service


def page(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize("action", ["move", "edit"])
def test_a_version_that_is_not_a_whole_number_is_a_400_and_nothing_changes(
    app, coordinator, action
):
    reference = add_idea(app, title="Snöskoteråkning")
    for version in ("abc", "1.5", "²", "99999999999999999999999"):
        fields = (
            {"to": "bedomning", "note": "", "version": version}
            if action == "move"
            else {"title": "Ändrad", "summary": "", "description": "", "visibility": "public"}
            | {"version": version}
        )
        response = post_form(coordinator, f"/ideas/{reference}/{action}", fields)
        assert response.status_code == 400, version
    with app.extensions["innoplat"].transaction() as session:
        idea = idea_service.get_idea(session, reference)
        assert (idea.stage.key, idea.title, idea.version) == ("inkommen", "Snöskoteråkning", 1)


def test_a_page_number_that_is_not_one_is_a_400_naming_it(make_client):
    """``?page=²`` (isdigit() says yes, int() says no) and pages beyond 64 bits were 500s."""
    client = make_client(plugins=["voting", "evaluation"])
    sign_in(client, make_account(client.application, "coordinator"))
    for url in ("/ideas", "/voting/", "/evaluation/"):
        for value in ("²", "abc", "0", str(2**64), "9" * 40):
            response = client.get(f"{url}?page={value}")
            assert response.status_code == 400, (url, value)
            assert "page" in page(response) and response.mimetype == "text/html"


def test_a_page_past_the_last_shows_the_last_and_other_filters_stay_lenient(client):
    assert client.get("/ideas?page=999999").status_code == 200
    assert client.get("/ideas?sdg=²&phase=x").status_code == 200


@pytest.mark.parametrize(
    "url",
    ["/ideas/KIR-2026-0001%00", "/ideas?q=sn%00w", "/ideas?stage=%00", "/organisations/x%00y"],
)
def test_a_nul_character_in_a_path_or_parameter_is_a_400(client, url):
    """PostgreSQL cannot compare a string holding NUL: it used to be a 500 there."""
    response = client.get(url)
    assert response.status_code == 400
    assert response.mimetype == "text/html"


def test_a_nul_character_in_a_form_field_is_a_400_naming_it(client):
    response = post_form(client, "/ideas/new", {"title": "Snö\x00", "send": "1"})
    assert response.status_code == 400
    assert "title" in page(response)


def test_a_description_longer_than_the_limit_is_refused_beside_its_field(client):
    response = post_form(
        client, "/ideas/new", {"title": "Lång", "description": "x" * 20_001, "send": "1"}
    )
    assert response.status_code == 400
    assert client.get("/api/v1/ideas").get_json()["total"] == 0


def test_a_body_over_the_size_limit_is_a_413(client):
    response = client.post(
        "/ideas/new", data={"title": "Stor", "description": "x" * (2 * 1024 * 1024)}
    )
    assert response.status_code == 413


def test_a_staff_name_too_long_for_the_audit_trail_is_refused_naming_the_field(app):
    platform = app.extensions["innoplat"]
    with platform.transaction() as session, pytest.raises(ValidationError) as refused:
        accounts.create_account(
            session,
            platform.city_row(session),
            email="lang@kiruna.example",
            name="N" * 190,
            password=PASSWORD,
        )
    assert refused.value.field == "name"


def test_the_cli_refuses_a_long_staff_name_in_one_line(database_url, platform, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    with pytest.raises(SystemExit) as exited:
        main(
            [
                "users",
                "create",
                "--db",
                database_url,
                "--email",
                "lang@kiruna.example",
                "--name",
                "N" * 300,
                "--password-stdin",
            ]  # fmt: skip
        )
    assert exited.value.code == 1
    error = capsys.readouterr().err
    assert error.startswith("Error: name:") and len(error.strip().splitlines()) == 1


def test_an_older_account_with_a_very_long_name_still_moves_ideas(app, client):
    """The audit trail names it shortened; the move is not refused."""
    email = make_account(app, "coordinator")
    platform = app.extensions["innoplat"]
    with platform.transaction() as session:
        account = session.query(Account).filter_by(email=email).one()
        account.name = "Anna " + "L" * 195  # allowed before names were checked
    sign_in(client, email)
    reference = add_idea(app)
    response = post_form(client, f"/ideas/{reference}/move", {"to": "bedomning", "version": "1"})
    assert response.status_code == 302
    with platform.transaction() as session:
        actor = session.query(AuditEvent).filter_by(action="stage_changed").one().actor
    assert len(actor) <= 200 and actor.endswith(f"<{email}>")


def test_a_javascript_address_stored_earlier_is_shown_as_text_not_as_a_link(app, client):
    platform = app.extensions["innoplat"]
    with platform.transaction() as session:
        org = session.query(Organisation).filter_by(key="ltu").one()
        org.website = "javascript:alert(document.cookie)"
    html = page(client.get("/organisations/ltu"))
    assert "javascript:alert(document.cookie)" in html
    assert 'href="javascript:' not in html


def test_an_organisation_website_must_be_a_web_address(app, coordinator):
    platform = app.extensions["innoplat"]
    with pytest.raises(ValidationError) as refused, platform.transaction() as session:
        actors.add_organisation(
            session,
            platform.city_row(session),
            key="skurk",
            name="Skurk AB",
            kind="company",
            website="javascript:alert(1)",
        )
    assert refused.value.field == "website"
    response = post_form(
        coordinator,
        "/organisations/new",
        {"key": "skurk", "name": "Skurk AB", "kind": "company", "website": "javascript:alert(1)"},
    )
    assert response.status_code == 400 and "https://" in page(response)

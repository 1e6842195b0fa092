"""Submitting an idea without an account: consent, field errors, preview, receipt, rate limit."""

from __future__ import annotations

from markupsafe import Markup
from sqlalchemy import func, select
from web_helpers import csrf_token, post_form

from innoplat.core.hookspecs import hookimpl
from innoplat.core.models import Idea, Person


def count(app, model) -> int:
    with app.extensions["innoplat"].transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_the_form_has_labelled_fields_a_consent_box_and_a_csrf_token(client):
    page = client.get("/ideas/new").get_data(as_text=True)
    assert '<label for="title">Rubrik</label>' in page
    assert 'name="consent"' in page and "samtycker" in page
    assert 'name="csrf_token"' in page


def test_a_citizen_submits_an_idea_and_gets_a_receipt_with_its_reference(app, client):
    response = post_form(
        client,
        "/ideas/new",
        {
            "title": "Värmestugor vid skidspåren",
            "summary": "Raststugor med fjärrvärme.",
            "initiator_kind": "citizen",
            "send": "1",
        },
    )
    assert response.status_code == 302
    receipt = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Tack för din idé" in receipt
    reference = receipt.split('<strong class="reference">')[1].split("<")[0]
    assert reference.startswith("KIR-") and reference.endswith("-0001")
    assert "Värmestugor vid skidspåren" in client.get(f"/ideas/{reference}").get_data(as_text=True)
    assert count(app, Person) == 0  # anonymous: nothing personal stored


def test_name_and_email_are_stored_only_with_consent(app, client):
    refused = post_form(
        client,
        "/ideas/new",
        {"title": "Idé", "name": "Anna", "email": "anna@example.org", "send": "1"},
    )
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert 'id="consent-error"' in page and "Kryssa i rutan" in page
    assert count(app, Idea) == 0 and count(app, Person) == 0
    accepted = post_form(
        client,
        "/ideas/new",
        {"title": "Idé", "name": "Anna", "email": "anna@example.org", "consent": "y", "send": "1"},
    )
    assert accepted.status_code == 302
    assert count(app, Person) == 1


def test_field_errors_are_shown_beside_each_field_and_nothing_is_stored(app, client):
    response = post_form(
        client,
        "/ideas/new",
        {"title": "", "summary": "x" * 601, "email": "not-an-address", "send": "1"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="title-error"' in page and "Ge din idé en rubrik." in page
    assert 'id="summary-error"' in page and "Högst 600 tecken." in page
    assert 'id="email-error"' in page
    assert (
        'aria-invalid="true"' in page and 'href="#title"' in page
    )  # the error summary links to the field
    assert count(app, Idea) == 0


def test_preview_shows_the_rendered_idea_and_stores_nothing(app, client):
    response = post_form(
        client,
        "/ideas/new",
        {"title": "Förhandsvisad idé", "description": "Med **fetstil**.", "preview": "1"},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="preview-heading"' in page and "<strong>fetstil</strong>" in page
    assert 'value="Förhandsvisad idé"' in page  # the form stays filled in
    assert count(app, Idea) == 0


class SimilarIdeas:
    """A plugin adding a section to the submission preview."""

    @hookimpl
    def innoplat_submission_sections(self, session, city, draft):
        return [Markup("<p class='similar'>Liknande idéer för: %s</p>") % draft["title"]]


def test_plugins_add_sections_to_the_preview(make_client):
    client = make_client(extra_plugins=[SimilarIdeas()])
    page = post_form(client, "/ideas/new", {"title": "<b>Min idé</b>", "preview": "1"}).get_data(
        as_text=True
    )
    assert "<p class='similar'>Liknande idéer för: &lt;b&gt;Min idé&lt;/b&gt;</p>" in page


def test_a_form_without_csrf_token_is_refused(app, client):
    response = client.post("/ideas/new", data={"title": "Utan token", "send": "1"})
    assert response.status_code == 400
    assert "Formuläret hade gått ut" in response.get_data(as_text=True)
    assert count(app, Idea) == 0


def test_the_receipt_is_only_shown_to_the_browser_that_sent_the_idea(app, client, make_client):
    response = post_form(client, "/ideas/new", {"title": "Min idé", "send": "1"})
    other = app.test_client()
    assert other.get(response.headers["Location"]).status_code == 302


def test_submitting_is_rate_limited_per_client(make_app):
    app = make_app(config={"INNOPLAT_SUBMIT_LIMIT": "2 per hour"})
    client = app.test_client()
    token = csrf_token(client, "/ideas/new")
    statuses = [
        client.post(
            "/ideas/new", data={"title": f"Idé {n}", "send": "1", "csrf_token": token}
        ).status_code
        for n in range(3)
    ]
    assert statuses == [302, 302, 429]
    assert "För många försök" in client.post(
        "/ideas/new", data={"title": "x", "send": "1", "csrf_token": token}
    ).get_data(as_text=True)
    assert count(app, Idea) == 2
    # Previews do not count against the limit.
    assert (
        client.post(
            "/ideas/new", data={"title": "x", "preview": "1", "csrf_token": token}
        ).status_code
        == 200
    )

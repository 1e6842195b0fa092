"""The admins' page for personal data requests: export and erase, CSRF-protected, admins only."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from web_helpers import csrf_token, make_account, sign_in

from innoplat.core.models import AuditEvent, Person
from innoplat.core.services import ideas
from innoplat.core.services.ideas import Submitter

PAGE = "/data-subjects"
EMAIL = "asa.lind@example.org"


@pytest.fixture
def site(make_app):
    app = make_app()
    platform = app.extensions["innoplat"]
    with platform.transaction() as session:
        ideas.submit_idea(
            session,
            platform.city_row(session),
            title="Snö",
            submitter=Submitter(name="Åsa Lind", email=EMAIL, consent=True),
        )
    return app


def _signed_in(app, role):
    client = app.test_client()
    sign_in(client, make_account(app, role=role))
    return client


def test_an_admin_exports_a_person_as_json(site):
    client = _signed_in(site, "admin")
    page = client.get(PAGE + "?lang=en")
    assert page.status_code == 200 and "Personal data requests" in page.get_data(as_text=True)
    response = client.post(
        PAGE, data={"email": EMAIL, "export": "1", "csrf_token": csrf_token(client, PAGE)}
    )
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    document = json.loads(response.get_data(as_text=True))
    assert document["persons"][0]["name"] == "Åsa Lind"
    with site.extensions["innoplat"].transaction() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "exported"))
        assert event.actor.startswith("Anna Admin")


def test_an_admin_erases_a_person_after_ticking_the_box(site):
    client = _signed_in(site, "admin")
    unconfirmed = client.post(
        PAGE + "?lang=en",
        data={"email": EMAIL, "erase": "1", "csrf_token": csrf_token(client, PAGE)},
    )
    assert unconfirmed.status_code == 400
    assert "Tick this box to erase" in unconfirmed.get_data(as_text=True)
    response = client.post(
        PAGE + "?lang=en",
        data={"email": EMAIL, "erase": "1", "confirm": "y", "csrf_token": csrf_token(client, PAGE)},
    )
    assert response.status_code == 200
    assert "The person is erased" in response.get_data(as_text=True)
    with site.extensions["innoplat"].transaction() as session:
        assert session.scalar(select(Person).where(Person.email == EMAIL)) is None
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "erased"))


def test_a_bad_address_is_named_not_a_server_error(site):
    client = _signed_in(site, "admin")
    response = client.post(
        PAGE + "?lang=en",
        data={"email": "a@b@c", "export": "1", "csrf_token": csrf_token(client, PAGE)},
    )
    assert response.status_code == 400


@pytest.mark.parametrize("role", ["coordinator", "member"])
def test_only_admins_may_answer_requests(site, role):
    client = _signed_in(site, role)
    assert client.get(PAGE).status_code == 403
    token = csrf_token(client, "/logout")  # a valid token: the role, not CSRF, refuses
    data = {"email": EMAIL, "erase": "1", "confirm": "y", "csrf_token": token}
    assert client.post(PAGE, data=data).status_code == 403


def test_strangers_are_sent_to_sign_in_and_forged_posts_refused(site):
    client = site.test_client()
    assert client.get(PAGE).status_code == 302
    admin = _signed_in(site, "admin")
    forged = admin.post(PAGE, data={"email": EMAIL, "erase": "1", "confirm": "y"})
    assert forged.status_code == 400
    with site.extensions["innoplat"].transaction() as session:
        assert session.scalar(select(Person).where(Person.email == EMAIL)) is not None

"""The working group's pages: dashboard, moving, methods and outcomes, editing, actors, audit trail."""

from __future__ import annotations

from datetime import timedelta

from web_helpers import LIVING_LAB, add_idea, csrf_token, edit_form, post_form

from innoplat.core.models import utcnow
from innoplat.core.services import ideas as idea_service


def page(response) -> str:
    return response.get_data(as_text=True)


def test_dashboard_lists_ideas_waiting_and_stuck(app, coordinator):
    add_idea(app, title="Väntar på bedömning")
    add_idea(app, title="Gammal idé", submitted_at=utcnow() - timedelta(days=400))
    dashboard = page(coordinator.get("/dashboard"))
    assert "Väntar på bedömning" in dashboard
    stuck = dashboard.split('id="stuck-heading"')[1].split("</section>")[0]
    assert "Gammal idé" in stuck and "Väntar på bedömning" not in stuck


def test_only_legal_transitions_are_offered_and_a_move_is_recorded_with_its_note(app, coordinator):
    reference = add_idea(app)
    form = page(coordinator.get(f"/ideas/{reference}/move"))
    assert 'value="bedomning"' in form and 'value="avslutad"' in form
    assert 'value="inford"' not in form  # Införd is not reachable from Inkommen
    response = post_form(
        coordinator,
        f"/ideas/{reference}/move",
        {"to": "bedomning", "note": "Lovande", "version": "1"},
    )
    assert response.status_code == 302
    idea_page = page(coordinator.get(f"/ideas/{reference}"))
    assert "flyttades till Bedömning" in idea_page and "Lovande" in idea_page


def test_an_illegal_move_is_refused_and_nothing_changes(app, coordinator):
    reference = add_idea(app)
    response = post_form(coordinator, f"/ideas/{reference}/move", {"to": "inford", "version": "1"})
    assert response.status_code == 400
    with app.extensions["innoplat"].transaction() as session:
        assert idea_service.get_idea(session, reference).stage.key == "inkommen"


def test_a_method_is_applied_and_its_outcome_recorded(app, coordinator):
    reference = add_idea(app)
    response = post_form(
        coordinator, f"/ideas/{reference}/methods/new", {**LIVING_LAB, "facilitator": "ltu"}
    )
    assert response.status_code == 302
    with app.extensions["innoplat"].transaction() as session:
        application = idea_service.get_idea(session, reference).method_applications[0]
        application_id = application.id
    url = f"/ideas/{reference}/methods/{application_id}"
    assert (
        post_form(
            coordinator,
            url,
            {"outcome": "succeeded", "ended_on": "2026-05-01", "outcome_note": "Bra"},
        ).status_code
        == 302
    )
    idea_page = page(coordinator.get(f"/ideas/{reference}"))
    assert "Lyckades" in idea_page and "Bra" in idea_page


def test_an_end_date_before_the_start_names_the_field(app, coordinator):
    reference = add_idea(app)
    response = post_form(
        coordinator, f"/ideas/{reference}/methods/new", {**LIVING_LAB, "ended_on": "2026-01-01"}
    )
    assert response.status_code == 400
    assert 'id="ended_on-error"' in page(response)


def test_editing_saves_the_changes(app, coordinator):
    reference = add_idea(app, title="Gammal rubrik")
    form = page(coordinator.get(f"/ideas/{reference}/edit"))
    assert 'value="Gammal rubrik"' in form
    response = post_form(coordinator, f"/ideas/{reference}/edit", edit_form(title="Ny rubrik"))
    assert response.status_code == 302
    assert "Ny rubrik" in page(coordinator.get(f"/ideas/{reference}"))


def test_a_concurrent_edit_shows_both_versions_and_overwrites_nothing(app, coordinator):
    reference = add_idea(app, title="Ursprunglig rubrik")
    token = csrf_token(coordinator, f"/ideas/{reference}/edit")
    first = edit_form(title="Annas rubrik", csrf_token=token)
    assert coordinator.post(f"/ideas/{reference}/edit", data=first).status_code == 302
    second = {**first, "title": "Bertils rubrik"}  # opened before Anna saved: still version 1
    conflict = coordinator.post(f"/ideas/{reference}/edit", data=second)
    assert conflict.status_code == 409
    text = page(conflict)
    assert "Annas rubrik" in text and "Bertils rubrik" in text and "Inget skrevs över" in text
    with app.extensions["innoplat"].transaction() as session:
        assert idea_service.get_idea(session, reference).title == "Annas rubrik"


def test_participations_are_added_and_removed(app, coordinator):
    reference = add_idea(app)
    assert (
        post_form(
            coordinator,
            f"/ideas/{reference}/participations",
            {"organisation": "rise", "role": "expert"},
        ).status_code
        == 302
    )
    listing = page(coordinator.get(f"/ideas/{reference}/participations"))
    assert "RISE Research Institutes of Sweden" in listing and "Expert" in listing
    twice = post_form(
        coordinator,
        f"/ideas/{reference}/participations",
        {"organisation": "rise", "role": "expert"},
    )
    assert twice.status_code == 400 and 'id="organisation-error"' in page(twice)
    with app.extensions["innoplat"].transaction() as session:
        participation_id = idea_service.get_idea(session, reference).participations[0].id
    removed = post_form(
        coordinator,
        f"/ideas/{reference}/participations/{participation_id}/remove",
        {},
        form_url=f"/ideas/{reference}/participations",
    )
    assert removed.status_code == 302
    assert "RISE" not in page(coordinator.get(f"/ideas/{reference}")).split('id="orgs-heading"')[1]


def test_the_audit_trail_shows_who_changed_what(app, coordinator):
    reference = add_idea(app)
    post_form(
        coordinator, f"/ideas/{reference}/move", {"to": "bedomning", "note": "", "version": "1"}
    )
    trail = page(coordinator.get(f"/ideas/{reference}/audit"))
    assert "Anna Coordinator &lt;coordinator@kiruna.example&gt;" in trail
    assert "Flyttad till ett annat steg" in trail and "bedomning" in trail


def test_organisations_people_and_memberships_are_managed(app, coordinator):
    created = post_form(
        coordinator,
        "/organisations/new",
        {
            "key": "snoforeningen",
            "name": "Snöföreningen",
            "kind": "civil_society",
            "parent": "",
            "website": "",
        },
    )
    assert (
        created.status_code == 302 and created.headers["Location"] == "/organisations/snoforeningen"
    )
    assert (
        post_form(
            coordinator,
            "/people",
            {"name": "Bertil Berg", "email": "bertil@example.org", "consent": "y"},
        ).status_code
        == 302
    )
    without_consent = post_form(coordinator, "/people", {"name": "Cecilia", "email": ""})
    assert without_consent.status_code == 400 and 'id="consent-error"' in page(without_consent)
    people = page(coordinator.get("/people"))
    assert "Bertil Berg" in people and "Cecilia" not in people
    form = page(coordinator.get("/organisations/snoforeningen/memberships"))
    person_id = form.split('name="person"')[1].split('value="')[1].split('"')[0]
    added = post_form(
        coordinator,
        "/organisations/snoforeningen/memberships",
        {"person": person_id, "role": "Ordförande"},
    )
    assert added.status_code == 302
    assert "Ordförande" in page(coordinator.get("/organisations/snoforeningen"))
    listing = page(coordinator.get("/organisations/snoforeningen/memberships"))
    remove_url = listing.split('action="')[1].split('"')[0]
    assert remove_url.startswith("/organisations/snoforeningen/memberships/")
    removed = post_form(
        coordinator, remove_url, {}, form_url="/organisations/snoforeningen/memberships"
    )
    assert removed.status_code == 302
    assert "Ordförande" not in page(coordinator.get("/organisations/snoforeningen"))


def test_a_members_role_lets_them_view_internal_ideas_but_not_change_them(app, member):
    reference = add_idea(app, title="Intern idé", visibility="internal")
    assert "Intern idé" in page(member.get(f"/ideas/{reference}"))
    assert "Intern idé" in page(member.get("/ideas"))
    assert member.get(f"/ideas/{reference}/move").status_code == 403
    assert member.get(f"/ideas/{reference}/edit").status_code == 403
    assert member.get(f"/ideas/{reference}/audit").status_code == 200
    forbidden = post_form(member, "/people", {"name": "X", "consent": "y"}, form_url="/logout")
    assert forbidden.status_code == 403 and "Du får inte göra detta" in page(forbidden)


def test_visitors_cannot_reach_the_working_group_pages(app, client):
    reference = add_idea(app)
    for url in (
        f"/ideas/{reference}/move",
        f"/ideas/{reference}/edit",
        f"/ideas/{reference}/audit",
        "/people",
        "/organisations/new",
    ):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), (
            url
        )

"""POST /api/v1/ideas: a citizen submits an idea as JSON, with the web form's rules."""

from __future__ import annotations

import pytest

from tests.api.test_openapi import validator

IDEA = {
    "title": "Värmestugor vid busshållplatser",
    "summary": "Små uppvärmda rum där man väntar på bussen.",
    "focus_areas": ["smart_arktisk_stad"],
    "sdgs": [11],
}


def total(client) -> int:
    return client.get("/api/v1/ideas").get_json()["total"]


def test_a_submitted_idea_gets_a_reference_and_is_listed(client):
    response = client.post("/api/v1/ideas?lang=en", json=IDEA)
    assert response.status_code == 201, response.get_json()
    idea = response.get_json()
    assert idea["reference"].startswith("KIR-") and response.headers["Location"] == idea["url"]
    assert idea["stage"]["name"] == "Submitted" and idea["origin_channel"] == "web"
    assert [h["to_stage"]["key"] for h in idea["history"]] == ["inkommen"]
    document = client.get("/api/v1/openapi.json").get_json()
    assert not list(validator(document, "IdeaDetail").iter_errors(idea))
    assert client.get(idea["url"]).get_json()["title"] == IDEA["title"]
    assert total(client) == 1


def test_no_csrf_token_is_needed_for_json(make_client):
    """The app checks CSRF tokens on forms; a JSON submission cannot come from a foreign form."""
    client = make_client(config={"WTF_CSRF_ENABLED": True})
    assert client.post("/api/v1/ideas", json=IDEA).status_code == 201


def test_a_name_without_consent_is_refused_and_nothing_is_stored(client):
    response = client.post(
        "/api/v1/ideas", json={**IDEA, "name": "Anna", "email": "anna@example.org"}
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "consent"
    assert total(client) == 0
    agreed = {**IDEA, "name": "Anna", "email": "anna@example.org", "consent": True}
    stored = client.post("/api/v1/ideas", json=agreed)
    assert stored.status_code == 201
    assert "anna" not in stored.get_data(as_text=True).lower()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"summary": "Ingen rubrik"}, "title"),
        ({**IDEA, "title": "x" * 201}, "title"),
        ({**IDEA, "sdgs": [18]}, "sdgs"),
        ({**IDEA, "sdgs": ["elva"]}, "sdgs"),
        ({**IDEA, "focus_areas": ["rymden"]}, "focus_areas"),
        ({**IDEA, "title": 42}, "title"),
        ({**IDEA, "visibility": "internal"}, "visibility"),
        ({**IDEA, "initiator_kind": "alien"}, "initiator_kind"),
        (["not", "an", "object"], "body"),
    ],
)
def test_bad_fields_are_named(client, body, field):
    response = client.post("/api/v1/ideas", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field
    assert total(client) == 0


def test_only_json_is_accepted(client):
    form = client.post("/api/v1/ideas", data={"title": "Formulär"})
    assert form.status_code == 400 and form.get_json()["error"]["field"] == "Content-Type"
    broken = client.post("/api/v1/ideas", data="{not json", content_type="application/json")
    assert broken.status_code == 400 and broken.get_json()["error"]["field"] == "body"


def test_submissions_are_rate_limited_like_the_web_form(make_client):
    client = make_client(config={"INNOPLAT_SUBMIT_LIMIT": "2 per hour"})
    assert [client.post("/api/v1/ideas", json=IDEA).status_code for _ in range(3)] == [
        201,
        201,
        429,
    ]
    limited = client.post("/api/v1/ideas", json=IDEA)
    assert limited.get_json()["error"]["status"] == 429

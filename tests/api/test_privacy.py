"""The API serves public data only: no internal idea, no person's name or e-mail address."""

from __future__ import annotations

from tests.api.conftest import PERSON_EMAIL, PERSON_NAME, STAFF_ACTOR


def every_response(client, known) -> str:
    """The text of every API response about the city's ideas, organisations and methods."""
    urls = [
        "/api/v1/",
        "/api/v1/stages",
        "/api/v1/methods",
        "/api/v1/figures",
        "/api/v1/organisations",
    ]
    urls += [f"/api/v1/ideas?per_page=100&page={n}" for n in (1, 2)]
    urls += [
        f"/api/v1/ideas/{known.snow}",
        f"/api/v1/ideas/{known.library}",
        "/api/v1/ideas?q=Anna",
    ]
    urls += [f"/api/v1/organisations/{o['key']}" for o in client.get(urls[4]).get_json()["items"]]
    urls += ["/api/v1/methods/living_lab", "/api/v1/methods/hackathon"]
    texts = []
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        texts.append(response.get_data(as_text=True))
    return "\n".join(texts)


def test_no_person_is_ever_named(client, known):
    text = every_response(client, known)
    for secret in (PERSON_NAME, PERSON_EMAIL, "Pekkari", STAFF_ACTOR, "Staffsson"):
        assert secret.lower() not in text.lower()


def test_an_internal_idea_is_nowhere(client, known):
    assert client.get(f"/api/v1/ideas/{known.internal}").status_code == 404
    text = every_response(client, known)
    assert known.internal not in text and "Intern snöröjningsbudget" not in text
    listed = client.get("/api/v1/ideas?q=snöröjningsbudget").get_json()
    assert listed["total"] == 0 and listed["items"] == []


def test_counts_leave_internal_ideas_out(client, known):
    figures = client.get("/api/v1/figures").get_json()
    assert figures["counts"]["ideas"] == known.total_public
    assert sum(row["ideas"] for row in figures["by_stage"]) == known.total_public
    assert sum(row["ideas"] for row in figures["by_phase"]) == known.total_public
    # The internal idea is the only one with a hackathon in the fixture's own ideas.
    hackathon = client.get("/api/v1/methods/hackathon").get_json()
    listed = client.get("/api/v1/ideas?method=hackathon").get_json()["total"]
    assert hackathon["ideas"] == listed
    assert sum(hackathon["outcomes"].values()) >= listed
    municipality = client.get("/api/v1/organisations/kiruna-kommun").get_json()
    assert (
        municipality["ideas"]
        == client.get("/api/v1/ideas?organisation=kiruna-kommun").get_json()["total"]
    )

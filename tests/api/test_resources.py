"""Stages, methods, organisations and figures through the API; caching headers on reads."""

from __future__ import annotations


def test_the_index_names_the_city_and_links_every_resource(client):
    data = client.get("/api/v1/?lang=en").get_json()
    assert data["city"]["slug"] == "kiruna" and data["city"]["name"] == "Innovation Platform Kiruna"
    assert data["city"]["lang"] == "en"
    for link in data["links"].values():
        assert client.get(link).status_code == 200, link


def test_stages_are_the_city_workflow_with_canonical_phases(client):
    data = client.get("/api/v1/stages?lang=en").get_json()
    stages = {s["key"]: s for s in data["items"]}
    assert list(stages)[0] == "inkommen"
    assert stages["inkommen"]["name"] == "Submitted" and stages["inkommen"]["phase"] == "submitted"
    assert stages["inkommen"]["transitions"] == ["bedomning", "avslutad"]
    assert [p["key"] for p in data["phases"]][:4] == [
        "submitted",
        "screening",
        "development",
        "pilot",
    ]


def test_methods_list_the_shared_catalogue_and_local_methods(client):
    items = client.get("/api/v1/methods").get_json()["items"]
    keys = {m["key"]: m for m in items}
    assert keys["living_lab"]["local"] is False
    local = [m for m in items if m["local"]]
    assert local and all(m["shared_key"] in keys for m in local)


def test_a_method_shows_its_outcomes_here(client, known):
    data = client.get("/api/v1/methods/living_lab").get_json()
    assert data["ideas"] >= 1 and data["outcomes"].get("succeeded", 0) >= 1
    assert data["ideas"] == client.get("/api/v1/ideas?method=living_lab").get_json()["total"]


def test_organisations_with_their_public_ideas_and_collaborators(client, known):
    items = client.get("/api/v1/organisations").get_json()["items"]
    assert {"kiruna-kommun", "ltu", "rise"} <= {o["key"] for o in items}
    universities = client.get("/api/v1/organisations?kind=university").get_json()["items"]
    assert universities and all(o["kind"] == "university" for o in universities)
    owner = client.get("/api/v1/organisations/tekniska-verken-i-kiruna").get_json()
    assert known.snow in [i["reference"] for i in owner["recent_ideas"]]
    assert "kirunabostader" in [c["organisation"]["key"] for c in owner["collaborators"]]
    assert owner["ideas"] >= len(owner["recent_ideas"])


def test_figures_count_the_funnel(client, known):
    data = client.get("/api/v1/figures?lang=en").get_json()
    by_phase = {row["phase"]: row for row in data["by_phase"]}
    assert by_phase["submitted"]["reached"] == known.total_public
    assert by_phase["development"]["reached"] >= by_phase["development"]["ideas"]
    assert [row["stage"]["name"] for row in data["by_stage"]][0] == "Submitted"
    living_lab = next(row for row in data["by_method"] if row["method"]["key"] == "living_lab")
    assert living_lab["ideas"] >= 1 and living_lab["implemented"] <= living_lab["ideas"]
    assert (
        data["counts"]["implemented"]
        == by_phase["implemented"]["ideas"] + by_phase["scaled"]["ideas"]
    )


def test_reads_carry_an_etag_and_a_repeat_is_not_modified(client, known):
    first = client.get("/api/v1/ideas")
    assert first.headers["ETag"] and "max-age" in first.headers["Cache-Control"]
    again = client.get("/api/v1/ideas", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""

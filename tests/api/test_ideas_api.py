"""GET /api/v1/ideas and /api/v1/ideas/<reference>: filters, search, pages, the whole story of an idea."""

from __future__ import annotations

import pytest


def references(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [item["reference"] for item in response.get_json()["items"]]


def test_pages_carry_the_total(client, known):
    first = client.get("/api/v1/ideas?per_page=10").get_json()
    assert first["total"] == known.total_public
    assert first["pages"] == -(-known.total_public // 10)
    assert len(first["items"]) == 10 and first["page"] == 1
    second = client.get("/api/v1/ideas?per_page=10&page=2").get_json()
    assert not {i["reference"] for i in first["items"]} & {i["reference"] for i in second["items"]}
    beyond = client.get(f"/api/v1/ideas?per_page=10&page={first['pages'] + 1}").get_json()
    assert beyond["items"] == [] and beyond["total"] == known.total_public


def test_newest_ideas_come_first_without_a_search(client, known):
    items = client.get("/api/v1/ideas?per_page=100").get_json()["items"]
    times = [i["submitted_at"] for i in items]
    assert times == sorted(times, reverse=True)


def test_full_text_search_ranks_and_finds_inflections(client, known):
    found = references(client.get("/api/v1/ideas?q=snöröjningen&per_page=100"))
    assert known.snow in found and known.internal not in found
    assert references(client.get("/api/v1/ideas?q=snöröjningen spillvärmen")) == [known.snow]
    assert references(client.get("/api/v1/ideas?q=meröpp")) == [known.library]
    assert references(client.get("/api/v1/ideas?q=rymdhiss")) == []


@pytest.mark.parametrize(
    "q", ['"', "snö*", "(", "AND", "-", "NOT OR", "title:x", "'; DROP TABLE idea; --", "ö" * 200]
)
def test_odd_search_text_is_never_an_error(client, known, q):
    response = client.get("/api/v1/ideas", query_string={"q": q})
    assert response.status_code == 200
    data = response.get_json()
    assert data["total"] >= len(data["items"])


@pytest.mark.parametrize(
    ("query", "check"),
    [
        ("stage=utveckling", lambda i: i["stage"]["key"] == "utveckling"),
        ("phase=closed", lambda i: i["stage"]["phase"] == "closed"),
        ("sdg=7", lambda i: 7 in i["sdgs"]),
        ("focus_area=smart_arktisk_stad", lambda i: "smart_arktisk_stad" in i["focus_areas"]),
        ("origin_channel=workshop", lambda i: i["origin_channel"] == "workshop"),
    ],
)
def test_filters_narrow_the_list(client, known, query, check):
    data = client.get(f"/api/v1/ideas?per_page=100&{query}").get_json()
    assert 0 < data["total"] < known.total_public
    assert all(check(i) for i in data["items"])


def test_method_and_organisation_filters(client, known):
    assert known.snow in references(client.get("/api/v1/ideas?method=living_lab&per_page=100"))
    assert references(
        client.get("/api/v1/ideas?method=living_lab&organisation=kirunabostader&q=spillvärme")
    ) == [known.snow]


def test_an_idea_tells_its_whole_public_story(client, known):
    idea = client.get(f"/api/v1/ideas/{known.snow.lower()}").get_json()
    assert idea["reference"] == known.snow and idea["title"] == "Snöröjning med spillvärme"
    assert idea["description"] == "Spillvärme **från gruvan** värmer trottoarerna."
    assert idea["stage"] == {"key": "utveckling", "name": "Utveckling", "phase": "development"}
    assert [
        (h["from_stage"] and h["from_stage"]["key"], h["to_stage"]["key"]) for h in idea["history"]
    ] == [
        (None, "inkommen"),
        ("inkommen", "bedomning"),
        ("bedomning", "utveckling"),
    ]
    [applied] = idea["methods"]
    assert applied["method"]["key"] == "living_lab" and applied["outcome"] == "succeeded"
    assert (applied["started_on"], applied["ended_on"]) == ("2026-01-10", "2026-03-01")
    assert applied["facilitator"]["key"] == "ltu"
    assert [o["key"] for o in applied["organisations"]] == ["rise"]
    assert [(p["organisation"]["key"], p["role"]) for p in idea["participations"]] == [
        ("tekniska-verken-i-kiruna", "owner"),
        ("kirunabostader", "partner"),
    ]
    assert idea["owner_organisation"]["key"] == "tekniska-verken-i-kiruna"
    assert [a["key"] for a in idea["focus_areas"]] == ["smart_arktisk_stad"]
    assert 7 in idea["sdgs"] and idea["origin_channel"] == "workshop"


def test_names_follow_the_lang_parameter(client, known):
    english = client.get(f"/api/v1/ideas/{known.snow}?lang=en").get_json()
    assert english["stage"]["name"] == "Development"
    assert (
        english["methods"][0]["method"]["name"]
        != client.get(f"/api/v1/ideas/{known.snow}").get_json()["methods"][0]["method"]["name"]
    )
    sami = client.get(f"/api/v1/ideas/{known.snow}?lang=se").get_json()
    assert sami["stage"]["name"] == "Utveckling"  # no Sami name configured: the city's default


def test_an_unknown_reference_is_a_json_404(client, known):
    response = client.get("/api/v1/ideas/KIR-2001-0001")
    assert response.status_code == 404
    assert response.get_json()["error"]["status"] == 404
    assert "KIR-2001-0001" in response.get_json()["error"]["message"]

"""Bad input to the JSON API is a 400 naming the field, never a 500 (fuzzing findings of issue 8)."""

from __future__ import annotations

import json

import pytest

from tests.api.test_openapi import validator

IDEA = {"title": "Värmestugor vid busshållplatser", "focus_areas": ["smart_arktisk_stad"]}


def total(client) -> int:
    return client.get("/api/v1/ideas").get_json()["total"]


def refused(response, field: str, status: int = 400) -> None:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert body["error"]["field"] == field, body
    assert set(body["error"]) == {"status", "message", "field"}


def post_raw(client, text: str | bytes):
    return client.post("/api/v1/ideas", data=text, content_type="application/json")


@pytest.mark.parametrize("value", ["²", "٣", "1.0", str(2**63), "9" * 40, "0"])
def test_a_page_that_is_not_a_small_whole_number_is_a_400(client, value):
    refused(client.get(f"/api/v1/ideas?page={value}"), "page")


def test_duplicate_focus_areas_are_a_400(client):
    body = {**IDEA, "focus_areas": ["smart_arktisk_stad", "smart_arktisk_stad"]}
    refused(client.post("/api/v1/ideas", json=body), "focus_areas")
    assert total(client) == 0


@pytest.mark.parametrize("depth", [65, 100_000])
def test_json_nested_very_deep_is_a_400(client, depth):
    refused(post_raw(client, "[" * depth + "]" * depth), "body")
    refused(post_raw(client, '{"title": ' + "[" * depth + "]" * depth + "}"), "body")


def test_a_lone_surrogate_in_a_title_is_a_400(client):
    refused(post_raw(client, '{"title": "Snö\\ud800"}'), "title")
    refused(post_raw(client, '{"title": "ok", "summary": "\\udfff"}'), "summary")
    assert total(client) == 0


@pytest.mark.parametrize(
    "url",
    ["/api/v1/ideas/KIR-2026-0001%00", "/api/v1/ideas?q=%00", "/api/v1/methods/a%00b"],
)
def test_a_nul_character_in_a_path_or_parameter_is_a_400(client, url):
    response = client.get(url)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] in ("path", "q")


def test_a_nul_character_in_a_field_is_a_400(client):
    refused(client.post("/api/v1/ideas", json={"title": "Snö\x00"}), "title")


@pytest.mark.parametrize(
    "address",
    ["anna@example.org\r\nBcc: all@example.org", "anna@example.org\nBcc: x@example.org", "anna"],
)
def test_an_address_with_a_header_in_it_is_a_400(client, address):
    body = {**IDEA, "name": "Anna", "email": address, "consent": True}
    refused(client.post("/api/v1/ideas", json=body), "email")
    assert total(client) == 0


def test_a_description_over_its_limit_is_a_400_and_a_huge_body_a_413(client):
    refused(client.post("/api/v1/ideas", json={**IDEA, "description": "x" * 20_001}), "description")
    huge = json.dumps({**IDEA, "description": "x" * (2 * 1024 * 1024)})
    response = post_raw(client, huge)
    assert response.status_code == 413 and response.get_json()["error"]["status"] == 413
    assert total(client) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**IDEA, "sdgs": [True]}, "sdgs"),
        ({**IDEA, "sdgs": [7, 7]}, "sdgs"),
        ({**IDEA, "sdgs": [2**70]}, "sdgs"),
        ({**IDEA, "title": "x" * 201}, "title"),
        ({**IDEA, "title": "two\nlines"}, "title"),
        ({**IDEA, "name": "N" * 201, "consent": True}, "name"),
        ({**IDEA, "locale": "x" * 17, "consent": True, "name": "A"}, "locale"),
    ],
)
def test_other_bad_fields_are_a_400_naming_them(client, body, field):
    refused(client.post("/api/v1/ideas", json=body), field)


def test_compare_errors_have_the_apis_one_format(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for url in (
        "/api/v1/compare?cities=atlantis",
        "/api/v1/compare?bogus=1",
        "/api/v1/exchange?x=1",
    ):
        response = client.get(url)
        assert response.status_code == 400
        assert not list(validator(document, "Error").iter_errors(response.get_json()))


@pytest.mark.parametrize("url", ["/api/v1/compare", "/api/v1/exchange", "/api/v1/openapi.json"])
def test_compare_and_exchange_carry_an_etag_and_a_repeat_is_not_modified(client, url):
    first = client.get(url)
    assert first.status_code == 200 and first.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.get_data()

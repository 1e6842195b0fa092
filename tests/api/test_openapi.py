"""The OpenAPI document is valid, describes every endpoint, and the real responses match it."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOCUMENT_URI = "urn:innoplat:openapi"


def validator(document: dict, schema_name: str) -> Draft202012Validator:
    """A JSON Schema validator for one of the document's component schemas."""
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry = Registry().with_resource(DOCUMENT_URI, resource)
    return Draft202012Validator(
        {"$ref": f"{DOCUMENT_URI}#/components/schemas/{schema_name}"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def response_schema(document: dict, template: str, status: int) -> str:
    response = document["paths"][template]["get"]["responses"][str(status)]
    return response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]


def calls(known) -> list[tuple[str, str, int]]:
    """(documented path, real URL, expected status) for every endpoint, successes and errors."""
    return [
        ("/", "/api/v1/", 200),
        ("/", "/api/v1/?lang=en", 200),
        ("/ideas", "/api/v1/ideas", 200),
        ("/ideas", "/api/v1/ideas?q=snöröjning&per_page=5&lang=en", 200),
        ("/ideas", "/api/v1/ideas?stage=utveckling&method=living_lab&sdg=7&sort=title", 200),
        ("/ideas", "/api/v1/ideas?page=99", 200),
        ("/ideas", "/api/v1/ideas?per_page=abc", 400),
        ("/ideas/{reference}", f"/api/v1/ideas/{known.snow}", 200),
        ("/ideas/{reference}", f"/api/v1/ideas/{known.library}?lang=fi", 200),
        ("/ideas/{reference}", "/api/v1/ideas/KIR-1999-9999", 404),
        ("/stages", "/api/v1/stages", 200),
        ("/stages", "/api/v1/stages?lang=xx", 400),
        ("/methods", "/api/v1/methods?lang=en", 200),
        ("/methods/{key}", "/api/v1/methods/living_lab", 200),
        ("/methods/{key}", "/api/v1/methods/kiruna:kiruna-innovationsverkstad", 200),
        ("/methods/{key}", "/api/v1/methods/no_such_method", 404),
        ("/organisations", "/api/v1/organisations", 200),
        ("/organisations", "/api/v1/organisations?kind=university", 200),
        ("/organisations", "/api/v1/organisations?kind=pirates", 400),
        ("/organisations/{key}", "/api/v1/organisations/tekniska-verken-i-kiruna", 200),
        ("/organisations/{key}", "/api/v1/organisations/nobody", 404),
        ("/figures", "/api/v1/figures", 200),
        ("/figures", "/api/v1/figures?lang=en", 200),
        ("/evidence", "/api/v1/evidence", 200),
        ("/evidence", "/api/v1/evidence?methods=living_lab&as_of=2026-06-01&lang=en", 200),
        ("/evidence", "/api/v1/evidence?methods=crystal_ball", 400),
        ("/evidence", "/api/v1/evidence?as_of=someday", 400),
        ("/openapi.json", "/api/v1/openapi.json", 200),
        ("/compare", "/api/v1/compare", 200),
        ("/compare", "/api/v1/compare?cities=kiruna&metric=implementation_share&lang=en", 200),
        ("/compare", "/api/v1/compare?cities=atlantis", 400),
        ("/compare", "/api/v1/compare?since=yesterday", 400),
        ("/exchange", "/api/v1/exchange", 200),
        ("/exchange", "/api/v1/exchange?since=2026-01-31T12:00:00Z", 200),
        ("/exchange", "/api/v1/exchange?since=someday", 400),
        ("/exchange", "/api/v1/exchange?since=0001-01-01T00:00:00%2B01:00", 400),  # before year 1
    ]


def test_the_document_is_valid_openapi_3_1(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_endpoint_answers_as_the_document_says(client, known):
    """Each documented path is called, and each real response validates against its schema."""
    document = client.get("/api/v1/openapi.json").get_json()
    exercised = set()
    for template, url, status in calls(known):
        response = client.get(url)
        assert response.status_code == status, url
        assert response.mimetype == "application/json", url
        exercised.add(template)
        if template == "/openapi.json":
            continue
        name = response_schema(document, template, status) if status == 200 else "Error"
        errors = sorted(validator(document, name).iter_errors(response.get_json()), key=str)
        assert not errors, f"{url}: {errors[0].message} at {list(errors[0].absolute_path)}"
    assert exercised == set(document["paths"])


@pytest.mark.parametrize("status", [400, 404, 405, 500, 503])
def test_error_responses_are_documented(client, status):
    """Every endpoint documents its errors; 404 where the address names a resource."""
    document = client.get("/api/v1/openapi.json").get_json()
    for template, item in document["paths"].items():
        if template == "/openapi.json" or (status == 404 and "{" not in template):
            continue
        assert str(status) in item["get"]["responses"], (template, status)


def test_every_documented_parameter_is_accepted(client, known):
    """A parameter the document lists is never refused as unknown."""
    document = client.get("/api/v1/openapi.json").get_json()
    for template, item in document["paths"].items():
        url = "/api/v1" + template.replace("{reference}", known.snow).replace("{key}", "living_lab")
        if template == "/organisations/{key}":
            url = "/api/v1/organisations/ltu"
        for parameter in item["get"].get("parameters", []):
            if parameter["in"] != "query":
                continue
            response = client.get(url, query_string={parameter["name"]: ""})
            assert response.status_code == 200, (url, parameter["name"], response.get_json())


def test_every_api_route_is_in_the_document(app):
    """Each route the app serves under /api/v1, with each of its methods, is documented."""
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        template = rule.rule.removeprefix("/api/v1") or "/"
        template = template.replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((template, method.lower()))
    documented = {
        (template, method) for template, item in document["paths"].items() for method in item
    }
    assert served - documented == set(), "served but not documented"
    assert documented - served == set(), "documented but not served"


def test_the_since_a_sibling_sends_is_a_documented_since(client):
    """``innoplat sync`` asks for changes since its copy's moment, to the microsecond: the
    document's ``since`` parameter takes what the platform's own client sends."""
    from datetime import datetime

    from innoplat.core.services import exchange

    document = client.get("/api/v1/openapi.json").get_json()
    (since,) = [
        p for p in document["paths"]["/exchange"]["get"]["parameters"] if p["name"] == "since"
    ]
    sent = exchange.since_text(datetime(2026, 12, 1, 4, 35, 2, 118000))
    assert not list(Draft202012Validator(since["schema"]).iter_errors(sent)), sent
    assert client.get("/api/v1/exchange", query_string={"since": sent}).status_code == 200

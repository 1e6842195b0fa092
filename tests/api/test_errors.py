"""Errors under /api/v1 are JSON naming the failing field, never an HTML page or a traceback."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from innoplat.core.services import figures


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("per_page=abc", "per_page"),
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("page=0", "page"),
        ("page=-3", "page"),
        ("sdg=99", "sdg"),
        ("sdg=sju", "sdg"),
        ("stage=nowhere", "stage"),
        ("phase=finished", "phase"),
        ("focus_area=space", "focus_area"),
        ("method=astrology", "method"),
        ("organisation=acme", "organisation"),
        ("origin_channel=pigeon", "origin_channel"),
        ("sort=random", "sort"),
        ("lang=xx", "lang"),
        ("q=" + "x" * 201, "q"),
        ("colour=blue", "colour"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(client, query, field):
    response = client.get(f"/api/v1/ideas?{query}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["status"] == 400 and error["field"] == field and error["message"]


def test_an_unknown_stage_lists_where_to_find_the_stages(client):
    message = client.get("/api/v1/ideas?stage=nowhere").get_json()["error"]["message"]
    assert "'nowhere'" in message and "/api/v1/stages" in message


def test_an_unknown_address_is_a_json_404(client):
    for url in ("/api/v1/nothing", "/api/v1/ideas/KIR-2026-0001/extra", "/api/v1/methods/"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.get_json()["error"]["status"] == 404


def test_a_wrong_method_is_a_json_405_with_allow(client):
    response = client.delete("/api/v1/stages")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert response.get_json()["error"]["status"] == 405


@pytest.fixture
def production_client(make_app):
    """A client of an app that behaves as in production: errors are handled, not raised."""
    app = make_app(
        config={
            "TESTING": False,
            "PROPAGATE_EXCEPTIONS": False,
            "SECRET_KEY": "production",
            "INNOPLAT_BASE_URL": "https://innovation.kiruna.example",
        }
    )
    return app.test_client()


def test_an_unexpected_failure_is_a_json_500_without_traceback(production_client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(figures, "city_figures", broken)
    response = production_client.get("/api/v1/figures")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert response.get_json()["error"]["status"] == 500
    assert "secret internals" not in body and "Traceback" not in body


def test_a_database_outage_is_a_json_503(production_client, monkeypatch):
    def down(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(figures, "city_figures", down)
    response = production_client.get("/api/v1/figures")
    assert response.status_code == 503
    assert response.get_json()["error"]["status"] == 503

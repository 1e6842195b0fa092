"""The /compare page, its chart and CSV, and the JSON API: the figures a coordinator sees."""

from __future__ import annotations

import base64
import csv
import io
import re
from datetime import datetime

import pytest

from innoplat.core.config import load_city
from innoplat.core.services import comparison, demo, exchange
from innoplat.core.services.comparison import ROW_KEYS
from innoplat.core.web import create_app


@pytest.fixture
def client(with_demo):
    return create_app(platform=with_demo, config={"TESTING": True}).test_client()


def test_the_page_works_without_javascript_and_shows_a_chart_beside_an_accessible_table(client):
    response = client.get("/compare?metric=implementation_share&lang=en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    assert '<form method="get"' in main and "<script" not in main  # the site's menu script aside
    (chart,) = re.findall(r'<img src="data:image/svg\+xml;base64,([^"]+)"', html)
    svg = base64.b64decode(chart).decode()
    assert "Living lab" in svg and "<script" not in svg
    assert "<caption>Share implemented (share of ideas), by method and city</caption>" in html
    assert '<th scope="col">Innovation Platform Kiruna</th>' in html
    assert '<th scope="row">Living lab</th>' in html
    assert re.search(r"\d+%\s*<span class=\"small\">\(\d+%–\d+%\)</span>", html)  # share, interval
    assert 'href="/compare.csv?' in html


def test_the_page_computes_the_comparison_once_for_its_tables_and_charts(client, monkeypatch):
    calls = []

    def counted(*args, **kwargs):
        calls.append(kwargs)
        return compare(*args, **kwargs)

    compare = comparison.compare
    monkeypatch.setattr(comparison, "compare", counted)
    metrics = "metric=implementation_share&metric=lift&metric=median_days_to_implemented"
    html = client.get(f"/compare?{metrics}&lang=en").get_data(as_text=True)
    assert html.count('<img src="data:image/svg+xml;base64,') == 3 and len(calls) == 1


def test_small_samples_are_marked_in_the_table(client):
    html = client.get("/compare?metric=lift&lang=en&since=2025-12-01").get_data(as_text=True)
    assert '<abbr title="small sample">*</abbr>' in html


def test_the_chart_is_svg_without_scripts_or_outside_resources(client):
    response = client.get("/compare/chart.svg?metric=lift&lang=en")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "<script" not in svg and "kozea.github.io" not in svg
    assert "Living lab" in svg and 'class="ci' in svg  # interval whiskers
    assert "script-src" not in response.headers["Content-Security-Policy"]


def test_the_csv_download_holds_the_tidy_rows(client, with_demo):
    response = client.get("/compare.csv?methods=living_lab")
    assert (
        response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    )
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows and tuple(rows[0]) == ROW_KEYS
    assert {r["metric"] for r in rows} == {m.key for m in comparison.BUILTIN_METRICS}
    with with_demo.transaction() as session:
        expected = comparison.compare_methods(session, methods=["living_lab"], metrics=["lift"])
    (lift,) = [r for r in rows if r["metric"] == "lift"]
    assert float(lift["value"]) == pytest.approx(expected[0]["value"])


def test_the_api_gives_rows_and_names_a_bad_field(client):
    data = client.get("/api/v1/compare?methods=living_lab&metric=lift,ideas_with_method").get_json()
    assert [m["key"] for m in data["metrics"]] == ["lift", "ideas_with_method"]
    assert data["cities"] == [
        {"slug": "kiruna", "name": "Innovationsplattform Kiruna", "peer": False}
    ]
    assert all(set(r) == set(ROW_KEYS) for r in data["rows"])
    response = client.get("/api/v1/compare?metric=happiness")
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "metrics"


def test_a_bad_choice_on_the_page_is_explained_not_a_crash(client):
    response = client.get("/compare?cities=atlantis&lang=en")
    assert response.status_code == 400
    assert "atlantis not in this database" in response.get_data(as_text=True)


def test_the_exchange_endpoint_serves_this_city_bundle(client):
    response = client.get("/api/v1/exchange")
    assert response.status_code == 200 and response.mimetype == "application/json"
    bundle = exchange.loads(response.get_data())
    exchange.validate_bundle(bundle)
    assert bundle["city"]["slug"] == "kiruna" and bundle["ideas"]


def test_the_page_speaks_swedish_by_default(client):
    html = client.get("/compare?lang=sv").get_data(as_text=True)
    assert "Jämför metoder mellan kommuner" in html and "Andel införda" in html


def test_metric_labels_come_from_the_translators_catalogs(client):
    """They fell back to Swedish in Finnish, Northern Sami and Meänkieli before."""
    html = client.get("/compare?lang=fi").get_data(as_text=True)
    assert "Käyttöön otettujen osuus" in html and "Andel införda" not in html


def test_the_method_partial_shows_the_method_in_every_city(with_demo):
    from flask import render_template_string
    from sqlalchemy import select

    from innoplat.core.models import Method

    app = create_app(platform=with_demo, config={"TESTING": True})
    with (
        app.test_request_context("/methods/living_lab?lang=en"),
        with_demo.transaction() as session,
    ):
        app.preprocess_request()
        method = session.scalar(select(Method).where(Method.key == "living_lab"))
        html = render_template_string(
            '{% include "compare/method_across_cities.html" %}', method=method
        )
    assert "This method across cities" in html
    assert '<th scope="row">Innovation Platform Kiruna</th>' in html
    assert 'href="/compare?methods=living_lab' in html


def test_the_method_page_shows_the_method_across_cities(client):
    html = client.get("/methods/living_lab?lang=en").get_data(as_text=True)
    assert '<h2 id="across-cities-heading">This method across cities</h2>' in html
    assert '<th scope="row">Innovation Platform Kiruna</th>' in html


@pytest.fixture
def with_lund(with_demo, make_platform):
    """Kiruna's demo and Lund's, whose demo profile never uses the idea box."""
    lund = make_platform(city=load_city("lund"))
    with lund.transaction() as session:
        demo.load_demo(
            session, lund.city, lund.city_row(session), ideas=300, seed=7, now=datetime(2026, 1, 1)
        )
    return with_demo


def _rows_of_the_chart(svg: str) -> list[tuple[str, bool, int]]:
    """Top to bottom: each label on the chart's axis of names, whether it heads a method
    (bold "major" label), and how many drawn bars sit on its row."""
    axis = re.search(r'<g class="axis y[^"]*">(.*?)</g>\s*<g class="axis x', svg, re.S).group(1)
    labels = [
        (float(y), kind == "major", name)
        for y, kind, name in re.findall(r'<text x="[^"]*" y="([^"]+)" class="(\w*)">([^<]+)<', axis)
    ]
    bars = [
        float(y) + float(height) / 2
        for y, width, height in re.findall(
            r'<rect x="[^"]*" y="([^"]+)" rx="0" ry="0" width="([^"]+)" height="([^"]+)" '
            r'class="rect reactive',
            svg,
        )
        if float(width) > 0
    ]
    ys = sorted(y for y, _major, _name in labels)
    step = min(b - a for a, b in zip(ys, ys[1:], strict=False))
    return [
        (name, major, sum(1 for b in bars if abs(b - y) < step / 2))
        for y, major, name in sorted(labels)
    ]


def test_the_chart_leaves_no_empty_slot_for_a_city_without_a_figure(client, with_lund):
    """Lund has no idea-box figure: the idea box's group has Kiruna's bar only, no gap."""
    svg = client.get(
        "/compare/chart.svg?metric=implementation_share&methods=idea_box,living_lab&lang=en"
    ).get_data(as_text=True)
    rows = _rows_of_the_chart(svg)
    assert rows == [
        ("Idea box", True, 0),
        ("Innovation Platform Kiruna", False, 1),
        ("Living lab", True, 0),
        ("Innovation Platform Kiruna", False, 1),
        ("Future by Lund", False, 1),
    ]
    assert re.search(
        r"text.major\s*{\s*font-weight:\s*bold", svg
    )  # the methods' names head their groups
    every = _rows_of_the_chart(
        client.get("/compare/chart.svg?metric=lift&lang=sv").get_data(as_text=True)
    )
    # Every row that is not a method's heading carries exactly one bar.
    assert all(bars == (0 if heading else 1) for _name, heading, bars in every)
    assert sum(not heading for _n, heading, _b in every) > sum(heading for _n, heading, _b in every)

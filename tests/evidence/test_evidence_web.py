"""The evidence pages: a ranking with caveats, a forest plot and incidence curves per method,
each chart beside a table with the same figures; public ideas only."""

from __future__ import annotations

import base64
import csv
import io
import re

import pytest

from innoplat.core.services.evidence.analysis import EVIDENCE_KEYS, method_evidence
from innoplat.core.web import create_app
from innoplat.core.web import evidence as evidence_web


@pytest.fixture
def client(three_cities):
    return create_app(platform=three_cities, config={"TESTING": True}).test_client()


def test_the_overview_ranks_pooled_methods_with_plain_caveats(client, three_cities):
    response = client.get("/compare/evidence?lang=en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<script" not in html.split("<main", 1)[1]  # the site's menu script aside
    assert "The data are observational" in html
    assert "<caption>Risk ratio of implementation within 12 months, pooled across cities" in html
    with three_cities.transaction() as session:
        rows = method_evidence(session, public_only=True).rows
    pooled = [r for r in rows if r["metric"] == "pooled_risk_ratio_12m" and r["value"]]
    assert pooled, "three cities with the same methods give pooled ratios"
    ranked = re.findall(r'<a href="/compare/evidence/([a-z_]+)">', html)
    expected = [r["method"] for r in sorted(pooled, key=lambda r: -r["value"])]
    assert ranked[: len(expected)] == expected


def test_a_method_page_has_a_forest_plot_and_curves_beside_tables(client, three_cities):
    with three_cities.transaction() as session:
        rows = method_evidence(session, public_only=True).rows
    method = next(
        r["method"] for r in rows if r["metric"] == "pooled_risk_ratio_12m" and r["value"]
    )
    cities = {r["city"] for r in rows if r["city"] and r["method"] == method}
    html = client.get(f"/compare/evidence/{method}?lang=en").get_data(as_text=True)
    forest, *curves = _charts(html)
    assert "Prediction interval for a further city" in forest and "<script" not in forest
    assert "<caption>Risk ratio of implementation within 12 months, by city</caption>" in html
    assert '<th scope="row">Pooled</th>' in html and "prediction interval" in html
    assert len(curves) == len(cities) == 3
    assert all("Without the method" in curve for curve in curves)
    assert "at risk:" in html
    # Each chart has its own address too, drawn from the same figures.
    forest = client.get(f"/compare/evidence/{method}/forest.svg?lang=en")
    assert forest.mimetype == "image/svg+xml" and b"<script" not in forest.data
    assert b"Prediction interval for a further city" in forest.data
    curve = client.get(f"/compare/evidence/{method}/incidence.svg?city=lund&lang=en")
    assert curve.status_code == 200 and b"Without the method" in curve.data


def _charts(html: str) -> list[str]:
    """The SVG documents of the page's chart images, in page order."""
    return [
        base64.b64decode(found).decode()
        for found in re.findall(r'<img src="data:image/svg\+xml;base64,([^"]+)"', html)
    ]


def test_each_evidence_page_computes_the_evidence_once(client, three_cities, monkeypatch):
    """The page draws its forest plot and every city's curves from one computation."""
    calls = []

    def counted(*args, **kwargs):
        calls.append(kwargs)
        return method_evidence(*args, **kwargs)

    monkeypatch.setattr(evidence_web, "method_evidence", counted)
    assert client.get("/compare/evidence?lang=en").status_code == 200
    assert len(calls) == 1
    html = client.get("/compare/evidence/living_lab?lang=en").get_data(as_text=True)
    assert len(calls) == 2  # one more for the method's page, whatever its number of charts
    assert len(_charts(html)) == 1 + html.count('<section class="comparison"') >= 3


def test_a_method_in_fewer_than_three_cities_is_shown_not_pooled(client, three_cities):
    with three_cities.transaction() as session:
        rows = method_evidence(session, public_only=True).rows
    pooled = {r["method"]: r for r in rows if r["metric"] == "pooled_risk_ratio_12m"}
    few = [m for m, r in pooled.items() if r["value"] is None]
    assert few, "some demo method is used in fewer than three cities"
    html = client.get(f"/compare/evidence/{few[0]}?lang=en").get_data(as_text=True)
    assert "not pooled: fewer than three cities with a ratio" in html
    n = pooled[few[0]]["n"]
    assert f"<td>{n} {'city' if n == 1 else 'cities'}</td>" in html  # never "1 cities"
    swedish = client.get(f"/compare/evidence/{few[0]}?lang=sv").get_data(as_text=True)
    assert f"<td>{n} {'kommun' if n == 1 else 'kommuner'}</td>" in swedish


def test_unknown_methods_and_cities_are_not_found(client):
    assert client.get("/compare/evidence/crystal_ball").status_code == 404
    assert client.get("/compare/evidence/living_lab/incidence.svg?city=atlantis").status_code == 404
    assert client.get("/compare/evidence?cities=atlantis").status_code == 400


def test_the_csv_holds_the_same_rows_as_the_api(client):
    rows = list(
        csv.DictReader(io.StringIO(client.get("/compare/evidence.csv").get_data(as_text=True)))
    )
    api = client.get("/api/v1/evidence").get_json()["rows"]
    assert tuple(rows[0]) == EVIDENCE_KEYS and len(rows) == len(api)
    assert [(r["city"], r["method"], r["metric"]) for r in rows] == [
        (a["city"] or "", a["method"], a["metric"]) for a in api
    ]


def test_the_page_speaks_swedish_by_default(client):
    html = client.get("/compare/evidence").get_data(as_text=True)
    assert "Vilka metoder hänger ihop med införande?" in html


def _cells(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", html, re.S)]


#: Per language: a number with two decimals (grouped by thousands), the decimal separator and
#: how a percentage ends.
NOTATION = {
    "sv": (r"\d{1,3}(?:\xa0\d{3})*,\d\d", ",", "\xa0%"),
    "en": (r"\d{1,3}(?:,\d{3})*\.\d\d", ".", "%"),
}


@pytest.mark.parametrize("lang", sorted(NOTATION))
def test_the_evidence_figures_follow_the_language(client, lang):
    """τ², I², ratios and intervals in the language's own notation (Babel), never "0.042" in
    Swedish; the forest plot's axis and the curves' shares too."""
    number, point, percent = NOTATION[lang]
    html = client.get(f"/compare/evidence?lang={lang}").get_data(as_text=True)
    rows = [_cells(r) for r in re.findall(r"<tr>.*?</tr>", html, re.S)]
    pooled = [cells for cells in rows if len(cells) == 6]
    assert pooled
    for ratio, interval, prediction, tau2, i2, _cities in pooled:
        assert re.fullmatch(number, ratio), ratio
        assert re.fullmatch(f"{number}–{number}", interval), interval
        assert re.fullmatch(f"{number}–{number}", prediction), prediction
        assert re.fullmatch(rf"\d+\{point}\d{{3}}", tau2), tau2
        assert re.fullmatch(rf"\d+{percent}", i2), i2
    first = re.search(r'<a href="/compare/evidence/([a-z_]+)">', html).group(1)  # pooled
    page = client.get(f"/compare/evidence/{first}?lang={lang}").get_data(as_text=True)
    note = re.search(r"τ² = ([^;]+); I² = ([^<]+)</span>", page)
    assert note and re.fullmatch(rf"\d+\{point}\d{{3}}", note.group(1))
    assert re.fullmatch(rf"\d+{percent}", note.group(2).strip())
    forest, *curves = _charts(page)
    ticks = re.findall(r"<text[^>]*>([\d\s.,\xa0]+)</text>", forest)
    assert ticks and all(re.fullmatch(number, t) for t in ticks), ticks
    shares = re.findall(r"<text[^>]*>(\d+\s?%)</text>", curves[0])
    assert shares and all(s.endswith(percent) for s in shares), shares


def test_city_names_that_fall_back_are_marked_in_text_and_plain_in_attributes(client, three_cities):
    # The bundled cities name themselves in Swedish (and some in English), not in Sami.
    with three_cities.transaction() as session:
        rows = method_evidence(session, public_only=True).rows
    method = next(
        r["method"] for r in rows if r["metric"] == "pooled_risk_ratio_12m" and r["value"]
    )
    page = client.get(f"/compare/evidence/{method}?lang=se").get_data(as_text=True)
    assert re.search(r'<th scope="row"><span lang="sv">[^<]+</span></th>', page)
    assert re.search(r'<h3 id="incidence-lund"><span lang="sv">[^<]+</span></h3>', page)
    alts = re.findall(r'<img src="data:[^"]+" alt="([^"]*)"', page)
    assert alts and not any("<" in alt or "&lt;" in alt for alt in alts)
    overview = client.get("/compare/evidence?lang=se").get_data(as_text=True)
    assert re.search(r'<span lang="sv">[^<]+</span>, <span lang="sv">', overview)
    compare = client.get("/compare?lang=se").get_data(as_text=True)
    assert re.search(r'<th scope="col"><span lang="sv">[^<]+</span></th>', compare)
    # In a language the cities give, nothing is marked.
    assert (
        'lang="sv"'
        not in client.get(f"/compare/evidence/{method}?lang=sv")
        .get_data(as_text=True)
        .split("<main", 1)[1]
    )

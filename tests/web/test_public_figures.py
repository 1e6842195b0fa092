"""Public means public: every figure a visitor sees counts public ideas only; staff see more, labelled.

One public and one internal idea both went through a living lab with Kiruna kommun; the internal
one also with Kirunabostäder. A visitor must find one idea everywhere, the city's staff two.
"""

from __future__ import annotations

import csv
import io
import re

import pytest

from innoplat.core.services import accounts, actors, ideas, methods
from innoplat.plugins.evaluation import scoring
from innoplat.plugins.evaluation.matrix import matrix


@pytest.fixture
def kiruna(app):
    platform = app.extensions["innoplat"]
    with platform.transaction() as session:
        city = platform.city_row(session)
        evaluator = accounts.create_account(
            session, city, email="e@kiruna.example", name="E", password="x" * 12, role="member"
        ).id
        criteria = matrix(platform.city.config.plugins.settings("evaluation"))
        for title, visibility, partner in (
            ("Öppen testbädd för snöröjning", "public", "rise"),
            ("Intern budget för snöröjning", "internal", "kirunabostader"),
        ):
            idea = ideas.submit_idea(session, city, title=title, visibility=visibility)
            methods.apply_method(session, idea, "living_lab")
            actors.add_participation(session, idea, "kiruna-kommun", "owner")
            actors.add_participation(session, idea, partner, "partner")
            scoring.record_scores(
                session, idea, evaluator, {c.key: 3 for c in criteria.criteria}, criteria
            )
    return app


def _text(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def _ideas_with_living_lab(rows) -> int:
    (row,) = [
        r
        for r in rows
        if r["city"] == "kiruna"
        and r["method"] == "living_lab"
        and r["metric"] == "ideas_with_method"
    ]
    return int(row["value"])


def test_a_visitor_counts_the_same_public_ideas_everywhere(kiruna):
    client = kiruna.test_client()
    home = _text(client, "/?lang=en")
    assert "1 ideas in total." in home and "Staff view" not in home

    method = _text(client, "/methods/living_lab?lang=en")
    assert "Ideas that used it (1)" in method
    across = re.search(r'id="across-cities-heading".*?</table>', method, re.DOTALL)
    assert across and re.search(r"<td>1\b", across.group(0))  # the across-cities table agrees
    assert "Intern budget" not in method

    api = client.get("/api/v1/compare?methods=living_lab").get_json()
    assert _ideas_with_living_lab(api["rows"]) == 1
    assert "evaluation_mean_score" not in {m["key"] for m in api["metrics"]}
    rows = list(csv.DictReader(io.StringIO(_text(client, "/compare.csv?methods=living_lab"))))
    assert _ideas_with_living_lab(rows) == 1
    page = _text(client, "/compare?methods=living_lab&metric=ideas_with_method&lang=en")
    assert "Mean evaluation score" not in page and 'name="internal"' not in page

    organisations = _text(client, "/organisations?lang=en")
    owner = re.search(
        r'href="/organisations/kiruna-kommun">[^<]*</a>\s*<span class="meta">([^<]*)', organisations
    )
    assert owner and owner.group(1) == "1 ideas"
    detail = _text(client, "/organisations/kiruna-kommun?lang=en")
    assert "Ideas it takes part in (1)" in detail
    assert "RISE" in detail and "Kirunabostäder" not in detail  # collaborators: public ideas only
    api_org = client.get("/api/v1/organisations/kiruna-kommun").get_json()
    assert api_org["ideas"] == 1
    assert [c["organisation"]["key"] for c in api_org["collaborators"]] == ["rise"]
    listed = client.get("/api/v1/organisations").get_json()["items"]
    assert {o["key"]: o["ideas"] for o in listed}["kiruna-kommun"] == 1

    exported = list(csv.DictReader(io.StringIO(_text(client, "/opendata/ideas.csv"))))
    assert [r["title"] for r in exported] == ["Öppen testbädd för snöröjning"]


def test_a_visitor_cannot_ask_for_staff_figures(kiruna):
    client = kiruna.test_client()
    refused = client.get("/api/v1/compare?metric=evaluation_mean_score")
    assert refused.status_code == 400
    assert "staff only" in refused.get_json()["error"]["message"]
    assert client.get("/compare?metric=evaluation_mean_score").status_code == 400
    assert client.get("/compare.csv?metric=evaluation_mean_score").status_code == 400
    # "internal=1" is a staff view: a visitor asking for it gets the public figures.
    # The API knows no staff view: the parameter is refused.
    assert client.get("/api/v1/compare?methods=living_lab&internal=1").status_code == 400
    rows = csv.DictReader(io.StringIO(_text(client, "/compare.csv?methods=living_lab&internal=1")))
    assert _ideas_with_living_lab(list(rows)) == 1


def test_staff_see_internal_ideas_labelled_and_the_mean_score_in_the_staff_view(kiruna, sign_in):
    client = kiruna.test_client()
    sign_in(client, "member")
    method = _text(client, "/methods/living_lab?lang=en")
    assert "Ideas that used it (2)" in method and "Staff view" in method
    detail = _text(client, "/organisations/kiruna-kommun?lang=en")
    assert "Ideas it takes part in (2)" in detail and "Kirunabostäder" in detail
    assert "Staff view" in detail

    # The comparison is the public one until the staff view is ticked.
    public = _text(client, "/compare?methods=living_lab&metric=ideas_with_method&lang=en")
    assert 'name="internal"' in public and 'class="staff-view"' not in public
    staff = _text(
        client, "/compare?methods=living_lab&metric=evaluation_mean_score&internal=1&lang=en"
    )
    assert 'class="staff-view"' in staff and "staff only</span>" in staff
    assert "internal=1" in re.search(r'href="(/compare\.csv\?[^"]*)"', staff).group(1)
    response = client.get("/compare.csv?methods=living_lab&internal=1")
    assert "staff-view" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert _ideas_with_living_lab(rows) == 2
    assert [r["value"] for r in rows if r["metric"] == "evaluation_mean_score"] == ["3"]
    # The JSON API stays public, signed in or not.
    api = client.get("/api/v1/compare?methods=living_lab").get_json()
    assert _ideas_with_living_lab(api["rows"]) == 1
    assert client.get("/api/v1/compare?methods=living_lab&internal=1").status_code == 400

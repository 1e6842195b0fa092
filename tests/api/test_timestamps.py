"""One timestamp format wherever ideas are served: UTC, ISO 8601 to the second, with ``Z``."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta, timezone

import flask
from click.testing import CliRunner

from innoplat.core.cli import cli
from innoplat.core.services import ideas, serialisation

FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
WHEN = datetime(2026, 3, 1, 9, 30, 15, 123456)


def test_the_format():
    assert serialisation.timestamp(WHEN) == "2026-03-01T09:30:15Z"
    aware = WHEN.replace(tzinfo=UTC).astimezone(timezone(timedelta(hours=1)))
    assert serialisation.timestamp(aware) == "2026-03-01T09:30:15Z"
    assert serialisation.timestamp(None) is None


def test_api_cli_and_open_data_show_the_same_times(make_app, database_url):
    app = make_app(plugins=["opendata"])
    platform = app.extensions["innoplat"]
    with platform.transaction() as session:
        reference = ideas.submit_idea(
            session, platform.city_row(session), title="Värmestugor", submitted_at=WHEN
        ).reference
    client = app.test_client()
    api = client.get(f"/api/v1/ideas/{reference}").get_json()
    rows = json.loads(client.get("/opendata/ideas.json").get_data(as_text=True))["ideas"]
    (exported,) = [r for r in rows if r["reference"] == reference]
    listed = CliRunner().invoke(
        cli, ["ideas", "list", "--city", "kiruna", "--db", database_url, "--json"]
    )
    (row,) = [r for r in json.loads(listed.output)["ideas"] if r["reference"] == reference]
    shown = {api["submitted_at"], exported["submitted_at"], row["submitted_at"]}
    assert shown == {"2026-03-01T09:30:15Z"}
    assert FORMAT.match(api["history"][0]["at"]) and FORMAT.match(exported["updated_at"])


#: Anything that looks like a time of day after a date (with what follows it): each must be
#: written as UTC_Z, in a value of its own or in a sentence.
TIME_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}[0-9:.]*(?:Z|[+-]\d{2}:?\d{2})?")
#: FORMAT, or to the microsecond (exchange bundles, so a round trip loses nothing).
UTC_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z$")


def _strings(value, where="$"):
    """Every string of a JSON document (keys too), with where it is."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key, where)
            yield from _strings(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{where}[{i}]")


def _times_without_z(document, source):
    return [
        f"{source} {where}: {text!r}"
        for where, text in _strings(document)
        if any(not UTC_Z.match(time) for time in TIME_LIKE.findall(text))
    ]


def _json_pages(client, reference):
    """Every GET route of the app that answers JSON or CSV, with its parameters filled in."""
    values = {"reference": reference, "key": "living_lab"}
    app = client.application
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not set(rule.arguments) <= set(values):
            continue
        with app.test_request_context():
            url = flask.url_for(rule.endpoint, **{a: values[a] for a in rule.arguments})
        response = client.get(url)
        if response.status_code != 200:
            continue
        if response.mimetype == "application/json":
            yield url, json.loads(response.get_data(as_text=True))
        elif response.mimetype == "text/csv":
            yield url, list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_every_time_written_anywhere_ends_in_z(make_app, database_url, monkeypatch):
    """The API, open data, the CLI's JSON and the personal-data export: no time without ``Z``.

    Every JSON or CSV route of the app is visited, so a new endpoint that writes a time its
    own way fails here.
    """
    app = make_app(plugins=["opendata"])
    platform = app.extensions["innoplat"]
    with platform.transaction() as session:
        city = platform.city_row(session)
        idea = ideas.submit_idea(
            session,
            city,
            title="Värmestugor",
            submitted_at=WHEN,
            submitter=ideas.Submitter(name="Aina Kuoljok", email="aina@example.org", consent=True),
        )
        ideas.move_idea(session, idea, "bedomning", actor="cli")
        reference = idea.reference
    client = app.test_client()
    found, visited = [], []
    for url, document in _json_pages(client, reference):
        visited.append(url)
        found += _times_without_z(document, url)
    assert {"/api/v1/ideas", f"/api/v1/ideas/{reference}", "/opendata/ideas.csv"} <= set(visited)

    monkeypatch.setenv("INNOPLAT_SECRET_KEY", "s" * 32)
    base = ["--city", "kiruna", "--db", database_url]
    commands = [
        ["ideas", "list", *base, "--json"],
        ["ideas", "show", reference, *base, "--json"],
        ["diffusion", *base, "--format", "json"],
        ["persons", "export", *base, "--email", "aina@example.org"],
    ]
    for command in commands:
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 0, (command, result.output)
        document = json.loads(result.output)
        assert any(TIME_LIKE.search(text) for _, text in _strings(document)) or (
            command[0] == "diffusion"
        ), command
        found += _times_without_z(document, " ".join(command[:2]))
    assert not found, "\n".join(found)

"""One timestamp format wherever ideas are served: UTC, ISO 8601 to the second, with ``Z``."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone

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

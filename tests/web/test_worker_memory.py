"""A web worker carries SciPy and the chart library only once it draws a chart or pools figures.

SciPy alone is about 65 MB of a worker's resident memory (docs/benchmarks.md, "Many cities in
one worker"); a worker serving the six bundled cities stays small while nobody opens the
comparison's statistics. Checked in a fresh interpreter, as a gunicorn worker starts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from innoplat.core.platform import Platform
from innoplat.core.services import demo

CITIES = ("kiruna", "lund", "goteborg", "boras", "stockholm", "umea")
HEAVY = ("scipy", "pygal")

WORKER = r"""
import json, sys
from werkzeug.test import Client

database, sites_file, then = sys.argv[1], sys.argv[2], sys.argv[3:]
heavy = ("scipy", "pygal")


def loaded():
    return sorted(name for name in heavy if name in sys.modules)


from innoplat.core.web import create_app
from innoplat.core.web.sites import create_sites_app, load_sites

report = {"imported": loaded()}
single = create_app(city="kiruna", database_url=database, config={"SECRET_KEY": "s"})
sites = load_sites(sites_file)
client = Client(create_sites_app(sites, database, config={"SECRET_KEY": "s"}))
report["built"] = loaded()
for site in sites.sites:
    for path in ("/", "/ideas", "/methods", "/about"):
        status = client.get(site.prefix + path).status_code
        assert status == 200, (site.prefix + path, status)
report["served"] = loaded()
for path in then:
    status = client.get(path).status_code
    assert status == 200, (path, status)
report["then"] = loaded()
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def six_cities(tmp_path_factory):
    folder = tmp_path_factory.mktemp("six")
    database = f"sqlite:///{folder / 'six.sqlite3'}"
    for number, slug in enumerate(CITIES):
        platform = Platform.open(slug, database)
        try:
            platform.init()
            if number < 3:  # three cities with ideas: enough for a pooled figure
                with platform.transaction() as session:
                    demo.load_demo(
                        session, platform.city, platform.city_row(session), ideas=150, seed=number
                    )
        finally:
            platform.dispose()
    sites = folder / "sites.toml"
    sites.write_text(
        "".join(f'[cities.{slug}]\nprefix = "/{slug}"\n\n' for slug in CITIES), encoding="utf-8"
    )
    return database, sites


def _worker(database: str, sites, *then: str) -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", WORKER, database, str(sites), *then],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "INNOPLAT_BASE_URL": "https://innovation.example"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_worker_serving_six_cities_does_without_scipy_and_pygal(six_cities):
    report = _worker(*six_cities)
    assert report["imported"] == []
    assert report["built"] == []
    assert report["served"] == []


def test_the_statistics_come_in_when_a_page_needs_them(six_cities):
    """The check above sees the libraries when they are there: the evidence page pools."""
    report = _worker(*six_cities, "/kiruna/compare/evidence", "/kiruna/compare/chart.svg")
    assert report["served"] == []
    assert report["then"] == sorted(HEAVY)

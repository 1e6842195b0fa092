"""Benchmark: one process serving all six bundled cities against one process per city.

Builds one SQLite database with the six bundled cities, N synthetic ideas each (the demo
generator), then starts fresh Python processes (as a gunicorn worker would be) that build

- ``single``: the app of one city (Kiruna), as ``create_app(city="kiruna")``;
- ``sites``: the dispatcher over all six cities, as ``create_sites_app("sites.toml")``,

warm every city's pages once (home and idea list), and report the worker's resident memory
(RSS, after warming; and its peak). A third process holds both and times Kiruna's idea list
``/ideas`` (first page, as a visitor opens it) R times through each, interleaved, so both
medians see the same machine.
Run on demand only (never in the test suite)::

    .venv/bin/python benchmarks/sites.py                    # N = 2,000 ideas per city
    .venv/bin/python benchmarks/sites.py --ideas 10000 --repeat 100
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from innoplat.core.platform import Platform
from innoplat.core.services import demo
from innoplat.core.web.sites import load_sites

CITIES = ("kiruna", "lund", "goteborg", "boras", "stockholm", "umea")

WORKER = r"""
import json, resource, statistics, sys, time
from werkzeug.test import Client

kind, database, sites_file, repeat = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])


def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


before = rss_mb()
from innoplat.core.web import create_app
from innoplat.core.web.sites import create_sites_app, load_sites

apps = {}
if kind in ("single", "both"):
    single = create_app(city="kiruna", database_url=database, config={"SECRET_KEY": "bench"})
    apps["single"] = (Client(single), {"kiruna": ""})
if kind in ("sites", "both"):
    sites = load_sites(sites_file)
    dispatcher = create_sites_app(sites, database, config={"SECRET_KEY": "bench"})
    apps["sites"] = (Client(dispatcher), {s.slug: s.prefix for s in sites.sites})
for client, prefixes in apps.values():
    for prefix in prefixes.values():
        for path in ("/", "/ideas", "/methods"):
            response = client.get(prefix + path)
            assert response.status_code == 200, (prefix + path, response.status_code)
times = {name: [] for name in apps}
for _ in range(repeat):  # interleaved, so both see the same machine
    for name, (client, prefixes) in apps.items():
        start = time.perf_counter()
        client.get(prefixes["kiruna"] + "/ideas").get_data()
        times[name].append((time.perf_counter() - start) * 1000)
print(json.dumps({
    "kind": kind,
    "cities": sum(len(p) for _c, p in apps.values()),
    "rss_mb": rss_mb(),
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "python_start_mb": before,
    "p50_ms": {name: statistics.median(t) for name, t in times.items()},
}))
"""


def build(folder: Path, ideas: int) -> tuple[str, Path]:
    database = f"sqlite:///{folder / 'six.sqlite3'}"
    for number, slug in enumerate(CITIES):
        platform = Platform.open(slug, database)
        try:
            platform.init()
            with platform.transaction() as session:
                demo.load_demo(
                    session, platform.city, platform.city_row(session), ideas=ideas, seed=number + 1
                )
        finally:
            platform.dispose()
    sites = folder / "sites.toml"
    sites.write_text(
        "".join(f'[cities.{slug}]\nprefix = "/{slug}"\n\n' for slug in CITIES), encoding="utf-8"
    )
    load_sites(sites)  # the file is valid
    return database, sites


def measure(kind: str, database: str, sites: Path, repeat: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", WORKER, kind, database, str(sites), str(repeat)],
        capture_output=True,
        text=True,
        check=True,
        # Production apps require their public address; any will do for the measurement.
        env={"INNOPLAT_BASE_URL": "https://innovation.example", **os.environ},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ideas", type=int, default=2000, help="synthetic ideas per city")
    parser.add_argument("--repeat", type=int, default=50, help="requests timed per app")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="innoplat-sites-") as tmp:
        start = time.perf_counter()
        database, sites = build(Path(tmp), args.ideas)
        print(f"six cities × {args.ideas:,} ideas built in {time.perf_counter() - start:.0f} s")
        rows = [measure(kind, database, sites, 1) for kind in ("single", "sites")]
        both = measure("both", database, sites, args.repeat)
    print(f"{'app':<8} {'cities':>6} {'RSS MB':>8} {'peak MB':>8} {'/ideas p50 ms':>14}")
    for row in rows:
        p50 = both["p50_ms"][row["kind"]]
        print(
            f"{row['kind']:<8} {row['cities']:>6} {row['rss_mb']:>8.0f} "
            f"{row['peak_rss_mb']:>8.0f} {p50:>14.1f}"
        )
    single, many = rows
    ratio = both["p50_ms"]["sites"] / both["p50_ms"]["single"]
    print(
        f"six cities in one worker: {many['rss_mb'] - single['rss_mb']:+.0f} MB against one city; "
        f"/ideas p50 ratio (sites / single, interleaved in one process) {ratio:.2f}"
    )


if __name__ == "__main__":
    main()

"""Benchmark: sustained idea submissions per second with 20 concurrent clients, against a baseline.

Serves Kiruna's app with werkzeug's threaded server in a child process and lets 20 client
threads (in this process) post ideas to ``POST /api/v1/ideas`` as fast as answers come, for
a fixed time after a warm-up. The baseline, measured in the same run on the same kind of
database, the same server and the same clients: a bare Flask app whose endpoint parses the
same JSON and inserts one row into a one-table database in its own transaction, on an
engine made by ``innoplat.core.db.make_engine`` (the same SQLite settings: WAL, busy
timeout, ``BEGIN IMMEDIATE``). The ratio says what the whole use case (reference counter,
stage history, audit trail, search index, hooks) costs over the bare insert.

Runs on SQLite, and on a throw-away PostgreSQL server when Debian's server binaries exist.
Run on demand only (never in the test suite)::

    .venv/bin/python benchmarks/concurrency.py                  # 20 clients, 10 s per run
    .venv/bin/python benchmarks/concurrency.py --seconds 5 --no-postgresql
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, func, select
from timing import databases

from innoplat.core import db
from innoplat.core.models import Idea
from innoplat.core.platform import Platform

metadata = MetaData()
baseline_idea = Table(
    "baseline_idea",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(200), nullable=False),
    Column("summary", String(600), nullable=False, default=""),
    Column("description", Text, nullable=False, default=""),
    Column("submitted_at", DateTime, nullable=False, server_default=func.now()),
)


def innoplat_app(url: str) -> Any:
    from innoplat.core.web import create_app

    platform = Platform.open("kiruna", url)
    platform.init()
    # A production app, as gunicorn runs it: it needs its secret key and public address.
    config = {
        "SECRET_KEY": "benchmark",
        "RATELIMIT_ENABLED": False,
        "INNOPLAT_BASE_URL": "http://127.0.0.1",
    }
    return create_app(platform=platform, config=config)


def baseline_app(url: str) -> Any:
    from flask import Flask, jsonify, request

    engine = db.make_engine(url)
    metadata.create_all(engine)
    sessions = db.session_factory(engine)
    app = Flask("baseline")

    @app.post("/api/v1/ideas")
    def submit() -> Any:
        body = request.get_json()
        with db.transaction(sessions) as session:
            session.execute(
                baseline_idea.insert().values(
                    title=body["title"], summary=body.get("summary", ""), description=""
                )
            )
        return jsonify({"title": body["title"]}), 201

    return app


def serve(kind: str, url: str, ports: Any) -> None:
    """The child process: build the app and serve it until terminated."""
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    app = innoplat_app(url) if kind == "innoplat" else baseline_app(url)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    ports.put(server.server_port)
    server.serve_forever()


@dataclass
class Result:
    submissions: int
    errors: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.submissions / self.seconds


def drive(base: str, clients: int, warmup: float, seconds: float) -> Result:
    """``clients`` threads posting ideas; counts only answers that arrive in the timed window."""
    start = time.monotonic() + warmup
    stop = start + seconds
    counts = [[0, 0] for _ in range(clients)]

    def client(n: int) -> None:
        with requests.Session() as http:
            i = 0
            while (now := time.monotonic()) < stop:
                i += 1
                body = {"title": f"Belastningsidé {n}-{i}", "summary": "Mätning av samtidighet"}
                response = http.post(f"{base}/api/v1/ideas", json=body, timeout=60)
                if now >= start and time.monotonic() <= stop:
                    counts[n][0 if response.status_code == 201 else 1] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Result(sum(c[0] for c in counts), sum(c[1] for c in counts), seconds)


def measure(kind: str, url: str, clients: int, warmup: float, seconds: float) -> Result:
    context = multiprocessing.get_context("spawn")
    ports = context.Queue()
    process = context.Process(target=serve, args=(kind, url, ports), daemon=True)
    process.start()
    try:
        port = ports.get(timeout=120)
        return drive(f"http://127.0.0.1:{port}", clients, warmup, seconds)
    finally:
        process.terminate()
        process.join()


def stored_once(url: str) -> tuple[int, int]:
    """(ideas, distinct references) in the innoplat database after its run."""
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            ideas = connection.scalar(select(func.count()).select_from(Idea))
            distinct = connection.scalar(select(func.count(Idea.reference.distinct())))
            return int(ideas or 0), int(distinct or 0)
    finally:
        engine.dispose()


def run(label: str, urls: dict[str, str], clients: int, warmup: float, seconds: float) -> None:
    results = {kind: measure(kind, url, clients, warmup, seconds) for kind, url in urls.items()}
    ideas, distinct = stored_once(urls["innoplat"])
    ours, base = results["innoplat"], results["baseline"]
    print(f"\n{label}, {clients} clients, {seconds:.0f} s after {warmup:.0f} s warm-up:")
    print(f"  {'':<30} {'submissions/s':>14} {'errors':>7}")
    print(f"  {'innoplat POST /api/v1/ideas':<30} {ours.per_second:>14.1f} {ours.errors:>7}")
    print(f"  {'baseline (bare Flask insert)':<30} {base.per_second:>14.1f} {base.errors:>7}")
    print(f"  ratio innoplat/baseline: {ours.per_second / base.per_second:.2f}")
    print(f"  ideas stored: {ideas}, distinct references: {distinct}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (20)")
    parser.add_argument("--seconds", type=float, default=10.0, help="timed window per run (10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up before timing (2)")
    parser.add_argument("--no-postgresql", action="store_true", help="SQLite only")
    options = parser.parse_args()
    timing = (options.clients, options.warmup, options.seconds)

    for label, urls in databases(["innoplat", "baseline"], postgresql=not options.no_postgresql):
        run(label, urls, *timing)


if __name__ == "__main__":
    main()

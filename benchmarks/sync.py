"""Benchmark: a sync after a few changes, whole bundle against the changes since the copy's moment.

Builds Lund with N synthetic ideas (the demo generator), imports its bundle into Kiruna's
instance as a peer, then changes C ideas at Lund (a new title each) and measures, in the
same run, both ways of bringing the copy up to date:

* **publisher** — the bundle built as ``/api/v1/exchange`` builds it, whole and with
  ``?since=`` (bytes as sent, and gzipped as most siblings ask for it);
* **receiver** — the whole bundle imported over the copy, and the partial one merged into
  it (``exchange.merge_changes``: the copy is read and checked with the changes as one
  bundle, then only the changed and withdrawn ideas are written, in place). Each is rolled
  back after it is timed, so both start from the same copy.

Run on demand, never in the tests::

    .venv/bin/python benchmarks/sync.py                          # N = 5,000, C = 10
    .venv/bin/python benchmarks/sync.py --databases sqlite --sizes 20000 --changes 100
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from timing import median_seconds

from innoplat.core.models import Idea, Visibility
from innoplat.core.platform import Platform
from innoplat.core.services import demo, exchange, ideas
from innoplat.core.testing import throwaway_postgresql

NOW = datetime(2026, 6, 1)


def _bundle(platform: Platform, since: datetime | None = None) -> bytes:
    with platform.transaction() as session:
        city = platform.city_row(session)
        return b"".join(exchange.byte_chunks(session, city, since=since))


def _timed_rolled_back(platform: Platform, load: Any, body: bytes) -> float:
    """Seconds ``load`` takes on the receiver, its transaction rolled back afterwards."""
    with platform.sessions() as session:
        start = time.perf_counter()
        load(session, body, source="benchmark")
        session.flush()
        elapsed = time.perf_counter() - start
        session.rollback()
    return elapsed


def measure(kind: str, n: int, changes: int, repeat: int, databases: Any) -> dict[str, Any]:
    lund = Platform.open("lund", databases())
    hub = Platform.open("kiruna", databases())
    try:
        lund.init()
        hub.init()
        with lund.transaction() as session:
            demo.load_demo(session, lund.city, lund.city_row(session), ideas=n, seed=1, now=NOW)
        first = _bundle(lund)
        with hub.transaction() as session:
            exchange.import_bundle(session, first, source="benchmark")
        moment = exchange.parse_since(json.loads(first)["exported_at"])
        with lund.transaction() as session:
            city = lund.city_row(session)
            for reference in session.scalars(
                select(Idea.reference)
                .where(Idea.city_id == city.id, Idea.visibility == Visibility.public)
                .order_by(Idea.reference)
                .limit(changes)
            ):
                idea = ideas.get_idea(session, reference, city=city)
                ideas.update_idea(
                    session, idea, expected_version=idea.version, title=idea.title + " (2)"
                )
        whole, partial = _bundle(lund), _bundle(lund, since=moment)
        row: dict[str, Any] = {"database": kind, "ideas": len(json.loads(whole)["ideas"])}
        row["changes"] = len(json.loads(partial)["ideas"])
        row["whole_bytes"], row["partial_bytes"] = len(whole), len(partial)
        row["whole_gz"] = len(gzip.compress(whole, 6))
        row["partial_gz"] = len(gzip.compress(partial, 6))
        row["whole_build_s"] = median_seconds(lambda: _bundle(lund), repeat)
        row["partial_build_s"] = median_seconds(lambda: _bundle(lund, since=moment), repeat)
        row["import_s"] = min(
            _timed_rolled_back(hub, exchange.import_bundle, whole) for _ in range(repeat)
        )
        row["merge_s"] = min(
            _timed_rolled_back(hub, exchange.merge_changes, partial) for _ in range(repeat)
        )
        return row
    finally:
        lund.dispose()
        hub.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000])
    parser.add_argument("--changes", type=int, default=10)
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(1, 10_000))
        for kind in args.databases:
            if kind == "postgresql":
                with throwaway_postgresql() as server:
                    if server is None:
                        raise SystemExit("no PostgreSQL server binaries found")

                    def on_server(server: Any = server) -> str:
                        name = f"bench_sync_{next(counter)}"
                        server.execute(f"CREATE DATABASE {name}")
                        return str(server.url(name))

                    rows += [
                        measure(kind, n, args.changes, args.repeat, on_server) for n in args.sizes
                    ]
            else:

                def in_folder() -> str:
                    return f"sqlite:///{Path(tmp) / f'sync-{next(counter)}.sqlite3'}"

                rows += [measure(kind, n, args.changes, args.repeat, in_folder) for n in args.sizes]
    print(
        "| database | public ideas | changed | bundle, whole / changes (gzip) | "
        "built in, whole / changes | imported whole / merged |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['database']} | {r['ideas']:,} | {r['changes']:,} | "
            f"{r['whole_gz'] / 1024:,.0f} / {r['partial_gz'] / 1024:,.0f} KiB "
            f"({r['whole_gz'] / r['partial_gz']:.0f}×) | "
            f"{r['whole_build_s']:.2f} / {r['partial_build_s']:.2f} s "
            f"({r['whole_build_s'] / r['partial_build_s']:.0f}×) | "
            f"{r['import_s']:.2f} / {r['merge_s']:.2f} s |"
        )


if __name__ == "__main__":
    main()

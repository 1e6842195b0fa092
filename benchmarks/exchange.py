"""Benchmark: exporting and importing one city's bundle, streamed, on SQLite and PostgreSQL.

Builds Kiruna with N synthetic ideas (the demo generator; ~92 % of them public), then:

* **export** — ``innoplat export``'s work: the bundle written to a file as the database is
  read, every rule checked on the way out (ideas per second count the bundle's ideas);
* **import** — ``innoplat import``'s work: that file read record by record into a fresh
  instance (Lund as its own city), checked and written in batches, up to the commit;
* **peak memory**, two ways: Python's allocations at their peak (tracemalloc, a separate
  run so that tracing does not slow the timed one), and the peak resident size of a fresh
  process that does nothing but the one operation (``ru_maxrss``; it includes the
  interpreter and the imported libraries, ~the ``baseline`` column).

Run on demand, never in the tests::

    .venv/bin/python benchmarks/exchange.py                      # N = 10,000
    .venv/bin/python benchmarks/exchange.py --sizes 100000       # the issue's size
    .venv/bin/python benchmarks/exchange.py --databases sqlite --sizes 2000

Results are printed as a Markdown table (docs/benchmarks.md keeps the measured ones).
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import resource
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from timing import median_seconds, peak_python

from innoplat.core.models import Idea
from innoplat.core.platform import Platform
from innoplat.core.services import cities, demo, exchange
from innoplat.core.testing import throwaway_postgresql

NOW = datetime(2026, 6, 1)


def export_to(url: str, path: str) -> int:
    platform = Platform.open("kiruna", url)
    try:
        with platform.transaction() as session, open(path, "w", encoding="utf-8") as out:
            row = cities.get_city(session, "kiruna")
            exchange.write_bundle(session, row, out)
            return exchange.count_public_ideas(session, row)
    finally:
        platform.dispose()


def import_from(url: str, path: str) -> int:
    platform = Platform.open("lund", url)
    try:
        with platform.transaction() as session, open(path, "rb") as stream:
            return exchange.import_bundle(session, stream, source="benchmark").ideas
    finally:
        platform.dispose()


def _baseline() -> None:
    """Nothing but the imports: the resident size every operation starts from."""


def _child(name: str, args: tuple[Any, ...], queue: Any) -> None:
    globals()[name](*args)
    queue.put(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def peak_rss(name: str, *args: Any) -> float:
    """Peak resident size (MiB) of a fresh process running only ``name(*args)``."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(name, args, queue))
    process.start()
    value = queue.get()
    process.join()
    return float(value)


def measure(
    kind: str, ideas: int, repeat: int, folder: Path, server: Any, python_peak: bool
) -> dict[str, Any]:
    counter = iter(range(1, 10_000))

    def new_database() -> str:
        n = next(counter)
        if server is None:
            return f"sqlite:///{folder / f'{kind}-{ideas}-{n}.sqlite3'}"
        name = f"bench_exchange_{ideas}_{n}"
        server.execute(f"DROP DATABASE IF EXISTS {name}")
        server.execute(f"CREATE DATABASE {name}")
        return str(server.url(name))

    source = new_database()
    platform = Platform.open("kiruna", source)
    try:
        platform.init()
        with platform.transaction() as session:
            demo.load_demo(
                session, platform.city, platform.city_row(session), ideas=ideas, seed=1, now=NOW
            )
    finally:
        platform.dispose()
    bundle = str(folder / f"{kind}-{ideas}.json")
    exported = export_to(source, bundle)
    result: dict[str, Any] = {"database": kind, "ideas": ideas, "bundle_ideas": exported}
    result["bundle_mib"] = Path(bundle).stat().st_size / 2**20
    result["export_s"] = median_seconds(lambda: export_to(source, bundle), repeat)
    result["export_py_mib"] = (
        peak_python(lambda: export_to(source, bundle)) if python_peak else None
    )
    result["export_rss_mib"] = peak_rss("export_to", source, bundle)

    def fresh() -> str:
        url = new_database()
        target = Platform.open("lund", url)
        try:
            target.init()
        finally:
            target.dispose()
        return url

    times = []
    for _ in range(repeat):
        url = fresh()
        gc.collect()
        start = time.perf_counter()
        assert import_from(url, bundle) == exported
        times.append(time.perf_counter() - start)
    result["import_s"] = statistics.median(times)
    result["import_py_mib"] = None
    if python_peak:
        url = fresh()
        result["import_py_mib"] = peak_python(lambda: import_from(url, bundle))
    url = fresh()
    result["import_rss_mib"] = peak_rss("import_from", url, bundle)
    target = Platform.open("lund", url)
    try:
        with target.transaction() as session:
            assert session.scalar(select(func.count()).select_from(Idea)) == exported
    finally:
        target.dispose()
    result["baseline_rss_mib"] = peak_rss("_baseline")
    return result


def _mib(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--python-peak", action="store_true", help="also trace Python allocations (slow)"
    )
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.databases:
            if kind == "postgresql":
                with throwaway_postgresql() as server:
                    if server is None:
                        raise SystemExit("no PostgreSQL server binaries found")
                    rows += [
                        measure(kind, n, args.repeat, Path(tmp), server, args.python_peak)
                        for n in args.sizes
                    ]
            else:
                rows += [
                    measure(kind, n, args.repeat, Path(tmp), None, args.python_peak)
                    for n in args.sizes
                ]
    print(
        "| database | ideas | bundle | export | export peak (Python / RSS) | import | "
        "import peak (Python / RSS) | baseline RSS |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['database']} | {r['bundle_ideas']:,} | {r['bundle_mib']:.1f} MiB | "
            f"{r['bundle_ideas'] / r['export_s']:,.0f} ideas/s ({r['export_s']:.1f} s) | "
            f"{_mib(r['export_py_mib'])} / {r['export_rss_mib']:.0f} MiB | "
            f"{r['bundle_ideas'] / r['import_s']:,.0f} ideas/s ({r['import_s']:.1f} s) | "
            f"{_mib(r['import_py_mib'])} / {r['import_rss_mib']:.0f} MiB | "
            f"{r['baseline_rss_mib']:.0f} MiB |"
        )


if __name__ == "__main__":
    main()

"""Benchmark: exporting and importing one city's bundle, streamed, on SQLite and PostgreSQL.

Builds Kiruna with N synthetic ideas (the demo generator; ~92 % of them public), then:

* **export** — ``innoplat export``'s work: the bundle written to a file as the database is
  read, every rule checked on the way out (ideas per second count the bundle's ideas);
* **import** — ``innoplat import``'s work: that file read record by record into a fresh
  instance (Lund as its own city), checked and written in batches, up to the commit;
* **the database's own time**: on SQLite the time spent inside the sqlite3 driver's calls
  (statements, fetches, the commit), on PostgreSQL the CPU time of the server process serving
  the operation (the server runs on the same machine). However fast the Python around it, an
  operation cannot go faster than the ideas divided by that time (the "at most" column);
* **peak memory**: the peak resident size of the process doing the one operation
  (``VmHWM``; it includes the interpreter and the imported libraries, ~the ``baseline``
  column), and with ``--python-peak`` Python's allocations at their peak (tracemalloc, in a
  run of its own so that tracing does not slow the timed one).

Each operation runs in a fresh process. With ``--baseline PYTHON`` (the interpreter of
another checkout's environment, e.g. a worktree of the previous commit with its own
``make install``), every operation also runs with that code on the same database and bundle,
interleaved with this tree's runs, so that both see the same load on a shared machine; the
ratio is the figure to compare across runs. The load average is printed with each figure.

Run on demand, never in the tests::

    .venv/bin/python benchmarks/exchange.py                      # N = 10,000, both databases
    .venv/bin/python benchmarks/exchange.py --sizes 100000       # the issue's size
    .venv/bin/python benchmarks/exchange.py --databases sqlite --sizes 2000 \\
        --baseline ../previous/.venv/bin/python

Results are printed as a Markdown table (docs/benchmarks.md keeps the measured ones).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

NOW = datetime(2026, 6, 1)

# ------------------------------------------------------------------ one operation, in a child


def _peak_rss_mib() -> float:
    """This process's peak resident size (VmHWM). Not ``ru_maxrss``: Linux carries that over
    from the parent through fork and exec, so every child would report the parent's peak."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


#: Seconds spent inside the SQLite library's calls, counted by :func:`_time_sqlite_calls`.
_sqlite_seconds = [0.0]


def _time_sqlite_calls() -> None:
    """Count the time this process spends in the sqlite3 driver's calls (statements, fetches,
    commits): SQLite's own work, whatever Python does around it."""
    import sqlite3
    import sqlite3.dbapi2
    from functools import partial, wraps
    from time import perf_counter

    def timed(method: Any) -> Any:
        @wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            start = perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                _sqlite_seconds[0] += perf_counter() - start

        return call

    class Cursor(sqlite3.Cursor):
        execute = timed(sqlite3.Cursor.execute)
        executemany = timed(sqlite3.Cursor.executemany)
        fetchone = timed(sqlite3.Cursor.fetchone)
        fetchmany = timed(sqlite3.Cursor.fetchmany)
        fetchall = timed(sqlite3.Cursor.fetchall)

    class Connection(sqlite3.Connection):
        commit = timed(sqlite3.Connection.commit)

        def cursor(self, factory: Any = Cursor) -> Any:  # type: ignore[override]
            return super().cursor(factory)

    connect = partial(sqlite3.dbapi2.connect, factory=Connection)
    sqlite3.connect = sqlite3.dbapi2.connect = connect  # type: ignore[assignment]


def _server_process(session: Any) -> int:
    """The PostgreSQL server process serving this session (on this machine in the benchmark)."""
    return int(session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar())


def _cpu_seconds(pid: int) -> float:
    """CPU time a process has used so far."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _child(operation: str, url: str, path: str, trace: bool) -> dict[str, Any]:
    """Run one operation in this (fresh) process and measure it."""
    import gc
    import time
    import tracemalloc

    if url.startswith("sqlite"):
        _time_sqlite_calls()
    from innoplat.core.platform import Platform
    from innoplat.core.services import cities, exchange

    result: dict[str, Any] = {"load_before": os.getloadavg()[0]}
    if operation == "nothing":
        result["rss_mib"] = _peak_rss_mib()
        return result
    platform = Platform.open("kiruna" if operation == "export" else "lund", url)
    server = url.startswith("postgresql")
    try:
        gc.collect()
        if trace:
            tracemalloc.start()
        _sqlite_seconds[0] = 0.0
        start, cpu = time.perf_counter(), time.process_time()
        if operation == "export":
            with platform.transaction() as session, open(path, "w", encoding="utf-8") as out:
                if server:
                    pid = _server_process(session)
                    server_cpu = _cpu_seconds(pid)
                row = cities.get_city(session, "kiruna")
                exchange.write_bundle(session, row, out)
                ideas = exchange.count_public_ideas(session, row)
        else:
            with platform.transaction() as session, open(path, "rb") as stream:
                if server:
                    pid = _server_process(session)
                    server_cpu = _cpu_seconds(pid)
                ideas = exchange.import_bundle(session, stream, source="benchmark").ideas
        result["seconds"] = time.perf_counter() - start
        result["cpu_seconds"] = time.process_time() - cpu
        if server:  # its commit included
            result["database_seconds"] = _cpu_seconds(pid) - server_cpu
        else:
            result["database_seconds"] = _sqlite_seconds[0]
        if trace:
            result["python_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
    finally:
        platform.dispose()
    result["ideas"] = ideas
    result["rss_mib"] = _peak_rss_mib()
    result["load"] = os.getloadavg()[0]
    return result


def run_child(
    python: str, operation: str, url: str = "", path: str = "", trace: bool = False
) -> dict[str, Any]:
    command = [python, __file__, "--child", operation, url, path, "1" if trace else "0"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{operation} failed ({python}):\n{done.stderr}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# ------------------------------------------------------------------ the measurement


def measure(
    kind: str,
    ideas: int,
    repeat: int,
    folder: Path,
    server: Any,
    pythons: dict[str, str],
    python_peak: bool,
) -> list[dict[str, Any]]:
    from innoplat.core.platform import Platform
    from innoplat.core.services import demo

    counter = iter(range(1, 10_000))
    names: dict[str, str] = {}

    def new_database() -> str:
        n = next(counter)
        if server is None:
            return f"sqlite:///{folder / f'{kind}-{ideas}-{n}.sqlite3'}"
        name = f"bench_exchange_{ideas}_{n}"
        server.execute(f"DROP DATABASE IF EXISTS {name}")
        server.execute(f"CREATE DATABASE {name}")
        url = str(server.url(name))
        names[url] = name
        return url

    def fresh() -> str:
        url = new_database()
        target = Platform.open("lund", url)
        try:
            target.init()
        finally:
            target.dispose()
        return url

    def drop(url: str) -> None:
        if server is None:
            for suffix in ("", "-wal", "-shm"):
                Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        else:
            server.execute(f"DROP DATABASE IF EXISTS {names.pop(url)}")

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
    this = next(iter(pythons.values()))
    run_child(this, "export", source, bundle)  # the bundle every import reads, and a warm-up
    bundle_mib = Path(bundle).stat().st_size / 2**20

    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for _ in range(repeat):
        for label, python in pythons.items():  # interleaved: the same load for each code
            out = str(folder / f"{kind}-{ideas}-{label}.json")
            runs.setdefault((label, "export"), []).append(run_child(python, "export", source, out))
            Path(out).unlink()
            url = fresh()
            runs.setdefault((label, "import"), []).append(run_child(python, "import", url, bundle))
            drop(url)
    traced: dict[tuple[str, str], float] = {}
    if python_peak:
        for label, python in pythons.items():
            out = str(folder / f"{kind}-{ideas}-{label}.json")
            traced[label, "export"] = run_child(python, "export", source, out, trace=True)[
                "python_peak_mib"
            ]
            Path(out).unlink()
            url = fresh()
            traced[label, "import"] = run_child(python, "import", url, bundle, trace=True)[
                "python_peak_mib"
            ]
            drop(url)
    rows = []
    for (label, operation), results in runs.items():
        seconds = statistics.median(r["seconds"] for r in results)
        rows.append(
            {
                "database": kind,
                "code": label,
                "operation": operation,
                "ideas": results[0]["ideas"],
                "bundle_mib": bundle_mib,
                "seconds": seconds,
                "cpu_seconds": statistics.median(r["cpu_seconds"] for r in results),
                "database_seconds": statistics.median(r["database_seconds"] for r in results),
                "rss_mib": max(r["rss_mib"] for r in results),
                "python_peak_mib": traced.get((label, operation)),
                "load": statistics.mean(r["load"] for r in results),
                "baseline_rss_mib": run_child(pythons[label], "nothing")["rss_mib"],
            }
        )
    return rows


def _mib(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--python-peak", action="store_true", help="also trace Python allocations (slow)"
    )
    parser.add_argument(
        "--baseline",
        metavar="PYTHON",
        help="the Python of another checkout's environment: its code is measured alongside",
    )
    args = parser.parse_args(argv)
    from innoplat.core.testing import throwaway_postgresql

    pythons = {"this": sys.executable}
    if args.baseline:
        pythons["baseline"] = args.baseline
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.databases:
            for n in args.sizes:
                if kind == "postgresql":
                    with throwaway_postgresql() as server:
                        if server is None:
                            raise SystemExit("no PostgreSQL server binaries found")
                        rows += measure(
                            kind, n, args.repeat, Path(tmp), server, pythons, args.python_peak
                        )
                else:
                    rows += measure(
                        kind, n, args.repeat, Path(tmp), None, pythons, args.python_peak
                    )
    print(
        "| database | ideas | bundle | operation | code | ideas/s | CPU s | database's own time "
        "| at most, for that time | speed vs baseline | peak RSS (process baseline) | Python peak "
        "| load avg |"
    )
    print("|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        base = next(
            (
                b
                for b in rows
                if b["code"] == "baseline"
                and (b["database"], b["ideas"], b["operation"])
                == (r["database"], r["ideas"], r["operation"])
            ),
            None,
        )
        # Above 1: this code took less time than the baseline's in the same run.
        ratio = f"{base['seconds'] / r['seconds']:.2f}×" if base and base is not r else ""
        print(
            f"| {r['database']} | {r['ideas']:,} | {r['bundle_mib']:.1f} MiB | {r['operation']} | "
            f"{r['code']} | {r['ideas'] / r['seconds']:,.0f} ({r['seconds']:.1f} s) | "
            f"{r['cpu_seconds']:.1f} | {r['database_seconds']:.1f} s, "
            f"{r['database_seconds'] / r['ideas'] * 1e6:.0f} µs/idea | "
            f"{r['ideas'] / r['database_seconds']:,.0f} ideas/s | {ratio} | {r['rss_mib']:.0f} MiB "
            f"({r['baseline_rss_mib']:.0f} MiB) | {_mib(r['python_peak_mib'])} MiB | "
            f"{r['load']:.1f} |"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        operation, url, path, trace = sys.argv[2:6]
        print(json.dumps(_child(operation, url, path, trace == "1")))
    else:
        main()

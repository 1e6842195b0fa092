"""What the benchmark scripts share: medians after a warm-up, peak memory, the databases they run on."""

from __future__ import annotations

import gc
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path


def timed(run: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``run`` in milliseconds, after one warm-up run."""
    run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def median_seconds(run: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``run`` in seconds, each run after a garbage collection."""
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_python(run: Callable[[], object]) -> float:
    """Peak Python allocations of one run, in MiB."""
    gc.collect()
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def databases(names: Sequence[str], *, postgresql: bool) -> Iterator[tuple[str, dict[str, str]]]:
    """``("SQLite", {name: url})`` of empty database files, then, if asked, ``("PostgreSQL", …)``.

    PostgreSQL is the test fixtures' throw-away server: initdb in a temporary folder, a Unix
    socket, no TCP. Without server binaries it is skipped with a line saying so.
    """
    with tempfile.TemporaryDirectory(prefix="innoplat-bench-") as folder:
        yield "SQLite", {name: f"sqlite:///{Path(folder) / f'{name}.sqlite3'}" for name in names}
    if not postgresql:
        return
    from innoplat.core.testing import throwaway_postgresql

    with throwaway_postgresql() as server:
        if server is None:
            print("\nPostgreSQL: no server binaries found, skipped")
            return
        for name in names:
            server.execute(f"CREATE DATABASE {name}_bench")
        yield "PostgreSQL", {name: server.url(f"{name}_bench") for name in names}

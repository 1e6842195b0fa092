"""Benchmark: comparing methods across six cities, and moving exchange bundles, on SQLite and PostgreSQL.

Builds six cities × N synthetic ideas (the demo generator: realistic stage histories, method
applications and participations) in one database per size and kind of database, then reports:

* ``compare_methods`` (every city, method and built-in metric) against one hand-written SQL
  query computing the same aggregates from the source tables (the stage history, method
  links and participations, as the service did before it kept per-idea facts), each the
  median of several runs, and their ratio;
* ``method_evidence`` (cumulative incidence, crude, adjusted and pooled risk ratios for every
  city and method), the median of several runs;
* *cold* (no figures kept anywhere before each run: every city's figures computed from the
  per-idea facts), *new worker* (this process's memory emptied, the figures stored in the
  database read: what a worker started after the last write sees), *warm* (every city from
  this process's memory) and *after a write* (one idea of one city edited before each run:
  that city computed again, the others kept);
* rebuilding every idea's facts at once (what a bulk load does at its end);
* the load average while measuring (the machine is often shared);
* how the comparison grows from the smallest N to the largest;
* exporting one city's bundle and importing it into another instance (ideas per second,
  the import counted from JSON text to committed rows, validation included);
* peak Python memory (tracemalloc) of each operation, measured in a separate run so that
  tracing does not slow the timed one.

Run on demand, never in the tests::

    .venv/bin/python benchmarks/compare.py              # N = 1,000 and 10,000 (a few minutes)
    .venv/bin/python benchmarks/compare.py --full       # adds N = 100,000 (600,000 ideas)
    .venv/bin/python benchmarks/compare.py --sizes 2000 --databases sqlite
    .venv/bin/python benchmarks/compare.py --sizes 100000 --only-compare   # no bundles

Results are printed as a Markdown table (docs/benchmarks.md keeps the measured ones).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from timing import median_seconds, peak_python

from innoplat.core.models import City, Idea
from innoplat.core.platform import Platform
from innoplat.core.services import cities, comparison, demo, exchange, facts
from innoplat.core.services.evidence.analysis import method_evidence
from innoplat.core.testing import PostgresServer, throwaway_postgresql

CITIES = ("kiruna", "lund", "goteborg", "boras", "stockholm", "umea")
NOW = datetime(2026, 6, 1)

# The same figures as comparison.core_figures_statement, written by hand: the baseline.
HAND_WRITTEN = """
WITH implemented AS (
    SELECT idea_id, MIN(at) AS implemented_at FROM stage_transition
    WHERE to_phase IN ('implemented', 'scaled') GROUP BY idea_id
), stays AS (
    SELECT t.idea_id, t.at,
           (SELECT MIN(t2.at) FROM stage_transition t2
            WHERE t2.idea_id = t.idea_id AND (t2.at > t.at OR (t2.at = t.at AND t2.id > t.id))) AS left_at
    FROM stage_transition t WHERE t.to_phase = 'pilot'
), pilot AS (
    SELECT idea_id, SUM({pilot_days}) AS days FROM stays
    WHERE left_at IS NOT NULL GROUP BY idea_id
), collaboration AS (
    SELECT p.idea_id, COUNT(DISTINCT o.kind) AS kinds, COUNT(DISTINCT p.organisation_id) AS orgs
    FROM participation p JOIN organisation o ON o.id = p.organisation_id GROUP BY p.idea_id
), per_idea AS (
    SELECT i.id AS idea_id, i.city_id,
           CASE WHEN im.implemented_at IS NOT NULL THEN 1 ELSE 0 END AS reached,
           {impl_days} AS days_to_impl, pl.days AS pilot_days,
           COALESCE(c.kinds, 0) AS kinds,
           CASE WHEN COALESCE(c.orgs, 0) > 1 THEN 1 ELSE 0 END AS crossing
    FROM idea i
    LEFT JOIN implemented im ON im.idea_id = i.id
    LEFT JOIN pilot pl ON pl.idea_id = i.id
    LEFT JOIN collaboration c ON c.idea_id = i.id
    WHERE i.visibility = 'public'
), applied AS (
    SELECT DISTINCT ma.idea_id, m.shared_key AS method
    FROM method_application ma JOIN method m ON m.id = ma.method_id
), with_method AS (
    SELECT p.city_id, a.method, p.reached, p.days_to_impl, p.pilot_days, p.kinds, p.crossing
    FROM per_idea p JOIN applied a ON a.idea_id = p.idea_id
), totals AS (
    SELECT city_id, COUNT(*) AS city_n, SUM(reached) AS city_k FROM per_idea GROUP BY city_id
), {median_1}{median_2}g AS (
    SELECT city_id, method, COUNT(*) AS n, SUM(reached) AS k, SUM(kinds) AS kinds_sum,
           SUM(kinds * kinds) AS kinds_sq, SUM(crossing) AS crossing
    FROM with_method GROUP BY city_id, method
)
SELECT g.city_id, g.method, g.n, g.k, g.kinds_sum, g.kinds_sq, g.crossing, t.city_n, t.city_k,
       m1.median, m1.low, m1.high, m1.n, m2.median, m2.low, m2.high, m2.n
FROM g
JOIN totals t ON t.city_id = g.city_id
LEFT JOIN m1 ON m1.city_id = g.city_id AND m1.method = g.method
LEFT JOIN m2 ON m2.city_id = g.city_id AND m2.method = g.method
ORDER BY g.city_id, g.method
"""

DAYS = {
    "sqlite": "(julianday({end}) - julianday({start}))",
    "postgresql": "(EXTRACT(EPOCH FROM ({end} - {start})) / 86400.0)",
}


#: The median of a column per city and method, and its 95 % interval by order statistics.
MEDIAN = """r{n} AS (
    SELECT city_id, method, {column} AS v,
           ROW_NUMBER() OVER (PARTITION BY city_id, method ORDER BY {column}) AS rn,
           COUNT(*) OVER (PARTITION BY city_id, method) AS cnt
    FROM with_method WHERE {column} IS NOT NULL
), m{n} AS (
    SELECT city_id, method,
           AVG(CASE WHEN rn IN ((cnt + 1) / 2, (cnt + 2) / 2) THEN v END) AS median,
           MAX(CASE WHEN cnt * 0.5 - rn + 0.5 >= 0 AND (cnt * 0.5 - rn + 0.5) * (cnt * 0.5 - rn + 0.5) >= cnt * 0.9604
                          AND (cnt * 0.5 - rn - 0.5 < 0 OR (cnt * 0.5 - rn - 0.5) * (cnt * 0.5 - rn - 0.5) < cnt * 0.9604) THEN v END) AS low,
           MAX(CASE WHEN rn - 1 - cnt * 0.5 + 0.5 > 0 AND (rn - 1 - cnt * 0.5 + 0.5) * (rn - 1 - cnt * 0.5 + 0.5) > cnt * 0.9604
                          AND (rn - 1 - cnt * 0.5 - 0.5 <= 0 OR (rn - 1 - cnt * 0.5 - 0.5) * (rn - 1 - cnt * 0.5 - 0.5) <= cnt * 0.9604) THEN v END) AS high,
           MAX(cnt) AS n
    FROM r{n} GROUP BY city_id, method
), """


def hand_written(dialect: str) -> str:
    days = DAYS[dialect]
    return HAND_WRITTEN.format(
        pilot_days=days.format(end="left_at", start="at"),
        impl_days=days.format(end="im.implemented_at", start="i.submitted_at"),
        median_1=MEDIAN.format(n=1, column="days_to_impl"),
        median_2=MEDIAN.format(n=2, column="pilot_days"),
    )


def median_after(run: Callable[[], object], repeat: int, before: Callable[[], object]) -> float:
    """Median wall time of ``run`` in seconds, ``before`` run (untimed) before each run."""
    times = []
    for _ in range(repeat):
        before()
        times.append(median_seconds(run, 1))
    return statistics.median(times)


class Databases:
    """Fresh, empty databases of one kind: SQLite files, or databases on a throw-away server."""

    def __init__(self, kind: str, folder: Path) -> None:
        self.kind, self.folder, self.count = kind, folder, 0
        self.server: PostgresServer | None = None
        self._running = ExitStack()
        if kind == "postgresql":
            self.server = self._running.enter_context(throwaway_postgresql())
            if self.server is None:
                raise SystemExit("no PostgreSQL server binaries found (apt-get install postgresql)")

    def new(self) -> str:
        self.count += 1
        if self.server is None:
            return f"sqlite:///{self.folder / f'bench-{self.count}.sqlite3'}"
        name = f"bench_{self.count}"
        self.server.execute(f"CREATE DATABASE {name}")
        return self.server.url(name)

    def close(self) -> None:
        self._running.close()


@contextmanager
def opened(city: str, url: str) -> Iterator[Platform]:
    platform = Platform.open(city, url)
    try:
        yield platform
    finally:
        platform.dispose()


def build(url: str, ideas: int) -> float:
    """Six cities with ``ideas`` synthetic ideas each; returns the seconds it took."""
    start = time.perf_counter()
    for slug in CITIES:
        with opened(slug, url) as platform:
            platform.init()
            with platform.transaction() as session:
                demo.load_demo(
                    session, platform.city, platform.city_row(session), ideas=ideas, seed=1, now=NOW
                )
    with opened("kiruna", url) as platform, platform.engine.begin() as connection:
        connection.execute(text("ANALYZE"))  # fresh statistics, as a running instance would have
    return time.perf_counter() - start


def measure(
    kind: str, databases: Databases, ideas: int, repeat: int, exchange_too: bool = True
) -> dict[str, Any]:
    url = databases.new()
    built = build(url, ideas)
    result: dict[str, Any] = {"database": kind, "ideas_per_city": ideas, "build_s": built}
    result["load_before"] = os.getloadavg()[0]
    with opened("kiruna", url) as platform:
        sql = text(hand_written(platform.engine.dialect.name))

        builtin = [m.key for m in comparison.BUILTIN_METRICS]  # plugins' metrics are extra work

        def ours() -> list[dict[str, Any]]:
            with platform.transaction() as session:
                return comparison.compare_methods(session, metrics=builtin)

        def baseline() -> list[Any]:
            with platform.engine.connect() as connection:
                if connection.dialect.name == "postgresql":
                    connection.execute(text("SET jit = off"))  # as compare_methods does
                return connection.execute(sql).all()

        rows, raw = ours(), baseline()  # warm both, and check they agree
        counts = {
            (r["city"], r["method"]): r["n"] for r in rows if r["metric"] == "ideas_with_method"
        }
        assert len(counts) == len(raw) and sorted(counts.values()) == sorted(r[2] for r in raw)
        with platform.transaction() as session:
            kiruna_idea = session.scalar(
                select(Idea.id).join(City).where(City.slug == "kiruna").order_by(Idea.id)
            )

        def write_one_idea() -> None:
            """An edit of one Kiruna idea: its facts and Kiruna's version change."""
            with platform.transaction() as session:
                idea = session.get(Idea, kiruna_idea)
                assert idea is not None
                idea.title = idea.title[:-1] if idea.title.endswith("!") else idea.title + "!"

        def forget_everything() -> None:
            """Neither this process nor the database keeps any figure."""
            with platform.transaction() as session:
                facts.clear_cache(session)

        result["rows"] = len(rows)
        # cold: every city computed from the facts; new worker: every city's figures read
        # from the database (a process that has not counted yet); warm: every city from this
        # process's memory; after a write: the written city computed again, the others kept.
        result["compare_cold_s"] = median_after(ours, repeat, forget_everything)
        ours()  # the figures stored again
        result["compare_new_worker_s"] = median_after(ours, repeat, facts.clear_cache)
        result["compare_s"] = median_seconds(ours, repeat)
        result["compare_after_write_s"] = median_after(ours, repeat, write_one_idea)
        result["baseline_s"] = median_seconds(baseline, repeat)
        result["ratio"] = result["compare_cold_s"] / result["baseline_s"]
        forget_everything()
        result["compare_peak_mib"] = peak_python(ours)

        def evidence() -> list[dict[str, Any]]:
            with platform.transaction() as session:
                return method_evidence(session, as_of=NOW).rows

        evidence()  # warm
        result["evidence_cold_s"] = median_after(evidence, repeat, forget_everything)
        evidence()
        result["evidence_new_worker_s"] = median_after(evidence, repeat, facts.clear_cache)
        result["evidence_s"] = median_seconds(evidence, repeat)
        result["evidence_after_write_s"] = median_after(evidence, repeat, write_one_idea)
        result["load_after"] = os.getloadavg()[0]

        with platform.transaction() as session:
            start = time.perf_counter()
            facts.rebuild(session)
            result["rebuild_facts_s"] = time.perf_counter() - start

        if not exchange_too:
            return result
        with platform.transaction() as session:
            kiruna = cities.get_city(session, "kiruna")
            start = time.perf_counter()
            bundle = exchange.export_city(session, kiruna)
            bundle_text = exchange.dumps(bundle)
            result["export_s"] = time.perf_counter() - start
        with platform.transaction() as session:
            result["export_peak_mib"] = peak_python(
                lambda: exchange.dumps(
                    exchange.export_city(session, cities.get_city(session, "kiruna"))
                )
            )
    exported = len(bundle["ideas"])
    del bundle
    result["bundle_ideas"] = exported
    result["bundle_mib"] = len(bundle_text.encode()) / 2**20
    result["export_ideas_per_s"] = exported / result["export_s"]

    def import_into_fresh() -> float:
        target = databases.new()
        with opened("lund", target) as platform:
            platform.init()
            start = time.perf_counter()
            with platform.transaction() as session:
                exchange.import_bundle(session, exchange.loads(bundle_text), source="benchmark")
            return time.perf_counter() - start

    result["import_s"] = import_into_fresh()
    result["import_ideas_per_s"] = exported / result["import_s"]
    start = time.perf_counter()
    parsed = exchange.loads(bundle_text)
    result["parse_s"] = time.perf_counter() - start
    start = time.perf_counter()
    exchange.validate_bundle(parsed)
    result["validate_s"] = time.perf_counter() - start
    del parsed
    result["import_peak_mib"] = peak_python(import_into_fresh)
    return result


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "| database | ideas/city | compare cold | new worker | warm | after a write | "
        "hand-written SQL | cold ÷ SQL | evidence cold | new worker | warm | after a write | "
        "facts rebuild | load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['database']} | {r['ideas_per_city']:,} | {_ms(r['compare_cold_s'])} | "
            f"{_ms(r['compare_new_worker_s'])} | "
            f"{_ms(r['compare_s'])} | {_ms(r['compare_after_write_s'])} | "
            f"{_ms(r['baseline_s'])} | {r['ratio']:.2f}× | {_ms(r['evidence_cold_s'])} | "
            f"{_ms(r['evidence_new_worker_s'])} | "
            f"{_ms(r['evidence_s'])} | {_ms(r['evidence_after_write_s'])} | "
            f"{r['rebuild_facts_s']:,.1f} s | {r['load_before']:.1f}–{r['load_after']:.1f} |"
        )
    lines += [
        "",
        "| database | ideas/city | compare peak | export (1 city) | import (1 city) | "
        "import peak | bundle |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in (r for r in results if "bundle_ideas" in r):
        lines.append(
            f"| {r['database']} | {r['ideas_per_city']:,} | {r['compare_peak_mib']:.1f} MiB | "
            f"{r['export_ideas_per_s']:,.0f} ideas/s | {r['import_ideas_per_s']:,.0f} ideas/s | "
            f"{r['import_peak_mib']:.0f} MiB | {r['bundle_ideas']:,} ideas, {r['bundle_mib']:.1f} MiB |"
        )
    by_db: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        by_db.setdefault(r["database"], []).append(r)
    lines.append("")
    for kind, rs in by_db.items():
        if len(rs) > 1:
            first, last = rs[0], rs[-1]
            growth = last["compare_cold_s"] / first["compare_cold_s"]
            scale = last["ideas_per_city"] / first["ideas_per_city"]
            lines.append(
                f"- {kind}: compare_methods (cold) grows {growth:.1f}× from "
                f"N={first['ideas_per_city']:,} "
                f"to N={last['ideas_per_city']:,} ({scale:.0f}× the ideas)."
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="ideas per city, comma-separated")
    parser.add_argument("--full", action="store_true", help="add N = 100,000 ideas per city")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--repeat", type=int, default=5, help="runs per timing (the median is kept)"
    )
    parser.add_argument("--json", type=Path, help="also write the raw results to this file")
    parser.add_argument(
        "--only-compare", action="store_true", help="leave out exporting and importing bundles"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.full and 100_000 not in sizes:
        sizes.append(100_000)
    results = []
    with tempfile.TemporaryDirectory(prefix="innoplat-bench-") as folder:
        for kind in args.databases.split(","):
            databases = Databases(kind, Path(folder))
            try:
                for n in sizes:
                    print(f"… {kind}, {n:,} ideas per city", flush=True)
                    result = measure(kind, databases, n, args.repeat, not args.only_compare)
                    print(json.dumps(result), flush=True)
                    results.append(result)
            finally:
                databases.close()
    print()
    print(markdown(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

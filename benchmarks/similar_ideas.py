"""Benchmark: similar ideas (BM25 over Swedish stems) against baselines measured in the same run.

Builds a city with N synthetic ideas through the demo generator, then times what the
submission preview does for one draft:

- ``cold``: the first preview in a process, which builds the BM25 index over the latest
  ``candidates`` public ideas (default 3,000, the plugin's default) — and over all N;
- ``warm``: a later preview: the freshness aggregate plus BM25 scoring of only the ideas
  that share a word with the draft (the posting lists), and loading the top five;
- baselines: a bare ``SELECT count(*)`` of the city's ideas, and one page of the core
  full-text search for the draft's title (``innoplat.core.services.search`` via the ideas
  filter), the cheapest and the closest thing the platform already does per request.

Run on demand only (never in the test suite)::

    .venv/bin/python benchmarks/similar_ideas.py              # 20,000 ideas, SQLite
    .venv/bin/python benchmarks/similar_ideas.py --ideas 100000 --postgresql
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from sqlalchemy import text
from timing import databases, timed

from innoplat.core.platform import Platform
from innoplat.core.services import demo, ideas
from innoplat.core.services.ideas import IdeaFilter
from innoplat.plugins.similar_ideas import similarity

DRAFTS = [
    {
        "title": "Snöröjning vid busshållplatser",
        "summary": "Hållplatserna plogas för sent på morgonen.",
    },
    {"title": "Digital bokning av lokaler", "summary": "Boka kommunens lokaler på nätet."},
    {"title": "Rymdhiss till Abisko", "summary": "Ingen har tänkt på det här förut."},
]


def once(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return (time.perf_counter() - start) * 1000


def run(label: str, url: str, count: int, repeat: int) -> None:
    platform = Platform.open("kiruna", url)
    try:
        platform.init()
        with platform.transaction() as session:
            demo.load_demo(session, platform.city, platform.city_row(session), ideas=count, seed=1)
        if url.startswith("postgresql"):
            with platform.engine.begin() as connection:
                connection.execute(text("ANALYZE"))
        print(f"\n{label}: {count:,} synthetic ideas")
        with platform.sessions() as session:
            city = platform.city_row(session)
            baseline = timed(
                lambda: session.execute(
                    text("SELECT count(*) FROM idea WHERE city_id = :c"), {"c": city.id}
                ),
                repeat,
            )
            print(f"  baseline SELECT count(*) of the city's ideas: {baseline:8.2f} ms")
            for candidates in (similarity.DEFAULT_CANDIDATES, count):
                similarity.forget()
                draft = DRAFTS[0]
                cold = once(
                    lambda c=candidates, d=draft: similarity.similar_to_draft(
                        session, city, d, candidates=c
                    )
                )
                print(
                    f"  index over the latest {min(candidates, count):>7,} ideas: cold preview {cold:9.1f} ms"
                )
                for draft in DRAFTS:
                    hits = similarity.similar_to_draft(session, city, draft, candidates=candidates)
                    warm = timed(
                        lambda c=candidates, d=draft: similarity.similar_to_draft(
                            session, city, d, candidates=c
                        ),
                        repeat,
                    )
                    filters = IdeaFilter(text=draft["title"], public_only=True)
                    search = timed(
                        lambda f=filters: ideas.list_ideas(session, city, f, limit=20), repeat
                    )
                    print(
                        f"    warm preview {warm:8.2f} ms ({warm / baseline:6.1f}× count(*), "
                        f"{warm / search:5.1f}× a search page of {search:6.2f} ms), "
                        f"{len(hits)} similar for {draft['title']!r}"
                    )
    finally:
        platform.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ideas", type=int, default=20_000, help="ideas to generate (20,000)")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per measurement (median)")
    parser.add_argument("--postgresql", action="store_true", help="also on a throw-away PostgreSQL")
    options = parser.parse_args()

    for label, urls in databases(["innoplat"], postgresql=options.postgresql):
        run(label, urls["innoplat"], options.ideas, options.repeat)


if __name__ == "__main__":
    main()

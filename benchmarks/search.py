"""Benchmark: full-text search of ideas against baselines measured in the same run.

Builds a city with N synthetic ideas through the demo generator (the same bulk inserts a
real ``innoplat demo`` does, so the search index is filled by the migration's triggers or
generated column), then times one page of search results (the count plus the first 20
ideas, as the ideas page and the API ask for them) for a few kinds of query, and the same
through the baselines:

- ``like``: the same page with ``ILIKE '%word%'`` over title, summary and description,
  the scan full-text search replaces;
- ``count(*)``: a bare ``SELECT count(*)`` of the city's ideas, the cheapest full pass.

Runs on SQLite, and on a throw-away PostgreSQL server when Debian's server binaries exist.
Run on demand only (never in the test suite)::

    .venv/bin/python benchmarks/search.py            # 100,000 ideas
    .venv/bin/python benchmarks/search.py --ideas 20000 --repeat 5 --no-postgresql
"""

from __future__ import annotations

import argparse
import time

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session
from timing import databases, timed

from innoplat.core.models import City, Idea
from innoplat.core.platform import Platform
from innoplat.core.services import demo, ideas
from innoplat.core.services.ideas import IdeaFilter

QUERIES = [
    ("common word", "snöröjning"),
    ("inflected word", "snöröjningen"),
    ("prefix", "bibl"),
    ("two words", "digital bokning"),
    ("no hits", "rymdhiss"),
]
PAGE = 20


def search_page(session: Session, city: City, words: str) -> int:
    filters = IdeaFilter(text=words, public_only=True)
    total = ideas.count_ideas(session, city, filters)
    ideas.list_ideas(session, city, filters, limit=PAGE)
    return total


def like_page(session: Session, city: City, words: str) -> int:
    query = ideas.ideas_query(city, IdeaFilter(public_only=True, sort="newest"))
    for word in words.split():
        pattern = f"%{word}%"
        query = query.where(
            or_(
                Idea.title.ilike(pattern),
                Idea.summary.ilike(pattern),
                Idea.description.ilike(pattern),
            )
        )
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    list(session.scalars(query.limit(PAGE)))
    return total


def bare_count(session: Session, city: City) -> int:
    return session.execute(
        text("SELECT count(*) FROM idea WHERE city_id = :c"), {"c": city.id}
    ).scalar_one()


def run(label: str, url: str, count: int, repeat: int) -> None:
    platform = Platform.open("kiruna", url)
    try:
        platform.init()
        start = time.perf_counter()
        with platform.transaction() as session:
            demo.load_demo(session, platform.city, platform.city_row(session), ideas=count, seed=1)
        print(f"\n{label}: {count:,} ideas generated in {time.perf_counter() - start:.0f} s")
        if url.startswith("postgresql"):
            # As autovacuum would after a bulk load: statistics and the visibility map.
            autocommit = platform.engine.execution_options(isolation_level="AUTOCOMMIT")
            with autocommit.connect() as connection:
                connection.execute(text("VACUUM ANALYZE"))
        with platform.sessions() as session:
            city = platform.city_row(session)
            baseline = timed(lambda: bare_count(session, city), repeat)
            print(f"  baseline SELECT count(*) of the city's ideas: {baseline:8.2f} ms")
            print(
                f"  {'query':<16} {'text':<16} {'hits':>7} {'search ms':>10} {'LIKE ms':>9} "
                f"{'search/LIKE':>12} {'search/count':>13}"
            )
            for name, words in QUERIES:
                hits = search_page(session, city, words)
                found = timed(lambda w=words: search_page(session, city, w), repeat)
                like = timed(lambda w=words: like_page(session, city, w), repeat)
                print(
                    f"  {name:<16} {words:<16} {hits:>7,} {found:>10.2f} {like:>9.2f} "
                    f"{found / like:>11.2f}× {found / baseline:>12.2f}×"
                )
    finally:
        platform.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ideas", type=int, default=100_000, help="ideas to generate (100,000)")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per query (median)")
    parser.add_argument("--no-postgresql", action="store_true", help="SQLite only")
    options = parser.parse_args()

    for label, urls in databases(["innoplat"], postgresql=not options.no_postgresql):
        run(label, urls["innoplat"], options.ideas, options.repeat)


if __name__ == "__main__":
    main()

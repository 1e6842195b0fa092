"""The demo federation: a city's instance with its bundled siblings as peers, all synthetic.

Each sibling's synthetic demo data is made in a throw-away SQLite database of its own, as
the sibling's instance would make it, exported as a bundle and imported here as a read-only
peer — the same path a real sibling's bundle takes, so ``/compare`` and the method pages
compare every city from the first minute. Every idea of it carries ``is_synthetic``, and
each peer's source says it is synthetic demo data.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .config import bundled_cities_folder, load_city
from .platform import Platform
from .services import demo, exchange

SOURCE = "synthetic demo data of {slug} (innoplat demo --siblings)"


@dataclass(frozen=True)
class SiblingDemo:
    slug: str
    action: str
    ideas: int


def bundled_siblings(own: str) -> list[str]:
    """The bundled cities other than ``own``, by slug."""
    root = bundled_cities_folder()
    return sorted(p.name for p in root.iterdir() if (p / "city.toml").is_file() and p.name != own)


def load_sibling_demos(
    platform: Platform,
    *,
    ideas: int,
    seed: int = 1,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[SiblingDemo]:
    """Import each bundled sibling's synthetic demo data into ``platform``'s database as a peer."""
    done = []
    for number, slug in enumerate(bundled_siblings(platform.city.slug)):
        if progress is not None:
            progress(slug)
        with tempfile.TemporaryDirectory(prefix=f"innoplat-{slug}-") as folder:
            sibling = Platform.open(load_city(slug), f"sqlite:///{Path(folder) / 'demo.sqlite3'}")
            try:
                sibling.init()
                with sibling.transaction() as session:
                    row = sibling.city_row(session)
                    demo.load_demo(
                        session, sibling.city, row, ideas=ideas, seed=seed + number + 1, now=now
                    )
                with sibling.transaction() as session:
                    bundle = exchange.export_city(session, sibling.city_row(session))
            finally:
                sibling.dispose()
        with platform.transaction() as session:
            result = exchange.import_bundle(
                session, bundle, source=SOURCE.format(slug=slug), actor="innoplat demo"
            )
        done.append(SiblingDemo(slug, result.action, result.ideas))
    return done

"""Finding similar ideas: BM25 over Swedish-stemmed words of a city's and its peers' public ideas.

Why not the database's full-text search alone: it answers "which ideas contain these
words", while a duplicate hint needs "which ideas are most about the same thing", ranked
by how rare the shared words are — BM25 (``rank-bm25``) over words reduced by the Snowball
Swedish stemmer (``snowballstemmer``, which knows å, ä and ö), so *snöröjningen* and
*snöröjning* count as one word.

Speed: the index is built once per process and database for a set of cities over at most
``candidates`` latest public ideas per city (stems are memoised: the Snowball stemmer is
pure Python). A submission in this process drops the index at once (the
``innoplat_idea_submitted`` hook); every ``RECHECK_SECONDS`` an aggregate (count, newest id,
latest update) tells whether other processes changed the ideas. A query scores only the
ideas sharing a word with it (posting lists). benchmarks/similar_ideas.py measures this.
"""

from __future__ import annotations

import functools
import math
import re
import threading
import time
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import snowballstemmer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from innoplat.core.models import City, Idea, Visibility

if TYPE_CHECKING:
    import numpy as np
    from rank_bm25 import BM25Okapi

DEFAULT_CANDIDATES = 3000
DEFAULT_LIMIT = 5
#: A duplicate hint needs this share of the score the idea gets against its own text.
DEFAULT_DUPLICATE_THRESHOLD = 0.45
DESCRIPTION_CHARS = 1000  # the start of a description says what it is about; keeps indexing fast
CACHE_SIZE = 16
#: How long a cached index is trusted before the freshness aggregate runs again. Submissions
#: in this process drop it at once (the hook); this bounds what other worker processes miss.
RECHECK_SECONDS = 30.0

_WORD = re.compile(r"[^\W\d_]+")
_stemmer = snowballstemmer.stemmer("swedish")
#: Common Swedish and English words that say nothing about what an idea is about.
STOPWORDS = frozenset(
    [
        "och",
        "att",
        "det",
        "som",
        "en",
        "ett",
        "är",
        "på",
        "för",
        "med",
        "av",
        "till",
        "den",
        "de",
        "om",
        "inte",
        "har",
        "kan",
        "vi",
        "jag",
        "du",
        "ni",
        "man",
        "men",
        "eller",
        "så",
        "från",
        "vid",
        "när",
        "hur",
        "var",
        "vara",
        "ska",
        "skulle",
        "blir",
        "bli",
        "mer",
        "mycket",
        "alla",
        "andra",
        "även",
        "sig",
        "sin",
        "sina",
        "deras",
        "våra",
        "vår",
        "vårt",
        "där",
        "här",
        "denna",
        "detta",
        "dessa",
        "genom",
        "efter",
        "under",
        "över",
        "utan",
        "mellan",
        "också",
        "bara",
        "samt",
        "idé",
        "idén",
        "idéer",
        "the",
        "and",
        "for",
        "with",
        "that",
        "this",
        "from",
        "into",
        "are",
        "was",
        "were",
        "have",
        "has",
        "will",
        "would",
        "can",
        "could",
        "our",
        "their",
        "your",
        "not",
        "but",
        "all",
        "any",
        "also",
        "more",
        "most",
        "than",
        "then",
        "them",
        "they",
        "its",
    ]
)


@functools.cache
def _lucene_bm25() -> type[BM25Okapi]:
    """BM25 with Lucene's idf, ``log(1 + (N - n + 0.5) / (n + 0.5))``, which is never zero.

    rank-bm25's Okapi idf is zero for a word in half of the ideas and negative above that,
    so in a young platform with few ideas a shared word could count for nothing. Made on
    first use: rank-bm25 and numpy are imported only by a process that builds an index
    (a command such as ``innoplat import`` does without their ~20 MiB).
    """
    from rank_bm25 import BM25Okapi

    class LuceneBM25(BM25Okapi):
        def _calc_idf(self, nd: dict[str, int]) -> None:
            for word, freq in nd.items():
                self.idf[word] = math.log(1 + (self.corpus_size - freq + 0.5) / (freq + 0.5))

    return LuceneBM25


@functools.lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    # The Snowball stemmer is pure Python; a platform's vocabulary is small, so remember it.
    return _stemmer.stemWord(word)


def tokens(text: str) -> list[str]:
    """Lower-cased, stemmed content words of a text (Swedish stemmer, stopwords dropped)."""
    words = _WORD.findall(unicodedata.normalize("NFC", text or "").lower())
    stems = (stem(w) for w in words if w not in STOPWORDS and len(w) > 1)
    return [s for s in stems if len(s) > 1]


def idea_tokens(title: str, summary: str, description: str) -> list[str]:
    # The title twice: it says most about what the idea is.
    return tokens(f"{title} {title} {summary} {(description or '')[:DESCRIPTION_CHARS]}")


@dataclass
class _Index:
    key: tuple[Any, ...]
    checked_at: float
    ids: list[int]
    bm25: BM25Okapi | None
    #: For each stemmed word, the positions of the ideas containing it and how often: only
    #: those ideas are scored, with numpy, from rank-bm25's idf and length statistics.
    postings: dict[str, tuple[np.ndarray, np.ndarray]]
    #: Each idea's length normalisation ``1 - b + b * length / average length``.
    norm: np.ndarray
    position: dict[int, int]


_cache: OrderedDict[tuple[Any, ...], _Index] = OrderedDict()
_lock = threading.Lock()


def forget(city_id: int | None = None) -> None:
    """Drop cached indexes (of every city, or those covering ``city_id``)."""
    with _lock:
        for key in [k for k in _cache if city_id is None or city_id in k[1]]:
            del _cache[key]


def _candidates(city_ids: list[int], limit: int):
    """The latest ``limit`` public ideas of each city: what an index covers."""
    per_city = []
    for city_id in city_ids:
        per_city.append(
            select(Idea.id)
            .where(Idea.city_id == city_id, Idea.visibility == Visibility.public)
            .order_by(Idea.submitted_at.desc(), Idea.id.desc())
            .limit(limit)
        )
    return per_city


def _freshness(session: Session, city_ids: list[int]) -> tuple[Any, ...]:
    row = session.execute(
        select(func.count(), func.max(Idea.id), func.max(Idea.updated_at)).where(
            Idea.city_id.in_(city_ids), Idea.visibility == Visibility.public
        )
    ).one()
    return (row[0], row[1], str(row[2]))


def index_for(
    session: Session, city_ids: list[int], candidates: int = DEFAULT_CANDIDATES
) -> _Index:
    """The BM25 index over the cities' latest public ideas, from the cache while it is fresh."""
    bind = session.get_bind()
    base_key = (str(bind.engine.url), tuple(sorted(city_ids)), candidates)
    now = time.monotonic()
    with _lock:
        cached = _cache.get(base_key)
    if cached is not None and now - cached.checked_at < RECHECK_SECONDS:
        return cached
    fresh = _freshness(session, city_ids)
    if cached is not None and cached.key == fresh:
        cached.checked_at = now
        return cached
    ids: list[int] = []
    corpus: list[list[str]] = []
    for query in _candidates(city_ids, candidates):
        chosen = query.subquery()
        rows = session.execute(
            select(
                Idea.id,
                Idea.title,
                Idea.summary,
                func.substr(Idea.description, 1, DESCRIPTION_CHARS),
            ).where(Idea.id.in_(select(chosen.c.id)))
        )
        for idea_id, title, summary, description in rows:
            ids.append(idea_id)
            corpus.append(idea_tokens(title, summary, description or ""))
    import numpy as np

    # BM25Okapi divides by the corpus size: an empty corpus has no index at all.
    bm25 = _lucene_bm25()(corpus) if corpus and any(corpus) else None
    lists: dict[str, tuple[list[int], list[int]]] = {}
    for position, frequencies in enumerate(bm25.doc_freqs if bm25 else []):
        for word, count in frequencies.items():
            where, how_often = lists.setdefault(word, ([], []))
            where.append(position)
            how_often.append(count)
    postings = {
        w: (np.array(p, dtype=np.int64), np.array(f, dtype=np.float64))
        for w, (p, f) in lists.items()
    }
    norm = (
        1 - bm25.b + bm25.b * np.array(bm25.doc_len, dtype=np.float64) / bm25.avgdl
        if bm25
        else np.zeros(0)
    )
    built = _Index(
        key=fresh,
        checked_at=now,
        ids=ids,
        bm25=bm25,
        postings=postings,
        norm=norm,
        position={i: p for p, i in enumerate(ids)},
    )
    with _lock:
        _cache[base_key] = built
        _cache.move_to_end(base_key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return built


@dataclass(frozen=True)
class Match:
    idea: Idea
    score: float
    #: The score relative to what the best possible match (the text itself) would get, 0–1.
    similarity: float


def _top(index: _Index, query: list[str], limit: int, exclude: set[int]) -> list[tuple[int, float]]:
    """The best-scoring ideas; only ideas sharing a word with the query are scored at all."""
    terms = list(dict.fromkeys(query))
    if index.bm25 is None or not terms:
        return []
    import numpy as np

    bm25 = index.bm25
    scores = np.zeros(len(index.ids))
    for term in terms:
        if term not in index.postings:
            continue
        where, how_often = index.postings[term]
        # The BM25 term weight, as rank-bm25's get_scores computes it, for the ideas with the term.
        scores[where] += (
            bm25.idf[term] * how_often * (bm25.k1 + 1) / (how_often + bm25.k1 * index.norm[where])
        )
    for idea_id in exclude:
        position = index.position.get(idea_id)
        if position is not None:
            scores[position] = 0.0
    hits = np.flatnonzero(scores > 0)
    if hits.size > limit:
        hits = hits[np.argpartition(-scores[hits], limit - 1)[:limit]]
    ranked = sorted(hits.tolist(), key=lambda p: (-scores[p], p))
    return [(index.ids[p], float(scores[p])) for p in ranked]


def _self_score(index: _Index, query: list[str]) -> float:
    """How a document made of exactly the query's words would score: the scale for similarity."""
    if index.bm25 is None or not query:
        return 0.0
    bm25 = index.bm25
    score = 0.0
    length = len(query)
    counts = {t: query.count(t) for t in dict.fromkeys(query)}
    for term, freq in counts.items():
        idf = bm25.idf.get(term, 0.0)
        score += (
            idf
            * freq
            * (bm25.k1 + 1)
            / (freq + bm25.k1 * (1 - bm25.b + bm25.b * length / bm25.avgdl))
        )
    return score


def _load(session: Session, hits: list[tuple[int, float]], scale: float) -> list[Match]:
    if not hits:
        return []
    ideas = {
        idea.id: idea
        for idea in session.scalars(
            select(Idea)
            .where(Idea.id.in_([i for i, _ in hits]))
            .options(selectinload(Idea.stage), selectinload(Idea.city))
        )
    }
    return [
        Match(ideas[i], score, min(1.0, score / scale) if scale > 0 else 0.0)
        for i, score in hits
        if i in ideas
    ]


def peer_city_ids(session: Session, city: City) -> list[int]:
    return list(session.scalars(select(City.id).where(City.is_peer.is_(True), City.id != city.id)))


def similar_to_draft(
    session: Session,
    city: City,
    draft: dict[str, Any],
    *,
    limit: int = DEFAULT_LIMIT,
    candidates: int = DEFAULT_CANDIDATES,
    include_peers: bool = True,
) -> list[Match]:
    """Existing public ideas of the city (and its peers) most like an idea being written."""
    query = idea_tokens(
        draft.get("title", ""), draft.get("summary", ""), draft.get("description", "")
    )
    city_ids = [city.id, *(peer_city_ids(session, city) if include_peers else [])]
    index = index_for(session, city_ids, candidates)
    return _load(session, _top(index, query, limit, set()), _self_score(index, query))


def possible_duplicates(
    session: Session,
    idea: Idea,
    *,
    limit: int = 3,
    threshold: float = DEFAULT_DUPLICATE_THRESHOLD,
    candidates: int = DEFAULT_CANDIDATES,
) -> list[Match]:
    """Other ideas of the same city so alike that they may be the same idea."""
    query = idea_tokens(idea.title, idea.summary, idea.description)
    index = index_for(session, [idea.city_id], candidates)
    matches = _load(session, _top(index, query, limit, {idea.id}), _self_score(index, query))
    return [m for m in matches if m.similarity >= threshold]

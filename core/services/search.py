"""Full-text search over ideas through the database's own engine: SQLite FTS5 or PostgreSQL.

A user's search text is parsed into a small, safe query language, the same on both
databases (web-search style):

- words are required (``snö skola`` finds ideas with both) and match as prefixes, so a
  partial word finds the whole one (``snöröj`` finds ``snöröjning``);
- ``"quoted words"`` must appear as a phrase;
- ``-word`` or ``NOT word`` excludes ideas with the word (only beside a required word);
- ``OR`` between words or phrases offers alternatives; ``AND`` is the default.

Everything else (``*``, parentheses, colons, quotes left open…) is treated as a word
separator, so no input can reach the database as query syntax: odd input never fails.

SQLite indexes the words as written (FTS5, ``unicode61`` keeping å/ä/ö), so plain words are
reduced with the Swedish Snowball stemmer before the prefix match: ``snöröjningen`` searches
``snöröjning*``. PostgreSQL stems both the ideas and the query with its ``swedish``
configuration. Hits are ranked by relevance: FTS5's bm25() and PostgreSQL's ts_rank(), with
the title weighing more than the summary and the summary more than the description.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import snowballstemmer
from sqlalchemy import Float, Integer, String, bindparam, text
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.selectable import Subquery

#: The PostgreSQL text search configuration; the migration's generated column uses the same.
POSTGRESQL_CONFIG = "swedish"
#: FTS5 bm25() column weights: title, summary, description.
SQLITE_WEIGHTS = (10.0, 4.0, 1.0)
#: More terms than this are ignored: a search box is not a place for a novel.
MAX_TERMS = 16

_WORD = re.compile(r"[^\W_]+")
_TOKEN = re.compile(r'"([^"]*)"?|(\S+)')
_stemmer = snowballstemmer.stemmer("swedish")


@dataclass(frozen=True)
class Term:
    """One word (matched as a prefix) or a quoted phrase (matched exactly)."""

    words: tuple[str, ...]
    phrase: bool = False


@dataclass
class Clause:
    """Terms that must all match, and terms that must not."""

    required: list[Term] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)


@dataclass
class SearchQuery:
    """A parsed search text: alternatives (OR) of clauses (AND / NOT)."""

    alternatives: list[Clause]

    def __bool__(self) -> bool:
        return bool(self.alternatives)


def parse(search_text: str | None) -> SearchQuery:
    """Parse what a user typed into a search box; never fails, may come out empty."""
    clauses: list[Clause] = [Clause()]
    negate_next = False
    terms = 0
    # Composed form, so an å typed as a + combining ring is still one letter.
    normalised = unicodedata.normalize("NFC", search_text or "")
    for match in _TOKEN.finditer(normalised):
        phrase, raw = match.group(1), match.group(2)
        if raw in ("OR", "|"):
            if clauses[-1].required:
                clauses.append(Clause())
            continue
        if raw == "AND":
            continue
        if raw == "NOT":
            negate_next = True
            continue
        negate = negate_next
        negate_next = False
        if phrase is not None:
            words = tuple(w.lower() for w in _WORD.findall(phrase))
            found = [Term(words, phrase=len(words) > 1)] if words else []
        else:
            if raw.startswith("-") and len(raw) > 1:
                negate = True
            found = [Term((w.lower(),)) for w in _WORD.findall(raw)]
        for term in found:
            if terms >= MAX_TERMS:
                break
            terms += 1
            (clauses[-1].excluded if negate else clauses[-1].required).append(term)
    # FTS5 and tsquery both need something positive to search for; exclusions alone are dropped.
    return SearchQuery([c for c in clauses if c.required])


def _fts5_term(term: Term) -> str:
    # Words contain letters and digits only (see _WORD), so quoting them is always safe.
    if term.phrase:
        return '"' + " ".join(term.words) + '"'
    word = term.words[0]
    stem = _stemmer.stemWord(word)
    return f'"{stem if len(stem) >= 3 else word}"*'


def to_fts5(query: SearchQuery) -> str:
    """The query in SQLite FTS5 syntax."""
    parts = []
    for clause in query.alternatives:
        expression = "(" + " AND ".join(_fts5_term(t) for t in clause.required) + ")"
        for term in clause.excluded:
            expression = f"({expression} NOT {_fts5_term(term)})"
        parts.append(expression)
    return " OR ".join(parts)


def _tsquery_term(term: Term) -> str:
    if term.phrase:
        return "(" + " <-> ".join(term.words) + ")"
    return f"{term.words[0]}:*"


def to_tsquery(query: SearchQuery) -> str:
    """The query in PostgreSQL ``to_tsquery`` syntax (stemming happens in the database)."""
    parts = []
    for clause in query.alternatives:
        items = [_tsquery_term(t) for t in clause.required]
        items += ["!" + _tsquery_term(t) for t in clause.excluded]
        parts.append("(" + " & ".join(items) + ")")
    return " | ".join(parts)


class _IdeaHits(TextClause):
    """``SELECT id, score`` of the ideas matching a query; its SQL depends on the database.

    Both dialects' query strings travel as bound parameters, so SQLAlchemy caches the
    compiled statement like any other and only the values change between searches.
    """

    inherit_cache = True

    def __init__(self, query: SearchQuery, ranked: bool) -> None:
        # The text takes part in SQLAlchemy's cache key; the SQL itself comes from _*_hits().
        super().__init__("ranked" if ranked else "unranked")
        self.ranked = ranked
        self._bindparams = {
            "search_fts": bindparam("search_fts", to_fts5(query), type_=String()),
            "search_tsquery": bindparam("search_tsquery", to_tsquery(query), type_=String()),
        }


@compiles(_IdeaHits, "sqlite")
def _sqlite_hits(element: _IdeaHits, compiler: Any, **kw: Any) -> str:
    weights = ", ".join(str(w) for w in SQLITE_WEIGHTS)
    # bm25() is smaller for better matches; negated so that a higher score is better everywhere.
    # LIMIT -1 keeps SQLite from flattening the subquery into the join, where it may choose to
    # run the full-text query once per idea row; unflattened, it runs once and is materialised.
    score = f"-bm25(idea_search, {weights})" if element.ranked else "0.0"
    sql = text(
        f"SELECT rowid AS id, {score} AS score "
        "FROM idea_search WHERE idea_search MATCH :search_fts LIMIT -1"
    ).bindparams(element._bindparams["search_fts"])
    return compiler.process(sql, **kw)


@compiles(_IdeaHits, "postgresql")
def _postgresql_hits(element: _IdeaHits, compiler: Any, **kw: Any) -> str:
    score = "ts_rank(idea.search_vector, search_query.q)" if element.ranked else "0.0"
    sql = text(
        f"SELECT idea.id AS id, {score} AS score "
        f"FROM idea, to_tsquery('{POSTGRESQL_CONFIG}', :search_tsquery) AS search_query(q) "
        "WHERE idea.search_vector @@ search_query.q"
    ).bindparams(element._bindparams["search_tsquery"])
    return compiler.process(sql, **kw)


@compiles(_IdeaHits)
def _unsupported_hits(element: _IdeaHits, compiler: Any, **kw: Any) -> str:
    raise CompileError(f"full-text search needs SQLite or PostgreSQL, not {compiler.dialect.name}")


def idea_hits(query: SearchQuery, *, ranked: bool = True) -> Subquery:
    """A subquery ``hits(id, score)`` of the ideas matching ``query``; join it to ``Idea.id``.

    A higher score is a better match; without ``ranked`` every score is 0, which saves the
    ranking work when only the hits count. The SQL is chosen when the statement is compiled,
    so callers build one query for both databases.
    """
    return _IdeaHits(query, ranked).columns(id=Integer, score=Float).subquery("hits")

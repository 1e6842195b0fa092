"""Per-idea facts: what the comparison and the evidence need of each idea, kept current on every write.

Working out, for 600,000 ideas, when each was first implemented or closed, how long it stayed
in pilot and how many kinds of organisation take part means reading millions of stage
transitions and participations; done on every request, a national comparison took seconds.
So each idea's facts live in two derived tables (models ``IdeaFact`` and ``IdeaMethodFact``,
the latter one row per idea and shared method key, with the idea's facts beside so the
figures read one table) and are brought up to date in the same transaction as the write
that changes them:

* every write through the ORM — submitting, moving, applying, editing or removing a method
  application, editing an idea, adding or removing a participation, adopting, erasing
  personal data, changing an organisation's kind, a method's shared key or a focus area's
  order — is seen at flush (``before_flush``/``after_flush_postexec``), and the facts of the
  ideas it touched are computed again from the source tables before the flush returns;
* bulk loads that write rows at the driver level (the exchange importer, the demo generator,
  ``core/services/bulk.py``) call :func:`rebuild` once for the city they loaded.

The facts are computed by :func:`facts_query`, the one definition of each fact; the figures
never compute them another way. ``scope`` is the one place that picks the facts a comparison
counts (cities, the reader's visibility, the submission date).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from itertools import chain, islice
from typing import Any, TypeVar, cast

import orjson
from sqlalchemy import (
    Connection,
    Select,
    Table,
    and_,
    case,
    delete,
    distinct,
    event,
    func,
    insert,
    inspect,
    literal,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import replacement_traverse

from ..db import SQLITE_BUSY_TIMEOUT_MS
from ..models import (
    IMPLEMENTED_PHASES,
    City,
    FactsVersion,
    FactsYearVersion,
    FocusArea,
    Idea,
    IdeaFact,
    IdeaFocusArea,
    IdeaMethodFact,
    Method,
    MethodApplication,
    Organisation,
    Participation,
    Phase,
    StageTransition,
    StoredFigures,
)
from .sqltime import days_between, whole_days, year_of

#: The columns both fact tables share, in the order ``facts_query`` selects them.
FACT_COLUMNS = (
    "idea_id",
    "city_id",
    "visibility",
    "submitted_at",
    "year",
    "focus",
    "implemented_at",
    "closed_at",
    "days_to_implemented",
    "implemented_day",
    "closed_day",
    "pilot_days",
    "kinds",
    "crossing",
)
#: The tables the facts are computed from.
_SOURCES = (
    "idea",
    "stage_transition",
    "participation",
    "organisation",
    "method_application",
    "method",
    "idea_focus_area",
    "focus_area",
)
#: Ideas refreshed per statement (keeps the IN lists well below the databases' limits).
CHUNK = 2_000

Facts = type[IdeaFact] | type[IdeaMethodFact]
FACT_TABLE = cast(Table, IdeaFact.__table__)
METHOD_FACT_TABLE = cast(Table, IdeaMethodFact.__table__)
VERSION_TABLE = cast(Table, FactsVersion.__table__)
YEAR_VERSION_TABLE = cast(Table, FactsYearVersion.__table__)
STORED_TABLE = cast(Table, StoredFigures.__table__)

log = logging.getLogger(__name__)
T = TypeVar("T")


# --------------------------------------------------------------------------- the definition


def facts_query(ideas: Any = None) -> Select[Any]:
    """The facts of ``ideas`` computed from the source tables, one row per idea.

    :param ideas: a list of idea ids, a SELECT of idea ids, or None for every idea.
    """

    def only(column: Any) -> ColumnElement[bool]:
        return true() if ideas is None else column.in_(ideas)

    first = (
        select(
            StageTransition.idea_id,
            func.min(
                case((StageTransition.to_phase.in_(IMPLEMENTED_PHASES), StageTransition.at))
            ).label("implemented_at"),
            func.min(
                case((StageTransition.to_phase == Phase.closed.value, StageTransition.at))
            ).label("closed_at"),
        )
        .where(
            StageTransition.to_phase.in_((*IMPLEMENTED_PHASES, Phase.closed.value)),
            only(StageTransition.idea_id),
        )
        .group_by(StageTransition.idea_id)
        .subquery("first_outcome")
    )
    # Each stay in pilot lasts until the idea's next transition (in the order of time, then
    # of recording); a stay still going on is left out, its length is not known yet. The next
    # transition is found through the (idea_id, at) index for pilot stays only.
    later = aliased(StageTransition)
    left_at = (
        select(func.min(later.at))
        .where(
            later.idea_id == StageTransition.idea_id,
            or_(
                later.at > StageTransition.at,
                and_(later.at == StageTransition.at, later.id > StageTransition.id),
            ),
        )
        .scalar_subquery()
    )
    stays = (
        select(StageTransition.idea_id, StageTransition.at, left_at.label("left_at"))
        .where(StageTransition.to_phase == Phase.pilot.value, only(StageTransition.idea_id))
        .subquery("stays")
    )
    pilot = (
        select(stays.c.idea_id, func.sum(days_between(stays.c.left_at, stays.c.at)).label("days"))
        .where(stays.c.left_at.is_not(None))
        .group_by(stays.c.idea_id)
        .subquery("pilot")
    )
    collaboration = (
        select(
            Participation.idea_id,
            func.count(distinct(Organisation.kind)).label("kinds"),
            func.count(distinct(Participation.organisation_id)).label("organisations"),
        )
        .join(Organisation, Organisation.id == Participation.organisation_id)
        .where(only(Participation.idea_id))
        .group_by(Participation.idea_id)
        .subquery("collaboration")
    )
    focus = (
        select(IdeaFocusArea.idea_id, func.min(FocusArea.position).label("focus"))
        .join(FocusArea, FocusArea.id == IdeaFocusArea.focus_area_id)
        .where(only(IdeaFocusArea.idea_id))
        .group_by(IdeaFocusArea.idea_id)
        .subquery("first_focus")
    )
    return (
        select(
            Idea.id.label("idea_id"),
            Idea.city_id,
            Idea.visibility,
            Idea.submitted_at,
            year_of(Idea.submitted_at).label("year"),
            func.coalesce(focus.c.focus, -1).label("focus"),
            first.c.implemented_at,
            first.c.closed_at,
            days_between(first.c.implemented_at, Idea.submitted_at).label("days_to_implemented"),
            whole_days(first.c.implemented_at, Idea.submitted_at).label("implemented_day"),
            whole_days(first.c.closed_at, Idea.submitted_at).label("closed_day"),
            pilot.c.days.label("pilot_days"),
            func.coalesce(collaboration.c.kinds, 0).label("kinds"),
            case((func.coalesce(collaboration.c.organisations, 0) > 1, 1), else_=0).label(
                "crossing"
            ),
        )
        .outerjoin(first, first.c.idea_id == Idea.id)
        .outerjoin(pilot, pilot.c.idea_id == Idea.id)
        .outerjoin(collaboration, collaboration.c.idea_id == Idea.id)
        .outerjoin(focus, focus.c.idea_id == Idea.id)
        .where(only(Idea.id))
    )


def method_facts_query(ideas: Any = None) -> Select[Any]:
    """The stored facts of ``ideas`` once per shared method key applied to them."""
    applied = select(MethodApplication.idea_id, Method.shared_key.label("method")).join(
        Method, Method.id == MethodApplication.method_id
    )
    if ideas is not None:
        applied = applied.where(MethodApplication.idea_id.in_(ideas))
    links = applied.distinct().subquery("applied")
    query = select(*(FACT_TABLE.c[c] for c in FACT_COLUMNS), links.c.method).join(
        links, links.c.idea_id == IdeaFact.idea_id
    )
    if ideas is not None:
        query = query.where(IdeaFact.idea_id.in_(ideas))
    return query


# --------------------------------------------------------------------------- keeping them current


def _chunks(ids: Sequence[T], size: int = CHUNK) -> Iterator[list[T]]:
    iterator = iter(ids)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _store(session: Session | Connection, ideas: Any) -> None:
    session.execute(insert(FACT_TABLE).from_select(FACT_COLUMNS, facts_query(ideas)))
    session.execute(
        insert(METHOD_FACT_TABLE).from_select((*FACT_COLUMNS, "method"), method_facts_query(ideas))
    )


def refresh(session: Session, idea_ids: Iterable[int]) -> None:
    """Compute the facts of these ideas again (ideas that no longer exist lose theirs)."""
    ids = sorted(set(idea_ids))
    years: dict[int, set[int]] = {}  # per city, the submission years whose facts change
    for chunk in _chunks(ids):
        of_chunk = (
            select(FACT_TABLE.c.city_id, FACT_TABLE.c.year)
            .where(FACT_TABLE.c.idea_id.in_(chunk))
            .distinct()
        )
        for city_id, year in session.execute(of_chunk).tuples():
            years.setdefault(city_id, set()).add(year)
        session.execute(delete(METHOD_FACT_TABLE).where(METHOD_FACT_TABLE.c.idea_id.in_(chunk)))
        session.execute(delete(FACT_TABLE).where(FACT_TABLE.c.idea_id.in_(chunk)))
        _store(session, chunk)
        for city_id, year in session.execute(of_chunk).tuples():
            years.setdefault(city_id, set()).add(year)
    _new_versions(session, years, years)


def rebuild(session: Session | Connection, city_id: int | None = None) -> None:
    """Compute the facts of every idea of a city (None: of every city) again, in one go.

    Bulk loads call this once at the end instead of refreshing idea by idea; the migration
    that created the tables fills them with it (on its connection).
    """
    fact, method_fact = FACT_TABLE, METHOD_FACT_TABLE
    bind = session.get_bind() if isinstance(session, Session) else session
    if bind.dialect.name == "postgresql":
        # After a bulk load the planner's statistics still describe the tables before it:
        # it would expect one row per city and join the per-idea aggregates in nested loops,
        # quadratic in the ideas loaded. ANALYZE (allowed inside a transaction) renews them.
        session.execute(text(f"ANALYZE {', '.join(_SOURCES)}"))
    if city_id is None:
        session.execute(delete(method_fact))
        session.execute(delete(fact))
        _store(session, None)
        _new_versions(session, list(session.scalars(select(City.id))))
        return
    session.execute(delete(method_fact).where(method_fact.c.city_id == city_id))
    session.execute(delete(fact).where(fact.c.city_id == city_id))
    _store(session, select(Idea.id).where(Idea.city_id == city_id))
    _new_versions(session, [city_id])


def build_missing(session: Session) -> list[int]:
    """Compute the facts of every city that has none yet: the ideas of a database that was
    upgraded from before the facts existed (migration 0009 creates their tables only).

    Every city gets a version row the first time its facts are computed, so a city without
    one has never had them. Returns the cities whose facts were built, in ascending order.
    """
    missing = list(
        session.scalars(
            select(City.id)
            .where(
                ~select(VERSION_TABLE.c.city_id).where(VERSION_TABLE.c.city_id == City.id).exists()
            )
            .order_by(City.id)
        )
    )
    for city_id in missing:
        rebuild(session, city_id)
    return missing


def _new_versions(
    session: Session | Connection,
    city_ids: Iterable[int],
    years: Mapping[int, set[int]] | None = None,
) -> None:
    """Give these cities new version tokens: their kept figures are no longer current.

    :param years: per city, the only submission years whose facts changed: those years get
        new tokens too (figures kept per year, ``per_city_year``, of the other years stay
        valid). A city not in it: every year of the city gets a new token.

    The figures stored under an old token are deleted (they could never be read again).
    Cities in ascending order, so that writers touching several cities lock them in the same
    order (PostgreSQL holds each row's lock until the transaction ends).
    """
    table, stored, per_year = VERSION_TABLE, STORED_TABLE, YEAR_VERSION_TABLE
    bind = session.get_bind() if isinstance(session, Session) else session
    insert_for = postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert
    wanted = sorted(set(city_ids))
    if not wanted:
        return
    existing = set(session.scalars(select(City.id).where(City.id.in_(wanted))))
    for city_id in wanted:
        token = uuid.uuid4().hex
        changed = (years or {}).get(city_id)
        of_city = stored.c.city_id == city_id
        if changed is None:
            session.execute(delete(stored).where(of_city))
            session.execute(delete(per_year).where(per_year.c.city_id == city_id))
        else:
            session.execute(
                delete(stored).where(
                    of_city, or_(stored.c.part.is_(None), stored.c.part.in_(changed))
                )
            )
        if city_id not in existing:  # a deleted city has no version
            continue
        if changed is None:  # every year the city has facts for
            session.execute(
                insert(per_year).from_select(
                    ["city_id", "year", "token"],
                    select(FACT_TABLE.c.city_id, FACT_TABLE.c.year, literal(token))
                    .where(FACT_TABLE.c.city_id == city_id)
                    .distinct(),
                )
            )
        else:
            for year in sorted(changed):
                statement = insert_for(per_year).values(city_id=city_id, year=year, token=token)
                session.execute(
                    statement.on_conflict_do_update(
                        index_elements=[per_year.c.city_id, per_year.c.year], set_={"token": token}
                    )
                )
        statement = insert_for(table).values(city_id=city_id, token=token)
        session.execute(
            statement.on_conflict_do_update(index_elements=[table.c.city_id], set_={"token": token})
        )


@dataclass
class _Pending:
    """What a flush is about to write that changes some ideas' facts."""

    #: Ideas and their children (transitions, applications, participations, focus links),
    #: read after the flush, when new rows have their ids.
    objects: list[Any] = field(default_factory=list)
    #: Ideas known before the flush (earlier owners, ideas of a changed organisation…).
    idea_ids: set[int] = field(default_factory=set)
    #: Cities of deleted ideas (their facts go with them, by the foreign key's cascade).
    city_ids: set[int] = field(default_factory=set)


_PENDING = "innoplat_facts_pending"
_CHILDREN = (StageTransition, MethodApplication, Participation, IdeaFocusArea)
#: Rows whose change alters the facts of the ideas linked to them: the attribute that matters
#: and how to find those ideas.
_LINKED: dict[type[Any], tuple[str, Any, Any]] = {
    Organisation: ("kind", Participation.idea_id, Participation.organisation_id),
    Method: ("shared_key", MethodApplication.idea_id, MethodApplication.method_id),
    FocusArea: ("position", IdeaFocusArea.idea_id, IdeaFocusArea.focus_area_id),
}


def _changed(obj: Any, attribute: str) -> bool:
    return bool(inspect(obj).attrs[attribute].history.has_changes())


@event.listens_for(Session, "before_flush")
def _note_changes(session: Session, _context: Any, _instances: Any) -> None:
    pending = session.info.setdefault(_PENDING, _Pending())
    for obj in session.deleted:
        if isinstance(obj, Idea):
            pending.idea_ids.add(obj.id)
            pending.city_ids.add(obj.city_id)
        elif isinstance(obj, _CHILDREN):
            pending.idea_ids.add(obj.idea_id)
        elif type(obj) in _LINKED:
            _, idea_id, link = _LINKED[type(obj)]
            pending.idea_ids.update(session.scalars(select(idea_id).where(link == obj.id)))
    for obj in chain(session.new, session.dirty):
        if isinstance(obj, Idea):
            pending.objects.append(obj)
        elif isinstance(obj, _CHILDREN):
            pending.objects.append(obj)
            # a child moved to another idea changes the facts of the one it left too
            history = cast(Any, inspect(obj)).attrs.idea_id.history
            pending.idea_ids.update(i for i in history.deleted if i)
        elif type(obj) in _LINKED and obj not in session.new:
            attribute, idea_id, link = _LINKED[type(obj)]
            if _changed(obj, attribute):
                pending.idea_ids.update(session.scalars(select(idea_id).where(link == obj.id)))


@event.listens_for(Session, "after_flush_postexec")
def _refresh_changed(session: Session, _context: Any) -> None:
    pending: _Pending | None = session.info.pop(_PENDING, None)
    if pending is None:
        return
    ids = set(pending.idea_ids)
    for obj in pending.objects:
        ids.add(obj.id if isinstance(obj, Idea) else obj.idea_id)
    ids.discard(None)  # type: ignore[arg-type]
    if ids:
        refresh(session, ids)
    _new_versions(session, pending.city_ids)


@event.listens_for(Session, "after_soft_rollback")
def _forget_pending(session: Session, _previous: Any) -> None:
    session.info.pop(_PENDING, None)


# --------------------------------------------------------------------------- reading them


def on_facts(condition: ColumnElement[bool], facts: Facts) -> ColumnElement[bool]:
    """A condition on ``Idea`` (such as ``visibility.visible_ideas``) restated on a fact table.

    Every ``Idea`` column it uses must be one the facts carry (city, visibility, submission).
    """
    idea = Idea.__table__
    table = facts.__table__

    def swap(element: Any) -> Any:
        if getattr(element, "table", None) is idea:
            if element.key not in table.c:
                raise ValueError(f"idea.{element.key} is not among the facts")
            return table.c[element.key]
        return None

    adapted: Any = replacement_traverse(condition, {}, swap)  # type: ignore[call-overload]
    return cast(ColumnElement[bool], adapted)


def scope(
    facts: Facts,
    city_ids: Sequence[int],
    visible: ColumnElement[bool],
    since: datetime | None = None,
) -> list[ColumnElement[bool]]:
    """The conditions keeping the facts a comparison counts: of these cities, ideas the
    reader may see (``visible``, a condition on ``Idea``), submitted on or after ``since``."""
    conditions = [facts.city_id.in_(city_ids), on_facts(visible, facts)]
    if since is not None:
        conditions.append(facts.submitted_at >= since)
    return conditions


# --------------------------------------------------------------------------- caching figures

#: Cities' figures kept in memory (per process), least recently used dropped first: a city's
#: comparison is a few kB, its evidence counts up to ~1 MB (one row per method and day).
CACHE_SIZE = 64
_cache: OrderedDict[Hashable, Any] = OrderedDict()
_cache_lock = threading.Lock()


def versions(session: Session, city_ids: Iterable[int]) -> dict[int, str | None]:
    """Each city's facts version token (None: its facts were never written)."""
    ids = sorted(set(city_ids))
    query = select(VERSION_TABLE.c.city_id, VERSION_TABLE.c.token).where(
        VERSION_TABLE.c.city_id.in_(ids)
    )
    found = {city_id: token for city_id, token in session.execute(query).tuples()}
    return {i: found.get(i) for i in ids}


Part = tuple[int, int | None]  # a city, and a submission year or None for all of it


def per_city(
    session: Session,
    keys: Mapping[int, Hashable | None],
    compute: Callable[[list[int]], dict[int, Any]],
) -> dict[int, Any]:
    """Figures per city, computed only for the cities whose facts changed since last asked.

    The figures of a city depend on its facts alone (and on the parameters in ``keys``), and
    its facts version token changes in the same transaction as its facts, so a kept value is
    exactly what computing again would give, in any transaction that sees that token. Values
    are kept at two levels: in this process's memory, and in the database (``stored_figures``)
    for every other worker, command and process started later; a write that changes a city's
    facts deletes its stored rows in the same transaction.

    :param keys: per city id, what else the figures depend on (their parameters, whose
        ``repr`` must be the same in every process); None: compute the city's figures but do
        not keep them (they will not be asked for again).
    :param compute: ``compute(city_ids)`` returning ``{city_id: figures}`` for those cities
        (a city left out has none). Figures are kept as JSON: what ``compute`` returns goes
        through JSON too (tuples come back as lists), so a kept and a fresh value are the
        same. Kept values are shared: they must not be changed.
    """

    def compute_parts(parts: list[Part]) -> dict[Part, Any]:
        return {(c, None): v for c, v in compute([c for c, _ in parts]).items()}

    found = _kept(session, {(c, None): key for c, key in keys.items()}, compute_parts)
    return {c: found[(c, None)] for c in keys}


def per_city_year(
    session: Session,
    keys: Mapping[Part, Hashable | None],
    compute: Callable[[list[Part]], dict[Part, Any]],
) -> dict[Part, Any]:
    """Figures per city and submission year, for figures that add up over the years.

    As ``per_city``, but a write keeps the stored figures of the years whose facts it left
    as they were: after an idea of 2024 moves, only the city's 2024 figures are counted again.

    :param keys: per (city id, submission year), the figures' parameters. Only years the
        city has facts for are counted; others are None, as a city without facts.
    :param compute: ``compute([(city_id, year), …])`` returning ``{(city_id, year): figures}``.
    """
    return _kept(session, keys, compute)


def years_of(session: Session, city_ids: Iterable[int]) -> dict[int, list[int]]:
    """Per city, the submission years it has facts for, ascending (a city without facts is
    left out)."""
    query = (
        select(YEAR_VERSION_TABLE.c.city_id, YEAR_VERSION_TABLE.c.year)
        .where(YEAR_VERSION_TABLE.c.city_id.in_(sorted(set(city_ids))))
        .order_by(YEAR_VERSION_TABLE.c.city_id, YEAR_VERSION_TABLE.c.year)
    )
    found: dict[int, list[int]] = {}
    for city_id, year in session.execute(query).tuples():
        found.setdefault(city_id, []).append(year)
    return found


def _tokens(session: Session, parts: Iterable[Part]) -> dict[Part, str | None]:
    """The version token each part's figures are kept under (None: none, never kept)."""
    parts = list(parts)
    cities = versions(session, {c for c, _ in parts})
    yearly = {c for c, year in parts if year is not None}
    by_year: dict[Part, str] = {}
    if yearly:
        query = select(
            YEAR_VERSION_TABLE.c.city_id, YEAR_VERSION_TABLE.c.year, YEAR_VERSION_TABLE.c.token
        ).where(YEAR_VERSION_TABLE.c.city_id.in_(sorted(yearly)))
        by_year = {(c, y): token for c, y, token in session.execute(query).tuples()}
    return {p: cities[p[0]] if p[1] is None else by_year.get(p) for p in parts}


def _kept(
    session: Session,
    keys: Mapping[Part, Hashable | None],
    compute: Callable[[list[Part]], dict[Part, Any]],
) -> dict[Part, Any]:
    database = session.get_bind().engine.url.render_as_string(hide_password=True)
    tokens = _tokens(session, keys)
    full = {p: (database, p, tokens[p], keys[p]) for p in keys}
    found: dict[Part, Any] = {}
    with _cache_lock:
        for part, key in full.items():
            if keys[part] is not None and key in _cache:
                _cache.move_to_end(key)
                found[part] = _cache[key]
    storable = {
        p: _digest((keys[p], p[1]))
        for p in keys
        if p not in found and keys[p] is not None and tokens[p] is not None
    }
    stored = _read_stored(session, storable, tokens)
    missing = [p for p in keys if p not in found and p not in stored]
    computed = {p: _as_json(v) for p, v in compute(missing).items()} if missing else {}
    if computed:
        _keep_stored(
            session,
            {p: (storable[p], tokens[p], computed[p]) for p in computed if p in storable},
        )
    with _cache_lock:
        for part in (p for p in keys if p not in found):
            payload = stored[part] if part in stored else computed.get(part)
            found[part] = None if payload is None else orjson.loads(payload)
            if keys[part] is not None:
                _cache[full[part]] = found[part]
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return found


def _digest(parameters: Hashable) -> str:
    return hashlib.sha256(repr(parameters).encode("utf-8")).hexdigest()


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"figures cannot keep a {type(value).__name__}")


def _as_json(figures: Any) -> bytes:
    return orjson.dumps(figures, default=_number)


def _read_stored(
    session: Session, digests: Mapping[Part, str], tokens: Mapping[Part, str | None]
) -> dict[Part, bytes]:
    """The stored figures of these parts that are still current (JSON)."""
    if not digests:
        return {}
    table = STORED_TABLE
    wanted = {(p[0], key): p for p, key in digests.items()}
    found: dict[Part, bytes] = {}
    for chunk in _chunks(sorted(set(digests.values())), 500):
        query = select(table.c.city_id, table.c.key, table.c.token, table.c.payload).where(
            table.c.city_id.in_(sorted({c for c, _ in digests})), table.c.key.in_(chunk)
        )
        for city_id, key, token, payload in session.execute(query).tuples():
            part = wanted.get((city_id, key))
            if part is not None and tokens[part] == token:
                found[part] = payload.encode("utf-8")
    return found


def _keep_stored(session: Session, figures: Mapping[Part, tuple[str, str | None, bytes]]) -> None:
    """Keep freshly computed figures in the database, if this transaction can write now.

    In a savepoint, so that a reader that cannot write leaves its transaction as it was; on
    SQLite without waiting (a page that only reads does not queue behind a writer to keep
    figures: it computed them already, the next reader may keep them).
    """
    if not figures:
        return
    table = STORED_TABLE
    bind = session.get_bind()
    on_sqlite = bind.dialect.name == "sqlite"
    insert_for = sqlite.insert if on_sqlite else postgresql.insert
    rows = [
        {
            "city_id": city_id,
            "key": key,
            "token": token,
            "part": year,
            "payload": payload.decode("utf-8"),
        }
        for (city_id, year), (key, token, payload) in sorted(
            figures.items(), key=lambda item: (item[0][0], item[0][1] or 0)
        )
    ]
    if on_sqlite:
        session.execute(text("PRAGMA busy_timeout = 0"))
    try:
        with session.begin_nested():
            for chunk in _chunks(rows, 200):
                statement = insert_for(table).values(chunk)
                statement = statement.on_conflict_do_update(
                    index_elements=[table.c.city_id, table.c.key],
                    set_={
                        "token": statement.excluded.token,
                        "payload": statement.excluded.payload,
                        "part": statement.excluded.part,
                    },
                )
                session.execute(statement)
    except DBAPIError as error:  # e.g. another writer holds SQLite's lock; a read-only replica
        log.info("figures not kept in the database this time: %s", error.orig)
    finally:
        if on_sqlite:
            session.execute(text(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}"))


def clear_cache(session: Session | None = None) -> None:
    """Forget every figure this process keeps; with ``session``, also those stored in that
    database (the next comparison then computes afresh from the facts)."""
    with _cache_lock:
        _cache.clear()
    if session is not None:
        session.execute(delete(STORED_TABLE))

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
from typing import Any, cast

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
STORED_TABLE = cast(Table, StoredFigures.__table__)

log = logging.getLogger(__name__)


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


def _chunks(ids: Sequence[int], size: int = CHUNK) -> Iterator[list[int]]:
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
    cities: set[int] = set()
    for chunk in _chunks(ids):
        of_chunk = select(FACT_TABLE.c.city_id).where(FACT_TABLE.c.idea_id.in_(chunk)).distinct()
        cities.update(session.scalars(of_chunk))
        session.execute(delete(METHOD_FACT_TABLE).where(METHOD_FACT_TABLE.c.idea_id.in_(chunk)))
        session.execute(delete(FACT_TABLE).where(FACT_TABLE.c.idea_id.in_(chunk)))
        _store(session, chunk)
        cities.update(session.scalars(of_chunk))
    _new_versions(session, cities)


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


def _new_versions(session: Session | Connection, city_ids: Iterable[int]) -> None:
    """Give these cities new version tokens: their cached figures are no longer current.

    Cities in ascending order, so that writers touching several cities lock them in the same
    order (PostgreSQL holds each row's lock until the transaction ends).
    """
    table = VERSION_TABLE
    bind = session.get_bind() if isinstance(session, Session) else session
    insert_for = postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert
    wanted = sorted(set(city_ids))
    if not wanted:
        return
    existing = set(session.scalars(select(City.id).where(City.id.in_(wanted))))
    # Their stored figures are no longer current either: gone with the old token.
    session.execute(delete(STORED_TABLE).where(STORED_TABLE.c.city_id.in_(wanted)))
    for city_id in (c for c in wanted if c in existing):  # a deleted city has no version
        token = uuid.uuid4().hex
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
    database = session.get_bind().engine.url.render_as_string(hide_password=True)
    tokens = versions(session, keys)
    full = {c: (database, c, tokens[c], keys[c]) for c in keys}
    found: dict[int, Any] = {}
    with _cache_lock:
        for city_id, key in full.items():
            if keys[city_id] is not None and key in _cache:
                _cache.move_to_end(key)
                found[city_id] = _cache[key]
    storable = {
        c: _digest(keys[c])
        for c in keys
        if c not in found and keys[c] is not None and tokens[c] is not None
    }
    stored = _read_stored(session, storable, tokens)
    missing = [c for c in keys if c not in found and c not in stored]
    computed = {c: _as_json(v) for c, v in compute(missing).items()} if missing else {}
    if computed:
        _keep_stored(
            session, {c: (storable[c], tokens[c], computed[c]) for c in computed if c in storable}
        )
    with _cache_lock:
        for city_id in (c for c in keys if c not in found):
            payload = stored[city_id] if city_id in stored else computed.get(city_id)
            found[city_id] = None if payload is None else orjson.loads(payload)
            if keys[city_id] is not None:
                _cache[full[city_id]] = found[city_id]
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
    session: Session, digests: Mapping[int, str], tokens: Mapping[int, str | None]
) -> dict[int, bytes]:
    """The stored figures of these cities that are still current (JSON)."""
    if not digests:
        return {}
    table = STORED_TABLE
    query = select(table.c.city_id, table.c.key, table.c.token, table.c.payload).where(
        table.c.city_id.in_(sorted(digests)), table.c.key.in_(set(digests.values()))
    )
    return {
        city_id: payload.encode("utf-8")
        for city_id, key, token, payload in session.execute(query).tuples()
        if digests[city_id] == key and tokens[city_id] == token
    }


def _keep_stored(session: Session, figures: Mapping[int, tuple[str, str | None, bytes]]) -> None:
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
        {"city_id": c, "key": key, "token": token, "payload": payload.decode("utf-8")}
        for c, (key, token, payload) in sorted(figures.items())
    ]
    statement = insert_for(table).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.city_id, table.c.key],
        set_={"token": statement.excluded.token, "payload": statement.excluded.payload},
    )
    if on_sqlite:
        session.execute(text("PRAGMA busy_timeout = 0"))
    try:
        with session.begin_nested():
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

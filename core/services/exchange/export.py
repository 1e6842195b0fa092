"""Exporting a city's public data as a bundle, written as the database is read.

The records come from streamed queries (a server-side cursor on PostgreSQL) a few thousand
at a time and are written as they come, so memory stays flat whatever the number of ideas.
Every record passes the importer's checks (validate.py) on its way out and personal data in
free text is redacted, so a sibling never receives a bundle it would refuse.
"""

from __future__ import annotations

import codecs
import io
import json
import os
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import IO, Any

import orjson
from sqlalchemy import String, Text, cast, func, literal, select, type_coerce
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from ...models import (
    City,
    FocusArea,
    Idea,
    IdeaFocusArea,
    IdeaSdg,
    Method,
    MethodApplication,
    MethodApplicationOrganisation,
    Organisation,
    Participation,
    Stage,
    StageTransition,
    Visibility,
    utcnow,
)
from ..serialisation import timestamp
from .reader import Item
from .schema import CHANGES_FORMAT, FORMAT, MINOR_VERSION, SECTIONS, VERSION
from .validate import Checker

BATCH = 500
#: Encoded records are given out ``RECORDS`` at a time, in pieces of at most about this
#: size: each piece is copied a few times on its way to the file or the network.
PIECE_BYTES = 256 * 1024
#: Records are made, checked and encoded this many at a time from the rows read (fewer
#: held at once than a whole batch of rows: a made idea and its text take ~3 KiB).
RECORDS = 100


def datetime_text(value: datetime | str) -> str:
    """A stored time as bundles write it: :func:`~..serialisation.timestamp` to the microsecond.

    SQLite's stored text (``2026-01-02 03:04:05.123456``) is rewritten without parsing it.
    """
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " ":  # SQLite's form, to the microsecond
            return value[:10] + "T" + value[11:] + "Z"
        day, _, time = value.partition(" ")
        seconds, _, fraction = time.partition(".")
        return f"{day}T{seconds}.{fraction.ljust(6, '0')}Z"
    return timestamp(value, exact=True)


def _raw(column: Any) -> Any:
    """A column read as the database stores it: enum values and SQLite's times stay text.

    Exports read millions of values; converting each to an enum member or a datetime only to
    turn it back into text would be most of the work.
    """
    return type_coerce(column, String).label(column.key)


def _time(session: Session, column: Any) -> Any:
    """A time column read as text: PostgreSQL writes it as bundles do (``to_char`` to the
    microsecond, exactly as :func:`datetime_text` writes a time without time zone); SQLite
    gives its stored text, which :func:`datetime_text` rewrites (see ``_written``)."""
    if _written(session):
        return func.to_char(column, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"').label(column.key)
    return _raw(column)


def _day(session: Session, column: Any) -> Any:
    """A date column read as ISO 8601 text, as bundles write it (SQLite stores it so)."""
    if _written(session):
        return func.to_char(column, "YYYY-MM-DD").label(column.key)
    return _raw(column)


def _written(session: Session) -> bool:
    """Whether ``_time`` reads times already written as bundles write them."""
    return session.connection().dialect.name == "postgresql"


def method_record(method: Method) -> dict[str, Any]:
    """A method as the bundle's ``methods`` list holds it."""
    return {
        "key": method.key,
        "shared_key": method.shared_key,
        "local": method.city_id is not None,
        "name": dict(method.name or {}),
        "description": dict(method.description or {}),
        "category": method.category,
        "phases": list(method.phases or []),
        "guide_steps": list(method.guide_steps or []),
        "reference": method.reference,
    }


def _batches(session: Session, statement: Any) -> Iterator[Sequence[Any]]:
    """Rows of a query as the database hands them over, read ``BATCH`` at a time and given
    out ``RECORDS`` at a time, as plain tuples (SQLite gives integers for booleans: callers
    convert what they need)."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        result = connection.execute(statement.execution_options(yield_per=BATCH))
        try:
            for rows in result.partitions():
                yield from _parts(rows)
        finally:
            result.close()
        return
    # SQLite's driver steps through a result as it is fetched, so its cursor streams by
    # itself; reading it directly skips building SQLAlchemy's row objects, a third of the
    # time of an export.
    result = connection.execute(statement)
    try:
        cursor = result.cursor
        while rows := cursor.fetchmany(BATCH):
            yield from _parts(rows)
    finally:
        result.close()


def _parts(rows: Sequence[Any]) -> Iterator[Sequence[Any]]:
    """Rows read, ``RECORDS`` at a time."""
    for start in range(0, len(rows), RECORDS):
        yield rows[start : start + RECORDS]


def _listed(session: Session, column: Any, where: Any) -> Any:
    """The values of ``column`` in the rows that match ``where``, as one text (``1,5,12``;
    NULL for none): a list read with its idea (or application) in the same row. In the
    column's order (SQLite reads them from the primary key's index in that order), so that
    the same list is the same text."""
    values = cast(column, String)
    if session.connection().dialect.name == "postgresql":
        listed = func.string_agg(values, aggregate_order_by(literal(","), column))
    else:
        listed = func.aggregate_strings(values, ",")
    return select(listed).where(where).scalar_subquery()


class _Lists:
    """Lists read as text (``_listed``, a JSON column), each turned into the list a record
    holds; ideas share a few combinations, so each text is turned into a list once."""

    def __init__(self, make: Callable[[str], list[Any]]) -> None:
        self.make = make
        self.made: dict[str, list[Any]] = {}

    def __call__(self, text: str | None) -> list[Any]:
        if not text:
            return []
        made = self.made.get(text)
        if made is None:
            if len(self.made) >= _LISTS_KEPT:
                self.made.clear()
            made = self.made[text] = self.make(text)
        return made.copy()

    @classmethod
    def sorted(cls, key: Callable[[str], Any]) -> _Lists:
        """Lists read as ``_listed`` text, each item made by ``key``, sorted."""
        return cls(lambda text: sorted(key(item) for item in text.split(",")))

    @classmethod
    def json(cls) -> _Lists:
        """A JSON list column read as its text."""
        return cls(lambda text: list(orjson.loads(text) or []))


#: How many distinct list texts a ``_Lists`` keeps (a few KiB each at most).
_LISTS_KEPT = 4096


def _exported(
    city: City, changed_since: datetime | None, *, by_reference: bool = False
) -> tuple[Any, ...]:
    """The ideas a bundle holds: the city's public ones (for a partial bundle, only those
    that changed at or after ``changed_since``; models.py keeps ``updated_at`` for that).

    ``by_reference``: for a query that reads them in the order of the reference index;
    ``city_id + 0`` keeps the planner from reading the city's ideas through a city index
    and sorting them all instead.
    """
    city_id = Idea.city_id + 0 if by_reference else Idea.city_id
    ideas = (city_id == city.id, Idea.visibility == Visibility.public)
    return ideas if changed_since is None else (*ideas, Idea.updated_at >= changed_since)


#: An item of ``_items``: ``records`` items carry a list of records of one list (at most
#: ``RECORDS`` of a streamed list) where ``records`` gives them one by one.
Batch = tuple[str, str, Any]


def _items(
    session: Session,
    city: City,
    *,
    exported_at: datetime | None = None,
    changed_since: datetime | None = None,
) -> Iterator[Batch]:
    """The bundle's items in order, the records of each list a batch at a time."""
    when = city.peer_exported_at if city.is_peer and city.peer_exported_at else None
    when = when or exported_at or utcnow()
    yield ("field", "format", FORMAT)
    yield ("field", "version", VERSION)
    if MINOR_VERSION:
        yield ("field", "minor_version", MINOR_VERSION)
    yield ("field", "exported_at", datetime_text(when))
    yield (
        "field",
        "city",
        {
            "slug": city.slug,
            "reference_prefix": city.reference_prefix,
            "name": dict(city.name or {}),
            "description": dict(city.description or {}),
            "region": city.region,
            "population": city.population,
            "locales": list(city.locales or []),
            "default_locale": city.default_locale,
            "timezone": city.timezone,
            "website": city.website,
        },
    )

    stages = list(
        session.scalars(
            select(Stage).where(Stage.city_id == city.id).order_by(Stage.position, Stage.key)
        )
    )
    stage_key = {s.id: s.key for s in stages}
    yield ("start", "stages", None)
    yield (
        "records",
        "stages",
        [
            {
                "key": s.key,
                "phase": s.phase.value,
                "position": s.position,
                "name": dict(s.name or {}),
                "transitions": list(s.transitions or []),
            }
            for s in stages
        ],
    )

    areas = list(
        session.scalars(
            select(FocusArea)
            .where(FocusArea.city_id == city.id)
            .order_by(FocusArea.position, FocusArea.key)
        )
    )
    area_key = {a.id: a.key for a in areas}
    yield ("start", "focus_areas", None)
    yield (
        "records",
        "focus_areas",
        [
            {
                "key": a.key,
                "position": a.position,
                "name": dict(a.name or {}),
                "sdgs": list(a.sdgs or []),
            }
            for a in areas
        ],
    )

    organisations = list(
        session.scalars(
            select(Organisation).where(Organisation.city_id == city.id).order_by(Organisation.key)
        )
    )
    org_key = {o.id: o.key for o in organisations}
    yield ("start", "organisations", None)
    yield (
        "records",
        "organisations",
        [
            {
                "key": o.key,
                "name": o.name,
                "kind": o.kind.value,
                "platform_role": o.platform_role,
                "parent": org_key.get(o.parent_id) if o.parent_id else None,
                "website": o.website,
                "is_synthetic": bool(o.is_synthetic),
                "description": dict(o.description or {}),
            }
            for o in organisations
        ],
    )

    public = select(Idea.id).where(Idea.city_id == city.id, Idea.visibility == Visibility.public)
    used = set(
        session.scalars(
            select(MethodApplication.method_id)
            .where(MethodApplication.idea_id.in_(public))
            .distinct()
        )
    )
    local = list(session.scalars(select(Method).where(Method.city_id == city.id)))
    used_methods = list(session.scalars(select(Method).where(Method.id.in_(used)))) if used else []
    shared_keys = {m.shared_key for m in (*used_methods, *local)}
    shared = list(
        session.scalars(select(Method).where(Method.city_id.is_(None), Method.key.in_(shared_keys)))
    )
    methods = {m.id: m for m in (*local, *shared, *used_methods)}
    method_key = {m.id: m.key for m in methods.values()}
    yield ("start", "methods", None)
    yield (
        "records",
        "methods",
        [method_record(m) for m in sorted(methods.values(), key=lambda m: m.key)],
    )

    yield ("start", "ideas", None)
    yield from _ideas(session, city, stage_key, org_key, area_key, changed_since)

    yield ("start", "transitions", None)
    written = _written(session)
    for rows in _batches(
        session,
        select(
            Idea.reference,
            StageTransition.from_stage_id,
            StageTransition.to_stage_id,
            _raw(StageTransition.from_phase),
            _raw(StageTransition.to_phase),
            _time(session, StageTransition.at),
        )
        .join(Idea, Idea.id == StageTransition.idea_id)
        .where(*_exported(city, changed_since))
        .order_by(Idea.reference, StageTransition.at, StageTransition.id),
    ):
        yield (
            "records",
            "transitions",
            [
                {
                    "idea": reference,
                    "from_stage": stage_key[from_id] if from_id else None,
                    "to_stage": stage_key[to_id],
                    "from_phase": from_phase or None,
                    "to_phase": to_phase,
                    "at": at if written else datetime_text(at),
                }
                for reference, from_id, to_id, from_phase, to_phase, at in rows
            ],
        )

    yield ("start", "method_applications", None)
    yield from _applications(session, city, method_key, org_key, changed_since)

    yield ("start", "participations", None)
    for rows in _batches(
        session,
        select(Idea.reference, Participation.organisation_id, _raw(Participation.role))
        .join(Idea, Idea.id == Participation.idea_id)
        .join(Organisation, Organisation.id == Participation.organisation_id)
        .where(*_exported(city, changed_since))
        .order_by(Idea.reference, Organisation.key, Participation.role),
    ):
        yield (
            "records",
            "participations",
            [
                {"idea": reference, "organisation": org_key[org_id], "role": role}
                for reference, org_id, role in rows
            ],
        )


def _one_by_one(items: Iterator[Batch]) -> Iterator[Item]:
    """Items as reader.items gives them: each batch of records given out record by record."""
    for kind, key, value in items:
        if kind == "records":
            for record in value:
                yield ("record", key, record)
        else:
            yield (kind, key, value)


def records(
    session: Session,
    city: City,
    *,
    exported_at: datetime | None = None,
    changed_since: datetime | None = None,
) -> Iterator[Item]:
    """The bundle's items in order (as reader.items gives them), read from the database.

    A peer city is exported as it was imported, with its original ``exported_at``, so a
    bundle passed on from one instance to the next stays identical.
    :param changed_since: only the ideas (and their records) changed since then; the other
        lists stay whole. ``changed_records`` makes a partial bundle of it.
    """
    return _one_by_one(_items(session, city, exported_at=exported_at, changed_since=changed_since))


def _ideas(
    session: Session,
    city: City,
    stage_key: dict[int, str],
    org_key: dict[int, str],
    area_key: dict[int, str],
    changed_since: datetime | None = None,
) -> Iterator[Batch]:
    """The public ideas by reference, with their focus areas and SDGs, in one streamed query
    in the order of the reference index."""
    focus_areas = _Lists.sorted(lambda area_id: area_key[int(area_id)])
    sdgs = _Lists.sorted(int)
    dimensions = _Lists.json()
    written = _written(session)
    for rows in _batches(
        session,
        select(
            Idea.reference,
            Idea.title,
            Idea.summary,
            Idea.description,
            _raw(Idea.origin_channel),
            _raw(Idea.initiator_kind),
            Idea.stage_id,
            _raw(Idea.phase),
            Idea.owner_organisation_id,
            _raw(Idea.facet),
            cast(Idea.value_dimensions, Text).label("value_dimensions"),
            _listed(session, IdeaFocusArea.focus_area_id, IdeaFocusArea.idea_id == Idea.id),
            _listed(session, IdeaSdg.sdg, IdeaSdg.idea_id == Idea.id),
            Idea.reused_from_reference,
            Idea.is_synthetic,
            _time(session, Idea.submitted_at),
            _time(session, Idea.updated_at),
        )
        .where(*_exported(city, changed_since, by_reference=True))
        .order_by(Idea.reference),
    ):
        yield (
            "records",
            "ideas",
            [
                {
                    "reference": reference,
                    "title": title,
                    "summary": summary or "",
                    "description": description or "",
                    "origin_channel": origin_channel,
                    "initiator_kind": initiator_kind,
                    "stage": stage_key[stage_id],
                    "phase": phase,
                    "owner_organisation": org_key.get(owner_id) if owner_id else None,
                    "facet": facet or None,
                    "value_dimensions": dimensions(value_dimensions),
                    "focus_areas": focus_areas(areas),
                    "sdgs": sdgs(goals),
                    "reused_from": reused_from,
                    "is_synthetic": bool(is_synthetic),
                    "submitted_at": submitted_at if written else datetime_text(submitted_at),
                    "updated_at": updated_at if written else datetime_text(updated_at),
                }
                for (
                    reference,
                    title,
                    summary,
                    description,
                    origin_channel,
                    initiator_kind,
                    stage_id,
                    phase,
                    owner_id,
                    facet,
                    value_dimensions,
                    areas,
                    goals,
                    reused_from,
                    is_synthetic,
                    submitted_at,
                    updated_at,
                ) in rows
            ],
        )


def _applications(
    session: Session,
    city: City,
    method_key: dict[int, str],
    org_key: dict[int, str],
    changed_since: datetime | None = None,
) -> Iterator[Batch]:
    """Method applications by idea, then in the order recorded, with their organisations."""
    organisations = _Lists.sorted(lambda org_id: org_key[int(org_id)])
    for rows in _batches(
        session,
        select(
            Idea.reference,
            MethodApplication.method_id,
            _day(session, MethodApplication.started_on),
            _day(session, MethodApplication.ended_on),
            _raw(MethodApplication.outcome),
            MethodApplication.facilitator_id,
            _listed(
                session,
                MethodApplicationOrganisation.organisation_id,
                MethodApplicationOrganisation.method_application_id == MethodApplication.id,
            ),
        )
        .join(Idea, Idea.id == MethodApplication.idea_id)
        .where(*_exported(city, changed_since))
        .order_by(Idea.reference, MethodApplication.id),
    ):
        yield (
            "records",
            "method_applications",
            [
                {
                    "idea": reference,
                    "method": method_key[method_id],
                    "started_on": started_on,
                    "ended_on": ended_on,
                    "outcome": outcome,
                    "facilitator": org_key.get(facilitator_id) if facilitator_id else None,
                    "organisations": organisations(listed),
                }
                for reference, method_id, started_on, ended_on, outcome, facilitator_id, listed in rows
            ],
        )


def _changed_items(
    session: Session, city: City, since: datetime, *, exported_at: datetime | None = None
) -> Iterator[Batch]:
    for kind, key, value in _items(session, city, exported_at=exported_at, changed_since=since):
        yield (kind, key, CHANGES_FORMAT if (kind, key) == ("field", "format") else value)
        if (kind, key) == ("field", "city"):
            yield ("field", "since", datetime_text(since))
            yield (
                "field",
                "public_references",
                list(
                    session.scalars(
                        select(Idea.reference)
                        .where(*_exported(city, None))
                        .order_by(Idea.reference)
                    )
                ),
            )


def changed_records(
    session: Session, city: City, since: datetime, *, exported_at: datetime | None = None
) -> Iterator[Item]:
    """A partial bundle's items: the ideas changed since ``since`` with their records, the
    other lists whole, and the references of all public ideas, so the receiver learns which
    of its copy's ideas were withdrawn (removed, or made internal) since then."""
    return _one_by_one(_changed_items(session, city, since, exported_at=exported_at))


def checked(items: Iterator[Item], *, now: datetime | None = None) -> Iterator[Item]:
    """The items, each passed through the importer's checks (personal data redacted)."""
    checker = Checker(now=now, schema=False, formats=(FORMAT, CHANGES_FORMAT))
    for kind, key, value in items:
        yield (kind, key, checker.item(kind, key, value))
    checker.finish()


def export_city(
    session: Session, city: City, *, exported_at: datetime | None = None
) -> dict[str, Any]:
    """The city's public data as a bundle (a dict ready for ``json.dump``)."""
    bundle: dict[str, Any] = {}
    for kind, key, value in checked(records(session, city, exported_at=exported_at)):
        if kind == "field":
            bundle[key] = value
        elif kind == "start":
            bundle[key] = []
        else:
            bundle[key].append(value)
    if "city" in bundle:
        bundle["city"] = _redacted_city(bundle["city"])
    return bundle


def _redacted_city(city: dict[str, Any]) -> dict[str, Any]:
    from .personal_data import redact

    return {**city, "description": {k: redact(v) for k, v in city["description"].items()}}


# Records are encoded by orjson (compact, UTF-8, as ``json.dumps(ensure_ascii=False,
# separators=(",", ":"))`` writes them, about ten times as fast); --pretty uses the standard
# library's indentation, made once (json.dumps with options builds a new encoder per call).
_PRETTY = json.JSONEncoder(ensure_ascii=False, indent=1).encode


def _encoder(pretty: bool) -> Callable[[Any], bytes]:
    if pretty:
        return lambda value: _PRETTY(value).encode("utf-8")
    return orjson.dumps


def _pieces(
    source: Iterator[Batch],
    *,
    pretty: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    """The bundle as UTF-8 JSON text (one record per line), each record checked as the
    importer checks it (personal data redacted), given out a batch of records at a time in
    pieces of at most about ``PIECE_BYTES``."""
    encode = _encoder(pretty)
    checker = Checker(schema=False, formats=(FORMAT, CHANGES_FORMAT))
    check = checker.record
    opening = b"{"
    section = ""
    separator = b"\n"  # before the next piece of the current list
    for kind, key, value in source:
        if kind == "records":
            encoded = [encode(check(key, record)) for record in value]
            if not encoded:
                continue
            # As many pieces as the batch's bytes need, of as many records each.
            pieces = -(-sum(map(len, encoded)) // PIECE_BYTES)
            step = -(-len(encoded) // pieces)
            for start in range(0, len(encoded), step):
                part = encoded[start : start + step]
                yield separator + b",\n".join(part)
                separator = b",\n"
                if progress and key == "ideas":
                    progress(len(part))
            continue
        if kind == "field":
            checker.field(key, value)
        else:
            checker.start(key)
        if section:
            yield b"]"
            section = ""
        if kind == "field":
            if key == "city":
                value = _redacted_city(value)
            yield opening + orjson.dumps(key) + b":" + encode(value)
        else:
            yield b",\n" + orjson.dumps(key) + b":["
            section, separator = key, b"\n"
        opening = b",\n"
    checker.finish()
    if section:
        yield b"]"
    yield (b"{" if opening == b"{" else b"") + b"}\n"


def _source(
    session: Session, city: City, exported_at: datetime | None, since: datetime | None
) -> Iterator[Batch]:
    if since is None:
        return _items(session, city, exported_at=exported_at)
    return _changed_items(session, city, since, exported_at=exported_at)


def byte_chunks(
    session: Session,
    city: City,
    *,
    pretty: bool = False,
    exported_at: datetime | None = None,
    progress: Callable[[int], None] | None = None,
    since: datetime | None = None,
) -> Iterator[bytes]:
    """The bundle as UTF-8 encoded JSON (one record per line), a few thousand records at a
    time, as it is read: the bytes a file or a web answer holds, as they are made.

    :param progress: called with the number of ideas written since its last call.
    :param since: a partial bundle: only what changed since then (``changed_records``).
    """
    return _pieces(_source(session, city, exported_at, since), pretty=pretty, progress=progress)


def chunks(
    session: Session,
    city: City,
    *,
    pretty: bool = False,
    exported_at: datetime | None = None,
    progress: Callable[[int], None] | None = None,
    since: datetime | None = None,
) -> Iterator[str]:
    """The pieces of :func:`byte_chunks` as text."""
    pieces = byte_chunks(
        session, city, pretty=pretty, exported_at=exported_at, progress=progress, since=since
    )
    for piece in pieces:
        yield piece.decode("utf-8")


def write_bundle(
    session: Session,
    city: City,
    out: IO[str],
    *,
    pretty: bool = False,
    exported_at: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Write the bundle to a text stream as it is read from the database.

    A stream that writes UTF-8 to a binary buffer as it is given (a file opened with
    ``encoding="utf-8"``, standard output) gets the encoded text directly.
    """
    pieces = byte_chunks(session, city, pretty=pretty, exported_at=exported_at, progress=progress)
    buffer = _utf8_buffer(out)
    if buffer is None:
        for piece in pieces:
            out.write(piece.decode("utf-8"))
        return
    out.flush()
    for piece in pieces:
        buffer.write(piece)


def _utf8_buffer(out: IO[str]) -> IO[bytes] | None:
    """The binary stream under ``out`` when writing UTF-8 bytes to it is what writing the
    text to ``out`` does (no other encoding, no newline translation)."""
    if not isinstance(out, io.TextIOWrapper) or os.linesep != "\n":
        return None
    try:
        utf8 = codecs.lookup(out.encoding).name == "utf-8"
    except LookupError:
        return None
    return out.buffer if utf8 else None


def count_public_ideas(session: Session, city: City) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Idea)
            .where(Idea.city_id == city.id, Idea.visibility == Visibility.public)
        )
        or 0
    )


__all__ = [
    "SECTIONS",
    "byte_chunks",
    "changed_records",
    "chunks",
    "count_public_ideas",
    "datetime_text",
    "export_city",
    "method_record",
    "records",
    "write_bundle",
]

"""Exporting a city's public data as a bundle, written as the database is read.

The records come from streamed queries (a server-side cursor on PostgreSQL) a few thousand
at a time and are written as they come, so memory stays flat whatever the number of ideas.
Every record passes the importer's checks (validate.py) on its way out and personal data in
free text is redacted, so a sibling never receives a bundle it would refuse.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date, datetime
from itertools import groupby
from typing import IO, Any

import orjson
from sqlalchemy import String, func, select, type_coerce
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
#: Encoded records are given out once they reach this size (or ``BATCH`` records): each
#: piece is copied a few times on its way to the file or the network.
PIECE_BYTES = 256 * 1024


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


def _date(value: date | str | None) -> str | None:
    if isinstance(value, str):
        return value
    return value.isoformat() if value else None


def _raw(column: Any) -> Any:
    """A column read as the database stores it: enum values and SQLite's times stay text.

    Exports read millions of values; converting each to an enum member or a datetime only to
    turn it back into text would be most of the work.
    """
    return type_coerce(column, String).label(column.key)


def _json_list(value: Any) -> list[Any]:
    """A JSON list column read raw: SQLite gives its text, psycopg the parsed value."""
    if isinstance(value, str):
        return list(orjson.loads(value) or [])
    return list(value or [])


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


def _stream(session: Session, statement: Any) -> Iterator[Any]:
    """Rows of a query as the database hands them over, a batch at a time, as plain tuples
    (SQLite gives integers for booleans: callers convert what they need)."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield from connection.execute(statement.execution_options(yield_per=BATCH))
        return
    # SQLite's driver steps through a result as it is fetched, so its cursor streams by
    # itself; reading it directly skips building SQLAlchemy's row objects, a third of the
    # time of an export.
    result = connection.execute(statement)
    try:
        cursor = result.cursor
        while rows := cursor.fetchmany(BATCH):
            yield from rows
    finally:
        result.close()


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
    for s in stages:
        yield (
            "record",
            "stages",
            {
                "key": s.key,
                "phase": s.phase.value,
                "position": s.position,
                "name": dict(s.name or {}),
                "transitions": list(s.transitions or []),
            },
        )

    yield ("start", "focus_areas", None)
    area_key: dict[int, str] = {}
    for a in session.scalars(
        select(FocusArea)
        .where(FocusArea.city_id == city.id)
        .order_by(FocusArea.position, FocusArea.key)
    ):
        area_key[a.id] = a.key
        yield (
            "record",
            "focus_areas",
            {
                "key": a.key,
                "position": a.position,
                "name": dict(a.name or {}),
                "sdgs": list(a.sdgs or []),
            },
        )

    organisations = list(
        session.scalars(
            select(Organisation).where(Organisation.city_id == city.id).order_by(Organisation.key)
        )
    )
    org_key = {o.id: o.key for o in organisations}
    yield ("start", "organisations", None)
    for o in organisations:
        yield (
            "record",
            "organisations",
            {
                "key": o.key,
                "name": o.name,
                "kind": o.kind.value,
                "platform_role": o.platform_role,
                "parent": org_key.get(o.parent_id) if o.parent_id else None,
                "website": o.website,
                "is_synthetic": bool(o.is_synthetic),
            },
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
    for m in sorted(methods.values(), key=lambda m: m.key):
        yield ("record", "methods", method_record(m))

    yield ("start", "ideas", None)
    yield from _ideas(session, city, stage_key, org_key, area_key, changed_since)

    yield ("start", "transitions", None)
    for reference, from_id, to_id, from_phase, to_phase, at in _stream(
        session,
        select(
            Idea.reference,
            StageTransition.from_stage_id,
            StageTransition.to_stage_id,
            _raw(StageTransition.from_phase),
            _raw(StageTransition.to_phase),
            _raw(StageTransition.at),
        )
        .join(Idea, Idea.id == StageTransition.idea_id)
        .where(*_exported(city, changed_since))
        .order_by(Idea.reference, StageTransition.at, StageTransition.id),
    ):
        yield (
            "record",
            "transitions",
            {
                "idea": reference,
                "from_stage": stage_key[from_id] if from_id else None,
                "to_stage": stage_key[to_id],
                "from_phase": from_phase or None,
                "to_phase": to_phase,
                "at": datetime_text(at),
            },
        )

    yield ("start", "method_applications", None)
    yield from _applications(session, city, method_key, org_key, changed_since)

    yield ("start", "participations", None)
    for reference, org_id, role in _stream(
        session,
        select(Idea.reference, Participation.organisation_id, _raw(Participation.role))
        .join(Idea, Idea.id == Participation.idea_id)
        .join(Organisation, Organisation.id == Participation.organisation_id)
        .where(*_exported(city, changed_since))
        .order_by(Idea.reference, Organisation.key, Participation.role),
    ):
        yield (
            "record",
            "participations",
            {"idea": reference, "organisation": org_key[org_id], "role": role},
        )


def _ideas(
    session: Session,
    city: City,
    stage_key: dict[int, str],
    org_key: dict[int, str],
    area_key: dict[int, str],
    changed_since: datetime | None = None,
) -> Iterator[Item]:
    """The public ideas by reference, a batch at a time with their focus areas and SDGs.

    One streamed query in the order of the reference index, and per batch one query each
    for the focus areas and the SDGs of the batch's ideas.
    """
    rows = _stream(
        session,
        select(
            Idea.id,
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
            _raw(Idea.value_dimensions),
            Idea.reused_from_reference,
            Idea.is_synthetic,
            _raw(Idea.submitted_at),
            _raw(Idea.updated_at),
        )
        .where(*_exported(city, changed_since, by_reference=True))
        .order_by(Idea.reference),
    )
    connection = session.connection()
    for _, numbered in groupby(enumerate(rows), key=lambda pair: pair[0] // BATCH):
        batch = [row for _, row in numbered]
        ids = [row[0] for row in batch]
        focus: dict[int, list[str]] = {}
        for idea_id, area_id in connection.execute(
            select(IdeaFocusArea.idea_id, IdeaFocusArea.focus_area_id).where(
                IdeaFocusArea.idea_id.in_(ids)
            )
        ):
            focus.setdefault(idea_id, []).append(area_key[area_id])
        sdgs: dict[int, list[int]] = {}
        for idea_id, sdg in connection.execute(
            select(IdeaSdg.idea_id, IdeaSdg.sdg).where(IdeaSdg.idea_id.in_(ids))
        ):
            sdgs.setdefault(idea_id, []).append(sdg)
        for (
            idea_id,
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
            reused_from,
            is_synthetic,
            submitted_at,
            updated_at,
        ) in batch:
            yield (
                "record",
                "ideas",
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
                    "value_dimensions": _json_list(value_dimensions),
                    "focus_areas": sorted(focus.get(idea_id, ())),
                    "sdgs": sorted(sdgs.get(idea_id, ())),
                    "reused_from": reused_from,
                    "is_synthetic": bool(is_synthetic),
                    "submitted_at": datetime_text(submitted_at),
                    "updated_at": datetime_text(updated_at),
                },
            )


def _applications(
    session: Session,
    city: City,
    method_key: dict[int, str],
    org_key: dict[int, str],
    changed_since: datetime | None = None,
) -> Iterator[Item]:
    """Method applications by idea, then in the order recorded, with their organisations."""
    rows = _stream(
        session,
        select(
            MethodApplication.id,
            Idea.reference,
            MethodApplication.method_id,
            _raw(MethodApplication.started_on),
            _raw(MethodApplication.ended_on),
            _raw(MethodApplication.outcome),
            MethodApplication.facilitator_id,
        )
        .join(Idea, Idea.id == MethodApplication.idea_id)
        .where(*_exported(city, changed_since))
        .order_by(Idea.reference, MethodApplication.id),
    )
    for _, chunk_rows in groupby(enumerate(rows), key=lambda pair: pair[0] // BATCH):
        chunk = [row for _, row in chunk_rows]
        organisations: dict[int, list[str]] = {}
        for app_id, org_id in session.connection().execute(
            select(
                MethodApplicationOrganisation.method_application_id,
                MethodApplicationOrganisation.organisation_id,
            ).where(MethodApplicationOrganisation.method_application_id.in_([a[0] for a in chunk]))
        ):
            organisations.setdefault(app_id, []).append(org_key[org_id])
        for app_id, reference, method_id, started_on, ended_on, outcome, facilitator_id in chunk:
            yield (
                "record",
                "method_applications",
                {
                    "idea": reference,
                    "method": method_key[method_id],
                    "started_on": _date(started_on),
                    "ended_on": _date(ended_on),
                    "outcome": outcome,
                    "facilitator": org_key.get(facilitator_id) if facilitator_id else None,
                    "organisations": sorted(organisations.get(app_id, ())),
                },
            )


def changed_records(
    session: Session, city: City, since: datetime, *, exported_at: datetime | None = None
) -> Iterator[Item]:
    """A partial bundle's items: the ideas changed since ``since`` with their records, the
    other lists whole, and the references of all public ideas, so the receiver learns which
    of its copy's ideas were withdrawn (removed, or made internal) since then."""
    for kind, key, value in records(session, city, exported_at=exported_at, changed_since=since):
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


def checked(items: Iterator[Item], *, now: datetime | None = None) -> Iterator[Item]:
    """The items, each passed through the importer's checks (personal data redacted)."""
    checker = Checker(now=now, schema=False, formats=(FORMAT, CHANGES_FORMAT))
    for kind, key, value in items:
        if kind == "field":
            checker.field(key, value)
        elif kind == "start":
            checker.start(key)
        else:
            value = checker.record(key, value)
        yield (kind, key, value)
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


def chunks(
    session: Session,
    city: City,
    *,
    pretty: bool = False,
    exported_at: datetime | None = None,
    progress: Callable[[int], None] | None = None,
    since: datetime | None = None,
) -> Iterator[str]:
    """The bundle as JSON text (one record per line), a few thousand records at a time, as it
    is read.

    :param progress: called with the number of ideas written since its last call.
    :param since: a partial bundle: only what changed since then (``changed_records``).
    """
    encode = _encoder(pretty)
    opening = "{"
    section = ""
    pending: list[bytes] = []  # records of the current list not yet given out
    size = 0  # their bytes
    separator = "\n"  # before the next piece of the current list

    def flush() -> str:
        nonlocal separator, size
        text = separator + b",\n".join(pending).decode("utf-8")
        pending.clear()
        separator = ",\n"
        size = 0
        return text

    source = (
        records(session, city, exported_at=exported_at)
        if since is None
        else changed_records(session, city, since, exported_at=exported_at)
    )
    for kind, key, value in checked(source):
        if kind == "record":
            encoded = encode(value)
            pending.append(encoded)
            size += len(encoded)
            if len(pending) >= BATCH or size >= PIECE_BYTES:
                ideas = len(pending)
                yield flush()
                if progress and section == "ideas":
                    progress(ideas)
            continue
        if section:
            ideas = len(pending) if section == "ideas" else 0
            tail = flush() if pending else ""
            yield tail + "]"
            if progress and ideas:
                progress(ideas)
            section = ""
        if kind == "field":
            if key == "city":
                value = _redacted_city(value)
            yield opening + json.dumps(key) + ":" + encode(value).decode("utf-8")
        else:
            yield ",\n" + json.dumps(key) + ":["
            section, separator = key, "\n"
        opening = ",\n"
    if section:
        ideas = len(pending) if section == "ideas" else 0
        yield (flush() if pending else "") + "]"
        if progress and ideas:
            progress(ideas)
    yield ("{" if opening == "{" else "") + "}\n"


def write_bundle(
    session: Session,
    city: City,
    out: IO[str],
    *,
    pretty: bool = False,
    exported_at: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Write the bundle to a text stream as it is read from the database."""
    for piece in chunks(session, city, pretty=pretty, exported_at=exported_at, progress=progress):
        out.write(piece)


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
    "changed_records",
    "chunks",
    "count_public_ideas",
    "datetime_text",
    "export_city",
    "method_record",
    "records",
    "write_bundle",
]

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

BATCH = 2_000


def datetime_text(value: datetime | str) -> str:
    """A stored time as bundles write it: :func:`~..serialisation.timestamp` to the microsecond.

    SQLite's stored text (``2026-01-02 03:04:05.123456``) is rewritten without parsing it.
    """
    if isinstance(value, str):
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


def _value(enum_or_str: Any) -> Any:
    return getattr(enum_or_str, "value", enum_or_str)


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
    """Rows of a query as the database hands them over, a batch at a time."""
    yield from session.connection().execute(statement.execution_options(yield_per=BATCH))


def _exported(city: City, changed_since: datetime | None) -> tuple[Any, ...]:
    """The ideas a bundle holds: the city's public ones (for a partial bundle, only those
    that changed at or after ``changed_since``; models.py keeps ``updated_at`` for that)."""
    ideas = (Idea.city_id == city.id, Idea.visibility == Visibility.public)
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
    for t in _stream(
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
                "idea": t.reference,
                "from_stage": stage_key[t.from_stage_id] if t.from_stage_id else None,
                "to_stage": stage_key[t.to_stage_id],
                "from_phase": _value(t.from_phase) if t.from_phase else None,
                "to_phase": _value(t.to_phase),
                "at": datetime_text(t.at),
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
            {"idea": reference, "organisation": org_key[org_id], "role": _value(role)},
        )


def _ideas(
    session: Session,
    city: City,
    stage_key: dict[int, str],
    org_key: dict[int, str],
    area_key: dict[int, str],
    changed_since: datetime | None = None,
) -> Iterator[Item]:
    """The public ideas by reference, a batch at a time with their focus areas and SDGs."""
    last = ""
    while True:
        rows = (
            session.connection()
            .execute(
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
                    Idea.value_dimensions,
                    Idea.reused_from_reference,
                    Idea.is_synthetic,
                    _raw(Idea.submitted_at),
                    _raw(Idea.updated_at),
                )
                .where(*_exported(city, changed_since), Idea.reference > last)
                .order_by(Idea.reference)
                .limit(BATCH)
            )
            .all()
        )
        if not rows:
            return
        first, last = rows[0].reference, rows[-1].reference
        batch = (
            select(Idea.id)
            .where(*_exported(city, changed_since), Idea.reference >= first, Idea.reference <= last)
            .scalar_subquery()
        )
        focus: dict[int, list[str]] = {}
        for idea_id, area_id in session.execute(
            select(IdeaFocusArea.idea_id, IdeaFocusArea.focus_area_id).where(
                IdeaFocusArea.idea_id.in_(batch)
            )
        ):
            focus.setdefault(idea_id, []).append(area_key[area_id])
        sdgs: dict[int, list[int]] = {}
        for idea_id, sdg in session.execute(
            select(IdeaSdg.idea_id, IdeaSdg.sdg).where(IdeaSdg.idea_id.in_(batch))
        ):
            sdgs.setdefault(idea_id, []).append(sdg)
        for r in rows:
            yield (
                "record",
                "ideas",
                {
                    "reference": r.reference,
                    "title": r.title,
                    "summary": r.summary or "",
                    "description": r.description or "",
                    "origin_channel": _value(r.origin_channel),
                    "initiator_kind": _value(r.initiator_kind),
                    "stage": stage_key[r.stage_id],
                    "phase": _value(r.phase),
                    "owner_organisation": org_key.get(r.owner_organisation_id)
                    if r.owner_organisation_id
                    else None,
                    "facet": _value(r.facet) if r.facet else None,
                    "value_dimensions": list(r.value_dimensions or []),
                    "focus_areas": sorted(focus.get(r.id, ())),
                    "sdgs": sorted(sdgs.get(r.id, ())),
                    "reused_from": r.reused_from_reference,
                    "is_synthetic": bool(r.is_synthetic),
                    "submitted_at": datetime_text(r.submitted_at),
                    "updated_at": datetime_text(r.updated_at),
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
        for app_id, org_id in session.execute(
            select(
                MethodApplicationOrganisation.method_application_id,
                MethodApplicationOrganisation.organisation_id,
            ).where(MethodApplicationOrganisation.method_application_id.in_([a.id for a in chunk]))
        ):
            organisations.setdefault(app_id, []).append(org_key[org_id])
        for a in chunk:
            yield (
                "record",
                "method_applications",
                {
                    "idea": a.reference,
                    "method": method_key[a.method_id],
                    "started_on": _date(a.started_on),
                    "ended_on": _date(a.ended_on),
                    "outcome": _value(a.outcome),
                    "facilitator": org_key.get(a.facilitator_id) if a.facilitator_id else None,
                    "organisations": sorted(organisations.get(a.id, ())),
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


# One encoder each, made once: json.dumps with options builds a new encoder per call.
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_PRETTY = json.JSONEncoder(ensure_ascii=False, indent=1).encode


def _dump(value: Any, pretty: bool) -> str:
    return _PRETTY(value) if pretty else _COMPACT(value)


def chunks(
    session: Session,
    city: City,
    *,
    pretty: bool = False,
    exported_at: datetime | None = None,
    progress: Callable[[int], None] | None = None,
    since: datetime | None = None,
) -> Iterator[str]:
    """The bundle as JSON text, a piece at a time (one record per line), as it is read.

    :param progress: called with the number of ideas written since its last call.
    :param since: a partial bundle: only what changed since then (``changed_records``).
    """
    first = True
    open_list = False
    ideas = 0
    source = (
        records(session, city, exported_at=exported_at)
        if since is None
        else changed_records(session, city, since, exported_at=exported_at)
    )
    for kind, key, value in checked(source):
        if kind == "field":
            if key == "city":
                value = _redacted_city(value)
            yield ("{" if first else ",\n") + json.dumps(key) + ":" + _dump(value, pretty)
        elif kind == "start":
            yield ("]" if open_list else "") + ",\n" + json.dumps(key) + ":["
            open_list, first_record = True, True
        else:
            yield ("\n" if first_record else ",\n") + _dump(value, pretty)
            first_record = False
            if key == "ideas":
                ideas += 1
                if progress and ideas % BATCH == 0:
                    progress(BATCH)
        first = False
    if progress and ideas % BATCH:
        progress(ideas % BATCH)
    yield ("]" if open_list else "") + "}\n"


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

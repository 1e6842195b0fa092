"""Exchange bundles: one city's public data as versioned JSON, and importing a sibling's as a peer.

A bundle (docs/exchange.md documents it field by field, docs/exchange.schema.json is
``SCHEMA`` below) holds a city, its stages, focus areas, organisations, the methods it uses,
its **public** ideas without any personal data, their stage transitions, method applications
and participations. Transitions carry no actor and no note, method applications no outcome
note: free text written by staff may name people, so it stays home.

Importing stores the bundle as a read-only *peer* city that comparisons include. A newer
bundle of the same city replaces the peer's data in place (the city row keeps its id);
importing the same bundle again changes nothing. A malformed bundle is refused with a
ValidationError naming the JSON path of the bad field, before anything is written.
Rows are written with SQLAlchemy Core inserts in chunks, inside the caller's transaction.
"""

from __future__ import annotations

import json
import operator
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from sqlalchemy import JSON, Boolean, DateTime, String, delete, func, select, type_coerce, update
from sqlalchemy.orm import Session

from ..errors import InnoplatError, ValidationError
from ..models import (
    City,
    FocusArea,
    Idea,
    IdeaFocusArea,
    IdeaSdg,
    InitiatorKind,
    InnovationFacet,
    Method,
    MethodApplication,
    MethodApplicationOrganisation,
    Organisation,
    OrganisationKind,
    OriginChannel,
    Outcome,
    Participation,
    ParticipationRole,
    Phase,
    Stage,
    StageTransition,
    ValueDimension,
    Visibility,
    utcnow,
)
from . import audit

FORMAT = "innoplat-exchange"
VERSION = 1
CHUNK = 5_000
PUBLIC = Visibility.public.value

# --------------------------------------------------------------------------- the schema

_KEY = {"type": "string", "pattern": "^[a-z0-9][a-z0-9_:-]*$", "maxLength": 80}
_TRANSLATED = {
    "type": "object",
    "additionalProperties": {"type": "string"},
    "propertyNames": {"pattern": "^[a-z]{2,3}(-[A-Za-z0-9]+)*$"},
}
_DATETIME = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$",
}
_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_REFERENCE = {"type": "string", "pattern": r"^[A-Z]{2,5}-\d{4}-\d{4,}$", "maxLength": 32}


def _enum(cls: Any) -> dict[str, Any]:
    return {"enum": [m.value for m in cls]}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _record(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": list(properties),
        "additionalProperties": False,
        "properties": properties,
    }


def _array(item: str) -> dict[str, Any]:
    return {"type": "array", "items": {"$ref": f"#/$defs/{item}"}}


#: JSON Schema (draft 2020-12) of version 1 of the bundle; docs/exchange.schema.json is a copy.
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "urn:innoplat:exchange:1",
    "title": "innoplat exchange bundle, version 1",
    "description": "One city's public innovation data: see docs/exchange.md.",
    "type": "object",
    "required": [
        "format",
        "version",
        "exported_at",
        "city",
        "stages",
        "focus_areas",
        "organisations",
        "methods",
        "ideas",
        "transitions",
        "method_applications",
        "participations",
    ],
    "additionalProperties": False,
    "properties": {
        "format": {"const": FORMAT},
        "version": {"const": VERSION},
        "exported_at": _DATETIME,
        "city": {"$ref": "#/$defs/city"},
        "stages": {**_array("stage"), "minItems": 1},
        "focus_areas": _array("focus_area"),
        "organisations": _array("organisation"),
        "methods": _array("method"),
        "ideas": _array("idea"),
        "transitions": _array("transition"),
        "method_applications": _array("method_application"),
        "participations": _array("participation"),
    },
    "$defs": {
        "city": _record(
            {
                "slug": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$", "maxLength": 40},
                "reference_prefix": {"type": "string", "pattern": "^[A-Z]{2,5}$"},
                "name": _TRANSLATED,
                "description": _TRANSLATED,
                "region": _nullable({"type": "string", "maxLength": 120}),
                "population": _nullable({"type": "integer", "minimum": 1}),
                "locales": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "default_locale": {"type": "string"},
                "timezone": {"type": "string", "maxLength": 64},
                "website": _nullable({"type": "string", "maxLength": 300}),
            }
        ),
        "stage": _record(
            {
                "key": _KEY,
                "phase": _enum(Phase),
                "position": {"type": "integer"},
                "name": _TRANSLATED,
                "transitions": {"type": "array", "items": _KEY},
            }
        ),
        "focus_area": _record(
            {
                "key": _KEY,
                "position": {"type": "integer"},
                "name": _TRANSLATED,
                "sdgs": {
                    "type": "array",
                    "items": {"type": "integer", "minimum": 1, "maximum": 17},
                },
            }
        ),
        "organisation": _record(
            {
                "key": _KEY,
                "name": {"type": "string", "minLength": 1, "maxLength": 200},
                "kind": _enum(OrganisationKind),
                "platform_role": _nullable({"type": "string", "maxLength": 32}),
                "parent": _nullable(_KEY),
                "website": _nullable({"type": "string", "maxLength": 300}),
                "is_synthetic": {"type": "boolean"},
            }
        ),
        "method": _record(
            {
                "key": _KEY,
                "shared_key": _KEY,
                "local": {"type": "boolean"},
                "name": _TRANSLATED,
                "description": _TRANSLATED,
                "category": {"type": "string", "maxLength": 40},
                "phases": {"type": "array", "items": _enum(Phase)},
                "guide_steps": {"type": "array"},
                "reference": _nullable({"type": "string", "maxLength": 500}),
            }
        ),
        "idea": _record(
            {
                "reference": _REFERENCE,
                "title": {"type": "string", "minLength": 1, "maxLength": 200},
                "summary": {"type": "string", "maxLength": 600},
                "description": {"type": "string"},
                "origin_channel": _enum(OriginChannel),
                "initiator_kind": _enum(InitiatorKind),
                "stage": _KEY,
                "phase": _enum(Phase),
                "owner_organisation": _nullable(_KEY),
                "facet": _nullable(_enum(InnovationFacet)),
                "value_dimensions": {"type": "array", "items": _enum(ValueDimension)},
                "focus_areas": {"type": "array", "items": _KEY},
                "sdgs": {
                    "type": "array",
                    "items": {"type": "integer", "minimum": 1, "maximum": 17},
                    "uniqueItems": True,
                },
                "reused_from": _nullable(_REFERENCE),
                "is_synthetic": {"type": "boolean"},
                "submitted_at": _DATETIME,
                "updated_at": _DATETIME,
            }
        ),
        "transition": _record(
            {
                "idea": _REFERENCE,
                "from_stage": _nullable(_KEY),
                "to_stage": _KEY,
                "from_phase": _nullable(_enum(Phase)),
                "to_phase": _enum(Phase),
                "at": _DATETIME,
            }
        ),
        "method_application": _record(
            {
                "idea": _REFERENCE,
                "method": _KEY,
                "started_on": _nullable(_DATE),
                "ended_on": _nullable(_DATE),
                "outcome": _enum(Outcome),
                "facilitator": _nullable(_KEY),
                "organisations": {"type": "array", "items": _KEY, "uniqueItems": True},
            }
        ),
        "participation": _record(
            {"idea": _REFERENCE, "organisation": _KEY, "role": _enum(ParticipationRole)}
        ),
    },
}

# jsonschema-rs checks a large bundle quickly; jsonschema explains a bad one (best_match
# picks the most relevant error and gives its path).
_FAST_VALIDATOR = jsonschema_rs.validator_for(SCHEMA)
_VALIDATOR = Draft202012Validator(SCHEMA)


# --------------------------------------------------------------------------- export


def _datetime(value: datetime | str) -> str:
    """Stored datetimes are naive UTC; bundles say so with a ``Z``.

    SQLite's stored text (``2026-01-02 03:04:05.123456``) is rewritten without parsing it.
    """
    if isinstance(value, str):
        day, _, time = value.partition(" ")
        seconds, _, fraction = time.partition(".")
        return f"{day}T{seconds}.{fraction.ljust(6, '0')}Z"
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds") + "Z"


def _date(value: date | str | None) -> str | None:
    if isinstance(value, str):
        return value
    return value.isoformat() if value else None


def _raw(column: Any) -> Any:
    """A column read as the database stores it: enum values and SQLite's times stay text.

    Exports read hundreds of thousands of values; converting each to an enum member or a
    datetime only to turn it back into text would be most of the work.
    """
    return type_coerce(column, String).label(column.key)


def _value(enum_or_str: Any) -> Any:
    return getattr(enum_or_str, "value", enum_or_str)


def export_city(
    session: Session, city: City, *, exported_at: datetime | None = None
) -> dict[str, Any]:
    """The city's public data as a bundle (a dict ready for ``json.dump``).

    A peer city is exported as it was imported, with its original ``exported_at``, so a
    bundle passed on from one instance to the next stays identical.
    """
    when = city.peer_exported_at if city.is_peer and city.peer_exported_at else None
    when = when or exported_at or utcnow()
    stages = list(
        session.scalars(
            select(Stage).where(Stage.city_id == city.id).order_by(Stage.position, Stage.key)
        )
    )
    stage_key = {s.id: s.key for s in stages}
    areas = list(
        session.scalars(
            select(FocusArea)
            .where(FocusArea.city_id == city.id)
            .order_by(FocusArea.position, FocusArea.key)
        )
    )
    area_key = {a.id: a.key for a in areas}
    organisations = list(
        session.scalars(
            select(Organisation).where(Organisation.city_id == city.id).order_by(Organisation.key)
        )
    )
    org_key = {o.id: o.key for o in organisations}

    public = select(Idea.id).where(Idea.city_id == city.id, Idea.visibility == Visibility.public)
    connection = session.connection()  # plain rows: no ORM bookkeeping per row
    idea_rows = connection.execute(
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
        .where(Idea.city_id == city.id, Idea.visibility == Visibility.public)
        .order_by(Idea.reference)
    ).all()
    reference = {r.id: r.reference for r in idea_rows}
    focus: dict[int, list[str]] = defaultdict(list)
    for idea_id, area_id in session.execute(
        select(IdeaFocusArea.idea_id, IdeaFocusArea.focus_area_id).where(
            IdeaFocusArea.idea_id.in_(public)
        )
    ):
        focus[idea_id].append(area_key[area_id])
    sdgs: dict[int, list[int]] = defaultdict(list)
    for idea_id, sdg in session.execute(
        select(IdeaSdg.idea_id, IdeaSdg.sdg).where(IdeaSdg.idea_id.in_(public))
    ):
        sdgs[idea_id].append(sdg)
    ideas = [
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
            "focus_areas": sorted(focus.get(r.id, []), key=lambda k: k),
            "sdgs": sorted(sdgs.get(r.id, [])),
            "reused_from": r.reused_from_reference,
            "is_synthetic": bool(r.is_synthetic),
            "submitted_at": _datetime(r.submitted_at),
            "updated_at": _datetime(r.updated_at),
        }
        for r in idea_rows
    ]

    transitions = [
        {
            "idea": reference[t.idea_id],
            "from_stage": stage_key.get(t.from_stage_id) if t.from_stage_id else None,
            "to_stage": stage_key[t.to_stage_id],
            "from_phase": _value(t.from_phase) if t.from_phase else None,
            "to_phase": _value(t.to_phase),
            "at": _datetime(t.at),
        }
        for t in connection.execute(
            select(
                StageTransition.idea_id,
                StageTransition.from_stage_id,
                StageTransition.to_stage_id,
                _raw(StageTransition.from_phase),
                _raw(StageTransition.to_phase),
                _raw(StageTransition.at),
                StageTransition.id,
            )
            .where(StageTransition.idea_id.in_(public))
            .order_by(StageTransition.at, StageTransition.id)
        )
    ]
    transitions_sorted = sorted(transitions, key=lambda t: t["idea"])  # stable: keeps (at, id)
    del transitions

    methods_by_id = {m.id: m for m in session.scalars(select(Method))}
    application_orgs: dict[int, list[str]] = defaultdict(list)
    for app_id, org_id in session.execute(
        select(
            MethodApplicationOrganisation.method_application_id,
            MethodApplicationOrganisation.organisation_id,
        )
        .join(
            MethodApplication,
            MethodApplication.id == MethodApplicationOrganisation.method_application_id,
        )
        .where(MethodApplication.idea_id.in_(public))
    ):
        application_orgs[app_id].append(org_key[org_id])
    applications = []
    used_methods: set[int] = set()
    for a in connection.execute(
        select(
            MethodApplication.id,
            MethodApplication.idea_id,
            MethodApplication.method_id,
            _raw(MethodApplication.started_on),
            _raw(MethodApplication.ended_on),
            _raw(MethodApplication.outcome),
            MethodApplication.facilitator_id,
        )
        .where(MethodApplication.idea_id.in_(public))
        .order_by(MethodApplication.id)
    ):
        used_methods.add(a.method_id)
        applications.append(
            {
                "idea": reference[a.idea_id],
                "method": methods_by_id[a.method_id].key,
                "started_on": _date(a.started_on),
                "ended_on": _date(a.ended_on),
                "outcome": _value(a.outcome),
                "facilitator": org_key.get(a.facilitator_id) if a.facilitator_id else None,
                "organisations": sorted(application_orgs.get(a.id, [])),
            }
        )
    applications.sort(key=lambda a: a["idea"])

    participations = sorted(
        (
            {"idea": reference[idea_id], "organisation": org_key[org_id], "role": _value(role)}
            for idea_id, org_id, role in connection.execute(
                select(
                    Participation.idea_id, Participation.organisation_id, _raw(Participation.role)
                ).where(Participation.idea_id.in_(public))
            )
        ),
        key=lambda p: (p["idea"], p["organisation"], p["role"]),
    )

    local = [m for m in methods_by_id.values() if m.city_id == city.id]
    shared_keys = {methods_by_id[i].shared_key for i in used_methods} | {
        m.shared_key for m in local
    }
    exported_methods = [
        m
        for m in methods_by_id.values()
        if m.city_id == city.id or (m.city_id is None and m.key in shared_keys)
    ]
    exported_methods += [
        methods_by_id[i] for i in used_methods if methods_by_id[i] not in exported_methods
    ]

    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": _datetime(when),
        "city": {
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
        "stages": [
            {
                "key": s.key,
                "phase": s.phase.value,
                "position": s.position,
                "name": dict(s.name or {}),
                "transitions": list(s.transitions or []),
            }
            for s in stages
        ],
        "focus_areas": [
            {
                "key": a.key,
                "position": a.position,
                "name": dict(a.name or {}),
                "sdgs": list(a.sdgs or []),
            }
            for a in areas
        ],
        "organisations": [
            {
                "key": o.key,
                "name": o.name,
                "kind": o.kind.value,
                "platform_role": o.platform_role,
                "parent": org_key.get(o.parent_id) if o.parent_id else None,
                "website": o.website,
                "is_synthetic": bool(o.is_synthetic),
            }
            for o in organisations
        ],
        "methods": [method_record(m) for m in sorted(exported_methods, key=lambda m: m.key)],
        "ideas": ideas,
        "transitions": transitions_sorted,
        "method_applications": applications,
        "participations": participations,
    }


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


def dumps(bundle: dict[str, Any], *, pretty: bool = False) -> str:
    """A bundle as JSON text (UTF-8 characters kept as they are)."""
    if pretty:
        return json.dumps(bundle, ensure_ascii=False, indent=1)
    return json.dumps(bundle, ensure_ascii=False, separators=(",", ":"))


# --------------------------------------------------------------------------- validation


def _path(parts: Iterable[Any]) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def loads(text: str | bytes, *, source: str = "bundle") -> dict[str, Any]:
    """Parse bundle text; a file that is not JSON is refused with the line and column."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            "$", f"{source} is not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except UnicodeDecodeError:
        raise ValidationError("$", f"{source} is not UTF-8 text") from None
    return data


def validate_bundle(bundle: Any) -> None:
    """Check a bundle against the schema and its internal references; raises ValidationError.

    The error's ``field`` is the JSON path of the bad field (e.g. ``$.ideas[3].title``).
    """
    if not isinstance(bundle, dict):
        raise ValidationError("$", "a bundle is a JSON object")
    # The format and version are checked first, so an old or foreign file gets the plain message.
    if bundle.get("format") != FORMAT:
        raise ValidationError(
            "$.format",
            f"expected {FORMAT!r} (got {bundle.get('format')!r}): not an innoplat exchange bundle",
        )
    if bundle.get("version") != VERSION:
        raise ValidationError(
            "$.version",
            f"this innoplat reads version {VERSION} of the exchange format (got {bundle.get('version')!r})",
        )
    if not _FAST_VALIDATOR.is_valid(bundle):
        error = best_match(_VALIDATOR.iter_errors(bundle))
        if error is not None:
            raise ValidationError(_path(error.absolute_path), error.message)
    _check_references(bundle)


def _unique(items: list[dict[str, Any]], key: str, where: str) -> dict[str, int]:
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        if item[key] in seen:
            raise ValidationError(
                f"$.{where}[{i}].{key}",
                f"{item[key]!r} appears twice (also at {where}[{seen[item[key]]}])",
            )
        seen[item[key]] = i
    return seen


def _parse_datetime(value: str, path: str) -> datetime:
    try:
        return datetime.fromisoformat(value.removesuffix("Z"))
    except ValueError:
        raise ValidationError(path, f"{value!r} is not a valid date and time") from None


def _parse_date(value: str | None, path: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(path, f"{value!r} is not a valid date") from None


def _check_references(bundle: dict[str, Any]) -> None:
    stages = _unique(bundle["stages"], "key", "stages")
    areas = _unique(bundle["focus_areas"], "key", "focus_areas")
    orgs = _unique(bundle["organisations"], "key", "organisations")
    methods = _unique(bundle["methods"], "key", "methods")
    ideas = _unique(bundle["ideas"], "reference", "ideas")
    prefix = bundle["city"]["reference_prefix"] + "-"
    _parse_datetime(bundle["exported_at"], "$.exported_at")

    for i, stage in enumerate(bundle["stages"]):
        for j, target in enumerate(stage["transitions"]):
            if target not in stages:
                raise ValidationError(
                    f"$.stages[{i}].transitions[{j}]", f"{target!r} is not a stage of the bundle"
                )
    for i, org in enumerate(bundle["organisations"]):
        if org["parent"] is not None and org["parent"] not in orgs:
            raise ValidationError(
                f"$.organisations[{i}].parent",
                f"{org['parent']!r} is not an organisation of the bundle",
            )
    for i, method in enumerate(bundle["methods"]):
        if method["local"] and method["shared_key"] not in methods:
            raise ValidationError(
                f"$.methods[{i}].shared_key",
                f"{method['shared_key']!r} is not a method of the bundle",
            )
        if not method["local"] and method["shared_key"] != method["key"]:
            raise ValidationError(
                f"$.methods[{i}].shared_key", "a shared method's shared_key is its own key"
            )
    for i, idea in enumerate(bundle["ideas"]):
        where = f"$.ideas[{i}]"
        if not idea["reference"].startswith(prefix):
            raise ValidationError(
                f"{where}.reference",
                f"{idea['reference']!r} does not start with the city's prefix {prefix!r}",
            )
        if idea["stage"] not in stages:
            raise ValidationError(
                f"{where}.stage", f"{idea['stage']!r} is not a stage of the bundle"
            )
        if idea["owner_organisation"] is not None and idea["owner_organisation"] not in orgs:
            raise ValidationError(
                f"{where}.owner_organisation",
                f"{idea['owner_organisation']!r} is not an organisation of the bundle",
            )
        for j, key in enumerate(idea["focus_areas"]):
            if key not in areas:
                raise ValidationError(
                    f"{where}.focus_areas[{j}]", f"{key!r} is not a focus area of the bundle"
                )
        _parse_datetime(idea["submitted_at"], f"{where}.submitted_at")
        _parse_datetime(idea["updated_at"], f"{where}.updated_at")
    for i, t in enumerate(bundle["transitions"]):
        where = f"$.transitions[{i}]"
        if t["idea"] not in ideas:
            raise ValidationError(f"{where}.idea", f"{t['idea']!r} is not an idea of the bundle")
        for field in ("from_stage", "to_stage"):
            if t[field] is not None and t[field] not in stages:
                raise ValidationError(
                    f"{where}.{field}", f"{t[field]!r} is not a stage of the bundle"
                )
        _parse_datetime(t["at"], f"{where}.at")
    for i, a in enumerate(bundle["method_applications"]):
        where = f"$.method_applications[{i}]"
        if a["idea"] not in ideas:
            raise ValidationError(f"{where}.idea", f"{a['idea']!r} is not an idea of the bundle")
        if a["method"] not in methods:
            raise ValidationError(
                f"{where}.method", f"{a['method']!r} is not a method of the bundle"
            )
        for field in ("facilitator",):
            if a[field] is not None and a[field] not in orgs:
                raise ValidationError(
                    f"{where}.{field}", f"{a[field]!r} is not an organisation of the bundle"
                )
        for j, key in enumerate(a["organisations"]):
            if key not in orgs:
                raise ValidationError(
                    f"{where}.organisations[{j}]", f"{key!r} is not an organisation of the bundle"
                )
        started = _parse_date(a["started_on"], f"{where}.started_on")
        ended = _parse_date(a["ended_on"], f"{where}.ended_on")
        if started and ended and ended < started:
            raise ValidationError(
                f"{where}.ended_on", f"ends ({ended}) before it starts ({started})"
            )
    seen: dict[tuple[str, str, str], int] = {}
    for i, p in enumerate(bundle["participations"]):
        where = f"$.participations[{i}]"
        if p["idea"] not in ideas:
            raise ValidationError(f"{where}.idea", f"{p['idea']!r} is not an idea of the bundle")
        if p["organisation"] not in orgs:
            raise ValidationError(
                f"{where}.organisation",
                f"{p['organisation']!r} is not an organisation of the bundle",
            )
        triple = (p["idea"], p["organisation"], p["role"])
        if triple in seen:
            raise ValidationError(
                where,
                f"the same participation appears twice (also at participations[{seen[triple]}])",
            )
        seen[triple] = i


# --------------------------------------------------------------------------- import


def _chunks(rows: list[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _remove_peer_data(session: Session, city: City) -> None:
    """Everything a peer city holds, except its row (which keeps its id)."""
    ideas = select(Idea.id).where(Idea.city_id == city.id)
    applications = select(MethodApplication.id).where(MethodApplication.idea_id.in_(ideas))
    session.execute(
        delete(MethodApplicationOrganisation).where(
            MethodApplicationOrganisation.method_application_id.in_(applications)
        )
    )
    for model in (MethodApplication, StageTransition, Participation, IdeaSdg, IdeaFocusArea):
        session.execute(delete(model).where(model.idea_id.in_(ideas)))
    session.execute(delete(Idea).where(Idea.city_id == city.id))
    session.execute(delete(Method).where(Method.city_id == city.id))
    session.execute(delete(FocusArea).where(FocusArea.city_id == city.id))
    session.execute(delete(Stage).where(Stage.city_id == city.id))
    session.execute(
        update(Organisation).where(Organisation.city_id == city.id).values(parent_id=None)
    )
    session.execute(delete(Organisation).where(Organisation.city_id == city.id))


def _check_place(session: Session, bundle: dict[str, Any]) -> City | None:
    """The peer this bundle updates (None for a new one); refuse what would clash."""
    slug = bundle["city"]["slug"]
    prefix = bundle["city"]["reference_prefix"]
    existing = session.scalar(select(City).where(City.slug == slug))
    if existing is not None and not existing.is_peer:
        raise ValidationError(
            "$.city.slug",
            f"{slug!r} is this instance's own city: its data is edited here, not imported",
        )
    exported_at = _parse_datetime(bundle["exported_at"], "$.exported_at")
    if (
        existing is not None
        and existing.peer_exported_at
        and exported_at < existing.peer_exported_at
    ):
        raise ValidationError(
            "$.exported_at",
            f"this bundle of {slug} was exported at {bundle['exported_at']}, before the one already "
            f"imported ({_datetime(existing.peer_exported_at)}); nothing was changed",
        )
    clash = session.scalar(
        select(City.slug).where(City.reference_prefix == prefix, City.slug != slug).limit(1)
    )
    if clash:
        raise ValidationError(
            "$.city.reference_prefix",
            f"{prefix!r} is already the reference prefix of {clash}: idea references would collide",
        )
    references = [i["reference"] for i in bundle["ideas"]]
    for chunk_start in range(0, len(references), 900):
        chunk = references[chunk_start : chunk_start + 900]
        query = select(Idea.reference).where(Idea.reference.in_(chunk))
        if existing is not None:
            query = query.where(Idea.city_id != existing.id)
        taken = session.scalar(query.limit(1))
        if taken:
            index = references.index(taken)
            raise ValidationError(
                f"$.ideas[{index}].reference",
                f"{taken} is already the reference of an idea of another city here",
            )
    local_keys = [m["key"] for m in bundle["methods"] if m["local"]]
    if local_keys:
        query = select(Method.key).where(Method.key.in_(local_keys))
        query = query.where(Method.city_id != existing.id) if existing else query
        taken = session.scalar(query.limit(1))
        if taken:
            index = next(i for i, m in enumerate(bundle["methods"]) if m["key"] == taken)
            raise ValidationError(
                f"$.methods[{index}].key", f"{taken!r} is already a method of another city here"
            )
    return existing


@dataclass(frozen=True)
class PeerImport:
    """What importing a bundle did: ``action`` is imported, updated or unchanged."""

    city: City
    action: str
    ideas: int


def import_bundle(
    session: Session, bundle: Any, *, source: str | None = None, actor: str = "innoplat import"
) -> PeerImport:
    """Store a sibling's bundle as a read-only peer city (or update the peer in place).

    :param bundle: the parsed JSON (see ``loads``); validated before anything is written.
    :param source: where it came from (a file name or URL), kept as ``City.peer_source``.
    :return: the peer city and whether it was new, updated or unchanged.
    :raises ValidationError: with the JSON path of the bad field as ``field``.
    """
    validate_bundle(bundle)
    existing = _check_place(session, bundle)
    exported_at = _parse_datetime(bundle["exported_at"], "$.exported_at")
    same_export = existing is not None and existing.peer_exported_at == exported_at
    if same_export and existing is not None and export_city(session, existing) == bundle:
        existing.peer_source = source or existing.peer_source
        return PeerImport(existing, "unchanged", len(bundle["ideas"]))
    data = bundle["city"]
    city = existing or City(slug=data["slug"])
    city.is_peer = True
    city.name = dict(data["name"])
    city.description = dict(data["description"])
    city.region = data["region"]
    city.population = data["population"]
    city.reference_prefix = data["reference_prefix"]
    city.locales = list(data["locales"])
    city.default_locale = data["default_locale"]
    city.timezone = data["timezone"]
    city.website = data["website"]
    city.peer_source = source
    city.peer_exported_at = exported_at
    city.synced_at = utcnow()
    if existing is None:
        session.add(city)
    session.flush()
    if existing is not None:
        _remove_peer_data(session, city)
        session.expire(city, ["stages", "focus_areas"])
    _write(session, city, bundle)
    audit.record(
        session,
        city_id=city.id,
        entity_type="city",
        entity_id=city.id,
        action="peer_updated" if existing else "peer_imported",
        actor=actor,
        after={
            "source": source,
            "exported_at": bundle["exported_at"],
            "ideas": len(bundle["ideas"]),
        },
    )
    return PeerImport(city, "updated" if existing else "imported", len(bundle["ideas"]))


def _reserve_ids(session: Session, table: Any, count: int) -> list[int]:
    """Primary keys for ``count`` new rows, so children can point at them without RETURNING.

    PostgreSQL hands them out from the table's sequence (safe beside other writers); SQLite
    allows one writer at a time and this transaction already holds the write lock.
    """
    if count == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        sequence = func.pg_get_serial_sequence(table.name, "id")
        return list(
            session.scalars(
                select(func.nextval(sequence)).select_from(func.generate_series(1, count))
            )
        )
    start = (session.scalar(select(func.max(table.c.id))) or 0) + 1
    return list(range(start, start + count))


def _ids(session: Session, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    ids = _reserve_ids(session, table, len(rows))
    for row, row_id in zip(rows, ids, strict=True):
        row["id"] = row_id
    _insert(session, table, rows)
    return ids


def _sqlite_datetime(value: Any) -> str:
    """A bundle time (``2026-01-02T03:04:05.123456Z``) as SQLAlchemy stores it in SQLite."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    day, time = value.removesuffix("Z").split("T")
    seconds, _, fraction = time.partition(".")
    return f"{day} {seconds}.{fraction.ljust(6, '0')}"


def _converter(column_type: Any, dialect: str) -> Callable[[Any], Any] | None:
    """How a bundle value is stored in a column at the driver level (None: as it is)."""
    if isinstance(column_type, JSON):
        return lambda v: json.dumps(v, ensure_ascii=False)
    if dialect == "postgresql":
        return None  # COPY parses times and dates from their ISO text itself
    if isinstance(column_type, DateTime):
        return _sqlite_datetime
    if isinstance(column_type, Boolean):
        return int
    return None


def _insert(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert plain rows at the driver level: COPY on PostgreSQL, chunked executemany on SQLite.

    Bundles are validated before this point and their values are already those of the
    columns (enum values as strings, ISO times, JSON-able lists and dicts), so the per-row
    work SQLAlchemy would redo for every row is reduced to a conversion of the few columns
    that need one. The rows go through the session's connection, inside its transaction.
    """
    if not rows:
        return
    columns = list(rows[0])
    connection = session.connection()
    dialect = connection.dialect.name
    getter = operator.itemgetter(*columns)
    conversions = [
        (i, f)
        for i, c in enumerate(columns)
        if (f := _converter(table.c[c].type, dialect)) is not None
    ]

    def values(chunk: list[dict[str, Any]]) -> Iterator[Any]:
        for row in chunk:
            value = getter(row)
            if len(columns) == 1:
                value = (value,)
            if conversions:
                converted = list(value)
                for i, convert in conversions:
                    if converted[i] is not None:
                        converted[i] = convert(converted[i])
                value = tuple(converted)
            yield value

    if dialect == "postgresql":
        driver = connection.connection.driver_connection
        assert driver is not None
        statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[attr-defined]
            for value in values(rows):
                copy.write_row(value)
        return
    statement = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    )
    for chunk in _chunks(rows):
        connection.exec_driver_sql(statement, list(values(chunk)))


def _write(session: Session, city: City, bundle: dict[str, Any]) -> None:
    stage_ids = dict(
        zip(
            [s["key"] for s in bundle["stages"]],
            _ids(
                session,
                Stage.__table__,
                [
                    {
                        "city_id": city.id,
                        "key": s["key"],
                        "phase": s["phase"],
                        "position": s["position"],
                        "name": s["name"],
                        "transitions": s["transitions"],
                    }
                    for s in bundle["stages"]
                ],
            ),
            strict=True,
        )
    )
    area_ids = dict(
        zip(
            [a["key"] for a in bundle["focus_areas"]],
            _ids(
                session,
                FocusArea.__table__,
                [
                    {
                        "city_id": city.id,
                        "key": a["key"],
                        "position": a["position"],
                        "name": a["name"],
                        "sdgs": a["sdgs"],
                    }
                    for a in bundle["focus_areas"]
                ],
            ),
            strict=True,
        )
    )
    org_ids = dict(
        zip(
            [o["key"] for o in bundle["organisations"]],
            _ids(
                session,
                Organisation.__table__,
                [
                    {
                        "city_id": city.id,
                        "key": o["key"],
                        "name": o["name"],
                        "kind": o["kind"],
                        "platform_role": o["platform_role"],
                        "website": o["website"],
                        "is_synthetic": o["is_synthetic"],
                        "parent_id": None,
                    }
                    for o in bundle["organisations"]
                ],
            ),
            strict=True,
        )
    )
    for o in bundle["organisations"]:
        if o["parent"]:
            session.execute(
                update(Organisation)
                .where(Organisation.id == org_ids[o["key"]])
                .values(parent_id=org_ids[o["parent"]])
            )

    method_ids = dict(
        session.execute(
            select(Method.key, Method.id).where(
                Method.key.in_([m["key"] for m in bundle["methods"]])
            )
        )
        .tuples()
        .all()
    )
    new_methods = [
        {
            "key": m["key"],
            "shared_key": m["shared_key"],
            "city_id": city.id if m["local"] else None,
            "name": m["name"],
            "description": m["description"],
            "category": m["category"],
            "phases": m["phases"],
            "guide_steps": m["guide_steps"],
            "reference": m["reference"],
            "source": f"peer:{city.slug}",
        }
        for m in bundle["methods"]
        if m["key"] not in method_ids
    ]
    method_ids.update(
        zip(
            [m["key"] for m in new_methods],
            _ids(session, Method.__table__, new_methods),
            strict=True,
        )
    )

    now = utcnow()
    idea_rows = [
        {
            "city_id": city.id,
            "reference": i["reference"],
            "title": i["title"],
            "summary": i["summary"],
            "description": i["description"],
            "origin_channel": i["origin_channel"],
            "initiator_kind": i["initiator_kind"],
            "stage_id": stage_ids[i["stage"]],
            "phase": i["phase"],
            "owner_organisation_id": org_ids[i["owner_organisation"]]
            if i["owner_organisation"]
            else None,
            "submitter_id": None,
            "facet": i["facet"],
            "value_dimensions": i["value_dimensions"],
            "reused_from_reference": i["reused_from"],
            "visibility": PUBLIC,
            "is_synthetic": i["is_synthetic"],
            "submitted_at": i["submitted_at"],
            "updated_at": i["updated_at"],
            "version": 1,
        }
        for i in bundle["ideas"]
    ]
    idea_ids = dict(
        zip(
            [i["reference"] for i in bundle["ideas"]],
            _ids(session, Idea.__table__, idea_rows),
            strict=True,
        )
    )
    del idea_rows
    _insert(
        session,
        IdeaSdg.__table__,
        [
            {"idea_id": idea_ids[i["reference"]], "sdg": n}
            for i in bundle["ideas"]
            for n in i["sdgs"]
        ],
    )
    _insert(
        session,
        IdeaFocusArea.__table__,
        [
            {"idea_id": idea_ids[i["reference"]], "focus_area_id": area_ids[k]}
            for i in bundle["ideas"]
            for k in dict.fromkeys(i["focus_areas"])
        ],
    )
    _insert(
        session,
        StageTransition.__table__,
        [
            {
                "idea_id": idea_ids[t["idea"]],
                "from_stage_id": stage_ids[t["from_stage"]] if t["from_stage"] else None,
                "to_stage_id": stage_ids[t["to_stage"]],
                "from_phase": t["from_phase"],
                "to_phase": t["to_phase"],
                "at": t["at"],
                "actor": None,
                "note": "",
            }
            for t in bundle["transitions"]
        ],
    )
    _insert(
        session,
        Participation.__table__,
        [
            {
                "idea_id": idea_ids[p["idea"]],
                "organisation_id": org_ids[p["organisation"]],
                "role": p["role"],
            }
            for p in bundle["participations"]
        ],
    )
    applications = bundle["method_applications"]
    application_ids = _ids(
        session,
        MethodApplication.__table__,
        [
            {
                "idea_id": idea_ids[a["idea"]],
                "method_id": method_ids[a["method"]],
                "started_on": a["started_on"],
                "ended_on": a["ended_on"],
                "facilitator_id": org_ids[a["facilitator"]] if a["facilitator"] else None,
                "outcome": a["outcome"],
                "outcome_note": "",
                "created_at": now,
            }
            for a in applications
        ],
    )
    _insert(
        session,
        MethodApplicationOrganisation.__table__,
        [
            {"method_application_id": app_id, "organisation_id": org_ids[key]}
            for app_id, a in zip(application_ids, applications, strict=True)
            for key in a["organisations"]
        ],
    )


def peer_cities(session: Session) -> list[City]:
    """The peers imported into this instance, by slug."""
    return list(session.scalars(select(City).where(City.is_peer.is_(True)).order_by(City.slug)))


def count_peer_ideas(session: Session, city: City) -> int:
    return (
        session.scalar(select(func.count()).select_from(Idea).where(Idea.city_id == city.id)) or 0
    )


EXCHANGE_PATH = "/api/v1/exchange"


def exchange_url(url: str) -> str:
    """A sibling's address, or its exchange endpoint's: both lead to the endpoint."""
    url = url.strip()
    if not url.startswith(("http://", "https://")):
        raise ValidationError("url", f"{url!r} is not an http:// or https:// address")
    if url.rstrip("/").endswith(EXCHANGE_PATH):
        return url
    return url.rstrip("/") + EXCHANGE_PATH


def fetch_bundle(url: str, *, timeout: float = 60.0) -> tuple[str, dict[str, Any]]:
    """Download a sibling's bundle from its ``/api/v1/exchange`` endpoint.

    :return: the endpoint's URL and the parsed bundle (not validated yet).
    """
    import requests

    endpoint = exchange_url(url)
    try:
        response = requests.get(endpoint, timeout=timeout, headers={"Accept": "application/json"})
    except requests.RequestException as exc:
        raise InnoplatError(f"cannot fetch {endpoint}: {exc}") from None
    if response.status_code != 200:
        raise InnoplatError(f"{endpoint} answered HTTP {response.status_code}, not a bundle")
    return endpoint, loads(response.content, source=endpoint)

"""The bundle's one definition: its sections, the fields of each record, the JSON Schema and the version policy.

Everything else reads the fields from here: the exporter writes each record's fields in the
order of ``RECORDS``, the importer keeps exactly those fields (and ignores any others, see
the version policy), docs/exchange.schema.json is ``SCHEMA`` and a test checks that
docs/exchange.md documents every field.

**Version policy.** ``version`` is the format's *major* version (an integer, 1). A release
that adds fields without changing the meaning of the existing ones raises the optional
``minor_version``; readers of the same major version accept the bundle and ignore the fields
they do not know. A change that older readers would misread gets a new major version, and a
reader refuses a major version it does not know with one clear line. A field a minor
version adds is optional on import (``ADDED`` gives the value a record of an older minor
version is read with), so the bundles of publishers on older releases still import.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from ...models import (
    InitiatorKind,
    InnovationFacet,
    OrganisationKind,
    OriginChannel,
    Outcome,
    ParticipationRole,
    Phase,
    ValueDimension,
)

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

FORMAT = "innoplat-exchange"
#: The format of a partial bundle: only what changed since a moment (``/api/v1/exchange?since=``).
#: Its own name, so a reader that knows only full bundles refuses it instead of taking it
#: for the whole of the city's data.
CHANGES_FORMAT = "innoplat-exchange-changes"
#: The major version this release reads and writes.
VERSION = 1
#: The minor version this release writes (0 would be written as no ``minor_version`` at
#: all, so releases that predate the field read it too). 1: organisations carry their
#: ``description``.
MINOR_VERSION = 1

#: Bounds that keep a hostile bundle from exhausting memory.
MAX_TEXT = 100_000
MAX_LIST = 1_000

_KEY = {"type": "string", "pattern": "^[a-z0-9][a-z0-9_:-]*$", "maxLength": 80}
_TRANSLATED = {
    "type": "object",
    "additionalProperties": {"type": "string", "maxLength": MAX_TEXT},
    "propertyNames": {"pattern": "^[a-z]{2,3}(-[A-Za-z0-9]+)*$"},
    "maxProperties": 50,
}
_DATETIME = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$",
}
_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
#: An idea's reference as bundles carry it (KIR-2026-0001).
REFERENCE_PATTERN = r"^[A-Z]{2,5}-\d{4}-\d{4,}$"
_REFERENCE = {"type": "string", "pattern": REFERENCE_PATTERN, "maxLength": 32}
#: Links in a bundle are web addresses: no javascript:, data: or file: links.
_URL = {"type": "string", "pattern": "^https?://[^\\s]+$", "maxLength": 500}
_SDGS = {
    "type": "array",
    "items": {"type": "integer", "minimum": 1, "maximum": 17},
    "maxItems": 17,
}


def _enum(cls: Any) -> dict[str, Any]:
    return {"enum": [m.value for m in cls]}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _list(items: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"type": "array", "items": items, "maxItems": MAX_LIST, **more}


def _text(maximum: int = MAX_TEXT, minimum: int = 0) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "maxLength": maximum}
    if minimum:
        schema["minLength"] = minimum
    return schema


#: Every record of a bundle: its fields, in the order a bundle writes them, with their schema.
RECORDS: dict[str, dict[str, Any]] = {
    "city": {
        "slug": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$", "maxLength": 40},
        "reference_prefix": {"type": "string", "pattern": "^[A-Z]{2,5}$"},
        "name": _TRANSLATED,
        "description": _TRANSLATED,
        "region": _nullable(_text(120)),
        "population": _nullable({"type": "integer", "minimum": 1}),
        "locales": _list(_text(20), minItems=1),
        "default_locale": _text(20),
        "timezone": _text(64),
        "website": _nullable(_URL),
    },
    "stage": {
        "key": _KEY,
        "phase": _enum(Phase),
        "position": {"type": "integer"},
        "name": _TRANSLATED,
        "transitions": _list(_KEY),
    },
    "focus_area": {
        "key": _KEY,
        "position": {"type": "integer"},
        "name": _TRANSLATED,
        "sdgs": _SDGS,
    },
    "organisation": {
        "key": _KEY,
        "name": _text(200, 1),
        "kind": _enum(OrganisationKind),
        "platform_role": _nullable(_text(32)),
        "parent": _nullable(_KEY),
        "website": _nullable(_URL),
        "is_synthetic": {"type": "boolean"},
        "description": _TRANSLATED,
    },
    "method": {
        "key": _KEY,
        "shared_key": _KEY,
        "local": {"type": "boolean"},
        "name": _TRANSLATED,
        "description": _TRANSLATED,
        "category": _text(40),
        "phases": _list(_enum(Phase)),
        "guide_steps": _list(_text(80)),
        "reference": _nullable(_URL),
    },
    "idea": {
        "reference": _REFERENCE,
        "title": _text(200, 1),
        "summary": _text(600),
        "description": _text(),
        "origin_channel": _enum(OriginChannel),
        "initiator_kind": _enum(InitiatorKind),
        "stage": _KEY,
        "phase": _enum(Phase),
        "owner_organisation": _nullable(_KEY),
        "facet": _nullable(_enum(InnovationFacet)),
        "value_dimensions": _list(_enum(ValueDimension)),
        "focus_areas": _list(_KEY),
        "sdgs": {**_SDGS, "uniqueItems": True},
        "reused_from": _nullable(_REFERENCE),
        "is_synthetic": {"type": "boolean"},
        "submitted_at": _DATETIME,
        "updated_at": _DATETIME,
    },
    "transition": {
        "idea": _REFERENCE,
        "from_stage": _nullable(_KEY),
        "to_stage": _KEY,
        "from_phase": _nullable(_enum(Phase)),
        "to_phase": _enum(Phase),
        "at": _DATETIME,
    },
    "method_application": {
        "idea": _REFERENCE,
        "method": _KEY,
        "started_on": _nullable(_DATE),
        "ended_on": _nullable(_DATE),
        "outcome": _enum(Outcome),
        "facilitator": _nullable(_KEY),
        "organisations": _list(_KEY, uniqueItems=True),
    },
    "participation": {
        "idea": _REFERENCE,
        "organisation": _KEY,
        "role": _enum(ParticipationRole),
    },
}

#: The fields before the lists, in the order a bundle writes them.
HEADER: dict[str, Any] = {
    "format": {"const": FORMAT},
    "version": {"type": "integer", "minimum": 1},
    "minor_version": {"type": "integer", "minimum": 0},
    "exported_at": _DATETIME,
    "city": {"$ref": "#/$defs/city"},
}
#: The lists of a bundle, in the order a bundle writes (and a reader reads) them: the record
#: each holds. Each list refers only to the lists before it.
SECTIONS: dict[str, str] = {
    "stages": "stage",
    "focus_areas": "focus_area",
    "organisations": "organisation",
    "methods": "method",
    "ideas": "idea",
    "transitions": "transition",
    "method_applications": "method_application",
    "participations": "participation",
}
#: The lists whose records belong to an idea: grouped by idea, in the order of the ideas.
IDEA_SECTIONS = ("transitions", "method_applications", "participations")
OPTIONAL = {"minor_version"}
#: The fields a minor version added, per record: a bundle of an older minor version lacks
#: them, and its records are read as if they held the value given here (made anew each time).
ADDED: dict[str, dict[str, Callable[[], Any]]] = {
    "organisation": {"description": dict},  # minor version 1
}


def _record(kind: str, properties: dict[str, Any]) -> dict[str, Any]:
    # Fields a reader does not know are allowed: a newer minor version may add them.
    required = [name for name in properties if name not in ADDED.get(kind, {})]
    return {"type": "object", "required": required, "properties": properties}


#: JSON Schema (draft 2020-12) of major version 1 of the bundle; docs/exchange.schema.json is a copy.
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": f"urn:innoplat:exchange:{VERSION}",
    "title": f"innoplat exchange bundle, version {VERSION}",
    "description": "One city's public innovation data: see docs/exchange.md.",
    "type": "object",
    "required": [k for k in (*HEADER, *SECTIONS) if k not in OPTIONAL],
    "properties": {
        **HEADER,
        "version": {"const": VERSION},
        **{
            name: {
                "type": "array",
                "items": {"$ref": f"#/$defs/{record}"},
                **({"minItems": 1} if name == "stages" else {}),
            }
            for name, record in SECTIONS.items()
        },
    },
    "$defs": {name: _record(name, fields) for name, fields in RECORDS.items()},
}

# jsonschema-rs checks each record quickly; jsonschema explains a bad one (best_match picks
# the most relevant error and gives its path).
FAST_VALIDATORS = {
    name: jsonschema_rs.validator_for(definition) for name, definition in SCHEMA["$defs"].items()
}


@cache
def explaining_validator(kind: str) -> Draft202012Validator:
    """The validator that explains why a record of ``kind`` is bad.

    Made (and jsonschema imported) only when a record is refused: a bundle that passes is
    checked by jsonschema-rs alone, and every import and export would otherwise carry both.
    """
    from jsonschema import Draft202012Validator

    return Draft202012Validator(SCHEMA["$defs"][kind])


FIELDS: dict[str, tuple[str, ...]] = {name: tuple(fields) for name, fields in RECORDS.items()}
#: The fields that hold free text (no pattern or enumeration confines them): checked for
#: characters both databases cannot store alike.
TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "city": ("name", "description", "region", "locales", "default_locale", "timezone", "website"),
    "stage": ("name",),
    "focus_area": ("name",),
    "organisation": ("name", "platform_role", "website", "description"),
    "method": ("name", "description", "category", "guide_steps", "reference"),
    "idea": ("title", "summary", "description"),
    "transition": (),
    "method_application": (),
    "participation": (),
}

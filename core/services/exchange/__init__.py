"""Exchange bundles: one city's public data as versioned JSON, and importing a sibling's as a peer.

A bundle (docs/exchange.md documents it field by field, docs/exchange.schema.json is
``SCHEMA``) holds a city, its stages, focus areas, organisations, the methods it uses, its
**public** ideas without any personal data, their stage transitions, method applications and
participations. Transitions carry no actor and no note, method applications no outcome note:
free text written by staff may name people, so it stays home.

The package, one concern per module:

* ``schema`` — the one definition of the bundle's fields, its JSON Schema, the version policy;
* ``export`` — the bundle written as the database is read (constant memory);
* ``reader`` — a bundle read record by record (the C JSON decoder, a record at a time), nesting bounded;
* ``validate`` — every rule a bundle must follow, checked record by record;
* ``personal_data`` — e-mail addresses, phone numbers and personal identity numbers redacted;
* ``importer`` — a bundle stored as a read-only peer, in batches, in the caller's transaction;
* ``merge`` — a partial bundle (what changed since a moment) merged into a peer's copy;
* ``fetch`` — where a sibling publishes its bundle (``peers`` fetches it, bounded).

Rows go through the bulk writer shared with the demo generator (``services.bulk``).
"""

from __future__ import annotations

import json
from typing import Any

from .export import (
    byte_chunks,
    chunks,
    count_public_ideas,
    datetime_text,
    export_city,
    method_record,
    records,
    write_bundle,
)
from .fetch import (
    CHANGES_HEADER,
    CHANGES_OFFERED,
    EXCHANGE_PATH,
    exchange_url,
    parse_since,
    since_text,
)
from .importer import PeerImport, count_peer_ideas, import_bundle, peer_cities
from .merge import ChangesDoNotFit, header_of, is_partial, merge_changes
from .personal_data import redact
from .reader import items, loads
from .schema import CHANGES_FORMAT, FORMAT, MINOR_VERSION, SCHEMA, SECTIONS, VERSION
from .validate import CLOCK_TOLERANCE, Checker, validate_bundle


def dumps(bundle: dict[str, Any], *, pretty: bool = False) -> str:
    """A bundle as JSON text (UTF-8 characters kept as they are)."""
    if pretty:
        return json.dumps(bundle, ensure_ascii=False, indent=1)
    return json.dumps(bundle, ensure_ascii=False, separators=(",", ":"))


__all__ = [
    "CHANGES_FORMAT",
    "CHANGES_HEADER",
    "CHANGES_OFFERED",
    "CLOCK_TOLERANCE",
    "EXCHANGE_PATH",
    "FORMAT",
    "MINOR_VERSION",
    "SCHEMA",
    "SECTIONS",
    "VERSION",
    "ChangesDoNotFit",
    "Checker",
    "PeerImport",
    "byte_chunks",
    "chunks",
    "count_peer_ideas",
    "count_public_ideas",
    "datetime_text",
    "dumps",
    "exchange_url",
    "export_city",
    "header_of",
    "import_bundle",
    "is_partial",
    "items",
    "loads",
    "merge_changes",
    "method_record",
    "parse_since",
    "peer_cities",
    "records",
    "redact",
    "since_text",
    "validate_bundle",
    "write_bundle",
]

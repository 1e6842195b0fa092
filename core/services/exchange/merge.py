"""Merging a partial bundle (only what changed since a moment) into a peer's read-only copy.

A partial bundle (``/api/v1/exchange?since=``, format ``innoplat-exchange-changes``) holds
the publisher's stages, focus areas, organisations and methods whole, the ideas that changed
at or after ``since`` with all their records, and ``public_references``: every public idea
at ``exported_at``. Merged into the copy, the changed ideas replace or join the copy's, the
copy's ideas missing from ``public_references`` go (withdrawn: removed or made internal),
and the rest stay. The merge is fed to the importer as one full bundle, so every rule of a
full import applies to the result and it is written in the caller's one transaction.

Changes that do not fit the copy — they start after the copy's moment (changes in between
would be missed), or name a public idea the copy lacks and they do not bring — are refused
with ``ChangesDoNotFit``: a full pull mends that, and ``peers.pull`` makes one.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Iterator
from datetime import datetime
from tempfile import SpooledTemporaryFile
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import ValidationError
from ...models import City
from . import export, reader
from .importer import PeerImport, import_bundle
from .reader import Item
from .schema import CHANGES_FORMAT, FORMAT, IDEA_SECTIONS, REFERENCE_PATTERN, SECTIONS
from .validate import check_version, parse_datetime

#: The copy is written out before the merge; up to this size in memory, larger on disk.
_IN_MEMORY = 8 * 1024 * 1024
_REFERENCE = re.compile(REFERENCE_PATTERN)
#: The lists the changes hold whole: the copy's are replaced.
_WHOLE = [s for s in SECTIONS if s != "ideas" and s not in IDEA_SECTIONS]


class ChangesDoNotFit(ValidationError):
    """The changes cannot be merged into this copy; a full bundle mends it."""


def header_of(body: IO[bytes], name: str) -> dict[str, Any]:
    """A bundle's fields before its first list (the file is rewound)."""
    header: dict[str, Any] = {}
    try:
        for kind, key, value in reader.items(body, name=name):
            if kind != "field":
                break
            header[key] = value
    finally:
        body.seek(0)
    return header


def is_partial(header: dict[str, Any]) -> bool:
    return header.get("format") == CHANGES_FORMAT


def _since(header: dict[str, Any]) -> datetime:
    value = header.get("since")
    if not isinstance(value, str) or not value.endswith("Z") or "T" not in value:
        raise ValidationError("$.since", f"expected a UTC time ending in Z (got {value!r})")
    return parse_datetime(value, "$.since")


def _references(header: dict[str, Any]) -> set[str]:
    value = header.get("public_references")
    if not isinstance(value, list):
        raise ValidationError("$.public_references", "expected the list of public idea references")
    references: set[str] = set()
    for i, reference in enumerate(value):
        if not isinstance(reference, str) or not _REFERENCE.match(reference):
            raise ValidationError(f"$.public_references[{i}]", f"{reference!r} is not a reference")
        if reference in references:
            raise ValidationError(f"$.public_references[{i}]", f"{reference} appears twice")
        references.add(reference)
    return references


def _copy_of(session: Session, header: dict[str, Any]) -> City:
    """The peer copy the changes are for; refuse the instance's own city and a missing copy."""
    city = header.get("city")
    slug = city.get("slug") if isinstance(city, dict) else None
    if not isinstance(slug, str):
        raise ValidationError("$.city.slug", "the changes do not name their city")
    copy = session.scalar(select(City).where(City.slug == slug))
    if copy is not None and not copy.is_peer:
        raise ValidationError(
            "$.city.slug",
            f"{slug!r} is this instance's own city: its data is edited here, not imported",
        )
    if copy is None or copy.peer_exported_at is None:
        raise ChangesDoNotFit(
            "$.since", f"there is no copy of {slug} here to merge changes into: pull it in full"
        )
    return copy


class _Lists:
    """One bundle's lists, read in the documented order, one list at a time."""

    def __init__(self, items: Iterator[Item], name: str, *, skip_fields: bool) -> None:
        self.items = items
        self.name = name
        self.skip_fields = skip_fields
        self.pending: Item | None = None

    def _next(self) -> Item | None:
        if self.pending is not None:
            item, self.pending = self.pending, None
            return item
        return next(self.items, None)

    def records(self, section: str) -> Iterator[tuple[int, Any]]:
        item = self._next()
        while item is not None and item[0] == "field":
            if not self.skip_fields:
                raise ValidationError(f"$.{item[1]}", "must come before the lists")
            item = self._next()
        if item is None or item[:2] != ("start", section):
            raise ValidationError(
                "$",
                f"{self.name} has no {section!r} list here: the lists come in the order "
                f"{', '.join(SECTIONS)}",
            )
        index = 0
        while True:
            item = self._next()
            if item is None or item[0] != "record":
                self.pending = item
                return
            yield index, item[2]
            index += 1

    def end(self) -> None:
        item = self._next()
        if item is not None:
            where = f"$.{item[1]}"
            raise ValidationError(where, "appears after the last list or twice")


def _merged(
    header: dict[str, Any], changes: _Lists, copy: _Lists, public: set[str]
) -> Iterator[Item]:
    """The copy with the changes merged in, as the items of one full bundle."""
    for key, value in header.items():
        if key not in ("since", "public_references"):
            yield ("field", key, FORMAT if key == "format" else value)
    changed: set[str] = set()
    kept: set[str] = set()
    for section in SECTIONS:
        yield ("start", section, None)
        for index, record in changes.records(section):
            if section == "ideas" and isinstance(record, dict):
                reference = record.get("reference")
                if reference not in public:
                    raise ValidationError(
                        f"$.ideas[{index}].reference",
                        f"{reference!r} is not among $.public_references",
                    )
                changed.add(str(reference))
            elif (
                section in IDEA_SECTIONS
                and isinstance(record, dict)
                and record.get("idea") not in changed
            ):
                raise ValidationError(
                    f"$.{section}[{index}].idea",
                    f"{record.get('idea')!r} is not one of the changed ideas",
                )
            yield ("record", section, record)
        for _, record in copy.records(section):
            if section in _WHOLE:
                continue
            if section == "ideas":
                reference = record["reference"]
                if reference in public and reference not in changed:
                    kept.add(reference)
                    yield ("record", section, record)
            elif record["idea"] in kept:
                yield ("record", section, record)
        if section == "ideas":
            missing = public - changed - kept
            if missing:
                raise ChangesDoNotFit(
                    "$.public_references",
                    f"{min(missing)} is public but neither in this copy nor among the changes: "
                    "the copy and the changes do not fit together; pull it in full",
                )
    changes.end()


def merge_changes(
    session: Session,
    body: IO[bytes],
    *,
    source: str | None = None,
    name: str | None = None,
    actor: str = "innoplat sync",
    now: datetime | None = None,
) -> PeerImport:
    """Merge a partial bundle into the peer's copy, in the caller's transaction.

    :raises ChangesDoNotFit: the copy is missing or older than the changes start.
    :raises ValidationError: one line with the JSON path, as a full import; the caller
        rolls back (rows may have been written).
    """
    name = name or source or "bundle"
    items = reader.items(body, name=name)
    header: dict[str, Any] = {}
    first: Item | None = None
    for item in items:
        if item[0] != "field":
            first = item
            break
        if item[1] in header:
            raise ValidationError(f"$.{item[1]}", "appears twice")
        header[item[1]] = item[2]
    check_version(header, (CHANGES_FORMAT,))
    since = _since(header)
    public = _references(header)
    copy = _copy_of(session, header)
    assert copy.peer_exported_at is not None
    if since > copy.peer_exported_at:
        raise ChangesDoNotFit(
            "$.since",
            f"the changes start at {header['since']}, after this copy of {copy.slug} "
            f"({export.datetime_text(copy.peer_exported_at)}): changes in between would be "
            "missed; pull it in full",
        )
    written: IO[bytes] = SpooledTemporaryFile(max_size=_IN_MEMORY)  # noqa: SIM115 - closed below
    with written:
        # The copy's records as stored, set aside before the import replaces them: they are
        # checked again with the changes, as one bundle, so no check is spent on them here.
        for item in export.records(session, copy):
            if item[0] != "field":
                pickle.dump(item, written, protocol=pickle.HIGHEST_PROTOCOL)
        written.seek(0)
        changes = _Lists(
            _chain(first, items) if first is not None else iter(()), name, skip_fields=False
        )
        label = f"the copy of {copy.slug}"
        kept = _Lists(_unpickled(written), label, skip_fields=True)
        return import_bundle(
            session,
            reader.Items(_merged(header, changes, kept, public)),
            source=source,
            name=name,
            actor=actor,
            now=now,
        )


def _unpickled(file: IO[bytes]) -> Iterator[Item]:
    """The items this module wrote to its own temporary file, one at a time."""
    while True:
        try:
            yield pickle.load(file)  # noqa: S301 - written above, in this transaction
        except EOFError:
            return


def _chain(first: Item, rest: Iterator[Item]) -> Iterator[Item]:
    yield first
    yield from rest

"""Merging a partial bundle (only what changed since a moment) into a peer's read-only copy.

A partial bundle (``/api/v1/exchange?since=``, format ``innoplat-exchange-changes``) holds
the publisher's stages, focus areas, organisations and methods whole, the ideas that changed
at or after ``since`` with all their records, and ``public_references``: every public idea
at ``exported_at``. Merged into the copy, the changed ideas replace or join the copy's, the
copy's ideas missing from ``public_references`` go (withdrawn: removed or made internal),
and the rest stay. The merged copy is checked as one full bundle (``validate.Checker``),
so every rule of a full import applies to the result, and then written **in place**, in the
caller's one transaction: the changed and withdrawn ideas are removed and the changed ones
written again (with the importer's loader), the small lists are brought up to date where
they stand (their rows keep their ids; facts that depend on them are renewed by the ORM's
flush), and the copy's other ideas are read and checked but not written. A merge therefore
writes in proportion to the changes; it reads and checks the whole copy.

Changes that do not fit the copy — they start after the copy's moment (changes in between
would be missed), or name a public idea the copy lacks and they do not bring — are refused
with ``ChangesDoNotFit``: a full pull mends that, and ``peers.pull`` makes one.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from tempfile import SpooledTemporaryFile
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import ValidationError
from ...models import City, FocusArea, Idea, Method, Organisation, OrganisationKind, Phase, Stage
from .. import audit, bulk, facts
from . import export, reader
from .importer import Loader, PeerImport, check_place, describe_peer, remove_ideas
from .reader import Item
from .schema import CHANGES_FORMAT, FORMAT, IDEA_SECTIONS, REFERENCE_PATTERN, SECTIONS
from .validate import Checker, check_version, parse_datetime

#: The records the merge writes are set aside as they are checked; up to this size in memory,
#: larger on disk.
_IN_MEMORY = 8 * 1024 * 1024
_REFERENCE = re.compile(REFERENCE_PATTERN)
#: The lists the changes hold whole: the copy's are replaced.
_WHOLE = [s for s in SECTIONS if s != "ideas" and s not in IDEA_SECTIONS]
#: Ideas named per statement (well below the databases' limits on parameters).
_CHUNK = 900


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


class _Merge:
    """What merging found: the changed ideas' references and the copy's ideas kept as they are."""

    def __init__(self) -> None:
        self.changed: set[str] = set()
        self.kept: set[str] = set()
        self.withdrawn: set[str] = set()
        #: The copy's stages, focus areas, organisations and methods as stored (replaced by
        #: the changes' lists).
        self.copy_lists: dict[str, list[Any]] = {section: [] for section in _WHOLE}
        self.copy_city: dict[str, Any] = {}
        #: The records of the changed ideas as the changes bring them and as the copy holds
        #: them: equal when the changes only repeat what the copy has.
        self.fresh_digest = hashlib.sha256()
        self.copy_digest = hashlib.sha256()


def _digest(digest: Any, section: str, record: Any) -> None:
    digest.update(json.dumps([section, record], ensure_ascii=False, sort_keys=True).encode())


def _merged(
    header: dict[str, Any], changes: _Lists, copy: _Lists, public: set[str], found: _Merge
) -> Iterator[tuple[str, str, Any, bool]]:
    """The copy with the changes merged in, as the items of one full bundle; each with
    whether it comes from the changes."""
    for key, value in header.items():
        if key not in ("since", "public_references"):
            yield ("field", key, FORMAT if key == "format" else value, True)
    changed, kept = found.changed, found.kept
    for section in SECTIONS:
        yield ("start", section, None, True)
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
            if section not in _WHOLE:
                _digest(found.fresh_digest, section, record)
            yield ("record", section, record, True)
        for _, record in copy.records(section):
            if section in _WHOLE:
                found.copy_lists[section].append(record)
                continue
            if section == "ideas":
                reference = record["reference"]
                if reference not in public:
                    found.withdrawn.add(reference)
                elif reference not in changed:
                    kept.add(reference)
                    yield ("record", section, record, False)
                else:
                    _digest(found.copy_digest, section, record)
            elif record["idea"] in kept:
                yield ("record", section, record, False)
            elif record["idea"] in changed:
                _digest(found.copy_digest, section, record)
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
    fresh: IO[bytes] = SpooledTemporaryFile(max_size=_IN_MEMORY)  # noqa: SIM115 - closed below
    with fresh:
        found = _Merge()
        changes = _Lists(
            _chain(first, items) if first is not None else iter(()), name, skip_fields=False
        )
        # The copy's records as stored, read as the merge goes (nothing is written before
        # the whole of it is checked): they are checked again with the changes, as one
        # bundle, so every rule of a full import holds for the result.
        label = f"the copy of {copy.slug}"
        kept = _Lists(_copy_items(session, copy, found), label, skip_fields=True)
        checker = Checker(now=now)
        with bulk.collector_paused():
            for kind, key, value, from_changes in _merged(header, changes, kept, public, found):
                checked = checker.item(kind, key, value)
                if kind == "record" and from_changes:  # written (the copy's kept ones stay)
                    pickle.dump((key, checked), fresh, protocol=pickle.HIGHEST_PROTOCOL)
            checker.finish()
        check_place(session, checker.header)
        ideas = checker.counts["ideas"]
        fresh.seek(0)
        if _unchanged(checker, found, _unpickled(fresh)):
            copy.peer_source = source or copy.peer_source
            return PeerImport(copy, "unchanged", ideas, checker.redacted)
        fresh.seek(0)
        _write(session, copy, checker, found, _unpickled(fresh), source)
    audit.record_for(
        session,
        copy,
        "peer_updated",
        actor=actor,
        after={"source": source, "exported_at": checker.header["exported_at"], "ideas": ideas},
    )
    return PeerImport(copy, "updated", ideas, checker.redacted)


def _unchanged(checker: Checker, found: _Merge, records: Iterator[tuple[str, Any]]) -> bool:
    """Whether the merge would change nothing the copy shows (the changed ideas as the copy
    has them, none withdrawn, the same lists and the same description of the city)."""
    if found.withdrawn:
        return False
    if found.fresh_digest.digest() != found.copy_digest.digest():
        return False
    lists: dict[str, list[Any]] = {section: [] for section in _WHOLE}
    for section, record in records:
        if section in lists:
            lists[section].append(record)
    return lists == found.copy_lists and found.copy_city == checker.header["city"]


def _write(
    session: Session,
    copy: City,
    checker: Checker,
    found: _Merge,
    records: Iterator[tuple[str, Any]],
    source: str | None,
) -> None:
    """Write the merge into the copy: the changed and withdrawn ideas go, the lists are
    brought up to date where they stand (rows keep their ids), the changed ideas come back
    with their records. The copy's other ideas are not touched."""
    gone = sorted(found.changed | found.withdrawn)
    gone_ids: list[int] = []
    for start in range(0, len(gone), _CHUNK):
        gone_ids += session.scalars(
            select(Idea.id).where(
                Idea.city_id == copy.id, Idea.reference.in_(gone[start : start + _CHUNK])
            )
        )
    facts.refresh(session, gone_ids)  # before they go: the years whose figures change
    for start in range(0, len(gone_ids), _CHUNK):
        remove_ideas(session, select(Idea.id).where(Idea.id.in_(gone_ids[start : start + _CHUNK])))
    lists: dict[str, list[dict[str, Any]]] = {section: [] for section in _WHOLE}
    loader: Loader | None = None
    order: dict[str, int] = {}  # the changed ideas' references, by their order here
    section = ""
    for key, record in records:
        if key in _WHOLE:
            lists[key].append(record)
            continue
        if loader is None:
            loader = _lists_in_place(session, copy, lists, order)
        if key != section:
            if section:
                loader.flush(section)
            section = key
        if key == "ideas":
            order[record["reference"]] = len(order)
        loader.add(key, order[record["reference"]] if key == "ideas" else -1, record)
    if loader is None:
        loader = _lists_in_place(session, copy, lists, order)
    elif section:
        loader.flush(section)
    facts.refresh(session, list(loader.idea_ids))
    describe_peer(copy, checker.header, source)
    session.flush()


def _lists_in_place(
    session: Session,
    copy: City,
    lists: dict[str, list[dict[str, Any]]],
    order: dict[str, int],
) -> Loader:
    """Bring the copy's stages, focus areas, organisations and methods up to the changes'
    lists (rows keep their ids; the ORM's flush renews the facts that depend on them), and a
    loader for the changed ideas that knows their keys."""
    stages = _in_place(session, Stage, copy, lists["stages"], _STAGE_FIELDS)
    areas = _in_place(session, FocusArea, copy, lists["focus_areas"], _AREA_FIELDS)
    organisations = _in_place(
        session, Organisation, copy, lists["organisations"], _ORGANISATION_FIELDS
    )
    for record in lists["organisations"]:
        parent = record["parent"]
        organisations[record["key"]].parent_id = organisations[parent].id if parent else None
    session.flush()
    loader = Loader(session, copy, copy, order)
    loader.stage_ids = {key: row.id for key, row in stages.items()}
    loader.area_ids = {key: row.id for key, row in areas.items()}
    loader.org_ids = {key: row.id for key, row in organisations.items()}
    local = {m["key"]: i for i, m in enumerate(lists["methods"]) if m["local"]}
    taken = session.scalar(
        select(Method.key).where(Method.key.in_(list(local)), Method.city_id != copy.id).limit(1)
    )
    if taken:
        raise ValidationError(
            f"$.methods[{local[taken]}].key", f"{taken!r} is already a method of another city here"
        )
    _in_place(session, Method, copy, [m for m in lists["methods"] if m["local"]], _METHOD_FIELDS)
    for i, method in enumerate(lists["methods"]):
        if not method["local"]:
            loader.add("methods", i, method)
    loader.flush("methods")  # shared methods this instance lacks are added, as by an import
    loader.method_ids = dict(
        session.execute(
            select(Method.key, Method.id).where(
                Method.key.in_([m["key"] for m in lists["methods"]])
            )
        )
        .tuples()
        .all()
    )
    return loader


_STAGE_FIELDS = {
    "phase": lambda r: Phase(r["phase"]),
    "position": lambda r: r["position"],
    "name": lambda r: dict(r["name"]),
    "transitions": lambda r: list(r["transitions"]),
}
_AREA_FIELDS = {
    "position": lambda r: r["position"],
    "name": lambda r: dict(r["name"]),
    "sdgs": lambda r: list(r["sdgs"]),
}
_ORGANISATION_FIELDS = {
    "name": lambda r: r["name"],
    "kind": lambda r: OrganisationKind(r["kind"]),
    "platform_role": lambda r: r["platform_role"],
    "website": lambda r: r["website"],
    "is_synthetic": lambda r: r["is_synthetic"],
    "description": lambda r: dict(r["description"]),
}
_METHOD_FIELDS = {
    "shared_key": lambda r: r["shared_key"],
    "name": lambda r: dict(r["name"]),
    "description": lambda r: dict(r["description"]),
    "category": lambda r: r["category"],
    "phases": lambda r: list(r["phases"]),
    "guide_steps": lambda r: list(r["guide_steps"]),
    "reference": lambda r: r["reference"],
}


def _in_place(
    session: Session,
    model: Any,
    copy: City,
    records: list[dict[str, Any]],
    fields: dict[str, Callable[[dict[str, Any]], Any]],
) -> dict[str, Any]:
    """The city's rows of ``model`` made to match ``records`` by key: changed where they
    differ, added, and removed where no record names them (nothing kept points at those: the
    checks saw every idea the copy keeps). Returns the rows by key."""
    rows = {row.key: row for row in session.scalars(select(model).where(model.city_id == copy.id))}
    if model is Organisation:
        for row in rows.values():
            row.parent_id = None  # set again from the records, once every row exists
        session.flush()
    listed: dict[str, Any] = {}
    for record in records:
        row = rows.get(record["key"])
        if row is None:
            row = model(city_id=copy.id, key=record["key"])
            if model is Method:
                row.source = f"peer:{copy.slug}"  # as an import marks the methods it adds
            session.add(row)
        for name, value in fields.items():
            if getattr(row, name) != (wanted := value(record)):
                setattr(row, name, wanted)
        listed[record["key"]] = row
    for key, row in rows.items():
        if key not in listed:
            session.delete(row)
    session.flush()
    return listed


def _copy_items(session: Session, copy: City, found: _Merge) -> Iterator[Item]:
    """The copy's items as stored; its description of the city is noted on the way."""
    for item in export.records(session, copy):
        if item[:2] == ("field", "city"):
            found.copy_city = item[2]
        yield item


def _unpickled(file: IO[bytes]) -> Iterator[Any]:
    """What this module wrote to its own temporary file, one value at a time."""
    while True:
        try:
            yield pickle.load(file)  # noqa: S301 - written above, in this transaction
        except EOFError:
            return


def _chain(first: Item, rest: Iterator[Item]) -> Iterator[Item]:
    yield first
    yield from rest

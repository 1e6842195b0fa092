"""Importing a sibling's bundle as a read-only peer city, in one pass and one transaction.

The bundle is read record by record (reader.py), each record checked (validate.py) and
written in batches with the bulk writer as soon as the records it points at are known. All
of it happens inside the caller's transaction: a refusal at the last record still leaves
nothing, because the caller rolls back (``db.transaction`` does). Nothing is committed here.

A newer bundle of the same city replaces the peer's data in place (the city row keeps its
id); the same bundle again changes nothing; an older one is refused.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.orm import Session

from ...errors import ValidationError
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
from .. import audit, bulk, facts
from . import export, reader
from .validate import Checker, parse_datetime

PUBLIC = Visibility.public.value
#: The lists written a batch at a time as they are read (the others are small), and how
#: many records a batch holds: an idea with its texts takes ~3 KiB as a dict, the others a
#: tenth of that, so a batch stays within a few MiB.
_BATCHED = {
    "ideas": 500,
    "transitions": 5_000,
    "method_applications": 5_000,
    "participations": 5_000,
}
#: The columns the batched lists write, in the order of the row tuples built below.
_IDEA_COLUMNS = (
    "id",
    "city_id",
    "reference",
    "title",
    "summary",
    "description",
    "origin_channel",
    "initiator_kind",
    "stage_id",
    "phase",
    "owner_organisation_id",
    "submitter_id",
    "facet",
    "value_dimensions",
    "reused_from_reference",
    "visibility",
    "is_synthetic",
    "submitted_at",
    "updated_at",
    "version",
)
_TRANSITION_COLUMNS = (
    "idea_id",
    "from_stage_id",
    "to_stage_id",
    "from_phase",
    "to_phase",
    "at",
    "actor",
    "note",
)
_APPLICATION_COLUMNS = (
    "id",
    "idea_id",
    "method_id",
    "started_on",
    "ended_on",
    "facilitator_id",
    "outcome",
    "outcome_note",
    "created_at",
)


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


@dataclass(frozen=True)
class PeerImport:
    """What importing a bundle did: ``action`` is imported, updated or unchanged.

    ``redacted`` counts the texts in which personal data was replaced on the way in.
    """

    city: City
    action: str
    ideas: int
    redacted: int = 0


def _digest_item(digest: Any, kind: str, key: str, value: Any) -> None:
    if kind == "record" or (kind == "field" and key == "city"):
        # Keys sorted: a record read from a bundle keeps the bundle's order of fields.
        digest.update(json.dumps([key, value], ensure_ascii=False, sort_keys=True).encode())


def remove_ideas(session: Session, ideas: Any) -> None:
    """These ideas (a SELECT of ids) with everything that hangs on them."""
    applications = select(MethodApplication.id).where(MethodApplication.idea_id.in_(ideas))
    session.execute(
        delete(MethodApplicationOrganisation).where(
            MethodApplicationOrganisation.method_application_id.in_(applications)
        )
    )
    for model in (MethodApplication, StageTransition, Participation, IdeaSdg, IdeaFocusArea):
        session.execute(delete(model).where(model.idea_id.in_(ideas)))
    session.execute(delete(Idea).where(Idea.id.in_(ideas)))


def _remove_peer_data(session: Session, city: City) -> None:
    """Everything a peer city holds, except its row (which keeps its id)."""
    remove_ideas(session, select(Idea.id).where(Idea.city_id == city.id))
    session.execute(delete(Method).where(Method.city_id == city.id))
    session.execute(delete(FocusArea).where(FocusArea.city_id == city.id))
    session.execute(delete(Stage).where(Stage.city_id == city.id))
    session.execute(
        update(Organisation).where(Organisation.city_id == city.id).values(parent_id=None)
    )
    session.execute(delete(Organisation).where(Organisation.city_id == city.id))


def check_place(session: Session, header: dict[str, Any]) -> City | None:
    """The peer this bundle updates (None for a new one); refuse what would clash."""
    slug = header["city"]["slug"]
    prefix = header["city"]["reference_prefix"]
    existing = session.scalar(select(City).where(City.slug == slug))
    if existing is not None and not existing.is_peer:
        raise ValidationError(
            "$.city.slug",
            f"{slug!r} is this instance's own city: its data is edited here, not imported",
        )
    exported_at = parse_datetime(header["exported_at"], "$.exported_at")
    if (
        existing is not None
        and existing.peer_exported_at
        and exported_at < existing.peer_exported_at
    ):
        raise ValidationError(
            "$.exported_at",
            f"this bundle of {slug} was exported at {header['exported_at']}, before the one already "
            f"imported ({export.datetime_text(existing.peer_exported_at)}); nothing was changed",
        )
    clash = session.scalar(
        select(City.slug).where(City.reference_prefix == prefix, City.slug != slug).limit(1)
    )
    if clash:
        raise ValidationError(
            "$.city.reference_prefix",
            f"{prefix!r} is already the reference prefix of {clash}: idea references would collide",
        )
    return existing


class Loader:
    """Writes the checked records of one bundle, a list (or a batch of one) at a time."""

    def __init__(
        self, session: Session, city: City, existing: City | None, ideas: dict[str, int]
    ) -> None:
        self.session = session
        self.city = city
        self.existing = existing
        self.buffer: list[tuple[int, dict[str, Any]]] = []
        self.stage_ids: dict[str, int] = {}
        self.area_ids: dict[str, int] = {}
        self.org_ids: dict[str, int] = {}
        self.method_ids: dict[str, int] = {}
        #: Each idea's index in $.ideas by reference (the checker's), and its id by index.
        self.ideas = ideas
        self.idea_ids = array("q")
        self.now = utcnow()
        self.formats = bulk.formats(session)

    def add(self, section: str, index: int, record: dict[str, Any]) -> None:
        self.buffer.append((index, record))
        if len(self.buffer) >= _BATCHED.get(section, len(self.buffer) + 1):
            self.flush(section)

    def flush(self, section: str) -> None:
        if self.buffer:
            getattr(self, f"_{section}")(self.buffer)
        self.buffer = []

    def _with_ids(
        self, model: Any, rows: list[dict[str, Any]], keys: Iterable[str]
    ) -> dict[str, int]:
        return dict(zip(keys, bulk.insert_with_ids(self.session, _table(model), rows), strict=True))

    def _stages(self, batch: list[tuple[int, dict[str, Any]]]) -> None:
        rows = [
            {
                "city_id": self.city.id,
                "key": s["key"],
                "phase": s["phase"],
                "position": s["position"],
                "name": s["name"],
                "transitions": s["transitions"],
            }
            for _, s in batch
        ]
        self.stage_ids = self._with_ids(Stage, rows, [s["key"] for _, s in batch])

    def _focus_areas(self, batch: list[tuple[int, dict[str, Any]]]) -> None:
        rows = [
            {
                "city_id": self.city.id,
                "key": a["key"],
                "position": a["position"],
                "name": a["name"],
                "sdgs": a["sdgs"],
            }
            for _, a in batch
        ]
        self.area_ids = self._with_ids(FocusArea, rows, [a["key"] for _, a in batch])

    def _organisations(self, batch: list[tuple[int, dict[str, Any]]]) -> None:
        rows = [
            {
                "city_id": self.city.id,
                "key": o["key"],
                "name": o["name"],
                "kind": o["kind"],
                "platform_role": o["platform_role"],
                "website": o["website"],
                "is_synthetic": o["is_synthetic"],
                "description": o["description"],
                "parent_id": None,
            }
            for _, o in batch
        ]
        self.org_ids = self._with_ids(Organisation, rows, [o["key"] for _, o in batch])
        for _, o in batch:
            if o["parent"]:
                self.session.execute(
                    update(Organisation)
                    .where(Organisation.id == self.org_ids[o["key"]])
                    .values(parent_id=self.org_ids[o["parent"]])
                )

    def _methods(self, batch: list[tuple[int, dict[str, Any]]]) -> None:
        session = self.session
        local = {m["key"]: i for i, m in batch if m["local"]}
        if local:
            query = select(Method.key).where(Method.key.in_(list(local)))
            if self.existing is not None:
                query = query.where(Method.city_id != self.existing.id)
            taken = session.scalar(query.limit(1))
            if taken:
                raise ValidationError(
                    f"$.methods[{local[taken]}].key",
                    f"{taken!r} is already a method of another city here",
                )
        self.method_ids = dict(
            session.execute(
                select(Method.key, Method.id).where(Method.key.in_([m["key"] for _, m in batch]))
            )
            .tuples()
            .all()
        )
        new = [
            {
                "key": m["key"],
                "shared_key": m["shared_key"],
                "city_id": self.city.id if m["local"] else None,
                "name": m["name"],
                "description": m["description"],
                "category": m["category"],
                "phases": m["phases"],
                "guide_steps": m["guide_steps"],
                "reference": m["reference"],
                "source": f"peer:{self.city.slug}",
            }
            for _, m in batch
            if m["key"] not in self.method_ids
        ]
        self.method_ids.update(self._with_ids(Method, new, [m["key"] for m in new]))

    def _ideas(self, batch: list[tuple[int, dict[str, Any]]]) -> None:
        session = self.session
        index = {i["reference"]: n for n, i in batch}
        references = list(index)
        for start in range(0, len(references), 900):
            query = select(Idea.reference).where(
                Idea.reference.in_(references[start : start + 900])
            )
            if self.existing is not None:
                query = query.where(Idea.city_id != self.existing.id)
            taken = session.scalar(query.limit(1))
            if taken:
                raise ValidationError(
                    f"$.ideas[{index[taken]}].reference",
                    f"{taken} is already the reference of an idea of another city here",
                )
        stage_ids, org_ids, area_ids = self.stage_ids, self.org_ids, self.area_ids
        city_id, time, as_json = self.city.id, self.formats.datetime, self.formats.json
        ids = bulk.reserve_ids(session, _table(Idea), len(batch))
        bulk.insert_tuples(
            session,
            _table(Idea),
            _IDEA_COLUMNS,
            [
                (
                    idea_id,
                    city_id,
                    i["reference"],
                    i["title"],
                    i["summary"],
                    i["description"],
                    i["origin_channel"],
                    i["initiator_kind"],
                    stage_ids[i["stage"]],
                    i["phase"],
                    org_ids[i["owner_organisation"]] if i["owner_organisation"] else None,
                    None,
                    i["facet"],
                    as_json(i["value_dimensions"]),
                    i["reused_from"],
                    PUBLIC,
                    i["is_synthetic"],
                    time(i["submitted_at"]),
                    time(i["updated_at"]),
                    1,
                )
                for idea_id, (_, i) in zip(ids, batch, strict=True)
            ],
        )
        assert batch[0][0] == len(self.idea_ids)  # the ideas' indexes, in order
        self.idea_ids.extend(ids)
        bulk.insert_tuples(
            session,
            _table(IdeaSdg),
            ("idea_id", "sdg"),
            [(idea_id, n) for idea_id, (_, i) in zip(ids, batch, strict=True) for n in i["sdgs"]],
        )
        bulk.insert_tuples(
            session,
            _table(IdeaFocusArea),
            ("idea_id", "focus_area_id"),
            [
                (idea_id, area_ids[k])
                for idea_id, (_, i) in zip(ids, batch, strict=True)
                for k in dict.fromkeys(i["focus_areas"])
            ],
        )

    def _transitions(self, batch: list[tuple[int, dict[str, Any]]]) -> None:
        ideas, idea_ids, stage_ids = self.ideas, self.idea_ids, self.stage_ids
        time = self.formats.datetime
        bulk.insert_tuples(
            self.session,
            _table(StageTransition),
            _TRANSITION_COLUMNS,
            [
                (
                    idea_ids[ideas[t["idea"]]],
                    stage_ids[t["from_stage"]] if t["from_stage"] else None,
                    stage_ids[t["to_stage"]],
                    t["from_phase"],
                    t["to_phase"],
                    time(t["at"]),
                    None,
                    "",
                )
                for _, t in batch
            ],
        )

    def _method_applications(self, batch: list[tuple[int, dict[str, Any]]]) -> None:
        ideas, idea_ids = self.ideas, self.idea_ids
        method_ids, org_ids = self.method_ids, self.org_ids
        day, created = self.formats.date, self.formats.datetime(self.now)
        ids = bulk.reserve_ids(self.session, _table(MethodApplication), len(batch))
        bulk.insert_tuples(
            self.session,
            _table(MethodApplication),
            _APPLICATION_COLUMNS,
            [
                (
                    app_id,
                    idea_ids[ideas[a["idea"]]],
                    method_ids[a["method"]],
                    day(a["started_on"]) if a["started_on"] else None,
                    day(a["ended_on"]) if a["ended_on"] else None,
                    org_ids[a["facilitator"]] if a["facilitator"] else None,
                    a["outcome"],
                    "",
                    created,
                )
                for app_id, (_, a) in zip(ids, batch, strict=True)
            ],
        )
        bulk.insert_tuples(
            self.session,
            _table(MethodApplicationOrganisation),
            ("method_application_id", "organisation_id"),
            [
                (app_id, org_ids[key])
                for app_id, (_, a) in zip(ids, batch, strict=True)
                for key in a["organisations"]
            ],
        )

    def _participations(self, batch: list[tuple[int, dict[str, Any]]]) -> None:
        ideas, idea_ids, org_ids = self.ideas, self.idea_ids, self.org_ids
        bulk.insert_tuples(
            self.session,
            _table(Participation),
            ("idea_id", "organisation_id", "role"),
            [(idea_ids[ideas[p["idea"]]], org_ids[p["organisation"]], p["role"]) for _, p in batch],
        )


def _existing_digest(session: Session, city: City) -> bytes:
    digest = hashlib.sha256()
    for kind, key, value in export.records(session, city):
        _digest_item(digest, kind, key, value)
    return digest.digest()


def import_bundle(
    session: Session,
    bundle: Any,
    *,
    source: str | None = None,
    actor: str = "innoplat import",
    name: str | None = None,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> PeerImport:
    """Store a sibling's bundle as a read-only peer city (or update the peer in place).

    :param bundle: a binary stream (an open file, a network response's raw stream), the
        bundle's text as ``bytes``/``str``, or an already parsed dict. It is read once, in
        one pass; every record is checked before the transaction can commit.
    :param source: where it came from (a file name or URL), kept as ``City.peer_source``.
    :param name: how messages name the bundle (default: ``source``).
    :param progress: called with the number of bytes read, as they are read (streams only).
    :return: the peer city and whether it was new, updated or unchanged.
    :raises ValidationError: one line, with the JSON path of the bad field as ``field``.
        The caller's transaction must then be rolled back: rows may have been written.
    """
    checker = Checker(now=now)
    loader: Loader | None = None
    digest = hashlib.sha256()
    before: bytes | None = None
    savepoint = None
    with ExitStack() as stack:
        stack.enter_context(bulk.collector_paused())
        for kind, key, value in reader.items(
            bundle, name=name or source or "bundle", progress=progress
        ):
            if kind == "record":
                record = checker.record(key, value)
                assert loader is not None
                loader.add(key, checker.counts[key] - 1, record)
                if before is not None:
                    _digest_item(digest, kind, key, record)
            elif kind == "field":
                checker.field(key, value)
            else:
                previous = checker.sections[-1] if checker.sections else None
                checker.start(key)
                if loader is None:
                    header = checker.header
                    existing = check_place(session, header)
                    if existing is not None and existing.peer_exported_at == parse_datetime(
                        header["exported_at"], "$.exported_at"
                    ):
                        before = _existing_digest(session, existing)
                        _digest_item(digest, "field", "city", header["city"])
                        savepoint = session.begin_nested()
                    loader = Loader(
                        session,
                        _peer_city(session, header, existing, source),
                        existing,
                        checker.ideas,
                    )
                    stack.enter_context(bulk.search_index_deferred(session, loader.city.id))
                if previous is not None:
                    loader.flush(previous)
        checker.finish()
        assert loader is not None
        loader.flush(checker.sections[-1])
    city, existing = loader.city, loader.existing
    ideas = checker.counts["ideas"]
    if savepoint is not None and existing is not None:
        if digest.digest() == before:
            savepoint.rollback()
            session.refresh(existing)
            existing.peer_source = source or existing.peer_source
            return PeerImport(existing, "unchanged", ideas, checker.redacted)
        savepoint.commit()
    facts.rebuild(session, city.id)  # once for the whole load, not per row
    audit.record_for(
        session,
        city,
        "peer_updated" if existing else "peer_imported",
        actor=actor,
        after={"source": source, "exported_at": checker.header["exported_at"], "ideas": ideas},
    )
    return PeerImport(city, "updated" if existing else "imported", ideas, checker.redacted)


def _peer_city(
    session: Session, header: dict[str, Any], existing: City | None, source: str | None
) -> City:
    """The peer's city row, new or updated, with the existing peer's data removed."""
    city = existing or City(slug=header["city"]["slug"])
    describe_peer(city, header, source)
    if existing is None:
        session.add(city)
    session.flush()
    if existing is not None:
        _remove_peer_data(session, city)
        session.expire(city, ["stages", "focus_areas"])
    return city


def describe_peer(city: City, header: dict[str, Any], source: str | None) -> None:
    """Set the peer's city row from a checked bundle header."""
    data = header["city"]
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
    city.peer_exported_at = parse_datetime(header["exported_at"], "$.exported_at")
    city.synced_at = utcnow()


def peer_cities(session: Session) -> list[City]:
    """The peers imported into this instance, by slug."""
    return list(session.scalars(select(City).where(City.is_peer.is_(True)).order_by(City.slug)))


def count_peer_ideas(session: Session, city: City) -> int:
    return (
        session.scalar(select(func.count()).select_from(Idea).where(Idea.city_id == city.id)) or 0
    )

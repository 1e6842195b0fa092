"""The domain model: cities, organisations, people, ideas and the methods applied to them."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    false,
    update,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    UOWTransaction,
    mapped_column,
    relationship,
)
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

# Stable constraint names, so Alembic migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Phase(enum.StrEnum):
    """The canonical lifecycle every city's stages map to (OECD OPSI innovation lifecycle)."""

    submitted = "submitted"
    screening = "screening"
    development = "development"
    pilot = "pilot"
    implemented = "implemented"
    scaled = "scaled"
    closed = "closed"
    paused = "paused"


#: Phases counted as "reached implementation" in every comparison.
IMPLEMENTED_PHASES = (Phase.implemented.value, Phase.scaled.value)

#: Order of the phases an idea moves forward through.
PHASE_ORDER = [p.value for p in Phase]


class OrganisationKind(enum.StrEnum):
    municipality = "municipality"
    department = "department"
    municipal_company = "municipal_company"
    university = "university"
    research_institute = "research_institute"
    region = "region"
    government_agency = "government_agency"
    funder = "funder"
    business = "business"
    civil_society = "civil_society"
    citizen_group = "citizen_group"


class ParticipationRole(enum.StrEnum):
    owner = "owner"
    partner = "partner"
    funder = "funder"
    user = "user"
    expert = "expert"


class Outcome(enum.StrEnum):
    """What came of applying a method to an idea."""

    planned = "planned"
    ongoing = "ongoing"
    succeeded = "succeeded"
    partly_succeeded = "partly_succeeded"
    failed = "failed"
    abandoned = "abandoned"


class OriginChannel(enum.StrEnum):
    web = "web"
    email = "email"
    workshop = "workshop"
    staff = "staff"
    hackathon = "hackathon"
    citizen_dialogue = "citizen_dialogue"
    partner = "partner"
    imported = "imported"


class InitiatorKind(enum.StrEnum):
    citizen = "citizen"
    staff = "staff"
    business = "business"
    academia = "academia"
    civil_society = "civil_society"
    partner_organisation = "partner_organisation"


class InnovationFacet(enum.StrEnum):
    """OECD OPSI's four facets of public-sector innovation."""

    enhancement = "enhancement"
    mission_oriented = "mission_oriented"
    adaptive = "adaptive"
    anticipatory = "anticipatory"


class ValueDimension(enum.StrEnum):
    """The value dimensions of the Danish and Swedish innovation barometers."""

    quality = "quality"
    efficiency = "efficiency"
    employee_satisfaction = "employee_satisfaction"
    citizen_involvement = "citizen_involvement"


class Visibility(enum.StrEnum):
    public = "public"
    internal = "internal"


class Role(enum.StrEnum):
    """A staff account's role in one city."""

    admin = "admin"
    coordinator = "coordinator"
    member = "member"


def enum_column(cls: type[enum.Enum]) -> Enum:
    """The column type of an enum: stored as its values in plain strings (no native enum
    types), so adding a value needs no migration. Plugins' models use it too."""
    return Enum(cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])


class NamedByLanguage:
    """A city-defined thing named by language (stage, focus area, method), found by its key."""

    def name_in(self, locale: str | None, default_locale: str = "sv") -> Localized:
        """Its name by the one rule (``localized_in``); its key when it has no name.

        ``default_locale`` is the default language of the city whose page or message shows it.
        """
        thing = cast(Any, self)
        found = localized_in(thing.name, locale, default_locale)
        return found if found.text else Localized(str(thing.key), None)

    def label(self, locale: str | None = None, default_locale: str = "sv") -> str:
        return self.name_in(locale, default_locale).text


class City(Base):
    __tablename__ = "city"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[dict[str, Any]] = mapped_column(default=dict)
    description: Mapped[dict[str, Any]] = mapped_column(default=dict)
    region: Mapped[str | None] = mapped_column(String(120))
    population: Mapped[int | None] = mapped_column(Integer)
    reference_prefix: Mapped[str] = mapped_column(String(8))
    locales: Mapped[list[Any]] = mapped_column(default=list)
    default_locale: Mapped[str] = mapped_column(String(16), default="sv")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Stockholm")
    website: Mapped[str | None] = mapped_column(String(300))
    #: A peer is a sibling platform's data imported from an exchange bundle: read-only here.
    is_peer: Mapped[bool] = mapped_column(Boolean, default=False)
    peer_source: Mapped[str | None] = mapped_column(String(500))
    peer_exported_at: Mapped[datetime | None] = mapped_column(DateTime)
    synced_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    stages: Mapped[list[Stage]] = relationship(
        back_populates="city", order_by="Stage.position", cascade="all, delete-orphan"
    )
    focus_areas: Mapped[list[FocusArea]] = relationship(
        back_populates="city", order_by="FocusArea.position", cascade="all, delete-orphan"
    )

    def label(self, locale: str | None = None) -> str:
        return self.name_in(locale).text

    def name_in(self, locale: str | None, default_locale: str | None = None) -> Localized:
        """Its name by the one rule (``localized_in``), with its own default language."""
        found = localized_in(self.name, locale, default_locale or self.default_locale)
        return found if found.text else Localized(self.slug, None)


class Stage(NamedByLanguage, Base):
    """A city's own name for a step of its workflow, mapped to one canonical phase."""

    __tablename__ = "stage"
    __table_args__ = (UniqueConstraint("city_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(60))
    phase: Mapped[Phase] = mapped_column(enum_column(Phase))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Keys of the stages an idea may move to from this one.
    transitions: Mapped[list[Any]] = mapped_column(default=list)

    city: Mapped[City] = relationship(back_populates="stages")


class FocusArea(NamedByLanguage, Base):
    __tablename__ = "focus_area"
    __table_args__ = (UniqueConstraint("city_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: UN Sustainable Development Goals (1..17) this focus area contributes to.
    sdgs: Mapped[list[Any]] = mapped_column(default=list)

    city: Mapped[City] = relationship(back_populates="focus_areas")


class Organisation(Base):
    """A Popolo *Organization*: a municipality, one of its departments, a company, a university…"""

    __tablename__ = "organisation"
    __table_args__ = (UniqueConstraint("city_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganisationKind] = mapped_column(enum_column(OrganisationKind))
    #: The organisation's role in the platform itself (owner, project_lead, partner, funder).
    platform_role: Mapped[str | None] = mapped_column(String(32))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    website: Mapped[str | None] = mapped_column(String(300))
    is_synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    #: What the organisation is and does, by language (from city.toml).
    description: Mapped[dict[str, Any]] = mapped_column(default=dict)

    parent: Mapped[Organisation | None] = relationship(remote_side=[id])
    city: Mapped[City] = relationship()


class Person(Base):
    """Personal data: stored only with consent, exportable and erasable (GDPR)."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    locale: Mapped[str | None] = mapped_column(String(16))
    consent_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: Which consent text the person agreed to (``innoplat.core.services.consent``).
    consent_version: Mapped[str | None] = mapped_column(String(80))
    anonymised_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Membership(Base):
    """A Popolo *Membership*: a person's role in an organisation (working group, coordinator…)."""

    __tablename__ = "membership"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(80))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)

    person: Mapped[Person] = relationship()
    organisation: Mapped[Organisation] = relationship()


class Method(NamedByLanguage, Base):
    """An innovation method of the shared catalogue, or a city's local method mapped to one."""

    __tablename__ = "method"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    #: The shared catalogue key comparisons group by (its own key for a shared method).
    shared_key: Mapped[str] = mapped_column(String(80), index=True)
    #: Set for a city's local method; None for the shared catalogue.
    city_id: Mapped[int | None] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    name: Mapped[dict[str, Any]] = mapped_column(default=dict)
    description: Mapped[dict[str, Any]] = mapped_column(default=dict)
    category: Mapped[str] = mapped_column(String(40), default="design")
    phases: Mapped[list[Any]] = mapped_column(default=list)
    guide_steps: Mapped[list[Any]] = mapped_column(default=list)
    reference: Mapped[str | None] = mapped_column(String(500))
    #: The plugin that contributed it (or "city:<slug>" for a local method).
    source: Mapped[str] = mapped_column(String(80), default="")


class Idea(Base):
    __tablename__ = "idea"
    __table_args__ = (
        Index("ix_idea_city_phase", "city_id", "phase"),
        Index("ix_idea_city_submitted", "city_id", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(600), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    origin_channel: Mapped[OriginChannel] = mapped_column(
        enum_column(OriginChannel), default=OriginChannel.web
    )
    initiator_kind: Mapped[InitiatorKind] = mapped_column(
        enum_column(InitiatorKind), default=InitiatorKind.citizen
    )
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"))
    #: The canonical phase of the current stage, kept beside it so comparisons need no join.
    phase: Mapped[Phase] = mapped_column(enum_column(Phase))
    owner_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    submitter_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    facet: Mapped[InnovationFacet | None] = mapped_column(enum_column(InnovationFacet))
    value_dimensions: Mapped[list[Any]] = mapped_column(default=list)
    #: The idea (possibly of a sibling city) this one was adopted from: diffusion between platforms.
    reused_from_reference: Mapped[str | None] = mapped_column(String(32), index=True)
    visibility: Mapped[Visibility] = mapped_column(
        enum_column(Visibility), default=Visibility.public
    )
    is_synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}

    city: Mapped[City] = relationship()
    stage: Mapped[Stage] = relationship()
    owner_organisation: Mapped[Organisation | None] = relationship()
    submitter: Mapped[Person | None] = relationship()
    focus_areas: Mapped[list[FocusArea]] = relationship(
        secondary="idea_focus_area", order_by="FocusArea.position"
    )
    sdg_links: Mapped[list[IdeaSdg]] = relationship(
        cascade="all, delete-orphan", order_by="IdeaSdg.sdg"
    )
    transitions: Mapped[list[StageTransition]] = relationship(
        back_populates="idea", order_by="StageTransition.at, StageTransition.id"
    )
    participations: Mapped[list[Participation]] = relationship(back_populates="idea")
    method_applications: Mapped[list[MethodApplication]] = relationship(
        back_populates="idea", order_by="MethodApplication.id"
    )

    @property
    def sdgs(self) -> list[int]:
        return [link.sdg for link in self.sdg_links]


class IdeaReferenceCounter(Base):
    """The last idea number given out per city and year, so simultaneous submissions never collide.

    Taken with one atomic ``INSERT … ON CONFLICT … DO UPDATE … RETURNING``: the row is locked
    until the submitting transaction ends, and a rolled-back submission gives its number back.
    """

    __tablename__ = "idea_reference_counter"

    city_id: Mapped[int] = mapped_column(
        ForeignKey("city.id", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class IdeaFocusArea(Base):
    __tablename__ = "idea_focus_area"

    idea_id: Mapped[int] = mapped_column(
        ForeignKey("idea.id", ondelete="CASCADE"), primary_key=True
    )
    focus_area_id: Mapped[int] = mapped_column(
        ForeignKey("focus_area.id", ondelete="CASCADE"), primary_key=True
    )


class IdeaSdg(Base):
    __tablename__ = "idea_sdg"

    idea_id: Mapped[int] = mapped_column(
        ForeignKey("idea.id", ondelete="CASCADE"), primary_key=True
    )
    sdg: Mapped[int] = mapped_column(Integer, primary_key=True)


class StageTransition(Base):
    """One move of an idea between stages: the event log every funnel metric derives from."""

    __tablename__ = "stage_transition"
    __table_args__ = (Index("ix_stage_transition_idea_at", "idea_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.id", ondelete="CASCADE"))
    from_stage_id: Mapped[int | None] = mapped_column(ForeignKey("stage.id"))
    to_stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"))
    from_phase: Mapped[Phase | None] = mapped_column(enum_column(Phase))
    to_phase: Mapped[Phase] = mapped_column(enum_column(Phase))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")

    idea: Mapped[Idea] = relationship(back_populates="transitions")
    from_stage: Mapped[Stage | None] = relationship(foreign_keys=[from_stage_id])
    to_stage: Mapped[Stage] = relationship(foreign_keys=[to_stage_id])


class Participation(Base):
    """An organisation taking part in an idea: cross-boundary collaboration."""

    __tablename__ = "participation"
    __table_args__ = (UniqueConstraint("idea_id", "organisation_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[ParticipationRole] = mapped_column(enum_column(ParticipationRole))

    idea: Mapped[Idea] = relationship(back_populates="participations")
    organisation: Mapped[Organisation] = relationship()


class MethodApplication(Base):
    """A practice: one method applied to one idea, and what came of it. The unit platforms compare."""

    __tablename__ = "method_application"
    __table_args__ = (Index("ix_method_application_method_idea", "method_id", "idea_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.id", ondelete="CASCADE"), index=True)
    method_id: Mapped[int] = mapped_column(ForeignKey("method.id"))
    started_on: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    facilitator_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    outcome: Mapped[Outcome] = mapped_column(enum_column(Outcome), default=Outcome.planned)
    outcome_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    idea: Mapped[Idea] = relationship(back_populates="method_applications")
    method: Mapped[Method] = relationship()
    facilitator: Mapped[Organisation | None] = relationship()
    organisations: Mapped[list[Organisation]] = relationship(
        secondary="method_application_organisation"
    )


class MethodApplicationOrganisation(Base):
    __tablename__ = "method_application_organisation"

    method_application_id: Mapped[int] = mapped_column(
        ForeignKey("method_application.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True
    )


class AuditEvent(Base):
    """Who changed what, when: before and after, for every change."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int | None] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(60))
    actor: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Account(Base):
    """A staff account that signs in to the working group's pages."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: Increased on signing out and on a password change: every older session stops working.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    roles: Mapped[list[CityRole]] = relationship(
        back_populates="account", cascade="all, delete-orphan"
    )


class CityRole(Base):
    __tablename__ = "city_role"
    __table_args__ = (UniqueConstraint("account_id", "city_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    city_id: Mapped[int] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(enum_column(Role))

    account: Mapped[Account] = relationship(back_populates="roles")
    city: Mapped[City] = relationship()


class Localized(NamedTuple):
    """A text by language as shown: the text and the language it is in (None when empty)."""

    text: str
    lang: str | None


def localized_in(
    values: dict[str, Any] | None, locale: str | None, default_locale: str = "sv"
) -> Localized:
    """The one rule for every text a city (or a plugin's settings) gives by language.

    The page's (or reader's) ``locale``, then the city's ``default_locale``, then Swedish,
    then English, then the first language given. The language it returns lets a page mark
    a text that fell back to another language (``lang``), so it is read out right.
    """
    if not values:
        return Localized("", None)
    for candidate in (locale, default_locale, "sv", "en"):
        if candidate and values.get(candidate):
            return Localized(str(values[candidate]), candidate)
    for language, text in values.items():
        if text:
            return Localized(str(text), str(language))
    return Localized("", None)


def localized(values: dict[str, Any] | None, locale: str | None, default_locale: str = "sv") -> str:
    """The text ``localized_in`` picks, without its language."""
    return localized_in(values, locale, default_locale).text


class SigningKey(Base):
    """A city's Ed25519 key pair, which signs its exchange bundles (docs/exchange.md).

    Made by ``innoplat init``; the private key never leaves the database: neither bundles nor
    any page nor any command print it. Siblings pin the public key when they add the city as a peer.
    """

    __tablename__ = "signing_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"), unique=True)
    #: Raw 32-byte keys, base64 encoded.
    private_key: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Peer(Base):
    """A sibling instance this one keeps in sync with: its exchange endpoint and its pinned key."""

    __tablename__ = "peer"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The sibling's ``/api/v1/exchange`` endpoint.
    url: Mapped[str] = mapped_column(String(500), unique=True)
    #: The city the sibling's key names (the slug its bundles carry).
    city_slug: Mapped[str] = mapped_column(String(40), unique=True)
    #: The Ed25519 public key pinned when the peer was added (base64); null: unsigned allowed.
    public_key: Mapped[str | None] = mapped_column(String(64))
    etag: Mapped[str | None] = mapped_column(String(200))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    synced_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: One line: what the last sync did (imported, updated, unchanged) or why it failed.
    last_result: Mapped[str | None] = mapped_column(String(500))
    #: The sibling serves partial bundles (``/api/v1/exchange?since=``): sync asks for changes.
    changes_since: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), nullable=False
    )


#: What hangs on an idea: a change to one of these is a change to the idea.
_IDEA_PARTS = (StageTransition, Participation, MethodApplication, IdeaSdg, IdeaFocusArea)
#: ``Session.info`` keys: the ideas created, and the ideas changed, in the session's current
#: transaction.
_CREATED = "innoplat.ideas_created"
_CHANGED = "innoplat.ideas_changed"


@event.listens_for(Session, "after_flush")
def _touch_changed_ideas(session: Session, flush_context: UOWTransaction) -> None:
    """``Idea.updated_at`` is the moment the idea *or anything hanging on it* last changed.

    An edit of the idea's own row sets it (``onupdate``); this sets it when its history,
    method applications (and their organisations), participations, SDGs or focus areas were
    written through the ORM, whichever service did it, so a sibling asking for what changed
    since a moment (``/api/v1/exchange?since=``) learns of it. The optimistic-locking
    ``version`` is left alone: adding a participation does not make a colleague's open edit
    form stale. An idea created in the same transaction keeps the time its service gave it
    (a submission dated in the past), and bulk writes (an imported peer, the demo generator)
    set the time themselves. The changed ideas are stamped again when the transaction
    commits (:func:`_stamp_changed_ideas_at_commit`).
    """
    created: set[int] = session.info.setdefault(_CREATED, set())
    created.update(o.id for o in session.new if isinstance(o, Idea) and o.id is not None)
    touched: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, _IDEA_PARTS):
            idea_id = obj.idea_id
        elif isinstance(obj, Idea) and obj not in session.new and obj not in session.deleted:
            idea_id = obj.id  # e.g. only its focus areas (a secondary table) changed
        else:
            continue
        if idea_id is not None and idea_id not in created:
            touched.add(idea_id)
    if touched:
        session.info.setdefault(_CHANGED, set()).update(touched)
        _stamp(session, touched)


@event.listens_for(Session, "before_commit")
def _stamp_changed_ideas_at_commit(session: Session) -> None:
    """The ideas a transaction changed carry the moment it commits, not the moment it wrote.

    A sibling asks for what changed since its copy's moment less ``peers.OVERLAP``: a change
    written early in a transaction that another writer's later change overtakes (PostgreSQL
    lets both run) would otherwise carry a moment before that, and be missed by every later
    partial pull once the transaction stayed open longer than the overlap.
    """
    session.flush()  # what is still pending is stamped by this flush
    changed = session.info.get(_CHANGED)
    if changed:
        _stamp(session, changed)


def _stamp(session: Session, idea_ids: set[int]) -> None:
    now = utcnow()
    table = cast(Table, Idea.__table__)
    ordered = sorted(idea_ids)
    for start in range(0, len(ordered), 900):  # within SQLite's bound on parameters
        session.connection().execute(
            update(table).where(table.c.id.in_(ordered[start : start + 900])).values(updated_at=now)
        )
    for idea_id in idea_ids:
        idea = session.identity_map.get(identity_key(Idea, idea_id))
        if idea is not None:
            set_committed_value(idea, "updated_at", now)


@event.listens_for(Session, "after_transaction_end")
def _forget_created_ideas(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_CREATED, None)
        session.info.pop(_CHANGED, None)


class _IdeaFactColumns:
    """What the comparison and the evidence need of one idea, worked out once on every write.

    ``core/services/facts.py`` keeps these rows current; nothing else writes them.
    """

    city_id: Mapped[int] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    visibility: Mapped[Visibility] = mapped_column(enum_column(Visibility))
    submitted_at: Mapped[datetime] = mapped_column(DateTime)
    #: The submission's calendar year (a stratum of the adjusted risk ratio).
    year: Mapped[int] = mapped_column(Integer)
    #: The position of the idea's first focus area in its city's order; -1: none.
    focus: Mapped[int] = mapped_column(Integer)
    #: The first transition into implemented or scaled, and into closed.
    implemented_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: Days (fractional) from submission to ``implemented_at``.
    days_to_implemented: Mapped[float | None] = mapped_column(Float)
    #: Completed days from submission to ``implemented_at`` and to ``closed_at``.
    implemented_day: Mapped[int | None] = mapped_column(Integer)
    closed_day: Mapped[int | None] = mapped_column(Integer)
    #: Days spent in pilot over the stays that have ended; None: no ended stay.
    pilot_days: Mapped[float | None] = mapped_column(Float)
    #: Distinct kinds of participating organisation.
    kinds: Mapped[int] = mapped_column(Integer)
    #: 1 when at least two different organisations take part, else 0.
    crossing: Mapped[int] = mapped_column(Integer)


class IdeaFact(_IdeaFactColumns, Base):
    """One row per idea: its facts for the figures (a derived table, see ``_IdeaFactColumns``)."""

    __tablename__ = "idea_fact"
    __table_args__ = (
        Index("ix_idea_fact_city_id", "city_id"),
        Index("ix_idea_fact_city_year", "city_id", "year"),
    )

    idea_id: Mapped[int] = mapped_column(
        ForeignKey("idea.id", ondelete="CASCADE"), primary_key=True
    )


class IdeaMethodFact(_IdeaFactColumns, Base):
    """One row per idea and shared method key applied to it, with the idea's facts beside."""

    __tablename__ = "idea_method_fact"
    __table_args__ = (Index("ix_idea_method_fact_city_method", "city_id", "method"),)

    idea_id: Mapped[int] = mapped_column(
        ForeignKey("idea.id", ondelete="CASCADE"), primary_key=True
    )
    method: Mapped[str] = mapped_column(String(80), primary_key=True)


class FactsVersion(Base):
    """A token that changes whenever a city's facts do: cached figures of the city are valid
    while it stays the same (``core/services/facts.py``)."""

    __tablename__ = "facts_version"

    city_id: Mapped[int] = mapped_column(
        ForeignKey("city.id", ondelete="CASCADE"), primary_key=True
    )
    token: Mapped[str] = mapped_column(String(32))


class FactsYearVersion(Base):
    """A token per city and submission year that changes whenever the facts of the city's
    ideas submitted that year do: figures counted per year are valid while it stays the same.
    Every year the city has facts for has one (``core/services/facts.py``)."""

    __tablename__ = "facts_year_version"

    city_id: Mapped[int] = mapped_column(
        ForeignKey("city.id", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    token: Mapped[str] = mapped_column(String(32))


class StoredFigures(Base):
    """A city's counts for one kind of figure, as last computed from its facts: any worker
    (or a command) reads them instead of counting again while the city's facts version token
    (for counts of one submission year, that year's token) is the one stored beside them
    (``core/services/facts.py``, ``per_city``)."""

    __tablename__ = "stored_figures"

    city_id: Mapped[int] = mapped_column(
        ForeignKey("city.id", ondelete="CASCADE"), primary_key=True
    )
    #: SHA-256 (hex) of the figures' parameters (and part).
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
    #: For figures counted per submission year, the year; None for the whole city.
    part: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: The counts as JSON.
    payload: Mapped[str] = mapped_column(Text)

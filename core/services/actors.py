"""Actors: organisations, the people in them, and their participation in ideas."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import db, validation
from ..errors import NotFound, ValidationError
from ..models import (
    City,
    Idea,
    Membership,
    Organisation,
    OrganisationKind,
    Participation,
    ParticipationRole,
    Person,
    utcnow,
)
from . import audit
from . import consent as consent_texts
from .ideas import _enum_value, _writable

#: Organisation keys appear in web addresses.
KEY_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]*")


def list_organisations(
    session: Session, city: City, *, kind: str | None = None
) -> list[Organisation]:
    query = select(Organisation).where(Organisation.city_id == city.id)
    if kind:
        query = query.where(Organisation.kind == _enum_value(OrganisationKind, kind, "kind"))
    return list(session.scalars(query.order_by(Organisation.name)))


def get_organisation(session: Session, city: City, key: str) -> Organisation:
    org = session.scalar(
        select(Organisation).where(Organisation.city_id == city.id, Organisation.key == key)
    )
    if org is None:
        raise NotFound(f"no organisation {key!r} in {city.slug} (see: innoplat actors list)")
    return org


def add_organisation(
    session: Session,
    city: City,
    *,
    key: str,
    name: str,
    kind: str | OrganisationKind,
    parent: str | None = None,
    website: str | None = None,
    actor: str | None = None,
) -> Organisation:
    _writable(city)
    key = validation.text(key, "key", column=Organisation.key, required=True).lower()
    if not KEY_PATTERN.fullmatch(key):
        raise ValidationError("key", "use lower-case letters, digits, '-' or '_'")
    name = validation.text(name, "name", column=Organisation.name, required=True)
    website = validation.url(website, "website", column=Organisation.website)
    if session.scalar(
        select(Organisation.id).where(Organisation.city_id == city.id, Organisation.key == key)
    ):
        raise ValidationError("key", f"{key!r} is already an organisation of {city.slug}")
    org = Organisation(
        city_id=city.id,
        key=key,
        name=name,
        kind=_enum_value(OrganisationKind, kind, "kind"),
        parent_id=get_organisation(session, city, parent).id if parent else None,
        website=website,
    )
    try:
        with session.begin_nested():  # someone may create the same key at the same moment
            session.add(org)
    except IntegrityError as error:
        if not db.is_unique_violation(error):
            raise
        raise ValidationError("key", f"{key!r} is already an organisation of {city.slug}") from None
    audit.record_for(
        session,
        org,
        "created",
        actor=actor,
        after={"key": org.key, "name": org.name, "kind": org.kind.value},
    )
    return org


def add_participation(
    session: Session,
    idea: Idea,
    organisation_key: str,
    role: str | ParticipationRole,
    *,
    actor: str | None = None,
) -> Participation:
    """Record that an organisation takes part in an idea in a role (owner, partner, funder, user, expert)."""
    _writable(idea.city)
    org = get_organisation(session, idea.city, organisation_key)
    role_value = _enum_value(ParticipationRole, role, "role")
    exists = session.scalar(
        select(Participation).where(
            Participation.idea_id == idea.id,
            Participation.organisation_id == org.id,
            Participation.role == role_value,
        )
    )
    if exists:
        raise ValidationError(
            "organisation", f"{org.name} already takes part as {role_value.value}"
        )
    participation = Participation(idea_id=idea.id, organisation_id=org.id, role=role_value)
    try:
        # A savepoint: a lost race must leave the transaction usable for the error page.
        with session.begin_nested():
            session.add(participation)
    except IntegrityError:
        raise ValidationError(
            "organisation", f"{org.name} already takes part as {role_value.value}"
        ) from None
    audit.record_for(
        session,
        idea,
        "participation_added",
        actor=actor,
        after={"organisation": org.key, "role": role_value.value},
    )
    return participation


def remove_participation(
    session: Session, participation: Participation, *, actor: str | None = None
) -> None:
    idea = participation.idea
    _writable(idea.city)
    before = {"organisation": participation.organisation.key, "role": participation.role.value}
    session.delete(participation)
    session.flush()
    audit.record_for(session, idea, "participation_removed", actor=actor, before=before)


def add_person(
    session: Session,
    city: City,
    *,
    name: str,
    email: str | None = None,
    consent: bool,
    actor: str | None = None,
) -> Person:
    """Register a person; personal data is stored only with consent."""
    _writable(city)
    if not consent:
        raise ValidationError(
            "consent", "storing a person's name or e-mail address needs their consent"
        )
    person = Person(
        city_id=city.id,
        name=validation.text(name, "name", column=Person.name, required=True),
        email=validation.email(email),
        consent_at=utcnow(),
        consent_version=consent_texts.REGISTERED_BY_STAFF.version,
    )
    session.add(person)
    session.flush()
    audit.record_for(session, person, "created", actor=actor)
    return person


def add_membership(
    session: Session,
    person: Person,
    organisation: Organisation,
    role: str,
    *,
    start_date: date | None = None,
    end_date: date | None = None,
    actor: str | None = None,
) -> Membership:
    """A person's role in an organisation, e.g. member of the platform's working group."""
    role = validation.text(role, "role", column=Membership.role, required=True)
    if start_date and end_date and end_date < start_date:
        raise ValidationError("end_date", "ends before it starts")
    membership = Membership(
        person_id=person.id,
        organisation_id=organisation.id,
        role=role,
        start_date=start_date,
        end_date=end_date,
    )
    session.add(membership)
    session.flush()
    audit.record_for(
        session,
        membership,
        "created",
        actor=actor,
        after={"person": person.id, "organisation": organisation.key, "role": membership.role},
    )
    return membership


def memberships(session: Session, organisation: Organisation) -> list[Membership]:
    return list(
        session.scalars(select(Membership).where(Membership.organisation_id == organisation.id))
    )


def list_people(session: Session, city: City) -> list[Person]:
    """The city's registered people who have not been anonymised."""
    return list(
        session.scalars(
            select(Person)
            .where(
                Person.city_id == city.id, Person.anonymised_at.is_(None), Person.name.is_not(None)
            )
            .order_by(Person.name)
        )
    )


def get_person(session: Session, city: City, person_id: int) -> Person:
    return db.get_owned(
        session, Person, person_id, f"no person {person_id} in {city.slug}", city_id=city.id
    )


def get_participation(session: Session, idea: Idea, participation_id: int) -> Participation:
    missing = f"{idea.reference} has no participation {participation_id}"
    return db.get_owned(session, Participation, participation_id, missing, idea_id=idea.id)


def remove_membership(
    session: Session, membership: Membership, *, actor: str | None = None
) -> None:
    organisation = membership.organisation
    before = {
        "person": membership.person_id,
        "organisation": organisation.key,
        "role": membership.role,
    }
    session.delete(membership)
    session.flush()
    audit.record_for(session, membership, "removed", actor=actor, before=before)


def get_membership(session: Session, organisation: Organisation, membership_id: int) -> Membership:
    missing = f"{organisation.name} has no membership {membership_id}"
    return db.get_owned(
        session, Membership, membership_id, missing, organisation_id=organisation.id
    )

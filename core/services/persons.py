"""Data subjects' rights (GDPR Art. 15 and 17): everything stored about a person, exported or erased.

A person is found by e-mail address. Core and every installed plugin take part through the
hooks ``innoplat_export_personal_data`` and ``innoplat_erase_personal_data``: the export is
one JSON-ready document, the erasure removes or anonymises the person everywhere while the
ideas they gave stay, attributed anonymously. What is kept only for a while expires through
``expire_personal_data``: core's submitters' contact details and each plugin's
``innoplat_expire_personal_data``.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from ..errors import PluginError, ValidationError
from ..models import (
    Account,
    AuditEvent,
    City,
    CityRole,
    Idea,
    Membership,
    Person,
    Phase,
    StageTransition,
    utcnow,
)
from ..plugins import Hooks, all_plugins_manager, hooks_of, new_manager
from . import audit, consent
from .serialisation import idea as serialise_idea
from .serialisation import plain, timestamp

#: What replaces a name or an address wherever a record stays (ideas, audit trail, comments).
ANONYMISED = "anonymised"
#: What replaces an e-mail address found inside free text (an idea's description, a comment).
ANONYMISED_IN_TEXT = "[anonymised]"
EMAIL_MAX = 254


@dataclass(frozen=True)
class DataSubject:
    """The person a request is about, as every part of the platform may recognise them.

    :ivar email: the address, trimmed and lower-cased.
    :ivar names: names the person is known by here (given with the request, and found on
        their submitter records and staff account), for records that hold a name only.
    :ivar account_ids: ids of the staff accounts with this address that have a role in the city.
    :ivar person_ids: ids of the city's person records with this address.
    :ivar secret: the instance secret (``INNOPLAT_SECRET_KEY``), for keyed hashes of the address.
    """

    email: str
    names: tuple[str, ...] = ()
    account_ids: tuple[int, ...] = ()
    person_ids: tuple[int, ...] = ()
    secret: str | None = field(default=None, repr=False)

    def mentions(self, text: str | None) -> bool:
        """Whether a short value (an actor, a signature) names this person."""
        if not text:
            return False
        value = text.strip().lower()
        return self.email in value or any(value == n.lower() for n in self.names)

    def scrub(self, text: str) -> str:
        """Free text with every occurrence of the address replaced (names are left: too ambiguous)."""
        if self.email not in text.lower():
            return text
        out, lowered, start = [], text.lower(), 0
        while (at := lowered.find(self.email, start)) != -1:
            out += [text[start:at], ANONYMISED_IN_TEXT]
            start = at + len(self.email)
        return "".join(out) + text[start:]

    def signed(self, column: Any) -> Any:
        """SQL: the column holds one of the person's names, in any case (a signature)."""
        return or_(
            func.lower(column).in_([name.lower() for name in self.names]),
            # SQLite lower-cases ASCII only: a name as typed matches "Åsa Lind" too.
            column.in_(list(self.names)),
        )

    def address_in(self, column: Any) -> Any:
        """SQL: the column's text holds the person's address, in any case."""
        return func.lower(column).contains(self.email, autoescape=True)

    def keyed_hash(self, purpose: str) -> str:
        """HMAC-SHA256 of the address under the instance secret, separated by purpose."""
        if not self.secret:
            raise ValidationError(
                "secret", "the instance secret (INNOPLAT_SECRET_KEY) is needed for this request"
            )
        return hmac.new(
            self.secret.encode(), f"{purpose}:{self.email}".encode(), hashlib.sha256
        ).hexdigest()


def data_subject(
    email: str, *, names: tuple[str, ...] = (), secret: str | None = None
) -> DataSubject:
    """A request's subject from what staff typed; ValidationError naming the field if it is unusable."""
    address = (email or "").strip().lower()
    if (
        not address
        or len(address) > EMAIL_MAX
        or address.count("@") != 1
        or address.startswith("@")
        or address.endswith("@")
        or any(c.isspace() or ord(c) < 32 for c in address)
    ):
        raise ValidationError("email", f"{email!r} is not an e-mail address")
    clean = tuple(n.strip() for n in names if n and n.strip())
    return DataSubject(email=address, names=clean, secret=secret)


# --------------------------------------------------------------------------- finding the person


def _persons(session: Session, city: City, subject: DataSubject) -> list[Person]:
    return list(
        session.scalars(
            select(Person)
            .where(Person.city_id == city.id, func.lower(Person.email) == subject.email)
            .order_by(Person.id)
        )
    )


def _accounts(session: Session, city: City, subject: DataSubject) -> list[Account]:
    return list(
        session.scalars(
            select(Account)
            .join(CityRole, CityRole.account_id == Account.id)
            .where(CityRole.city_id == city.id, func.lower(Account.email) == subject.email)
        )
    )


def identify(session: Session, city: City, subject: DataSubject) -> DataSubject:
    """The subject with the names and ids the city's own records know them by."""
    persons = _persons(session, city, subject)
    accounts = _accounts(session, city, subject)
    names = list(subject.names)
    for name in [p.name for p in persons] + [a.name for a in accounts]:
        if name and name not in names:
            names.append(name)
    return replace(
        subject,
        names=tuple(names),
        person_ids=tuple(p.id for p in persons),
        account_ids=tuple(a.id for a in accounts),
    )


def personal_data_hooks(session: Session) -> Hooks:
    """The city's plugins and every other installed one: a disabled plugin's rows still count."""
    city_manager = hooks_of(session).manager
    manager = new_manager()
    installed = all_plugins_manager()
    registered: set[str] = set()
    sources = [city_manager, installed] if city_manager is not None else [installed]
    for source in sources:
        for name, plugin in source.list_name_plugin():
            if name in registered or plugin is None or manager.is_registered(plugin):
                continue
            manager.register(plugin, name=name)
            registered.add(name)
    return Hooks(manager)


# --------------------------------------------------------------------------- access (Art. 15)


def export_personal_data(
    session: Session, city: City, subject: DataSubject, *, actor: str | None = None
) -> dict[str, Any]:
    """Everything the platform stores about the person in this city, as one JSON-ready document.

    Times in it, the plugins' sections included, are written as everywhere else (UTC, ``Z``).
    """
    subject = identify(session, city, subject)
    document: dict[str, Any] = {
        "email": subject.email,
        "city": city.slug,
        "exported_at": timestamp(utcnow()),
        "persons": [_person_export(session, p) for p in _persons(session, city, subject)],
        "accounts": [_account_export(a, city) for a in _accounts(session, city, subject)],
        "audit_trail": _audit_mentions(session, city, subject),
        "plugins": {},
    }
    for result in personal_data_hooks(session).innoplat_export_personal_data(
        session=session, city=city, subject=subject
    ):
        for section, data in (result or {}).items():
            if section in document["plugins"]:
                raise PluginError(section, "two plugins export the same section")
            document["plugins"][section] = data
    _record(session, city, subject, "exported", actor=actor)
    return plain(document)


def _person_export(session: Session, person: Person) -> dict[str, Any]:
    ideas = session.scalars(select(Idea).where(Idea.submitter_id == person.id).order_by(Idea.id))
    memberships = session.scalars(select(Membership).where(Membership.person_id == person.id))
    return {
        "name": person.name,
        "email": person.email,
        "locale": person.locale,
        "registered_at": person.created_at,
        "consent": consent.describe(person.consent_version, person.consent_at, person.locale),
        "ideas_submitted": [
            serialise_idea(i, ("reference", "title", "submitted_at")) for i in ideas
        ],
        "memberships": [
            {
                "organisation": m.organisation.name,
                "role": m.role,
                "start_date": m.start_date,
                "end_date": m.end_date,
            }
            for m in memberships
        ],
    }


def _account_export(account: Account, city: City) -> dict[str, Any]:
    return {
        "name": account.name,
        "email": account.email,
        "locale": account.locale,
        "active": account.active,
        "created_at": account.created_at,
        "role": next((r.role.value for r in account.roles if r.city_id == city.id), None),
    }


def _mentioning(column: Any, subject: DataSubject) -> Any:
    """SQL: the column's text holds the address, equals one of the names or starts with one
    (``Name <address>``)."""
    text = cast(column, String)
    return or_(
        subject.address_in(text),
        subject.signed(text),
        *(
            func.lower(text).startswith(f"{name.lower()} <", autoescape=True)
            for name in subject.names
        ),
    )


def _audit_events(session: Session, city: City, subject: DataSubject) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.city_id == city.id,
                or_(
                    _mentioning(AuditEvent.actor, subject),
                    _mentioning(AuditEvent.before, subject),
                    _mentioning(AuditEvent.after, subject),
                ),
            )
            .order_by(AuditEvent.at, AuditEvent.id)
        )
    )


def _audit_mentions(session: Session, city: City, subject: DataSubject) -> list[dict[str, Any]]:
    return [
        {
            "at": e.at,
            "entity": e.entity_type,
            "action": e.action,
            "actor": e.actor,
            "before": e.before,
            "after": e.after,
        }
        for e in _audit_events(session, city, subject)
    ]


# --------------------------------------------------------------------------- erasure (Art. 17)


def erase_personal_data(
    session: Session, city: City, subject: DataSubject, *, actor: str | None = None
) -> dict[str, int]:
    """Remove or anonymise the person everywhere in this city; returns what was changed, by kind.

    Ideas, comments and the audit trail stay, with the person replaced by "anonymised";
    the plugins erase their own rows first, while the person's records still identify them.
    """
    subject = identify(session, city, subject)
    counts: dict[str, int] = {}
    for result in personal_data_hooks(session).innoplat_erase_personal_data(
        session=session, city=city, subject=subject
    ):
        for kind, n in (result or {}).items():
            counts[kind] = counts.get(kind, 0) + int(n)
    now = utcnow()
    for person in _persons(session, city, subject):
        person.name = None
        person.email = None
        person.locale = None
        person.anonymised_at = now
        counts["persons"] = counts.get("persons", 0) + 1
    for account in _accounts(session, city, subject):
        account.roles = [r for r in account.roles if r.city_id != city.id]
        if not account.roles:  # a role in another city keeps the account for that city
            account.email = f"{ANONYMISED}-{account.id}@invalid"
            account.name = ANONYMISED
            account.password_hash = "!"  # never matches: the account cannot sign in
            account.locale = None
            account.active = False
        counts["accounts"] = counts.get("accounts", 0) + 1
    counts["ideas"] = _scrub_ideas(session, city, subject)
    counts["stage_transitions"] = _anonymise_transitions(session, city, subject)
    counts["audit_events"] = _anonymise_audit(session, city, subject)
    session.flush()
    _record(session, city, subject, "erased", actor=actor, changed=dict(sorted(counts.items())))
    return {kind: n for kind, n in sorted(counts.items()) if n}


def _scrub_ideas(session: Session, city: City, subject: DataSubject) -> int:
    """An address written into an idea's text goes; the idea stays."""
    changed = 0
    ideas = session.scalars(
        select(Idea).where(
            Idea.city_id == city.id,
            or_(
                *(
                    func.lower(column).contains(subject.email, autoescape=True)
                    for column in (Idea.title, Idea.summary, Idea.description)
                )
            ),
        )
    )
    for idea in ideas:
        idea.title = subject.scrub(idea.title)
        idea.summary = subject.scrub(idea.summary)
        idea.description = subject.scrub(idea.description)
        changed += 1
    return changed


def _anonymise_transitions(session: Session, city: City, subject: DataSubject) -> int:
    transitions = session.scalars(
        select(StageTransition)
        .join(Idea, Idea.id == StageTransition.idea_id)
        .where(
            Idea.city_id == city.id,
            or_(
                _mentioning(StageTransition.actor, subject),
                func.lower(StageTransition.note).contains(subject.email, autoescape=True),
            ),
        )
    )
    changed = 0
    for transition in transitions:
        if subject.mentions(transition.actor):
            transition.actor = ANONYMISED
        transition.note = subject.scrub(transition.note or "")
        changed += 1
    return changed


def _anonymise_audit(session: Session, city: City, subject: DataSubject) -> int:
    events = _audit_events(session, city, subject)
    for event in events:
        if subject.mentions(event.actor):
            event.actor = ANONYMISED
        event.before = _anonymised_json(event.before, subject)
        event.after = _anonymised_json(event.after, subject)
    return len(events)


def _anonymised_json(value: Any, subject: DataSubject) -> Any:
    if isinstance(value, dict):
        return {k: _anonymised_json(v, subject) for k, v in value.items()}
    if isinstance(value, list):
        return [_anonymised_json(v, subject) for v in value]
    if isinstance(value, str):
        return ANONYMISED if subject.mentions(value) and len(value) <= 300 else subject.scrub(value)
    return value


def _pseudonym(subject: DataSubject) -> str:
    """How the audit trail names a request's subject: provable later, unreadable now."""
    if not subject.secret:
        return "unkeyed"
    return "hmac-sha256:" + subject.keyed_hash("audit")[:32]


def _record(
    session: Session,
    city: City,
    subject: DataSubject,
    action: str,
    *,
    actor: str | None,
    **details: Any,
) -> None:
    """A data subject's request in the audit trail, naming the subject by pseudonym only."""
    audit.record(
        session,
        city_id=city.id,
        entity_type="data_subject",
        entity_id=None,
        action=action,
        actor=actor,
        after={"subject": _pseudonym(subject), **details},
    )


# --------------------------------------------------------------------------- retention


def expire_contact_details(
    session: Session, city: City, *, retention_days: int, now: datetime | None = None
) -> int:
    """Remove submitters' names and addresses once their idea has been closed for the period.

    The idea stays, attributed anonymously; a submitter with another idea still open keeps
    their details until that one is closed long enough too. Returns how many were removed.
    """
    now = now or utcnow()
    cutoff = now - timedelta(days=retention_days)
    closed_at = (
        select(StageTransition.idea_id, func.max(StageTransition.at).label("at"))
        .where(StageTransition.to_phase == Phase.closed)
        .group_by(StageTransition.idea_id)
        .subquery()
    )
    candidates = session.scalars(
        select(Person)
        .join(Idea, Idea.submitter_id == Person.id)
        .outerjoin(closed_at, closed_at.c.idea_id == Idea.id)
        .where(
            Idea.city_id == city.id,
            Idea.phase == Phase.closed,
            func.coalesce(closed_at.c.at, Idea.updated_at) <= cutoff,
            Person.anonymised_at.is_(None),
            or_(Person.email.is_not(None), Person.name.is_not(None)),
        )
        .distinct()
    )
    expired = 0
    for person in list(candidates):
        still_open = session.scalar(
            select(func.count())
            .select_from(Idea)
            .outerjoin(closed_at, closed_at.c.idea_id == Idea.id)
            .where(
                Idea.submitter_id == person.id,
                or_(
                    Idea.phase != Phase.closed,
                    func.coalesce(closed_at.c.at, Idea.updated_at) > cutoff,
                ),
            )
        )
        if still_open:
            continue
        person.name = None
        person.email = None
        person.locale = None
        person.anonymised_at = now
        audit.record_for(
            session,
            person,
            "contact_details_expired",
            actor="retention",
            after={"retention_days": retention_days},
        )
        expired += 1
    session.flush()
    return expired


#: The hook through which each plugin deletes what it keeps only for a while.
EXPIRE_HOOK = "innoplat_expire_personal_data"


@dataclass(frozen=True)
class Expiry:
    """What one run of the retention rules removed in a city.

    :ivar retention_days: the period after which submitters' contact details go.
    :ivar contacts: how many submitters' contact details core removed.
    :ivar plugins: each plugin taking part and how many of its records it removed, in
        precedence order.
    """

    retention_days: int
    contacts: int
    plugins: tuple[tuple[str, int], ...] = ()

    def lines(self) -> list[str]:
        """One line per part: core's contact details first, then each plugin."""
        return [
            f"Removed the contact details of {self.contacts} submitters of ideas closed over "
            f"{self.retention_days} days ago.",
            *(
                f"{name}: {n} expired {'record' if n == 1 else 'records'} removed."
                for name, n in self.plugins
            ),
        ]


def expire_personal_data(
    session: Session, city: City, *, retention_days: int, now: datetime | None = None
) -> Expiry:
    """Every retention rule of the city at once, in the caller's transaction: core's contact
    details (``expire_contact_details``), then each installed plugin's
    ``innoplat_expire_personal_data`` (a disabled plugin's rows still expire).

    :raises PluginError: a plugin failed, naming it; the caller's transaction then keeps nothing.
    """
    now = now or utcnow()
    contacts = expire_contact_details(session, city, retention_days=retention_days, now=now)
    removed = tuple(
        (name, int(result or 0))
        for name, result in personal_data_hooks(session).each(
            EXPIRE_HOOK, session=session, city=city, now=now
        )
    )
    session.flush()
    return Expiry(retention_days=retention_days, contacts=contacts, plugins=removed)

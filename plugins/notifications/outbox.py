"""The outbox: e-mails are written in the transaction of their event and delivered later with retries."""

from __future__ import annotations

import secrets
import smtplib
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from innoplat.core.models import City, Idea, StageTransition, Visibility, utcnow
from innoplat.core.toolkit import get_city, validation

from .messages import N_, message_locale, translate
from .models import Follower, MessageStatus, OutboxMessage

DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_RETRY_DELAY = 60  # seconds before the first retry; doubled after each failure
DEFAULT_KEEP_DAYS = 90  # sent and failed messages (with their addresses) are deleted after this
UNCONFIRMED_DAYS = 7  # a follower who has not confirmed by then is deleted
FOLLOW_CONFIRMATION = "follow_confirmation"


def queue_message(
    session: Session,
    city: City,
    *,
    recipient: str,
    locale: str,
    subject: str,
    body: str,
    kind: str,
    idea: Idea | None = None,
    follower_token: str | None = None,
) -> OutboxMessage:
    """Put an e-mail in the outbox; it is sent only if the surrounding transaction commits."""
    message = OutboxMessage(
        city_id=city.id,
        idea_id=idea.id if idea is not None else None,
        kind=kind,
        recipient=recipient,
        locale=locale,
        subject=subject[:300],
        body=body,
        follower_token=follower_token,
        status=MessageStatus.pending,
        attempts=0,
        next_attempt_at=utcnow(),
        last_error="",
    )
    session.add(message)
    return message


def _normalised_email(email: str) -> str:
    return validation.email(email, required=True) or ""


def follow(
    session: Session, idea: Idea, email: str, *, locale: str, confirmed: bool = False
) -> Follower:
    """Ask to follow an idea by e-mail: nothing is sent to the address until it confirms.

    A confirmation e-mail with a link goes out (double opt-in): anyone can type any address,
    only its owner can confirm. Following again while unconfirmed sends the link again;
    following again when confirmed changes nothing but the language.

    ``confirmed``: the address's owner has already proven it to another plugin (the voting
    plugin's support link, opened): the follower is confirmed at once and no link is sent.
    """
    email = _normalised_email(email)
    existing = session.scalar(
        select(Follower).where(
            Follower.idea_id == idea.id, func.lower(Follower.email) == email.lower()
        )
    )
    if existing is not None:
        existing.locale = locale
        if confirmed:
            confirm_follower(session, existing)
        elif existing.confirmed_at is None:
            queue_follow_confirmation(session, idea, existing)
        return existing
    now = utcnow()
    follower = Follower(
        idea_id=idea.id,
        email=email,
        locale=locale,
        token=secrets.token_urlsafe(32),
        created_at=now,
        confirmed_at=now if confirmed else None,
    )
    session.add(follower)
    session.flush()
    if not confirmed:
        queue_follow_confirmation(session, idea, follower)
    return follower


def queue_follow_confirmation(session: Session, idea: Idea, follower: Follower) -> OutboxMessage:
    """The e-mail asking the address's owner to confirm; the sender adds the link."""
    city = idea.city
    locale = message_locale(follower.locale, city.default_locale)
    values = {"reference": idea.reference, "title": idea.title, "platform": city.label(locale)}
    body = "\n".join(
        [
            translate(locale, "Hello,"),
            "",
            translate(
                locale,
                "Someone (hopefully you) asked to get an e-mail when the idea “%(title)s” (%(reference)s) on %(platform)s changes stage.",
                **values,
            ),
            translate(
                locale,
                "If it was not you, ignore this e-mail: nothing more is sent and your address is deleted within a week.",
            ),
        ]
    )
    return queue_message(
        session,
        city,
        recipient=follower.email,
        locale=locale,
        subject=translate(locale, "Confirm that you follow %(reference)s", **values),
        body=body + "\n",
        kind=FOLLOW_CONFIRMATION,
        idea=idea,
        follower_token=follower.token,
    )


def confirm_follower(session: Session, follower: Follower) -> bool:
    """The address's owner opened the link: from now on it gets the idea's news. Returns new?"""
    if follower.confirmed_at is not None:
        return False
    follower.confirmed_at = utcnow()
    session.flush()
    return True


def purge_unconfirmed(
    session: Session,
    city: City,
    *,
    older_than_days: float = UNCONFIRMED_DAYS,
    now: datetime | None = None,
) -> int:
    """Delete followers who never confirmed: an address nobody vouched for is not kept."""
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    stale = (
        select(Follower.id)
        .join(Idea, Idea.id == Follower.idea_id)
        .where(
            Idea.city_id == city.id, Follower.confirmed_at.is_(None), Follower.created_at < cutoff
        )
    )
    result = session.execute(delete(Follower).where(Follower.id.in_(stale)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def follower_by_token(session: Session, token: str) -> Follower | None:
    if not token or len(token) > 64:
        return None
    return session.scalar(select(Follower).where(Follower.token == token))


def unfollow(session: Session, follower: Follower) -> None:
    """Stop following: the address is deleted (messages already written keep only a dead token)."""
    session.delete(follower)
    session.flush()


def follower_count(session: Session, idea: Idea) -> int:
    """Confirmed followers only: an unconfirmed address may not even belong to anyone."""
    return (
        session.scalar(
            select(func.count()).where(
                Follower.idea_id == idea.id, Follower.confirmed_at.is_not(None)
            )
        )
        or 0
    )


@dataclass(frozen=True)
class Recipient:
    email: str
    locale: str
    reason: str  # "submitter" or "follower": the e-mail says why it was sent
    token: str | None = None  # a follower's, for the "stop following" link


def recipients(session: Session, idea: Idea) -> list[Recipient]:
    """The submitter (only with consent, never after erasure) and the idea's followers, once each."""
    city = idea.city
    found: dict[str, Recipient] = {}
    person = idea.submitter
    if person is not None and person.email and person.consent_at and not person.anonymised_at:
        found[person.email.lower()] = Recipient(
            person.email, message_locale(person.locale, city.default_locale), "submitter"
        )
    followers: Iterable[Follower] = (
        session.scalars(
            select(Follower)
            .where(Follower.idea_id == idea.id, Follower.confirmed_at.is_not(None))
            .order_by(Follower.id)
        )
        if idea.visibility is Visibility.public
        else []
    )
    for follower in followers:
        found.setdefault(
            follower.email.lower(),
            Recipient(
                follower.email,
                message_locale(follower.locale, city.default_locale),
                "follower",
                follower.token,
            ),
        )
    return list(found.values())


def stage_changed_message(
    idea: Idea, transition: StageTransition, locale: str, reason: str
) -> tuple[str, str]:
    """Subject and body of the e-mail telling one recipient that an idea moved."""
    city = idea.city
    values: dict[str, Any] = {
        "reference": idea.reference,
        "title": idea.title,
        "stage": transition.to_stage.label(locale, city.default_locale),
        "from_stage": (
            transition.from_stage.label(locale, city.default_locale)
            if transition.from_stage
            else ""
        ),
        "platform": city.label(locale),
    }
    subject = translate(locale, "%(reference)s is now in the stage “%(stage)s”", **values)
    lines = [
        translate(locale, "Hello,"),
        "",
        translate(
            locale,
            "The idea “%(title)s” (%(reference)s) on %(platform)s has moved from “%(from_stage)s” to “%(stage)s”.",
            **values,
        ),
    ]
    # The transition note is internal (it may name people, docs/api.md keeps it out of public
    # data): the e-mail carries only what the idea's public page shows.
    if idea.summary:
        lines += ["", idea.summary]
    why = (
        N_("You receive this e-mail because you submitted the idea and agreed to be contacted.")
        if reason == "submitter"
        else N_("You receive this e-mail because you follow this idea.")
    )
    lines += ["", translate(locale, why), "", translate(locale, "Regards, %(platform)s", **values)]
    return subject, "\n".join(lines) + "\n"


def queue_stage_changed(
    session: Session, idea: Idea, transition: StageTransition
) -> list[OutboxMessage]:
    queued = []
    for recipient in recipients(session, idea):
        subject, body = stage_changed_message(idea, transition, recipient.locale, recipient.reason)
        queued.append(
            queue_message(
                session,
                idea.city,
                recipient=recipient.email,
                locale=recipient.locale,
                subject=subject,
                body=body,
                kind="stage_changed",
                idea=idea,
                follower_token=recipient.token,
            )
        )
    return queued


# --------------------------------------------------------------------------- delivery


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    #: Why the SMTP server could not be reached, when it could not: the rest of the batch waits.
    smtp_down: str | None = None


class SmtpUnavailable(Exception):
    """The server itself cannot be reached or broke off: no message of the batch can go out now."""


def due_message_ids(session: Session, city: City, now: datetime) -> list[int]:
    query = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.city_id == city.id,
            OutboxMessage.status == MessageStatus.pending,
            OutboxMessage.next_attempt_at <= now,
        )
        .order_by(OutboxMessage.id)
    )
    return list(session.scalars(query))


def links_due(session: Session, city: City, now: datetime | None = None) -> bool:
    """Whether a due message carries a follower's link (so the site's address is needed)."""
    found = session.scalar(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.city_id == city.id,
            OutboxMessage.status == MessageStatus.pending,
            OutboxMessage.next_attempt_at <= (now or utcnow()),
            OutboxMessage.follower_token.is_not(None),
        )
        .limit(1)
    )
    return found is not None


def link_footer(message: OutboxMessage, base_url: str | None) -> str:
    """The follower's link, added when sending: built from the site's configured address only."""
    if not message.follower_token or not base_url:
        return ""
    base = base_url.rstrip("/")
    if message.kind == FOLLOW_CONFIRMATION:
        link = f"{base}/notifications/confirm/{message.follower_token}"
        text = translate(message.locale, "To confirm, open: %(link)s", link=link)
    else:
        link = f"{base}/notifications/unfollow/{message.follower_token}"
        text = translate(message.locale, "To stop following this idea, open: %(link)s", link=link)
    return "\n" + text + "\n"


def as_email(message: OutboxMessage, sender: str, base_url: str | None = None) -> EmailMessage:
    """The message as an e-mail; ValueError when a header cannot be written (CR/LF in it)."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    email.set_content(message.body + link_footer(message, base_url))
    email["Content-Language"] = message.locale  # after set_content, which drops Content-* headers
    return email


def record_failure(
    message: OutboxMessage, error: str, now: datetime, *, max_attempts: int, retry_delay: float
) -> None:
    """Count a failed attempt: retry later with exponential backoff, or give up after the last."""
    message.attempts += 1
    message.last_error = error[:2000]
    if message.attempts >= max_attempts:
        message.status = MessageStatus.failed
    else:
        message.next_attempt_at = now + timedelta(seconds=retry_delay * 2 ** (message.attempts - 1))


def record_refusal(message: OutboxMessage, error: str) -> None:
    """A message that can never go out (bad header, recipient refused for good): failed at once."""
    message.attempts += 1
    message.last_error = error[:2000]
    message.status = MessageStatus.failed


def _server_unavailable(exc: BaseException) -> bool:
    """The server cannot be reached or broke off (smtplib's errors are OSErrors too: not those)."""
    if isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError):
        return True
    return isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException)


def _permanent(exc: smtplib.SMTPException) -> bool:
    """A 5xx answer about this message (recipient, sender or content), not about the server."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _text in exc.recipients.values())
    code = getattr(exc, "smtp_code", None)
    return isinstance(code, int) and code >= 500


def deliver(
    transaction: Callable[[], AbstractContextManager[Session]],
    city_slug: str,
    send: Callable[[EmailMessage], None],
    *,
    sender: str,
    base_url: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    retry_delay: float = DEFAULT_RETRY_DELAY,
    now: datetime | None = None,
) -> DeliveryReport:
    """Send the city's due messages, each in its own transaction.

    One transaction per message (not one for the batch) because an e-mail that went out
    cannot be rolled back: its "sent" mark is committed at once, so a crash later in the
    batch never sends it twice. A message that cannot be sent never holds up the others:
    one that can never go out (a header with a line break, a recipient refused for good)
    is marked failed with the reason at once; one refused for now is retried later. Only
    when the server itself cannot be reached does the batch stop (``smtp_down``).
    """
    now = now or utcnow()
    report = DeliveryReport()
    with transaction() as session:
        ids = due_message_ids(session, get_city(session, city_slug), now)
    for message_id in ids:
        with transaction() as session:
            message = session.get(OutboxMessage, message_id, with_for_update=True)
            if message is None or message.status is not MessageStatus.pending:
                continue  # another sender got there first
            where = f"message {message.id} to {message.recipient!r}"
            try:
                email = as_email(message, sender, base_url)
            except (ValueError, TypeError, UnicodeError) as exc:
                record_refusal(message, f"cannot be written as an e-mail: {exc}")
                report.failed += 1
                report.errors.append(f"{where}: cannot be written as an e-mail: {exc}")
                continue
            try:
                send(email)
            except Exception as exc:  # noqa: BLE001 - sorted below: this message, or the server
                server_down = _server_unavailable(exc)
                if server_down or (isinstance(exc, smtplib.SMTPException) and not _permanent(exc)):
                    record_failure(
                        message,
                        f"{type(exc).__name__}: {exc}",
                        now,
                        max_attempts=max_attempts,
                        retry_delay=retry_delay,
                    )
                    if server_down:
                        report.smtp_down = f"{type(exc).__name__}: {exc}"
                elif isinstance(exc, smtplib.SMTPException | ValueError | UnicodeError):
                    record_refusal(message, f"{type(exc).__name__}: {exc}")
                else:
                    raise
                if message.status is MessageStatus.failed:
                    report.failed += 1
                else:
                    report.retrying += 1
                report.errors.append(f"{where}: {exc}")
                if report.smtp_down:
                    break  # the others wait for the server without spending an attempt
                continue
            message.attempts += 1
            message.status = MessageStatus.sent
            message.sent_at = utcnow()
            message.last_error = ""
            report.sent += 1
    return report


def purge_delivered(
    session: Session, city: City, *, older_than_days: float, now: datetime | None = None
) -> int:
    """Delete sent and failed messages older than the given age: addresses are not kept for ever."""
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    result = session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.city_id == city.id,
            OutboxMessage.status.in_([MessageStatus.sent, MessageStatus.failed]),
            OutboxMessage.created_at < cutoff,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def outbox_counts(session: Session, city: City) -> dict[str, int]:
    rows = session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.city_id == city.id)
        .group_by(OutboxMessage.status)
    ).all()
    counts = {status.value: 0 for status in MessageStatus}
    counts.update({(s.value if isinstance(s, MessageStatus) else s): n for s, n in rows})
    return counts


def iter_messages(
    session: Session, city: City, status: str | None = None, limit: int = 50
) -> Iterator[OutboxMessage]:
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.city_id == city.id)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    if status:
        query = query.where(OutboxMessage.status == status)
    yield from session.scalars(query)

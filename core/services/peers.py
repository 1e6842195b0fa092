"""The federation: the siblings an instance keeps in sync with, and pulling their bundles.

A peer is added by its address: its public key is fetched from ``/.well-known/innoplat-key``
and pinned, so every later bundle must carry a signature by that key (or it is refused and
nothing is imported). ``sync`` pulls every peer's bundle conditionally (``If-None-Match``
with the entity tag of the last bundle), so an unchanged peer costs one small request; each
peer is pulled and imported on its own, and a peer that is down or sends a bad bundle is
reported and leaves the others alone. Downloads are bounded (``download.Limits``).

A peer that serves partial bundles is asked only for what changed since the moment of the
copy here (``City.peer_exported_at``, the publisher's own clock, less ``OVERLAP``), and the
changes are merged into the copy (``exchange.merge``); a peer that does not is pulled in
full, and so is one whose changes do not fit the copy or are refused. Each sync says how
many ideas were new, updated and withdrawn.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from .. import db
from ..errors import InnoplatError, ValidationError
from ..models import City, Idea, Peer, utcnow
from . import download, exchange, signing

WELL_KNOWN_KEY = "/.well-known/innoplat-key"
#: A partial pull asks for the changes since this long before the copy's moment: a change
#: committed after the publisher served the copy may carry a slightly earlier time (an
#: idea is stamped as its transaction commits, models.py; clocks of the publisher's
#: processes may differ a little). Ideas sent twice are merged once.
OVERLAP = timedelta(minutes=10)


class ChangesNotServed(InnoplatError):
    """The sibling answered a request for changes (``?since=``) with 400: it serves none."""


@dataclass(frozen=True)
class Limits:
    """How far a download may go: seconds in all, bytes of body, networks redirects may reach."""

    timeout: float = 60.0
    max_bytes: int = download.MAX_BYTES
    allowed_networks: tuple[download.Network, ...] = ()


def site_url(url: str) -> str:
    """The sibling's root address, from its root or its exchange endpoint."""
    endpoint = exchange.exchange_url(url)
    return endpoint[: -len(exchange.EXCHANGE_PATH)]


@dataclass
class Fetched:
    """A bundle fetched from a sibling: ``body`` is its bytes in a temporary file, positioned
    at the start (None: not modified since ``etag``). Close it when done."""

    endpoint: str
    body: IO[bytes] | None
    etag: str | None
    last_modified: str | None
    size: int
    #: The sibling says it serves partial bundles (its ``Innoplat-Changes`` header).
    changes_offered: bool = False

    def close(self) -> None:
        if self.body is not None:
            self.body.close()


def fetch_bundle(
    url: str,
    *,
    public_key: str | None,
    limits: Limits,
    etag: str | None = None,
    last_modified: str | None = None,
    since: datetime | None = None,
) -> Fetched:
    """Download a sibling's bundle within ``limits`` and check its signature.

    The bundle is not parsed here: the importer reads it from the file record by record.
    :param public_key: the pinned key the signature must match; None accepts an unsigned bundle.
    :param since: ask only for what changed since then (a partial bundle).
    :raises ChangesNotServed: ``since`` was given and the sibling refused it.
    :raises InnoplatError: one line naming the address and what went wrong.
    """
    endpoint = exchange.exchange_url(url)
    address = endpoint
    if since is not None:
        address += "?since=" + quote(exchange.since_text(since))
    headers = {"Accept": "application/json", "Accept-Encoding": "gzip"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    got = download.fetch(
        address,
        timeout=limits.timeout,
        max_bytes=limits.max_bytes,
        allowed_networks=limits.allowed_networks,
        headers=headers,
    )
    offered = got.headers.get(exchange.CHANGES_HEADER) == exchange.CHANGES_OFFERED
    try:
        if got.status == 304:
            got.close()
            return Fetched(endpoint, None, etag, last_modified, 0, offered)
        if got.status == 400 and since is not None:
            raise ChangesNotServed(f"{endpoint} does not serve the changes since a moment")
        if got.status != 200:
            raise InnoplatError(f"{endpoint} answered HTTP {got.status}, not a bundle")
        if public_key is not None:
            digest = signing.digest_of(got.body)
            signing.verify(public_key, got.headers.get(signing.HEADER), digest, source=endpoint)
            got.body.seek(0)
    except BaseException:
        got.close()
        raise
    return Fetched(
        endpoint,
        got.body,
        got.headers.get("ETag"),
        got.headers.get("Last-Modified"),
        got.size,
        offered,
    )


def fetch_key_document(url: str, limits: Limits) -> tuple[str, str, bool]:
    """The city slug, public key and whether it serves partial bundles, from a sibling's
    well-known address."""
    address = site_url(url) + WELL_KNOWN_KEY
    got = download.fetch(
        address,
        timeout=limits.timeout,
        max_bytes=64 * 1024,
        allowed_networks=limits.allowed_networks,
        headers={"Accept": "application/json"},
    )
    try:
        if got.status != 200:
            raise InnoplatError(f"{address} answered HTTP {got.status}, not a signing key")
        try:
            document = json.loads(got.body.read())
        except ValueError:
            raise InnoplatError(f"{address} did not answer with JSON") from None
    finally:
        got.close()
    if not isinstance(document, dict) or document.get("algorithm") != signing.ALGORITHM:
        raise InnoplatError(f"{address} does not offer an {signing.ALGORITHM} key")
    slug = document.get("city")
    if not isinstance(slug, str) or not slug:
        raise InnoplatError(f"{address} does not name its city")
    return (
        slug,
        signing.check_public_key(str(document.get("public_key", ""))),
        document.get("changes_since") is True,
    )


def list_peers(session: Session) -> list[Peer]:
    return list(session.scalars(select(Peer).order_by(Peer.city_slug)))


def find_peer(session: Session, name: str) -> Peer:
    """A peer by its city slug or its address; raises ValidationError naming ``peer``."""
    peer = session.scalar(select(Peer).where(Peer.city_slug == name))
    if peer is None and name.startswith(("http://", "https://")):
        peer = session.scalar(select(Peer).where(Peer.url == exchange.exchange_url(name)))
    if peer is None:
        raise ValidationError("peer", f"{name!r} is not a peer here (see: innoplat peers list)")
    return peer


def pinned_key(session: Session, city_slug: str) -> str | None:
    """The key pinned for a city's bundles, if that city is a peer added here."""
    return session.scalar(select(Peer.public_key).where(Peer.city_slug == city_slug))


def add_peer(session: Session, url: str, *, limits: Limits, public_key: str | None = None) -> Peer:
    """Register a sibling and pin the key it serves (or, if given, check that it serves ``public_key``)."""
    endpoint = exchange.exchange_url(url)
    slug, served, changes_since = fetch_key_document(endpoint, limits)
    if public_key is not None and signing.check_public_key(public_key) != served:
        raise InnoplatError(
            f"{site_url(endpoint)} serves a different key than the one given; not added"
        )
    own = session.scalar(select(City).where(City.slug == slug, City.is_peer.is_(False)))
    if own is not None:
        raise ValidationError("url", f"{endpoint} is {slug}, this instance's own city")
    for peer in list_peers(session):
        if peer.url == endpoint or peer.city_slug == slug:
            raise ValidationError("url", f"{slug} is already a peer here ({peer.url})")
    peer = Peer(url=endpoint, city_slug=slug, public_key=served, changes_since=changes_since)
    session.add(peer)
    session.flush()
    return peer


def remove_peer(session: Session, name: str) -> Peer:
    """Stop syncing with a peer; the data already imported stays, read-only, until replaced."""
    peer = find_peer(session, name)
    session.delete(peer)
    session.flush()
    return peer


@dataclass(frozen=True)
class PeerSync:
    """What syncing one peer did: ``action`` is imported, updated, unchanged or failed.

    ``new``, ``updated`` and ``withdrawn`` count the copy's ideas that arrived, changed and
    went (removed or made internal by the sibling); ``since`` is set when only the changes
    since then were fetched.
    """

    city_slug: str
    url: str
    action: str
    ideas: int | None = None
    new: int | None = None
    updated: int | None = None
    withdrawn: int | None = None
    since: str | None = None
    problem: str | None = None

    def line(self) -> str:
        """One line for the terminal and the worker's log."""
        if self.action == "failed":
            return f"{self.city_slug}: failed: {self.problem}"
        if self.action == "unchanged":
            return f"{self.city_slug}: unchanged"
        line = f"{self.city_slug}: {self.action}, {self.ideas:,} public ideas"
        if self.action == "updated":
            line += (
                f": {self.new or 0:,} new, {self.updated or 0:,} updated, "
                f"{self.withdrawn or 0:,} withdrawn"
            )
        if self.since:
            line += f" (changes since {self.since})"
        return line


def pull(
    sessions: sessionmaker[Session],
    url: str,
    *,
    limits: Limits,
    unsigned: bool = False,
    actor: str = "innoplat pull",
) -> PeerSync:
    """Fetch a bundle and import it; a registered peer's pinned key and entity tag are used.

    Downloading happens outside any transaction; the import is one transaction.
    :param unsigned: allow a bundle from an address that is not a peer (no key to check).
    """
    endpoint = exchange.exchange_url(url)
    with db.transaction(sessions) as session:
        peer = session.scalar(select(Peer).where(Peer.url == endpoint))
        if peer is None and not unsigned:
            raise InnoplatError(
                f"{endpoint} is not a peer here, so there is no key to check its signature "
                "against: add it with innoplat peers add URL, or pass --unsigned"
            )
        known = (peer.public_key, peer.etag, peer.last_modified, peer.city_slug) if peer else None
        since = _changes_since(session, peer) if peer is not None else None
    if known is None:
        fetched = fetch_bundle(endpoint, public_key=None, limits=limits)
        slug = None
    else:
        key, etag, last_modified, slug = known
        try:
            fetched = fetch_bundle(
                endpoint,
                public_key=key,
                limits=limits,
                etag=etag,
                last_modified=last_modified,
                since=since,
            )
        except ChangesNotServed:
            _remember_changes(sessions, endpoint, offered=False)
            since = None
            fetched = fetch_bundle(
                endpoint, public_key=key, limits=limits, etag=etag, last_modified=last_modified
            )
    try:
        return _import(sessions, slug, fetched, actor, since)
    except ValidationError:
        if since is None:
            raise
        # The changes do not fit the copy here (or were refused): nothing of them was
        # written, and the whole bundle mends the copy, under the same rules.
        fetched.close()
        fetched = fetch_bundle(endpoint, public_key=known[0] if known else None, limits=limits)
        return _import(sessions, slug, fetched, actor, None)
    finally:
        fetched.close()


def _changes_since(session: Session, peer: Peer) -> datetime | None:
    """The moment to ask the peer's changes since, or None for the whole bundle."""
    if not peer.changes_since:
        return None
    moment = session.scalar(
        select(City.peer_exported_at).where(City.slug == peer.city_slug, City.is_peer.is_(True))
    )
    return moment - OVERLAP if moment is not None else None


def _remember_changes(sessions: sessionmaker[Session], endpoint: str, *, offered: bool) -> None:
    with db.transaction(sessions) as session:
        peer = session.scalar(select(Peer).where(Peer.url == endpoint))
        if peer is not None:
            peer.changes_since = offered


def _stamps(session: Session, city: City | None) -> dict[str, datetime]:
    """Each idea of a copy and when it last changed: what a sync compares before and after."""
    if city is None:
        return {}
    rows = session.execute(select(Idea.reference, Idea.updated_at).where(Idea.city_id == city.id))
    return dict(rows.tuples().all())


def _import(
    sessions: sessionmaker[Session],
    slug: str | None,
    fetched: Fetched,
    actor: str,
    since: datetime | None,
) -> PeerSync:
    with db.transaction(sessions) as session:
        peer = session.scalar(select(Peer).where(Peer.url == fetched.endpoint))
        if peer is not None:
            peer.changes_since = fetched.changes_offered
        if fetched.body is None:
            if peer is not None:
                peer.synced_at = utcnow()
                peer.last_result = "unchanged"
            return PeerSync(slug or "?", fetched.endpoint, "unchanged")
        header = exchange.header_of(fetched.body, fetched.endpoint)
        city = header.get("city")
        bundle_slug = city.get("slug") if isinstance(city, dict) else None
        if slug is not None and bundle_slug != slug:
            raise InnoplatError(
                f"{fetched.endpoint} sent a bundle of {bundle_slug!r}, not of {slug}; "
                "nothing was imported"
            )
        existing = session.scalar(select(City).where(City.slug == str(bundle_slug)))
        before = _stamps(session, existing if existing is not None and existing.is_peer else None)
        partial = exchange.is_partial(header)
        if partial and since is None:
            raise InnoplatError(
                f"{fetched.endpoint} sent only changes, though the whole bundle was asked "
                "for; nothing was imported"
            )
        load = exchange.merge_changes if partial else exchange.import_bundle
        result = load(
            session, fetched.body, source=fetched.endpoint, name=fetched.endpoint, actor=actor
        )
        after = _stamps(session, result.city)
        outcome = PeerSync(
            result.city.slug,
            fetched.endpoint,
            result.action,
            result.ideas,
            new=len(after.keys() - before.keys()),
            updated=sum(1 for r in after.keys() & before.keys() if after[r] != before[r]),
            withdrawn=len(before.keys() - after.keys()),
            since=str(header.get("since")) if partial else None,
        )
        if peer is not None:
            peer.etag = fetched.etag
            peer.last_modified = fetched.last_modified
            peer.synced_at = utcnow()
            peer.last_result = outcome.line()[:500]
        return outcome


def sync(
    sessions: sessionmaker[Session],
    *,
    limits: Limits,
    report: Callable[[PeerSync], None] | None = None,
) -> list[PeerSync]:
    """Pull every peer's bundle; one peer's failure is reported and the others go on."""
    with db.transaction(sessions) as session:
        urls = [(p.url, p.city_slug) for p in list_peers(session)]
    results = []
    for url, slug in urls:
        try:
            outcome = pull(sessions, url, limits=limits, actor="innoplat sync")
        except InnoplatError as exc:
            outcome = PeerSync(slug, url, "failed", problem=str(exc))
            with db.transaction(sessions) as session:
                peer = session.scalar(select(Peer).where(Peer.url == url))
                if peer is not None:
                    peer.synced_at = utcnow()
                    peer.last_result = outcome.line()[:500]
        results.append(outcome)
        if report is not None:
            report(outcome)
    return results

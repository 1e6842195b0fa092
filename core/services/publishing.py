"""What a city publishes to its siblings: which version of its bundle is current.

A bundle's content changes only when the city's data does, so a version is computed from
cheap aggregates (the newest audit event, the newest change to one of the city's ideas, the
number of ideas, the city's last configuration sync) without building the bundle. The
bundle of one version is always the same bytes: it is exported with ``exported_at`` set to
the version's time. Siblings ask with ``If-None-Match`` / ``If-Modified-Since`` and get
"304 Not Modified" while nothing changed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import AuditEvent, City, Idea


@dataclass(frozen=True)
class BundleVersion:
    """``etag`` is an HTTP entity tag (weak: the same for the plain and the gzip body)."""

    etag: str
    modified: datetime


def bundle_version(session: Session, city: City) -> BundleVersion:
    """The current version of the city's bundle."""
    audit_id, audit_at = session.execute(
        select(func.max(AuditEvent.id), func.max(AuditEvent.at))
    ).one()
    ideas, idea_at = session.execute(
        select(func.count(Idea.id), func.max(Idea.updated_at)).where(Idea.city_id == city.id)
    ).one()
    times = [t for t in (audit_at, idea_at, city.synced_at) if t is not None]
    modified = max(times)
    fingerprint = f"{city.id}|{city.slug}|{audit_id}|{ideas}|{idea_at}|{city.synced_at}"
    tag = hashlib.sha256(fingerprint.encode()).hexdigest()[:32]
    return BundleVersion(etag=f'W/"{tag}"', modified=modified)

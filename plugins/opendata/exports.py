"""Open data: the city's public ideas as CSV and JSON rows, organisations and memberships as Popolo.

Nothing personal leaves: no submitter, no names or e-mail addresses of people, and only
ideas marked public. Rows are produced from a streaming query, so a large city exports in
constant memory.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from innoplat.core import toolkit
from innoplat.core.models import (
    City,
    Idea,
    Membership,
    MethodApplication,
    Organisation,
    Person,
    Visibility,
)
from innoplat.core.toolkit import SafeDictWriter

#: The columns of the ideas export, in order: documented in docs/plugins.md.
IDEA_FIELDS = (
    "reference",
    "title",
    "summary",
    "description",
    "stage",
    "phase",
    "origin_channel",
    "initiator_kind",
    "owner_organisation",
    "focus_areas",
    "sdgs",
    "facet",
    "value_dimensions",
    "methods",
    "reused_from",
    "submitted_at",
    "updated_at",
    "synthetic",
    "url",
)
BATCH = 500


def public_ideas(session: Session, city: City) -> Iterator[Idea]:
    query = (
        select(Idea)
        .where(Idea.city_id == city.id, Idea.visibility == Visibility.public)
        .order_by(Idea.submitted_at, Idea.id)
        .options(
            selectinload(Idea.stage),
            selectinload(Idea.owner_organisation),
            selectinload(Idea.focus_areas),
            selectinload(Idea.sdg_links),
            selectinload(Idea.method_applications).selectinload(MethodApplication.method),
        )
        .execution_options(yield_per=BATCH)
    )
    yield from session.scalars(query)


def idea_row(idea: Idea, url: Callable[[str], str]) -> dict[str, Any]:
    """One idea as plain values, without anything personal."""
    return toolkit.serialise_idea(idea, IDEA_FIELDS, url=url(idea.reference))


def ideas_csv(session: Session, city: City, url: Callable[[str], str]) -> Iterator[str]:
    """CSV text in chunks; list values joined with ``;`` (UTF-8, header row first).

    Safe to open in a spreadsheet: no cell runs as a formula (``services.spreadsheets``).
    """
    buffer = io.StringIO()
    # Every text cell quoted and neutralised: a title such as "=HYPERLINK(…)" stays text.
    writer = SafeDictWriter(
        buffer, fieldnames=IDEA_FIELDS, lineterminator="\r\n", quoting=csv.QUOTE_ALL
    )
    writer.writeheader()
    for n, idea in enumerate(public_ideas(session, city), start=1):
        row = idea_row(idea, url)
        writer.writerow(
            {
                key: ";".join(str(v) for v in value)
                if isinstance(value, list)
                else ("" if value is None else value)
                for key, value in row.items()
            }
        )
        if n % BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def ideas_json(
    session: Session, city: City, url: Callable[[str], str], meta: dict[str, Any]
) -> Iterator[str]:
    """``{"meta": …, "ideas": [...]}`` in chunks, one idea at a time."""
    yield '{"meta": ' + json.dumps(meta, ensure_ascii=False) + ', "ideas": ['
    for n, idea in enumerate(public_ideas(session, city)):
        yield ("," if n else "") + "\n" + json.dumps(idea_row(idea, url), ensure_ascii=False)
    yield "\n]}\n"


def popolo(session: Session, city: City, *, base: str) -> dict[str, Any]:
    """The city's organisations and memberships in the Popolo format (popoloproject.com).

    A membership names its person only by an opaque id (``person/<n>``): who sits in a
    working group is public, their name and address stay on the platform.
    """
    organisations = list(
        session.scalars(
            select(Organisation).where(Organisation.city_id == city.id).order_by(Organisation.key)
        )
    )
    by_id = {org.id: org for org in organisations}

    def org_id(org: Organisation) -> str:
        return f"{base}organisations/{org.key}"

    memberships = session.scalars(
        select(Membership)
        .join(Person, Person.id == Membership.person_id)
        .where(Membership.organisation_id.in_(list(by_id) or [0]), Person.anonymised_at.is_(None))
        .order_by(Membership.id)
    )
    return {
        "organizations": [
            {
                "id": org_id(org),
                "name": org.name,
                "classification": org.kind.value,
                **({"parent_id": org_id(by_id[org.parent_id])} if org.parent_id in by_id else {}),
                **({"links": [{"url": org.website, "note": "website"}]} if org.website else {}),
                "identifiers": [{"scheme": "innoplat", "identifier": org.key}],
                **({"note": "synthetic demo data"} if org.is_synthetic else {}),
            }
            for org in organisations
        ],
        "memberships": [
            {
                "id": f"{base}memberships/{m.id}",
                "person_id": f"{base}persons/{m.person_id}",
                "organization_id": org_id(by_id[m.organisation_id]),
                "role": m.role,
                **({"start_date": m.start_date.isoformat()} if m.start_date else {}),
                **({"end_date": m.end_date.isoformat()} if m.end_date else {}),
            }
            for m in memberships
        ],
    }

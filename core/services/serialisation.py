"""Records as JSON-ready values: the one timestamp format, and ideas in each of their shapes.

Every time the platform writes — in the API, the CLI, open data, a person's data export and
an exchange bundle — is UTC in ISO 8601 with a ``Z``: :func:`timestamp`. Stored times are
naive UTC; an aware time is converted first. Exchange bundles keep microseconds
(``exact=True``) so that a round trip loses nothing; everything else shows whole seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any, overload

from ..models import Idea, MethodApplication, Participation, StageTransition


@overload
def timestamp(value: datetime, *, exact: bool = False) -> str: ...
@overload
def timestamp(value: None, *, exact: bool = False) -> None: ...
@overload
def timestamp(value: datetime | None, *, exact: bool = False) -> str | None: ...
def timestamp(value: datetime | None, *, exact: bool = False) -> str | None:
    """A time as the platform writes it: UTC, ISO 8601 to the second (``exact``: the
    microsecond), ``Z``; None stays None."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds" if exact else "seconds") + "Z"


def day(value: date | None) -> str | None:
    """A date as ISO 8601 (``2026-03-01``); None stays None."""
    return value.isoformat() if value else None


def plain(value: Any) -> Any:
    """``value`` with every time and date in it written as text (:func:`timestamp`, :func:`day`)
    and enum members as their values: a document ``json.dumps`` takes as it is."""
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def json_default(value: Any) -> Any:
    """``json.dumps``'s ``default``: times and dates as :func:`plain` writes them, else text."""
    converted = plain(value)
    return str(value) if converted is value else converted


# --------------------------------------------------------------------------- ideas

#: Every field an idea is shown with, as plain values: the one place each is converted.
#: Staff-only fields (``visibility``, ``city``) are asked for only by staff outputs.
IDEA_FIELDS: dict[str, Callable[[Idea], Any]] = {
    "reference": lambda i: i.reference,
    "city": lambda i: i.city.slug,
    "title": lambda i: i.title,
    "summary": lambda i: i.summary,
    "description": lambda i: i.description,
    "stage": lambda i: i.stage.key,
    "phase": lambda i: i.phase.value,
    "visibility": lambda i: i.visibility.value,
    "origin_channel": lambda i: i.origin_channel.value,
    "initiator_kind": lambda i: i.initiator_kind.value,
    "owner_organisation": lambda i: i.owner_organisation.key if i.owner_organisation else None,
    "focus_areas": lambda i: [area.key for area in i.focus_areas],
    "sdgs": lambda i: i.sdgs,
    "facet": lambda i: i.facet.value if i.facet else None,
    "value_dimensions": lambda i: list(i.value_dimensions or []),
    "methods": lambda i: sorted({a.method.shared_key for a in i.method_applications}),
    "reused_from": lambda i: i.reused_from_reference,
    "submitted_at": lambda i: timestamp(i.submitted_at),
    "updated_at": lambda i: timestamp(i.updated_at),
    "synthetic": lambda i: i.is_synthetic,
    "version": lambda i: i.version,
}


def idea(idea: Idea, fields: Sequence[str], **shown: Any) -> dict[str, Any]:
    """The idea's ``fields``, in that order, as plain values (:data:`IDEA_FIELDS`).

    ``shown`` gives a field a shape of the output's own (the API's localised stage, a URL):
    a name there is used as given, in its place in ``fields``.
    """
    return {name: shown[name] if name in shown else IDEA_FIELDS[name](idea) for name in fields}


def transition(transition: StageTransition) -> dict[str, Any]:
    """A step of an idea's stage history, with who made it and why (staff outputs only)."""
    return {
        "at": timestamp(transition.at),
        "from": transition.from_stage.key if transition.from_stage else None,
        "to": transition.to_stage.key,
        "actor": transition.actor,
        "note": transition.note,
    }


def application(application: MethodApplication) -> dict[str, Any]:
    """A method applied to an idea: which, with what outcome, when."""
    return {
        "method": application.method.key,
        "outcome": application.outcome.value,
        "started_on": day(application.started_on),
        "ended_on": day(application.ended_on),
    }


def participation(participation: Participation) -> dict[str, Any]:
    """An organisation taking part in an idea, and its role."""
    return {"organisation": participation.organisation.key, "role": participation.role.value}

"""Translated names for the domain's fixed vocabularies (phases, outcomes, roles, kinds, channels)."""

from __future__ import annotations

from enum import Enum
from typing import Any

from flask_babel import lazy_gettext as _l

from ..models import (
    InitiatorKind,
    OrganisationKind,
    OriginChannel,
    Outcome,
    ParticipationRole,
    Phase,
    Role,
    Visibility,
)

LABELS: dict[type[Enum], dict[str, Any]] = {
    Phase: {
        "submitted": _l("Submitted"),
        "screening": _l("Screening"),
        "development": _l("Development"),
        "pilot": _l("Pilot"),
        "implemented": _l("Implemented"),
        "scaled": _l("Scaled"),
        "closed": _l("Closed"),
        "paused": _l("Paused"),
    },
    Outcome: {
        "planned": _l("Planned"),
        "ongoing": _l("Ongoing"),
        "succeeded": _l("Succeeded"),
        "partly_succeeded": _l("Partly succeeded"),
        "failed": _l("Failed"),
        "abandoned": _l("Abandoned"),
    },
    OriginChannel: {
        "web": _l("Web form"),
        "email": _l("E-mail"),
        "workshop": _l("Workshop"),
        "staff": _l("Staff"),
        "hackathon": _l("Hackathon"),
        "citizen_dialogue": _l("Citizen dialogue"),
        "partner": _l("Partner"),
        "imported": _l("Imported"),
    },
    InitiatorKind: {
        "citizen": _l("Resident"),
        "staff": _l("Municipal staff"),
        "business": _l("Business"),
        "academia": _l("University or research"),
        "civil_society": _l("Association or civil society"),
        "partner_organisation": _l("Partner organisation"),
    },
    ParticipationRole: {
        "owner": _l("Owner"),
        "partner": _l("Partner"),
        "funder": _l("Funder"),
        "user": _l("User"),
        "expert": _l("Expert"),
    },
    OrganisationKind: {
        "municipality": _l("Municipality"),
        "department": _l("Municipal department"),
        "municipal_company": _l("Municipal company"),
        "university": _l("University"),
        "research_institute": _l("Research institute"),
        "region": _l("Region"),
        "government_agency": _l("Government agency"),
        "funder": _l("Funder"),
        "business": _l("Business"),
        "civil_society": _l("Civil society"),
        "citizen_group": _l("Citizen group"),
    },
    Role: {"admin": _l("Administrator"), "coordinator": _l("Coordinator"), "member": _l("Member")},
    Visibility: {"public": _l("Public"), "internal": _l("Internal (staff only)")},
}

#: An organisation's role in the platform itself, from city.toml.
PLATFORM_ROLES = {
    "owner": _l("Project owner"),
    "project_lead": _l("Project lead"),
    "partner": _l("Partner"),
    "funder": _l("Funder"),
}

#: The method catalogue's categories (``category`` of innoplat_methods); an unknown one shows as is.
METHOD_CATEGORIES = {
    "design": _l("Design"),
    "experimentation": _l("Experimentation"),
    "co_creation": _l("Co-creation"),
    "ideation": _l("Ideation"),
    "procurement": _l("Procurement"),
    "foresight": _l("Foresight"),
    "evaluation": _l("Evaluation"),
    "agile": _l("Agile development"),
}

#: The steps of SKR's Innovationsguiden that ``guide_steps`` name, in their order.
GUIDE_STEPS = {
    "ringa_in": _l("Frame the challenge"),
    "undersoka": _l("Explore"),
    "fokusera": _l("Focus"),
    "ta_fram_ideer": _l("Develop ideas"),
    "testa_ideer": _l("Test ideas"),
    "forverkliga": _l("Make it real"),
}

SORT_LABELS = {
    "newest": _l("Newest first"),
    "oldest": _l("Oldest first"),
    "updated": _l("Recently changed"),
    "title": _l("Title A–Ö"),
}


def label(value: Any) -> str:
    """The translated name of an enum member (or its raw value when it has none)."""
    if value is None:
        return ""
    if isinstance(value, Enum):
        names = LABELS.get(type(value), {})
        return str(names.get(value.value, value.value))
    return str(value)


def method_category(key: str | None) -> str:
    """A catalogue category's translated name (``co_creation`` → "Co-creation")."""
    return str(METHOD_CATEGORIES.get(key or "", key or ""))


def guide_step(key: str) -> str:
    """A known Innovationsguiden step's translated name (``undersoka`` → "Explore")."""
    return str(GUIDE_STEPS.get(key, key))


def choices(enum_cls: type[Enum]) -> list[tuple[str, str]]:
    names = LABELS.get(enum_cls, {})
    return [(m.value, str(names.get(m.value, m.value))) for m in enum_cls]  # type: ignore[attr-defined]


#: What an audit event records, as shown on an idea's audit trail.
AUDIT_ACTIONS = {
    "submitted": _l("Submitted"),
    "stage_changed": _l("Moved to another stage"),
    "edited": _l("Edited"),
    "method_applied": _l("Method applied"),
    "method_outcome": _l("Outcome recorded"),
    "participation_added": _l("Organisation added"),
    "participation_removed": _l("Organisation removed"),
}

"""The OpenAPI 3.1 document of the JSON API, served at ``/api/v1/openapi.json``.

Schemas are JSON Schema 2020-12 (as OpenAPI 3.1 allows) and closed
(``additionalProperties: false``), so the test that validates every endpoint's real
responses against them also catches a field that is served but not documented.
"""

from __future__ import annotations

from typing import Any

from ...models import (
    PHASE_ORDER,
    InitiatorKind,
    InnovationFacet,
    OrganisationKind,
    OriginChannel,
    Outcome,
    ParticipationRole,
    ValueDimension,
)
from ...services.evidence.analysis import EVIDENCE_METRICS
from ...services.ideas import SORTS

VERSION = "1.0.0"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def _array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
COUNT = {"type": "integer", "minimum": 0}
BOOLEAN = {"type": "boolean"}
#: Every time the API writes: UTC, ISO 8601 to the second, with ``Z`` (services.serialisation).
TIME = {
    "type": "string",
    "format": "date-time",
    "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
    "examples": ["2026-03-01T09:30:00Z"],
}
#: A time in an exchange bundle: to the microsecond, so a round trip loses nothing.
EXACT_TIME = {
    **TIME,
    "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,6})?Z$",
    "examples": ["2026-03-01T09:30:00.000000Z"],
}
DATE = {"type": "string", "format": "date"}
SDG = {"type": "integer", "minimum": 1, "maximum": 17}
NUMBER_OR_NULL = {"type": ["number", "null"]}


def _enum(values: list[str]) -> dict[str, Any]:
    return {"type": "string", "enum": values}


PHASE = _enum(PHASE_ORDER)

SCHEMAS: dict[str, Any] = {
    "Error": _object(
        {
            "error": _object(
                {
                    "status": INTEGER,
                    "message": STRING,
                    "field": {
                        **_nullable(STRING),
                        "description": "The parameter or field at fault.",
                    },
                }
            )
        },
        "Every error under /api/v1: 400, 403, 404, 405, 409, 500, 503.",
    ),
    "City": _object(
        {
            "slug": STRING,
            "name": STRING,
            "description": STRING,
            "region": _nullable(STRING),
            "population": _nullable(INTEGER),
            "locales": _array(STRING),
            "default_locale": STRING,
            "website": _nullable(STRING),
            "lang": {**STRING, "description": "The language of the names in this response."},
        }
    ),
    "Index": _object(
        {
            "city": _ref("City"),
            "links": {"type": "object", "additionalProperties": STRING},
        }
    ),
    "StageRef": _object({"key": STRING, "name": STRING, "phase": PHASE}),
    "Stage": _object(
        {
            "key": STRING,
            "name": STRING,
            "phase": PHASE,
            "position": COUNT,
            "transitions": {
                **_array(STRING),
                "description": "Keys of the stages an idea may move to next.",
            },
        }
    ),
    "Phase": _object({"key": PHASE, "position": COUNT}),
    "StageList": _object(
        {
            "items": _array(_ref("Stage")),
            "phases": {
                **_array(_ref("Phase")),
                "description": "The canonical lifecycle every city's stages map to.",
            },
        }
    ),
    "FocusArea": _object({"key": STRING, "name": STRING, "sdgs": _array(SDG)}),
    "OrganisationRef": _object(
        {"key": STRING, "name": STRING, "kind": _enum([k.value for k in OrganisationKind])}
    ),
    "Organisation": _object(
        {
            "key": STRING,
            "name": STRING,
            "kind": _enum([k.value for k in OrganisationKind]),
            "platform_role": _nullable(STRING),
            "parent": _nullable(STRING),
            "website": _nullable(STRING),
            "synthetic": {**BOOLEAN, "description": "Made up by the demo data generator."},
            "ideas": {**COUNT, "description": "Public ideas the organisation takes part in."},
            "url": STRING,
        }
    ),
    "OrganisationList": _object({"items": _array(_ref("Organisation"))}),
    "OrganisationDetail": _object(
        {
            "key": STRING,
            "name": STRING,
            "kind": _enum([k.value for k in OrganisationKind]),
            "platform_role": _nullable(STRING),
            "parent": _nullable(STRING),
            "website": _nullable(STRING),
            "synthetic": BOOLEAN,
            "ideas": COUNT,
            "url": STRING,
            "recent_ideas": {
                **_array(_ref("IdeaSummary")),
                "description": "The newest public ideas it takes part in; all of them: "
                "/ideas?organisation={key}.",
            },
            "collaborators": _array(
                _object({"organisation": _ref("OrganisationRef"), "shared_ideas": COUNT})
            ),
        }
    ),
    "MethodRef": _object(
        {
            "key": STRING,
            "shared_key": {**STRING, "description": "The shared catalogue key comparisons use."},
            "name": STRING,
        }
    ),
    "Method": _object(
        {
            "key": STRING,
            "shared_key": STRING,
            "name": STRING,
            "local": {**BOOLEAN, "description": "A city's own method, mapped to a shared one."},
            "description": STRING,
            "category": STRING,
            "phases": _array(PHASE),
            "guide_steps": _array(STRING),
            "reference": _nullable(STRING),
            "url": STRING,
        }
    ),
    "MethodList": _object({"items": _array(_ref("Method"))}),
    "MethodDetail": _object(
        {
            "key": STRING,
            "shared_key": STRING,
            "name": STRING,
            "local": BOOLEAN,
            "description": STRING,
            "category": STRING,
            "phases": _array(PHASE),
            "guide_steps": _array(STRING),
            "reference": _nullable(STRING),
            "url": STRING,
            "ideas": {
                **COUNT,
                "description": "Public ideas of this city the method was applied to.",
            },
            "implemented": {**COUNT, "description": "Of those, ideas implemented or scaled now."},
            "outcomes": {
                "type": "object",
                "propertyNames": _enum([o.value for o in Outcome]),
                "additionalProperties": COUNT,
            },
            "local_methods": _array(_ref("MethodRef")),
        }
    ),
    "IdeaSummary": _object(
        {
            "reference": {**STRING, "examples": ["KIR-2026-0042"]},
            "title": STRING,
            "summary": STRING,
            "stage": _ref("StageRef"),
            "origin_channel": _enum([c.value for c in OriginChannel]),
            "owner_organisation": {**_nullable(STRING), "description": "The owner's key."},
            "focus_areas": {**_array(STRING), "description": "Focus area keys."},
            "sdgs": _array(SDG),
            "synthetic": {**BOOLEAN, "description": "Made up by the demo data generator."},
            "submitted_at": TIME,
            "updated_at": TIME,
            "url": STRING,
        }
    ),
    "IdeaList": _object(
        {
            "items": _array(_ref("IdeaSummary")),
            "total": {**COUNT, "description": "Ideas matching, on all pages."},
            "page": INTEGER,
            "per_page": INTEGER,
            "pages": COUNT,
        }
    ),
    "MethodApplication": _object(
        {
            "method": _ref("MethodRef"),
            "outcome": _enum([o.value for o in Outcome]),
            "started_on": _nullable(DATE),
            "ended_on": _nullable(DATE),
            "facilitator": _nullable(_ref("OrganisationRef")),
            "organisations": _array(_ref("OrganisationRef")),
        }
    ),
    "IdeaDetail": _object(
        {
            "reference": STRING,
            "title": STRING,
            "summary": STRING,
            "stage": _ref("StageRef"),
            "origin_channel": _enum([c.value for c in OriginChannel]),
            "owner_organisation": _nullable(_ref("OrganisationRef")),
            "focus_areas": _array(_ref("FocusArea")),
            "sdgs": _array(SDG),
            "synthetic": BOOLEAN,
            "submitted_at": TIME,
            "updated_at": TIME,
            "url": STRING,
            "description": {
                **STRING,
                "description": "Markdown source; sanitise before showing it.",
            },
            "initiator_kind": _enum([k.value for k in InitiatorKind]),
            "facet": _nullable(_enum([f.value for f in InnovationFacet])),
            "value_dimensions": _array(_enum([v.value for v in ValueDimension])),
            "reused_from": {
                **_nullable(STRING),
                "description": "Reference of the idea (possibly in a sibling city) it was adopted from.",
            },
            "history": {
                **_array(
                    _object(
                        {
                            "from_stage": _nullable(_ref("StageRef")),
                            "to_stage": _ref("StageRef"),
                            "at": TIME,
                        }
                    )
                ),
                "description": "Every move between stages, oldest first.",
            },
            "methods": _array(_ref("MethodApplication")),
            "participations": _array(
                _object(
                    {
                        "organisation": _ref("OrganisationRef"),
                        "role": _enum([r.value for r in ParticipationRole]),
                    }
                )
            ),
            "version": {**INTEGER, "description": "Changes whenever the idea is edited or moved."},
        }
    ),
    "IdeaSubmission": {
        "type": "object",
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": 200},
            "summary": {"type": "string", "maxLength": 600},
            "description": {"type": "string", "description": "Markdown."},
            "initiator_kind": _enum([k.value for k in InitiatorKind]),
            "focus_areas": {**_array(STRING), "description": "Focus area keys of the city."},
            "sdgs": _array(SDG),
            "name": {"type": ["string", "null"], "description": "Stored only with consent."},
            "email": {"type": ["string", "null"], "format": "email"},
            "consent": {
                "type": "boolean",
                "description": "Must be true when a name or e-mail address is sent.",
            },
            "locale": {"type": ["string", "null"]},
        },
        "required": ["title"],
        "additionalProperties": False,
    },
    "Evidence": _object(
        {
            "as_of": {**TIME, "description": "The data's date of this city's own ideas."},
            "cities": _array(_object({"slug": STRING, "name": STRING, "peer": BOOLEAN})),
            "rows": _array(
                _object(
                    {
                        "city": {
                            "type": ["string", "null"],
                            "description": "The city's slug; null on pooled rows.",
                        },
                        "method": {**STRING, "description": "The shared method key."},
                        "metric": _enum(list(EVIDENCE_METRICS)),
                        "value": NUMBER_OR_NULL,
                        "low": NUMBER_OR_NULL,
                        "high": NUMBER_OR_NULL,
                        "n": {
                            **COUNT,
                            "description": "Ideas the figure rests on; cities on pooled rows.",
                        },
                        "at_risk": {
                            "type": ["integer", "null"],
                            "description": "Ideas still followed at the horizon (incidence).",
                        },
                        "tau2": NUMBER_OR_NULL,
                        "i2": NUMBER_OR_NULL,
                        "prediction_low": NUMBER_OR_NULL,
                        "prediction_high": NUMBER_OR_NULL,
                    }
                )
            ),
        },
        "Cumulative incidence of implementation, crude and adjusted risk ratios per city and "
        "method, and pooled risk ratios per method, from public ideas; docs/comparing.md "
        "(Evidence) defines every figure.",
    ),
    "Figures": _object(
        {
            "counts": _object(
                {
                    "ideas": COUNT,
                    "implemented": COUNT,
                    "organisations": COUNT,
                    "method_applications": COUNT,
                }
            ),
            "by_stage": _array(_object({"stage": _ref("StageRef"), "ideas": COUNT})),
            "by_phase": {
                **_array(
                    _object(
                        {
                            "phase": PHASE,
                            "ideas": {**COUNT, "description": "Ideas in this phase now."},
                            "reached": {**COUNT, "description": "Ideas that ever entered it."},
                        }
                    )
                ),
                "description": "The funnel over the canonical phases, in lifecycle order.",
            },
            "by_method": _array(
                _object({"method": _ref("MethodRef"), "ideas": COUNT, "implemented": COUNT})
            ),
        },
        "Counts of public ideas only.",
    ),
    "Comparison": _object(
        {
            "cities": _array(
                _object(
                    {
                        "slug": STRING,
                        "name": STRING,
                        "peer": {
                            **BOOLEAN,
                            "description": "Data imported from the city's own platform.",
                        },
                    }
                )
            ),
            "metrics": _array(
                _object(
                    {
                        "key": STRING,
                        "label": STRING,
                        "unit": {
                            **STRING,
                            "description": "share, ratio, days, ideas, kinds, or a plugin's own.",
                        },
                        "description": STRING,
                    }
                )
            ),
            "small_sample_below": {
                **COUNT,
                "description": "Rows resting on fewer ideas than this have small_sample true.",
            },
            "rows": {
                **_array(
                    _object(
                        {
                            "city": STRING,
                            "method": {**STRING, "description": "A shared catalogue key."},
                            "metric": STRING,
                            "value": _nullable(NUMBER),
                            "low": {**_nullable(NUMBER), "description": "95 % interval."},
                            "high": _nullable(NUMBER),
                            "n": {**_nullable(COUNT), "description": "Ideas behind the value."},
                            "small_sample": BOOLEAN,
                        }
                    )
                ),
                "description": "One row per city, method and metric (tidy data).",
            },
        },
        "How each method fared in each city; docs/comparing.md explains the metrics.",
    ),
    "ExchangeBundle": {
        "type": "object",
        "required": ["format", "version"],
        "properties": {
            "format": {"enum": ["innoplat-exchange", "innoplat-exchange-changes"]},
            "version": INTEGER,
            "since": EXACT_TIME,
            "public_references": {"type": "array", "items": STRING},
        },
        "description": "The city's public data as an exchange bundle; its full JSON Schema is "
        "docs/exchange.schema.json and docs/exchange.md describes it. Asked with `since`, a "
        "partial bundle (format innoplat-exchange-changes): only the ideas changed since then, "
        "with `since` and the references of all public ideas (`public_references`).",
    },
}


def _parameter(
    name: str, schema: dict[str, Any], description: str, where: str = "query"
) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description,
        "schema": schema,
    }


LANG = _parameter(
    "lang",
    STRING,
    "Language of stage, focus area and method names (one of the city's locales); "
    "the city's default language when left out.",
)

IDEA_PARAMETERS = [
    _parameter(
        "q",
        {"type": "string", "maxLength": 200},
        'Full-text search in title, summary and description: words (prefixes match), "a phrase", '
        "-excluded, OR. Results come best match first unless another sort is asked for.",
    ),
    _parameter("stage", STRING, "A stage key of the city (see /stages)."),
    _parameter("phase", PHASE, "A canonical phase."),
    _parameter("focus_area", STRING, "A focus area key of the city."),
    _parameter("sdg", SDG, "A UN Sustainable Development Goal."),
    _parameter("method", STRING, "A method key or shared catalogue key (see /methods)."),
    _parameter("organisation", STRING, "An organisation key taking part in the ideas."),
    _parameter("origin_channel", _enum([c.value for c in OriginChannel]), "How ideas came in."),
    _parameter("sort", {**_enum(list(SORTS)), "default": "relevance"}, "Order of the list."),
    _parameter("page", {"type": "integer", "minimum": 1, "default": 1}, "Page number."),
    _parameter(
        "per_page",
        {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
        "Ideas per page.",
    ),
    LANG,
]


def _listed(name: str, description: str) -> dict[str, Any]:
    return _parameter(
        name, STRING, f"{description} Repeat the parameter or separate values with commas."
    )


COMPARE_PARAMETERS = [
    _listed("cities", "City slugs (all cities in the database when left out)."),
    _listed("methods", "Shared method keys (every method applied when left out)."),
    _listed("metric", "Metric keys (all metrics when left out)."),
    _parameter(
        "since",
        {"type": "string", "format": "date"},
        "Only ideas submitted on or after this date (YYYY-MM-DD).",
    ),
    _parameter(
        "lang",
        STRING,
        "Language of city names and metric labels (an interface language of the platform).",
    ),
]


def _ok(schema: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {
            "ETag": {"schema": STRING, "description": "Send it back in If-None-Match for a 304."},
            "Cache-Control": {"schema": STRING},
        },
        "content": {"application/json": {"schema": _ref(schema)}},
    }


def _errors(*codes: int) -> dict[str, Any]:
    descriptions = {
        304: "Not modified since the ETag in If-None-Match.",
        400: "A bad parameter; `field` names it.",
        404: "No such resource (or it is not public).",
        405: "Method not allowed.",
        500: "An error on the server's side.",
        503: "The database is unavailable.",
    }
    out: dict[str, Any] = {}
    for code in (304, *codes, 405, 500, 503):
        if code == 304:
            out["304"] = {"description": descriptions[304]}
        else:
            out[str(code)] = {
                "description": descriptions[code],
                "content": {"application/json": {"schema": _ref("Error")}},
            }
    return out


def _get(
    operation: str, summary: str, schema: str, parameters: list[Any], *codes: int
) -> dict[str, Any]:
    return {
        "get": {
            "operationId": operation,
            "summary": summary,
            "parameters": parameters,
            "responses": {"200": _ok(schema, summary), **_errors(400, *codes)},
        }
    }


SUBMIT = {
    "operationId": "submitIdea",
    "summary": "Submit an idea as a citizen would on the web form",
    "description": "JSON only (Content-Type: application/json), no CSRF token; rate-limited "
    "like the web form. The idea starts in the city's first stage.",
    "parameters": [LANG],
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": _ref("IdeaSubmission")}},
    },
    "responses": {
        "201": {
            "description": "The idea as stored, with its new reference.",
            "headers": {"Location": {"schema": STRING}},
            "content": {"application/json": {"schema": _ref("IdeaDetail")}},
        },
        **{
            str(code): {
                "description": text,
                "content": {"application/json": {"schema": _ref("Error")}},
            }
            for code, text in (
                (400, "A bad field; `field` names it (e.g. consent, title, Content-Type)."),
                (403, "A peer city's data is read-only here."),
                (429, "Too many submissions from this address; try again later."),
                (500, "An error on the server's side."),
                (503, "The database is unavailable."),
            )
        },
    },
}


def document() -> dict[str, Any]:
    """The whole OpenAPI document (paths relative to the server URL ``/api/v1``)."""
    reference = _parameter("reference", STRING, "The idea's reference, e.g. KIR-2026-0042.", "path")
    method_key = _parameter("key", STRING, "A method key.", "path")
    organisation_key = _parameter("key", STRING, "An organisation key.", "path")
    kind = _parameter("kind", _enum([k.value for k in OrganisationKind]), "Only this kind.")
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": "innoplat public API",
            "version": VERSION,
            "summary": "Public ideas, workflow, methods, organisations and figures of one city's "
            "innovation platform.",
            "description": "Read-only and public: only ideas with public visibility, never a "
            "person's name or e-mail address. Names that a city translates come in the language "
            'asked for with `lang`. Errors are JSON objects `{"error": {"status", '
            '"message", "field"}}`. Unknown query parameters are a 400 naming them.',
            "license": {"name": "EUPL-1.2", "identifier": "EUPL-1.2"},
        },
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/": _get("index", "The city and the API's resources", "Index", [LANG]),
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
            "/ideas": {
                **_get(
                    "listIdeas", "Public ideas, filtered and searched", "IdeaList", IDEA_PARAMETERS
                ),
                "post": SUBMIT,
            },
            "/ideas/{reference}": _get(
                "getIdea",
                "One public idea with its history, methods and participants",
                "IdeaDetail",
                [reference, LANG],
                404,
            ),
            "/stages": _get(
                "listStages", "The city's workflow and the canonical phases", "StageList", [LANG]
            ),
            "/methods": _get(
                "listMethods",
                "The method catalogue and the city's local methods",
                "MethodList",
                [LANG],
            ),
            "/methods/{key}": _get(
                "getMethod",
                "One method and its outcomes in this city",
                "MethodDetail",
                [method_key, LANG],
                404,
            ),
            "/organisations": _get(
                "listOrganisations",
                "The organisations of the platform",
                "OrganisationList",
                [kind, LANG],
            ),
            "/organisations/{key}": _get(
                "getOrganisation",
                "One organisation, its recent public ideas and collaborators",
                "OrganisationDetail",
                [organisation_key, LANG],
                404,
            ),
            "/figures": _get(
                "getFigures",
                "Funnel per stage and phase, ideas per method, counts",
                "Figures",
                [LANG],
            ),
            "/evidence": _get(
                "getEvidence",
                "Time to implementation, adjusted and pooled effects of methods",
                "Evidence",
                [
                    _parameter("cities", STRING, "City slugs, comma-separated (default: all)."),
                    _parameter(
                        "methods", STRING, "Shared method keys, comma-separated (default: all)."
                    ),
                    _parameter("since", DATE, "Only ideas submitted on or after this date."),
                    _parameter(
                        "as_of",
                        DATE,
                        "The data's date of this city's ideas (default: the start of today, UTC).",
                    ),
                    LANG,
                ],
            ),
            "/compare": _get(
                "compareMethods",
                "How each method fared in each city (all cities in this database)",
                "Comparison",
                COMPARE_PARAMETERS,
            ),
            "/exchange": _get(
                "getExchangeBundle",
                "This city's exchange bundle, which `innoplat pull` on a sibling imports",
                "ExchangeBundle",
                [
                    _parameter(
                        "since",
                        EXACT_TIME,
                        "Only what changed at or after this moment (UTC, e.g. "
                        "2026-01-31T12:00:00Z): a partial bundle that `innoplat sync` merges "
                        "into its copy. Every answer carries `Innoplat-Changes: since`.",
                    )
                ],
            ),
        },
        "components": {"schemas": SCHEMAS},
    }

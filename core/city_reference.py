"""The reference of city.toml, generated from the configuration models in ``config.py``.

Two files come out of it: ``docs/city.schema.json``, a JSON Schema editors validate a
city.toml with (e.g. Taplo / Even Better TOML: ``#:schema`` on the file's first line), and
``docs/city-toml.md``, every key with its type, default and meaning, and an example.
Regenerate both after changing the models::

    python -m innoplat.core.city_reference docs

A test fails while either file is stale, or while a key has no description here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel

from .config import CityConfig

SCHEMA_FILE = "city.schema.json"
REFERENCE_FILE = "city-toml.md"
SCHEMA_ID = "https://github.com/innoplat/innoplat/blob/main/docs/city.schema.json"

#: What each key means, by its place in the file: ``theme.logo``, ``stages[].key``,
#: ``demo.methods.*.share``. Types, defaults and allowed values come from the models.
DESCRIPTIONS: dict[str, str] = {
    "slug": "The city's identifier, also its folder's name: lower-case letters, digits, - and _.",
    "reference_prefix": "2–5 capital letters starting every idea's reference (`KIR-2026-0042`).",
    "name": 'The platform\'s name by language (`{ sv = "…", en = "…" }`).',
    "description": "What the platform is, by language (shown on the about page).",
    "region": "The region the city belongs to.",
    "population": "Inhabitants, from a cited source; leave it out otherwise.",
    "locales": "Interface languages offered: `sv`, `en`, `se`, `fi`, `fit`.",
    "default_locale": "The language of a first visit; one of `locales`.",
    "locale_fallbacks": 'For a language without CLDR data (`fit`), the locale whose dates and numbers it uses (`fit = "sv"`).',
    "timezone": "An IANA time zone.",
    "website": "The platform's or the city's public website.",
    "theme": "The site's look.",
    "theme.primary_color": "Header and link colour, `#rrggbb`.",
    "theme.accent_color": "Accent colour, `#rrggbb`.",
    "theme.logo": "A wordmark or logo shown in the header: a file in the city folder's `static/`.",
    "theme.hero_image": "A picture beside the home page's invitation (a file in `static/`); needs `hero_alt`.",
    "theme.hero_alt": "What the hero picture shows, by language.",
    "theme.invitation": 'The home page\'s first words by language, e.g. "Har du en idé för Kiruna?".',
    "stages": "The workflow, first stage first: the first is in phase `submitted` and every stage can be reached from it.",
    "stages[].key": "Stable identifier of the stage.",
    "stages[].phase": "The canonical phase the stage belongs to; comparisons between cities use it.",
    "stages[].name": "The stage's name by language; the default locale is required.",
    "stages[].to": "Keys of the stages an idea may move to from this one.",
    "focus_areas": "Focus areas ideas can belong to.",
    "focus_areas[].key": "Stable identifier of the focus area.",
    "focus_areas[].name": "Its name by language.",
    "focus_areas[].sdgs": "The UN Sustainable Development Goals (1–17) it serves.",
    "organisations": "Organisations taking part in the platform.",
    "organisations[].key": "Stable identifier of the organisation.",
    "organisations[].name": "Its own name.",
    "organisations[].kind": "What kind of organisation it is.",
    "organisations[].role": "Its role in the platform itself, if it has one.",
    "organisations[].parent": "The key of the organisation it belongs to (a department's municipality).",
    "organisations[].website": "Its public website.",
    "organisations[].description": "What it is and does, by language (shown on its page).",
    "methods": "The city's own names for methods of the shared catalogue.",
    "methods[].key": "Stable identifier of the local method.",
    "methods[].maps_to": "The key of the shared catalogue's method it is; `innoplat cities` checks that it exists.",
    "methods[].name": "The local name by language.",
    "methods[].description": "A description by language.",
    "plugins": "Plugins and their settings. Each plugin's settings are a table `[plugins.<name>]` beside `enabled`, checked by the plugin (docs/plugins.md).",
    "plugins.enabled": 'Installed plugins to enable, in precedence order: the first listed comes first (docs/hooks.md, "Precedence").',
    "privacy": "How long personal data is kept (the register of processing: docs/privacy.md).",
    "privacy.contact_retention_days": "Days after an idea is closed before its submitter's name and e-mail address are removed by the daily expiry (`innoplat worker`, or `innoplat persons expire-contacts` from cron).",
    "demo": "How `innoplat demo`'s synthetic data behaves.",
    "demo.years": "First and last year synthetic ideas are submitted in.",
    "demo.base_implementation_rate": "Share of synthetic ideas implemented without any method's lift.",
    "demo.description": "What the profile plants, by language.",
    "demo.methods": "Per shared method key, how the demo uses the method.",
    "demo.methods.*.share": "Share of synthetic ideas the method is applied to.",
    "demo.methods.*.lift": "How many times as likely implementation is with the method.",
}

EXAMPLE = """\
#:schema ../../docs/city.schema.json
slug = "exempelby"
reference_prefix = "EXB"
locales = ["sv", "en"]
default_locale = "sv"
timezone = "Europe/Stockholm"

[name]
sv = "Innovationsplattform Exempelby"
en = "Innovation Platform Exempelby"

[theme]
primary_color = "#0b5a8a"

[[stages]]
key = "inkommen"
phase = "submitted"
name = { sv = "Inkommen", en = "Received" }
to = ["bedomning"]

[[stages]]
key = "bedomning"
phase = "screening"
name = { sv = "Bedömning", en = "Screening" }
to = ["inford"]

[[stages]]
key = "inford"
phase = "implemented"
name = { sv = "Införd", en = "Implemented" }

[[focus_areas]]
key = "klimat"
name = { sv = "Klimat", en = "Climate" }
sdgs = [7, 13]

[[organisations]]
key = "exempelby-kommun"
name = "Exempelby kommun"
kind = "municipality"
role = "owner"
description = { sv = "Kommunen som driver plattformen.", en = "The municipality running the platform." }

[[methods]]
key = "ideverkstad"
maps_to = "co_creation_workshop"
name = { sv = "Idéverkstad", en = "Idea workshop" }

[plugins]
enabled = ["catalogue", "voting"]
"""


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        return schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    for option in node.get("anyOf", []):
        if "$ref" in option:
            return schema["$defs"][option["$ref"].rsplit("/", 1)[-1]]
    return node


def _fields(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(path, the key's schema, the schema of the table holding it) for every key, in file order."""
    found: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    def visit(table: dict[str, Any], prefix: str) -> None:
        for key, node in table.get("properties", {}).items():
            path = prefix + key
            found.append((path, node, table))
            target = _resolve(schema, node)
            if target.get("type") == "object" and "properties" in target:
                visit(target, path + ".")
            items = node.get("items")
            if node.get("type") == "array" and items and "$ref" in items:
                visit(_resolve(schema, items), path + "[].")
            extra = node.get("additionalProperties")
            if isinstance(extra, dict) and "$ref" in extra:
                visit(_resolve(schema, extra), path + ".*.")

    visit(schema, "")
    return found


def json_schema() -> dict[str, Any]:
    """The JSON Schema of city.toml, every key described."""
    schema = CityConfig.model_json_schema()
    for path, node, _table in _fields(schema):
        node.pop("title", None)
        if path in DESCRIPTIONS:
            node["description"] = DESCRIPTIONS[path]
    for definition in schema["$defs"].values():
        definition.pop("title", None)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "innoplat city.toml",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def _type(schema: dict[str, Any], node: dict[str, Any]) -> str:
    if "anyOf" in node:
        kinds = [_type(schema, n) for n in node["anyOf"] if n.get("type") != "null"]
        return " or ".join(kinds) + (
            " (optional)" if any(n.get("type") == "null" for n in node["anyOf"]) else ""
        )
    target = _resolve(schema, node)
    if "enum" in target:
        return "one of " + ", ".join(f"`{v}`" for v in target["enum"])
    if "const" in target:
        return f"`{target['const']}`"
    kind = target.get("type")
    if kind == "array":
        if "prefixItems" in target:
            return "[" + ", ".join(_type(schema, n) for n in target["prefixItems"]) + "]"
        items = target.get("items", {})
        if "$ref" in items and "properties" in _resolve(schema, items):
            return "array of tables"
        return f"array of {_type(schema, items)}" if items else "array"
    if kind == "object":
        extra = target.get("additionalProperties")
        if isinstance(extra, dict) and extra.get("type") == "string":
            return "table of strings"
        if isinstance(extra, dict) and "$ref" in extra:
            return "table of tables"
        return "table"
    words = {"string": "string", "integer": "integer", "number": "number", "boolean": "true/false"}
    text = words.get(str(kind), str(kind))
    limits = []
    for word, sign in (
        ("minimum", "≥"),
        ("exclusiveMinimum", ">"),
        ("maximum", "≤"),
        ("exclusiveMaximum", "<"),
    ):
        if word in target:
            limits.append(f"{sign} {target[word]}")
    if "pattern" in target:
        limits.append(f"matching `{target['pattern']}`")
    if "minLength" in target:
        limits.append(f"at least {target['minLength']} character")
    return text + (f" ({', '.join(limits)})" if limits else "")


def _model_defaults(model: type[BaseModel] = CityConfig, prefix: str = "") -> dict[str, Any]:
    """Each optional key's default by path, default factories called (the schema omits those)."""
    found: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        for inner in get_args(field.annotation):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                marker = "[]." if get_origin(field.annotation) is list else ".*."
                found.update(_model_defaults(inner, f"{prefix}{name}{marker}"))
        if field.is_required():
            continue
        value = field.get_default(call_default_factory=True)
        if isinstance(value, BaseModel):
            found.update(_model_defaults(type(value), f"{prefix}{name}."))
            continue
        found[prefix + name] = value
    return found


def _default(table: dict[str, Any], key: str, path: str, defaults: dict[str, Any]) -> str:
    if key in table.get("required", []):
        return "required"
    if path not in defaults:
        return "see below"
    value = defaults[path]
    if value is None:
        return "none"
    if value in ({}, []):
        return "empty"
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def markdown() -> str:
    """docs/city-toml.md: every key, its type, default and meaning, then an example."""
    schema = json_schema()
    lines = [
        "# city.toml reference",
        "",
        "<!-- Generated from the models in core/config.py by "
        "`python -m innoplat.core.city_reference docs`; do not edit by hand. -->",
        "",
        "A city is a folder holding `city.toml` (plus optional `plugin.py`, `templates/`,",
        "`static/` and `translations/`). `innoplat cities` checks every city it finds, and",
        "`innoplat init` refuses a city before it touches the database; every mistake is",
        "reported with the file, the key and what is expected. Editors validate the file",
        f"with the JSON Schema [`{SCHEMA_FILE}`]({SCHEMA_FILE}): put",
        f"`#:schema <path to>/{SCHEMA_FILE}` on the first line (Taplo, Even Better TOML).",
        "",
        'Texts by language are tables such as `{ sv = "Inkommen", en = "Received" }`.',
        "A page in a language the table lacks shows the text in the city's `default_locale`,",
        "then Swedish, then English, then the first language given — one rule for every text",
        "by language: the city's name and description, stages, focus areas, methods (names,",
        "descriptions and guide steps), organisations' descriptions, the theme's invitation and",
        "picture text, and names in plugins' settings (the evaluation plugin's criteria). The",
        'page marks such a text with its language (`<span lang="sv">Inkommen</span>`, or a',
        "`lang` attribute on its element), so screen readers pronounce it right; e-mails and the",
        "command line use the same rule. The JSON API answers with the text the rule picks.",
        "",
    ]
    defaults = _model_defaults()
    sections: dict[str, list[tuple[str, str, dict[str, Any], dict[str, Any]]]] = {}
    for path, node, table in _fields(schema):
        parent, _, key = path.rpartition(".") if "." in path else ("", "", path)
        sections.setdefault(parent, []).append((key, path, node, table))
    for parent, rows in sections.items():
        if not parent:
            heading = "Top level"
        elif parent.endswith("[]"):
            heading = f"`[[{parent[:-2]}]]` (one table per entry)"
        elif parent.endswith(".*"):
            heading = f"`[{parent[:-2]}.<key>]`"
        else:
            heading = f"`[{parent}]`"
        lines += [
            f"## {heading}",
            "",
            "| Key | Type | Default | Meaning |",
            "| --- | --- | --- | --- |",
        ]
        for key, path, node, table in rows:
            meaning = node.get("description", "").replace("|", "\\|")
            default = _default(table, key, path, defaults)
            lines.append(f"| `{key}` | {_type(schema, node)} | {default} | {meaning} |")
        lines.append("")
    lines += ["## Example", "", "```toml", EXAMPLE.rstrip("\n"), "```", ""]
    return "\n".join(lines)


def write(folder: Path) -> None:
    (folder / SCHEMA_FILE).write_text(
        json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (folder / REFERENCE_FILE).write_text(markdown(), encoding="utf-8")


if __name__ == "__main__":
    write(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))

"""Checking a bundle record by record: the schema, the references, and that it agrees with itself.

``Checker`` is fed a bundle's items in order (see reader.py) and raises ValidationError at
the first problem, its ``field`` the JSON path of the bad field (``$.ideas[3].title``) and
its message the rule. It keeps per bundle only the keys and, per idea, what the next record
of that idea is checked against, so a bundle of any size is checked in constant memory per
idea. The exporter runs the same checks on what it writes, and the services refuse the same
data when it is created (ideas.py, methods.py), so an instance never exports a bundle its
siblings would refuse. docs/exchange.md lists every rule.
"""

from __future__ import annotations

from array import array
from datetime import date, datetime, timedelta
from typing import Any

from ...errors import ValidationError
from ...models import utcnow
from ...validation import characters
from .. import records
from ..serialisation import timestamp
from .personal_data import redact
from .schema import (
    ADDED,
    CHANGES_FORMAT,
    FAST_VALIDATORS,
    FIELDS,
    FORMAT,
    HEADER,
    IDEA_SECTIONS,
    OPTIONAL,
    SECTIONS,
    TEXT_FIELDS,
    VERSION,
    explaining_validator,
)

#: How far a time may lie ahead of the clock (and of the bundle's ``exported_at``).
CLOCK_TOLERANCE = records.CLOCK_TOLERANCE
#: Free text a citizen or staff member may have written: personal data in it is redacted.
FREE_TEXT = {
    "city": ("description",),
    "organisation": ("name", "description"),
    "method": ("name", "description"),
    "idea": ("title", "summary", "description"),
}


def path(parts: list[Any]) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def parse_datetime(value: str, where: str) -> datetime:
    try:
        return datetime.fromisoformat(value.removesuffix("Z"))
    except ValueError:
        raise ValidationError(where, f"{value!r} is not a valid date and time") from None


def parse_date(value: str | None, where: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(where, f"{value!r} is not a valid date") from None


def check_text(value: Any, where: str) -> None:
    """Every string of a value follows the text rule (``validation.characters``), keys included;
    an error names the string by its JSON path."""
    if isinstance(value, str):
        characters(value, where)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, where)
            check_text(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            check_text(item, f"{where}[{i}]")


def check_version(header: dict[str, Any], formats: tuple[str, ...] = (FORMAT,)) -> None:
    """The format and version policy: same major version read (minor ignored), others refused.

    :param formats: the formats accepted: full bundles, and where they are merged, partial ones.
    """
    if header.get("format") == CHANGES_FORMAT and CHANGES_FORMAT not in formats:
        raise ValidationError(
            "$.format",
            "this is a partial bundle (only the changes since a moment): innoplat sync and "
            "innoplat pull merge it into a peer's copy; import a full bundle instead",
        )
    if header.get("format") not in formats:
        raise ValidationError(
            "$.format",
            f"expected {FORMAT!r} (got {header.get('format')!r}): not an innoplat exchange bundle",
        )
    version = header.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValidationError(
            "$.version", f"expected the format's major version, an integer (got {version!r})"
        )
    if version != VERSION:
        raise ValidationError(
            "$.version",
            f"this bundle is in version {version} of the exchange format; this innoplat reads "
            f"version {VERSION} (any minor version): upgrade innoplat to import it",
        )


_EPOCH = datetime(1970, 1, 1)
_MICROSECOND = timedelta(microseconds=1)


class _Group:
    """The records of the idea being read in one of the idea lists (they come together, so
    what the next record of the idea is checked against lives here, not per idea). One
    object, reset as the next idea's records begin."""

    __slots__ = ("reference", "position", "submitted_at", "seen", "last_at", "last_stage")

    def __init__(self) -> None:
        self.seen: dict[Any, int] = {}
        self.reset(None, -1, datetime.min)

    def reset(self, reference: str | None, position: int, submitted_at: datetime) -> None:
        self.reference = reference
        self.position = position  # the idea's index in $.ideas
        self.submitted_at = submitted_at
        self.seen.clear()
        self.last_at: datetime | None = None  # the idea's latest transition so far
        self.last_stage: str | None = None


#: The lists whose records the services check as they are made (ideas.py, methods.py,
#: actors.py): an export made with ``schema=False`` does not check their schema and text
#: again. The other lists come from city.toml and are short: every export checks them whole.
MADE_BY_SERVICES = frozenset({"ideas", *IDEA_SECTIONS})


class Checker:
    """Checks a bundle fed item by item; ``record`` returns the record as it is to be stored.

    :param schema: check every record's schema and text (False: only the lists that do not
        come from the services, ``MADE_BY_SERVICES``; an export's own records).
    """

    def __init__(
        self,
        *,
        now: datetime | None = None,
        schema: bool = True,
        redact_text: bool = True,
        formats: tuple[str, ...] = (FORMAT,),
    ) -> None:
        self.now = now or utcnow()
        self.formats = formats
        self.redact_text = redact_text
        self.header: dict[str, Any] = {}
        self.exported_at: datetime | None = None
        self.latest = datetime.max  # the latest time a record may hold
        self.prefix = ""
        self.sections: list[str] = []
        self.counts: dict[str, int] = {}
        self.redacted = 0
        self.stages: dict[str, tuple[str, frozenset[str], int]] = {}
        self.stage_targets: dict[str, list[str]] = {}
        self.areas: dict[str, int] = {}
        self.organisations: dict[str, tuple[str | None, int]] = {}
        self.methods: dict[str, tuple[bool, str, int]] = {}
        #: Each idea's index in $.ideas by reference, and per index what later records of the
        #: idea are checked against, in compact arrays (a 100,000-idea bundle is checked in a
        #: few MiB): its submission time (µs since 1970), its stage (an index into
        #: ``stage_keys``) and a bit per idea list whose records of the idea have been read.
        self.ideas: dict[str, int] = {}
        self._idea_submitted = array("q")
        self._idea_stage = array("l")
        self._idea_closed = bytearray()
        self.stage_keys: list[str] = []
        self._stage_index: dict[str, int] = {}
        self.group = _Group()
        #: Per list: its kind of record, whether its schema and text are checked, schema,
        #: text fields, fields, the fields a minor version added, free-text fields and rule
        #: set (``_idea`` for ``idea``…), looked up once.
        self._sections = {
            section: (
                kind,
                schema or section not in MADE_BY_SERVICES,
                FAST_VALIDATORS[kind],
                TEXT_FIELDS[kind],
                FIELDS[kind],
                ADDED.get(kind, {}),
                FREE_TEXT.get(kind, ()),
                getattr(self, f"_{kind}"),
            )
            for section, kind in SECTIONS.items()
        }

    # ------------------------------------------------------------------ the header

    def field(self, name: str, value: Any) -> None:
        if name in SECTIONS:
            raise ValidationError(f"$.{name}", "must be a list")
        if name in self.header:
            raise ValidationError(f"$.{name}", "appears twice")
        if self.sections and name in HEADER:
            raise ValidationError(
                f"$.{name}",
                f"must come before the lists ({', '.join(SECTIONS)}): a bundle is read in one pass",
            )
        if name in HEADER or not self.sections:
            self.header[name] = value  # unknown fields: ignored (a newer minor version's)

    def check_header(self) -> dict[str, Any]:
        """The header, checked: called when the first list begins."""
        header = self.header
        check_version(header, self.formats)
        for name in HEADER:
            if name not in header and name not in OPTIONAL:
                raise ValidationError("$", f"the bundle has no {name!r}")
        minor = header.get("minor_version", 0)
        if not isinstance(minor, int) or isinstance(minor, bool) or minor < 0:
            raise ValidationError("$.minor_version", f"expected an integer ≥ 0 (got {minor!r})")
        exported = header["exported_at"]
        if not isinstance(exported, str):
            raise ValidationError("$.exported_at", f"expected a time (got {exported!r})")
        check_text(exported, "$.exported_at")
        self.exported_at = parse_datetime(exported, "$.exported_at")
        if not FAST_VALIDATORS["city"].is_valid(header["city"]):
            self._explain("city", header["city"], ["city"])
        if not exported.endswith("Z") or "T" not in exported:
            raise ValidationError("$.exported_at", f"{exported!r} is not a UTC time ending in Z")
        if self.exported_at > self.now + CLOCK_TOLERANCE:
            raise ValidationError(
                "$.exported_at",
                f"{exported} lies in the future (this instance's clock says {timestamp(self.now, exact=True)}; "
                f"tolerance {_hours(CLOCK_TOLERANCE)})",
            )
        self.latest = self.exported_at + CLOCK_TOLERANCE
        city = {k: header["city"][k] for k in FIELDS["city"]}
        check_text(city, "$.city")
        city = self._redact("city", city)
        header["city"] = city
        self.prefix = city["reference_prefix"] + "-"
        return header

    # ------------------------------------------------------------------ the lists

    def start(self, section: str) -> None:
        if not self.sections:
            self.check_header()
        if section in self.sections:
            raise ValidationError(f"$.{section}", "appears twice")
        order = list(SECTIONS)
        if self.sections and order.index(section) < order.index(self.sections[-1]):
            raise ValidationError(
                f"$.{section}",
                f"must come before $.{self.sections[-1]}: the lists come in the order "
                f"{', '.join(order)} (a bundle is read in one pass)",
            )
        skipped = [s for s in order[: order.index(section)] if s not in self.sections]
        if skipped:
            raise ValidationError("$", f"the bundle has no {skipped[0]!r} list before {section!r}")
        if self.sections:
            self.close(self.sections[-1])
        self.sections.append(section)
        self.counts[section] = 0

    def record(self, section: str, raw: Any) -> dict[str, Any]:
        index = self.counts[section]
        self.counts[section] = index + 1
        kind, schema, validator, text_fields, fields, added, free_text, rule = self._sections[
            section
        ]
        where = f"$.{section}[{index}]"
        if schema:
            if not isinstance(raw, dict) or not validator.is_valid(raw):
                self._explain(kind, raw, [section, index])
            if added and not added.keys() <= raw.keys():  # a bundle of an older minor version
                raw = {name: raw[name] if name in raw else added[name]() for name in fields}
            for name in text_fields:
                value = raw[name]
                if not (isinstance(value, str) and value.isprintable()):  # most text, at once
                    check_text(value, f"{where}.{name}")
            # The schema requires every field: as many keys means no unknown one to drop.
            record = raw if len(raw) == len(fields) else {name: raw[name] for name in fields}
        else:
            record = raw
        if free_text and self.redact_text:
            record = self._redact(kind, record)
        rule(record, index, where)
        return record

    def item(self, kind: str, key: str, value: Any) -> Any:
        """Check one item as reader.items gives it; returns the value as it is to be stored
        (a record checked by :meth:`record`, anything else as it is)."""
        if kind == "field":
            self.field(key, value)
        elif kind == "start":
            self.start(key)
        else:
            return self.record(key, value)
        return value

    def finish(self) -> None:
        if not self.sections:
            self.check_header()
        missing = [s for s in SECTIONS if s not in self.sections]
        if missing:
            raise ValidationError("$", f"the bundle has no {missing[0]!r} list")
        self.close(self.sections[-1])
        if not self.stages:
            raise ValidationError("$.stages", "a bundle has at least one stage")

    def close(self, section: str) -> None:
        if section == "stages":
            for key, (_, _, i) in self.stages.items():
                for j, target in enumerate(self.stage_targets[key]):
                    if target not in self.stages:
                        raise ValidationError(
                            f"$.stages[{i}].transitions[{j}]",
                            f"{target!r} is not a stage of the bundle",
                        )
        elif section == "organisations":
            for parent, i in self.organisations.values():
                if parent is not None and parent not in self.organisations:
                    raise ValidationError(
                        f"$.organisations[{i}].parent",
                        f"{parent!r} is not an organisation of the bundle",
                    )
        elif section == "methods":
            for local, shared_key, i in self.methods.values():
                if local and shared_key not in self.methods:
                    raise ValidationError(
                        f"$.methods[{i}].shared_key",
                        f"{shared_key!r} is not a method of the bundle",
                    )
        elif section in IDEA_SECTIONS:
            self._close_group(section)

    # ------------------------------------------------------------------ helpers

    def _explain(self, kind: str, raw: Any, where: list[Any]) -> None:
        if not isinstance(raw, dict):
            raise ValidationError(path(where), f"{raw!r} is not an object")
        from jsonschema.exceptions import best_match  # only for a bad record (schema.py)

        error = best_match(explaining_validator(kind).iter_errors(raw))
        if error is not None:
            raise ValidationError(path([*where, *error.absolute_path]), error.message)

    def _redact(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        if not self.redact_text:
            return record
        for name in FREE_TEXT.get(kind, ()):
            value = record[name]
            if isinstance(value, str):
                clean = redact(value)
                if clean != value:
                    record = {**record, name: clean}
                    self.redacted += 1
            elif isinstance(value, dict):
                cleaned = {k: redact(v) for k, v in value.items()}
                if cleaned != value:
                    record = {**record, name: cleaned}
                    self.redacted += 1
        return record

    def _unique(self, other: int | None, key: str, section: str, name: str, index: int) -> None:
        if other is not None:
            raise ValidationError(
                f"$.{section}[{index}].{name}",
                f"{key!r} appears twice (also at {section}[{other}])",
            )

    def _time(self, value: str, where: str) -> datetime:
        parsed = parse_datetime(value, where)
        if parsed > self.latest:
            raise ValidationError(
                where,
                f"{value} lies after the bundle was exported ({self.header['exported_at']}; "
                f"tolerance {_hours(CLOCK_TOLERANCE)})",
            )
        return parsed

    def _idea_of(self, reference: str, section: str, where: str) -> _Group:
        """The group of records of the idea ``reference`` (the next one when it begins here)."""
        group = self.group
        if group.reference == reference:
            return group
        position = self.ideas.get(reference)
        if position is None:
            raise ValidationError(f"{where}.idea", f"{reference!r} is not an idea of the bundle")
        self._close_group(section)
        bit = 1 << IDEA_SECTIONS.index(section)
        if self._idea_closed[position] & bit:
            raise ValidationError(
                f"{where}.idea",
                f"the records of {reference} in {section} must come together (grouped by idea)",
            )
        self._idea_closed[position] |= bit
        group.reset(reference, position, _EPOCH + self._idea_submitted[position] * _MICROSECOND)
        return group

    def _close_group(self, section: str) -> None:
        group = self.group
        if group.reference is not None and section == "transitions":
            stage = self.stage_keys[self._idea_stage[group.position]]
            if group.last_stage is not None and group.last_stage != stage:
                raise ValidationError(
                    f"$.ideas[{group.position}].stage",
                    f"{stage!r} is not where the idea's history ends ({group.last_stage!r}, "
                    "its last transition)",
                )
        group.reset(None, -1, datetime.min)

    # ------------------------------------------------------------------ one rule set per record

    def _stage(self, r: dict[str, Any], i: int, where: str) -> None:
        self._unique(
            self.stages[r["key"]][2] if r["key"] in self.stages else None,
            r["key"],
            "stages",
            "key",
            i,
        )
        self.stages[r["key"]] = (r["phase"], frozenset(r["transitions"]), i)
        self.stage_targets[r["key"]] = list(r["transitions"])
        self._stage_index[r["key"]] = len(self.stage_keys)
        self.stage_keys.append(r["key"])

    def _focus_area(self, r: dict[str, Any], i: int, where: str) -> None:
        self._unique(self.areas.get(r["key"]), r["key"], "focus_areas", "key", i)
        self.areas[r["key"]] = i

    def _organisation(self, r: dict[str, Any], i: int, where: str) -> None:
        self._unique(
            self.organisations[r["key"]][1] if r["key"] in self.organisations else None,
            r["key"],
            "organisations",
            "key",
            i,
        )
        self.organisations[r["key"]] = (r["parent"], i)

    def _method(self, r: dict[str, Any], i: int, where: str) -> None:
        self._unique(
            self.methods[r["key"]][2] if r["key"] in self.methods else None,
            r["key"],
            "methods",
            "key",
            i,
        )
        if not r["local"] and r["shared_key"] != r["key"]:
            raise ValidationError(
                f"{where}.shared_key", "a shared method's shared_key is its own key"
            )
        self.methods[r["key"]] = (r["local"], r["shared_key"], i)

    def _idea(self, r: dict[str, Any], i: int, where: str) -> None:
        reference = r["reference"]
        self._unique(self.ideas.get(reference), reference, "ideas", "reference", i)
        if not reference.startswith(self.prefix):
            raise ValidationError(
                f"{where}.reference",
                f"{reference!r} does not start with the city's prefix {self.prefix!r}",
            )
        stage = self.stages.get(r["stage"])
        if stage is None:
            raise ValidationError(f"{where}.stage", f"{r['stage']!r} is not a stage of the bundle")
        if r["phase"] != stage[0]:
            raise ValidationError(
                f"{where}.phase",
                f"{r['phase']!r} disagrees with the phase of its stage {r['stage']!r} ({stage[0]!r})",
            )
        owner = r["owner_organisation"]
        if owner is not None and owner not in self.organisations:
            raise ValidationError(
                f"{where}.owner_organisation", f"{owner!r} is not an organisation of the bundle"
            )
        for j, key in enumerate(r["focus_areas"]):
            if key not in self.areas:
                raise ValidationError(
                    f"{where}.focus_areas[{j}]", f"{key!r} is not a focus area of the bundle"
                )
        submitted = self._time(r["submitted_at"], f"{where}.submitted_at")
        updated = self._time(r["updated_at"], f"{where}.updated_at")
        if updated < submitted:
            raise ValidationError(
                f"{where}.updated_at",
                f"{r['updated_at']} is before the idea was submitted ({r['submitted_at']})",
            )
        self.ideas[reference] = i
        self._idea_submitted.append((submitted - _EPOCH) // _MICROSECOND)
        self._idea_stage.append(self._stage_index[r["stage"]])
        self._idea_closed.append(0)

    def _transition(self, r: dict[str, Any], i: int, where: str) -> None:
        group = self._idea_of(r["idea"], "transitions", where)
        for name, phase_name in (("from_stage", "from_phase"), ("to_stage", "to_phase")):
            key = r[name]
            if key is None:
                if r[phase_name] is not None:
                    raise ValidationError(
                        f"{where}.{phase_name}", f"must be null when {name} is null"
                    )
                continue
            stage = self.stages.get(key)
            if stage is None:
                raise ValidationError(f"{where}.{name}", f"{key!r} is not a stage of the bundle")
            if r[phase_name] != stage[0]:
                raise ValidationError(
                    f"{where}.{phase_name}",
                    f"{r[phase_name]!r} disagrees with the phase of {name} {key!r} ({stage[0]!r})",
                )
        at = self._time(r["at"], f"{where}.at")
        if at < group.submitted_at:
            raise ValidationError(
                f"{where}.at",
                f"{r['at']} is before the idea was submitted ({timestamp(group.submitted_at, exact=True)})",
            )
        if group.last_at is not None and at < group.last_at:
            raise ValidationError(
                f"{where}.at",
                f"{r['at']} is before the idea's previous transition ({timestamp(group.last_at, exact=True)}): "
                "an idea's history is in time order",
            )
        if group.last_stage is None:
            if r["from_stage"] is not None:
                raise ValidationError(
                    f"{where}.from_stage",
                    "an idea's first transition is its submission (from_stage null)",
                )
        else:
            if r["from_stage"] != group.last_stage:
                raise ValidationError(
                    f"{where}.from_stage",
                    f"{r['from_stage']!r} is not the stage the idea was in ({group.last_stage!r})",
                )
            allowed = self.stages[group.last_stage][1]
            if r["to_stage"] not in allowed:
                raise ValidationError(
                    f"{where}.to_stage",
                    f"the bundle's workflow does not allow {group.last_stage!r} → {r['to_stage']!r} "
                    f"(allowed: {', '.join(sorted(allowed)) or 'none'})",
                )
        group.last_at = at
        group.last_stage = r["to_stage"]

    def _method_application(self, r: dict[str, Any], i: int, where: str) -> None:
        self._idea_of(r["idea"], "method_applications", where)
        if r["method"] not in self.methods:
            raise ValidationError(
                f"{where}.method", f"{r['method']!r} is not a method of the bundle"
            )
        if r["facilitator"] is not None and r["facilitator"] not in self.organisations:
            raise ValidationError(
                f"{where}.facilitator",
                f"{r['facilitator']!r} is not an organisation of the bundle",
            )
        for j, key in enumerate(r["organisations"]):
            if key not in self.organisations:
                raise ValidationError(
                    f"{where}.organisations[{j}]", f"{key!r} is not an organisation of the bundle"
                )
        started = parse_date(r["started_on"], f"{where}.started_on")
        ended = parse_date(r["ended_on"], f"{where}.ended_on")
        if started and ended and ended < started:
            raise ValidationError(
                f"{where}.ended_on", f"ends ({ended}) before it starts ({started})"
            )
        same = (
            r["method"],
            r["started_on"],
            r["ended_on"],
            r["outcome"],
            r["facilitator"],
            tuple(sorted(r["organisations"])),
        )
        if same in self.group.seen:
            raise ValidationError(
                where,
                f"the same application of {r['method']!r} to {r['idea']} appears twice (also at "
                f"method_applications[{self.group.seen[same]}]): it would be counted twice",
            )
        self.group.seen[same] = i

    def _participation(self, r: dict[str, Any], i: int, where: str) -> None:
        self._idea_of(r["idea"], "participations", where)
        if r["organisation"] not in self.organisations:
            raise ValidationError(
                f"{where}.organisation",
                f"{r['organisation']!r} is not an organisation of the bundle",
            )
        same = (r["organisation"], r["role"])
        if same in self.group.seen:
            raise ValidationError(
                where,
                f"the same participation appears twice (also at participations[{self.group.seen[same]}])",
            )
        self.group.seen[same] = i


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} hour" + ("" if hours == 1 else "s")


def validate_bundle(bundle: Any, *, now: datetime | None = None) -> None:
    """Check a parsed bundle (a dict) against every rule; raises ValidationError."""
    from .reader import items

    checker = Checker(now=now)
    for kind, key, value in items(bundle):
        checker.item(kind, key, value)
    checker.finish()

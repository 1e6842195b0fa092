"""City configuration: loading and validating ``cities/<slug>/city.toml``."""

from __future__ import annotations

import os
import tomllib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from . import errors, validation
from .errors import ConfigError
from .models import OrganisationKind, Phase

SLUG = r"^[a-z0-9][a-z0-9_-]*$"
CITY_FILE = "city.toml"
#: Locales innoplat's own interface is translated into.
KNOWN_LOCALES = ("sv", "en", "se", "fi", "fit")


def _text_rule(*, multiline: bool) -> Callable[[str], str]:
    """The platform's rule for stored text (validation.characters) as a pydantic check."""

    def check(value: str) -> str:
        try:
            return validation.characters(value, "", multiline=multiline)
        except errors.ValidationError as exc:
            raise ValueError(exc.message) from None

    return check


#: A name or label shown to people: no control characters, no line breaks (as an idea's title).
Line = Annotated[str, AfterValidator(_text_rule(multiline=False))]
#: A description: line breaks and tabs allowed, other control characters not (as an idea's).
Paragraph = Annotated[str, AfterValidator(_text_rule(multiline=True))]
#: A name or label per locale: ``{sv = "…", en = "…"}``.
Translated = dict[str, Line]
#: A description per locale.
TranslatedParagraphs = dict[str, Paragraph]

_any_text = _text_rule(multiline=True)


def _first_unreadable(value: Any, path: str = "") -> str | None:
    """Why the first string in ``value`` (itself, or a key or item of its tables and lists)
    that the text rule refuses is refused, and where; None if there is none."""
    if isinstance(value, str):
        try:
            _any_text(value)
        except ValueError as exc:
            return f"{exc} (at {path})" if path else str(exc)
        return None
    items: list[tuple[Any, str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            try:
                _any_text(key)
            except ValueError as exc:
                return f"{exc} (in the key {key!r}{f' at {path}' if path else ''})"
            items.append((item, f"{path}.{key}"))
    elif isinstance(value, list | tuple):
        items = [(item, f"{path}[{i}]") for i, item in enumerate(value)]
    for item, where in items:
        if problem := _first_unreadable(item, where):
            return problem
    return None


class _Checked(BaseModel):
    """Every string in the file obeys the text rule, whatever its field's type says.

    Names and descriptions are :data:`Line` or :data:`Paragraph` (stricter, and naming the
    exact key); this catches a NUL or control character in any other string, including in
    fields added later with a plain ``str``.
    """

    @field_validator("*", mode="after")
    @classmethod
    def _readable_text(cls, value: Any) -> Any:
        if problem := _first_unreadable(value):
            raise ValueError(problem)
        return value


class _Strict(_Checked):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _web_address(value: str) -> str:
    if not validation.is_web_address(value):
        raise ValueError("expected a web address starting with https:// or http://")
    return value


#: A link shown on the city's pages: http or https only.
WebAddress = Annotated[str, AfterValidator(_web_address)]


class StageConfig(_Strict):
    key: str = Field(pattern=SLUG)
    phase: Phase
    name: Translated
    to: list[str] = Field(default_factory=list)


class FocusAreaConfig(_Strict):
    key: str = Field(pattern=SLUG)
    name: Translated
    sdgs: list[int] = Field(default_factory=list)

    @field_validator("sdgs")
    @classmethod
    def _sdgs_exist(cls, value: list[int]) -> list[int]:
        wrong = [n for n in value if not 1 <= n <= 17]
        if wrong:
            raise ValueError(f"UN SDGs are numbered 1 to 17, got {wrong}")
        return value


class OrganisationConfig(_Strict):
    key: str = Field(pattern=SLUG)
    name: Line = Field(min_length=1)
    kind: OrganisationKind
    role: Literal["owner", "project_lead", "partner", "funder"] | None = None
    parent: str | None = None
    website: WebAddress | None = None
    description: TranslatedParagraphs = Field(default_factory=dict)


class LocalMethodConfig(_Strict):
    key: str = Field(pattern=SLUG)
    maps_to: str = Field(pattern=SLUG)
    name: Translated
    description: TranslatedParagraphs = Field(default_factory=dict)


class ThemeConfig(_Strict):
    """The city's look: its colours, a wordmark or logo and a picture for the home page.

    Files are named relative to the city folder's ``static/``; texts are given per locale.
    """

    primary_color: str = Field(default="#0b5a8a", pattern=r"^#[0-9a-fA-F]{6}$")
    accent_color: str = Field(default="#7a3b00", pattern=r"^#[0-9a-fA-F]{6}$")
    #: A wordmark or logo shown in the header beside the platform's name.
    logo: str | None = None
    #: A picture beside the home page's invitation; it needs ``hero_alt``.
    hero_image: str | None = None
    hero_alt: Translated = Field(default_factory=dict)
    #: The home page's first words, e.g. "Har du en idé för Kiruna?".
    invitation: Translated = Field(default_factory=dict)

    @model_validator(mode="after")
    def _hero_has_alt_text(self) -> ThemeConfig:
        if self.hero_image and not self.hero_alt:
            raise ValueError("hero_image needs hero_alt: a text describing the picture")
        for name in ("logo", "hero_image"):
            value = getattr(self, name)
            if value and (value.startswith("/") or ".." in Path(value).parts):
                raise ValueError(f"{name}: a file inside the city folder's static/, got {value!r}")
        return self


class DemoMethodProfile(_Strict):
    share: float = Field(ge=0, le=1)
    lift: float = Field(gt=0, le=10)


class DemoProfile(_Strict):
    """How this city's synthetic demo data behaves; documented in the file itself."""

    years: tuple[int, int] = (2019, 2026)
    base_implementation_rate: float = Field(default=0.18, gt=0, lt=1)
    description: TranslatedParagraphs = Field(default_factory=dict)
    methods: dict[str, DemoMethodProfile] = Field(default_factory=dict)


class PrivacyConfig(_Strict):
    """How long personal data is kept (the register of processing in docs/privacy.md)."""

    #: Days after an idea is closed before its submitter's name and e-mail address are removed
    #: (``innoplat persons expire-contacts``, run daily).
    contact_retention_days: int = Field(default=365, gt=0, le=36500)


class PluginsConfig(_Checked):
    # Per-plugin settings tables sit beside "enabled"; each plugin validates its own.
    model_config = ConfigDict(extra="allow", frozen=True)

    enabled: list[str] = Field(default_factory=lambda: ["catalogue"])

    def settings(self, name: str) -> dict[str, Any]:
        return dict((self.model_extra or {}).get(name) or {})


class CityConfig(_Strict):
    slug: str = Field(pattern=SLUG)
    reference_prefix: str = Field(pattern=r"^[A-Z]{2,5}$")
    name: Translated
    description: TranslatedParagraphs = Field(default_factory=dict)
    region: Line | None = None
    population: int | None = Field(default=None, gt=0)
    locales: list[str] = Field(default_factory=lambda: ["sv", "en"], min_length=1)
    default_locale: str = "sv"
    locale_fallbacks: dict[str, str] = Field(default_factory=dict)
    timezone: str = "Europe/Stockholm"
    website: WebAddress | None = None
    theme: ThemeConfig = Field(default_factory=ThemeConfig)
    stages: list[StageConfig] = Field(min_length=2)
    focus_areas: list[FocusAreaConfig] = Field(default_factory=list)
    organisations: list[OrganisationConfig] = Field(default_factory=list)
    methods: list[LocalMethodConfig] = Field(default_factory=list)
    plugins: PluginsConfig = Field(default_factory=PluginsConfig)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    demo: DemoProfile = Field(default_factory=DemoProfile)


@dataclass(frozen=True)
class CityDefinition:
    """A validated city configuration and the folder it came from."""

    config: CityConfig
    folder: Path

    @property
    def slug(self) -> str:
        return self.config.slug

    @property
    def file(self) -> Path:
        return self.folder / CITY_FILE

    def stage(self, key: str) -> StageConfig:
        for stage in self.config.stages:
            if stage.key == key:
                return stage
        raise KeyError(key)

    @property
    def first_stage(self) -> StageConfig:
        return self.config.stages[0]


def bundled_cities_folder() -> Path:
    return Path(str(resources.files("innoplat.cities")))


def _path_roots() -> list[Path]:
    return [Path(p) for p in os.environ.get("INNOPLAT_CITIES_PATH", "").split(os.pathsep) if p]


def _folders_under(root: Path) -> list[Path]:
    if (root / CITY_FILE).is_file():
        return [root]
    if root.is_dir():
        return [child for child in sorted(root.iterdir()) if (child / CITY_FILE).is_file()]
    return []


def city_folders() -> dict[str, Path]:
    """Every known city folder by slug: the bundled ones, then INNOPLAT_CITIES_PATH entries.

    A folder on INNOPLAT_CITIES_PATH replaces the bundled city of the same name (a deployment
    keeps its own copy of its city); two on the path with one name are ambiguous, and
    ``duplicate_city_folders`` names them.
    """
    folders = {folder.name: folder for folder in _folders_under(bundled_cities_folder())}
    for root in _path_roots():
        for folder in _folders_under(root):
            folders.setdefault(folder.name, folder)
            if folders[folder.name].is_relative_to(bundled_cities_folder()):
                folders[folder.name] = folder
    return folders


def duplicate_city_folders() -> dict[str, list[Path]]:
    """Slugs found in more than one folder on INNOPLAT_CITIES_PATH, with those folders."""
    found: dict[str, list[Path]] = {}
    for root in _path_roots():
        for folder in _folders_under(root):
            if folder.resolve() not in [f.resolve() for f in found.get(folder.name, [])]:
                found.setdefault(folder.name, []).append(folder)
    return {slug: folders for slug, folders in found.items() if len(folders) > 1}


def find_city_folder(city: str) -> Path:
    """A city by slug, or a path to a folder holding a city.toml."""
    as_path = Path(city)
    if (as_path / CITY_FILE).is_file():
        return as_path
    duplicates = duplicate_city_folders()
    if city in duplicates:
        raise ConfigError(
            city,
            "",
            "is on INNOPLAT_CITIES_PATH more than once ("
            + ", ".join(str(f) for f in duplicates[city])
            + "); keep one, or give the folder itself",
        )
    folders = city_folders()
    if city in folders:
        return folders[city]
    known = ", ".join(sorted(folders)) or "none"
    raise ConfigError(
        city, "", f"no such city (known cities: {known}; or give a folder holding {CITY_FILE})"
    )


def read_toml(path: Path, shown: str) -> dict[str, Any]:
    """A TOML file's contents; a file that cannot be read or parsed is a ConfigError."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(shown, "", f"not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(shown, "", f"cannot be read ({exc.strerror})") from None


def load_city(city: str | Path) -> CityDefinition:
    """Load and validate a city; every mistake is a ConfigError naming file, key and expectation."""
    folder = find_city_folder(str(city))
    path = folder / CITY_FILE
    shown = _shown_path(path)
    raw = read_toml(path, shown)
    try:
        config = CityConfig.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise ConfigError(shown, _dotted(error["loc"]), _expected(error)) from None
    _check_consistency(config, shown)
    for key in ("logo", "hero_image"):
        name = getattr(config.theme, key)
        if name and not (folder / "static" / name).is_file():
            raise ConfigError(shown, f"theme.{key}", f"no file static/{name} in the city folder")
    return CityDefinition(config=config, folder=folder)


def _shown_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        bundled = bundled_cities_folder()
        if path.is_relative_to(bundled):
            return "cities/" + str(path.relative_to(bundled))
        return str(path)


#: How much of a refused value an error message repeats.
_GOT_MAX = 80


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _expected(error: Any) -> str:
    kind = error["type"]
    if kind == "missing":
        return "is required but missing"
    if kind == "extra_forbidden":
        return "is not a known key (check the spelling)"
    message = error["msg"].removeprefix("Value error, ")
    if "input" not in error:
        return message
    got = repr(error["input"])  # escapes line breaks and control characters: one line
    return f"{message} (got {got if len(got) <= _GOT_MAX else got[: _GOT_MAX - 1] + '…'})"


def _check_consistency(config: CityConfig, shown: str) -> None:
    """Rules that span several keys: unique keys, transitions that lead somewhere, locales."""

    def fail(key: str, problem: str) -> None:
        raise ConfigError(shown, key, problem)

    if config.default_locale not in config.locales:
        fail("default_locale", f"must be one of locales {config.locales}")
    for i, locale in enumerate(config.locales):
        if locale not in KNOWN_LOCALES:
            fail(f"locales[{i}]", f"expected one of {', '.join(KNOWN_LOCALES)} (got {locale!r})")
    for locale, fallback in config.locale_fallbacks.items():
        if fallback not in KNOWN_LOCALES or fallback == "fit":
            fail(
                f"locale_fallbacks.{locale}",
                f"expected a CLDR locale such as 'sv' (got {fallback!r})",
            )
    for section in ("stages", "focus_areas", "organisations", "methods"):
        seen: set[str] = set()
        for i, item in enumerate(getattr(config, section)):
            if item.key in seen:
                fail(f"{section}[{i}].key", f"duplicate key {item.key!r}")
            seen.add(item.key)

    stage_keys = [s.key for s in config.stages]
    for i, stage in enumerate(config.stages):
        for target in stage.to:
            if target not in stage_keys:
                fail(
                    f"stages[{i}].to", f"unknown stage {target!r} (stages: {', '.join(stage_keys)})"
                )
        if config.default_locale not in stage.name:
            fail(
                f"stages[{i}].name", f"needs a name in the default locale {config.default_locale!r}"
            )
    if config.stages[0].phase is not Phase.submitted:
        fail("stages[0].phase", "the first stage is where new ideas start: expected 'submitted'")
    reachable = {config.stages[0].key}
    queue = deque([config.stages[0]])
    by_key = {s.key: s for s in config.stages}
    while queue:
        for target in queue.popleft().to:
            if target not in reachable:
                reachable.add(target)
                queue.append(by_key[target])
    for i, stage in enumerate(config.stages):
        if stage.key not in reachable:
            fail(f"stages[{i}]", f"stage {stage.key!r} cannot be reached from {stage_keys[0]!r}")

    org_keys = {o.key for o in config.organisations}
    for i, org in enumerate(config.organisations):
        if org.parent is not None and org.parent not in org_keys:
            fail(f"organisations[{i}].parent", f"unknown organisation {org.parent!r}")

    try:
        ZoneInfo(config.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        fail(
            "timezone",
            f"expected an IANA time zone such as 'Europe/Stockholm' (got {config.timezone!r})",
        )

"""City configuration: all six cities validate, and each kind of mistake is named precisely."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from innoplat.core.config import bundled_cities_folder, city_folders, load_city
from innoplat.core.errors import ConfigError

CITIES = ["kiruna", "lund", "goteborg", "boras", "stockholm", "umea"]


@pytest.mark.parametrize("slug", CITIES)
def test_every_bundled_city_validates(slug):
    city = load_city(slug)
    assert city.slug == slug
    assert city.first_stage.phase.value == "submitted"
    assert "catalogue" in city.config.plugins.enabled
    assert city.config.name["sv"] and city.config.name["en"]


def test_kiruna_knows_its_partners_and_languages():
    config = load_city("kiruna").config
    names = {o.name for o in config.organisations}
    for partner in (
        "Kiruna kommun",
        "Tekniska Verken i Kiruna AB",
        "Kirunabostäder AB",
        "Luleå tekniska universitet",
        "Vinnova",
    ):
        assert partner in names
    assert {"sv", "en", "se", "fi", "fit"} <= set(config.locales)
    assert config.locale_fallbacks["fit"] == "sv"


def test_all_six_cities_are_found():
    assert set(CITIES) <= set(city_folders())


@pytest.fixture
def broken_city(tmp_path: Path):
    """Copy Kiruna's folder, apply a text edit to city.toml, and return the folder."""

    def make(old: str, new: str, count: int = 1) -> Path:
        folder = tmp_path / "kiruna"
        shutil.copytree(bundled_cities_folder() / "kiruna", folder, dirs_exist_ok=True)
        path = folder / "city.toml"
        text = path.read_text(encoding="utf-8")
        assert old in text, f"test setup: {old!r} not in city.toml"
        path.write_text(text.replace(old, new, count), encoding="utf-8")
        return folder

    return make


@pytest.mark.parametrize(
    ("old", "new", "key", "expected"),
    [
        ('slug = "kiruna"', 'slug = "kiruna', "", "not valid TOML"),
        ('reference_prefix = "KIR"\n', "", "reference_prefix", "is required but missing"),
        (
            'timezone = "Europe/Stockholm"',
            'timezone = "Europe/Stockholm"\ntimzone = "x"',
            "timzone",
            "is not a known key",
        ),
        ('phase = "pilot"', 'phase = "pilote"', "stages[3].phase", "Input should be 'submitted'"),
        (
            'description.sv = "Projektägare',
            'description.sv = 3\n# "Projektägare',
            "organisations[0].description.sv",
            "Input should be a valid string",
        ),
        (
            'to = ["bedomning", "avslutad"]',
            'to = ["bedömning", "avslutad"]',
            "stages[0].to",
            "unknown stage 'bedömning'",
        ),
        ('key = "bedomning"', 'key = "inkommen"', "stages[1].key", "duplicate key 'inkommen'"),
        ('phase = "submitted"', 'phase = "screening"', "stages[0].phase", "expected 'submitted'"),
        (
            'reference_prefix = "KIR"',
            'reference_prefix = "kir"',
            "reference_prefix",
            "String should match pattern",
        ),
        (
            'default_locale = "sv"',
            'default_locale = "de"',
            "default_locale",
            "must be one of locales",
        ),
        (
            'locales = ["sv", "en", "se", "fi", "fit"]',
            'locales = ["sv", "en", "xx"]',
            "locales[2]",
            "expected one of sv, en, se, fi, fit",
        ),
        (
            'timezone = "Europe/Stockholm"',
            'timezone = "Europe/Kiruna"',
            "timezone",
            "expected an IANA time zone",
        ),
        (
            'kind = "university"',
            'kind = "universe"',
            "organisations",
            "Input should be 'municipality'",
        ),
        (
            'parent = "kiruna-kommun"',
            'parent = "kiruna-kommunen"',
            "organisations",
            "unknown organisation 'kiruna-kommunen'",
        ),
        (
            'primary_color = "#0b5a8a"',
            'primary_color = "blue"',
            "theme.primary_color",
            "String should match pattern",
        ),
    ],
)
def test_each_mistake_names_file_key_and_expectation(broken_city, old, new, key, expected):
    folder = broken_city(old, new)
    with pytest.raises(ConfigError) as error:
        load_city(folder)
    message = str(error.value)
    assert message.startswith(str(folder / "city.toml")) or "city.toml" in message
    assert key in message
    assert expected in message


def test_an_sdg_outside_1_to_17_is_refused(broken_city):
    folder = broken_city("sdgs = [", "sdgs = [18, ")
    with pytest.raises(ConfigError, match=r"focus_areas\[0\]\.sdgs: UN SDGs are numbered 1 to 17"):
        load_city(folder)


def test_a_stage_nobody_can_reach_is_refused(broken_city):
    folder = broken_city("", "")
    with (folder / "city.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[[stages]]\nkey = "glomd"\nphase = "paused"\nname = { sv = "Glömd" }\n')
    with pytest.raises(ConfigError, match="stage 'glomd' cannot be reached from"):
        load_city(folder)


def test_an_unknown_city_lists_the_known_ones():
    with pytest.raises(ConfigError, match="no such city .*known cities: .*kiruna"):
        load_city("atlantis")


# Text in city.toml obeys the platform's text rule (validation.characters), as a form does.
# TOML's escapes ("\u0000") let a NUL or control character into a name or description.
@pytest.mark.parametrize(
    ("old", "new", "key", "expected"),
    [
        (
            'description.sv = "Projektägare',
            'description.sv = "Projekt\\u0000ägare',
            "organisations[0].description.sv",
            "contains a NUL character",
        ),
        (
            'sv = "Inkommen"',
            'sv = "Inkom\\u001bmen"',
            "stages[0].name.sv",
            "contains the control character '\\x1b'",
        ),
        (
            'en = "Innovation Platform Kiruna is',
            'en = "Innovation Platform\\u0007 Kiruna is',
            "description.en",
            "contains the control character '\\x07'",
        ),
        # names and labels are one line, like an idea's title
        ('sv = "Inkommen"', 'sv = "Inkom\\nmen"', "stages[0].name.sv", "character '\\n'"),
        (
            'sv = "Stadsomvandlingen"',
            'sv = "Stads\\tomvandlingen"',
            "focus_areas[0].name.sv",
            "character '\\t'",
        ),
        (
            'name = "Kiruna kommun"',
            'name = "Kiruna\\u0000 kommun"',
            "organisations[0].name",
            "NUL",
        ),
        ('sv = "Innovationsverkstad"', 'sv = "Innovations\\u0085verkstad"', "", ""),
        (
            'sv = "Innovationsplattform Kiruna"',
            'sv = "Innovations\\u007fplattform"',
            "name.sv",
            "'\\x7f'",
        ),
        ('region = "Norrbottens län"', 'region = "Norrbottens\\u0000län"', "region", "NUL"),
        ('sv = "Har du en idé', 'sv = "Har du\\u0000 en idé', "theme.invitation.sv", "NUL"),
        # any other string too, wherever it is (the key path, then where inside the value)
        ('logo = "wordmark.svg"', 'logo = "wordmark\\u0000.svg"', "theme.logo", "NUL"),
        (
            'locales = ["sv", "en", "se", "fi", "fit"]',
            'locales = ["sv", "en\\u0000", "se", "fi", "fit"]',
            "locales",
            "contains a NUL character (at [1])",
        ),
        (
            'enabled = ["catalogue"',
            'enabled = ["catalogue\\u0001"',
            "plugins.enabled",
            "(at [0])",
        ),
    ],
)
def test_unreadable_text_is_refused_naming_the_key(broken_city, old, new, key, expected):
    folder = broken_city(old, new)
    if not key:  # U+0085 is not a C0 control: the rule lets it through, as in a form
        assert load_city(folder).config.methods[0].name["sv"] == "Innovations\x85verkstad"
        return
    with pytest.raises(ConfigError) as error:
        load_city(folder)
    assert error.value.path.endswith("city.toml")
    assert error.value.key == key
    assert expected in error.value.problem
    assert "\n" not in str(error.value)  # one line, the refused value shown escaped


def test_descriptions_keep_line_breaks_and_tabs(broken_city):
    folder = broken_city('description.sv = "Projektägare', 'description.sv = "Projekt-\\n\\tägare')
    config = load_city(folder).config
    assert config.organisations[0].description["sv"].startswith("Projekt-\n\tägare")


def test_a_long_refused_value_is_shortened_in_the_message(broken_city):
    folder = broken_city(
        'en = "Innovation Platform Kiruna is', 'en = "\\u0000Innovation Platform Kiruna is'
    )
    with pytest.raises(ConfigError) as error:
        load_city(folder)
    assert error.value.key == "description.en"
    assert error.value.problem.endswith("…)") and len(error.value.problem) < 140


def test_the_cities_command_names_the_key_of_unreadable_text(
    broken_city, tmp_path, monkeypatch, run_cli
):
    folder = broken_city('description.sv = "Projektägare', 'description.sv = "Projekt\\u0000ägare')
    monkeypatch.setenv("INNOPLAT_CITIES_PATH", str(folder.parent))
    code, out, err = run_cli("cities")
    assert code == 1 and "Traceback" not in out + err
    assert "organisations[0].description.sv: contains a NUL character" in out
    code, out, err = run_cli(
        "init", "--city", str(folder), "--db", f"sqlite:///{tmp_path / 'x.db'}"
    )
    assert code == 1 and err.count("\n") == 1
    assert "city.toml: organisations[0].description.sv: contains a NUL character" in err


def test_a_control_character_in_a_table_key_is_refused(broken_city):
    folder = broken_city('fit = "sv"', '"fi\\u0000t" = "sv"')
    with pytest.raises(ConfigError) as error:
        load_city(folder)
    assert error.value.key == "locale_fallbacks"
    assert "contains a NUL character (in the key 'fi\\x00t')" in error.value.problem

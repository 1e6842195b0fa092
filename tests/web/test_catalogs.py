"""The message catalogs are never stale: every string in the code has a Swedish and English translation.

SCANNED FOLDERS: ``core/`` and ``plugins/`` (every ``*.py`` and every ``templates/**.html``),
with the rules of ``translations/babel.cfg`` and the keywords of the extraction command
(``_``, ``gettext``, ``ngettext``, ``lazy_gettext``, ``_l``). A string counts as translated
when core's catalog (``translations/<locale>/``) or a plugin's own catalog
(``plugins/<name>/translations/<locale>/``) translates it. When this test fails, run the
extraction and update commands (see docs/deploying.md, "Translations") and translate the
strings it names.
"""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("core", "plugins")
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None}
COMPLETE = ("sv", "en")
REVIEWED_LATER = ("se", "fi", "fit")


@cache
def extracted() -> dict[object, str]:
    """Every message id in the scanned folders, with the first place it occurs."""
    with (ROOT / "translations" / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: dict[object, str] = {}
    for folder in SCANNED:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map, options_map, keywords=KEYWORDS
        ):
            key = message if isinstance(message, str) else tuple(message)
            found.setdefault(key, f"{folder}/{filename}:{lineno}")
    return found


def _catalog(path: Path) -> Catalog | None:
    if not path.is_file():
        return None
    with path.open("rb") as handle:
        return read_po(handle)


def translated(locale: str) -> set[object]:
    """Message ids translated (non-empty, not fuzzy) in core's or any plugin's catalog."""
    paths = [ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po"]
    paths += sorted((ROOT / "plugins").glob(f"*/translations/{locale}/LC_MESSAGES/messages.po"))
    done: set[object] = set()
    for path in paths:
        catalog = _catalog(path)
        for message in catalog or []:
            strings = (
                message.string if isinstance(message.string, (list, tuple)) else [message.string]
            )
            if message.id and not message.fuzzy and all(strings):
                done.add(message.id if isinstance(message.id, str) else tuple(message.id))
    return done


def test_the_scan_finds_the_interface_strings():
    assert "Submit an idea" in extracted() and "Skip to content" in extracted()


@pytest.mark.parametrize("locale", COMPLETE)
def test_every_string_is_translated_in_swedish_and_english(locale):
    done = translated(locale)
    missing = {msg: where for msg, where in extracted().items() if msg not in done}
    listing = "\n".join(
        f"  {where}: {msg!r}" for msg, where in sorted(missing.items(), key=lambda kv: kv[1])
    )
    assert not missing, (
        f"{len(missing)} strings lack a {locale} translation (catalog is stale):\n{listing}"
    )


@pytest.mark.parametrize("locale", REVIEWED_LATER)
def test_sami_finnish_and_meankieli_cover_the_whole_core_interface(locale):
    core_sv = _catalog(ROOT / "translations" / "sv" / "LC_MESSAGES" / "messages.po")
    here = _catalog(ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po")
    assert core_sv is not None and here is not None
    done = {
        m.id if isinstance(m.id, str) else tuple(m.id)
        for m in here
        if m.id
        and m.string
        and all(m.string if isinstance(m.string, (list, tuple)) else [m.string])
    }
    needed = {m.id if isinstance(m.id, str) else tuple(m.id) for m in core_sv if m.id}
    assert not needed - done, f"{locale} lacks: {sorted(map(str, needed - done))[:20]}"


@pytest.mark.parametrize("locale", REVIEWED_LATER)
def test_unreviewed_catalogs_say_so_in_their_metadata(locale):
    text = (ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po").read_text(
        encoding="utf-8"
    )
    # The header comment survives `pybabel update` (which drops unknown header fields).
    assert "awaits review by a native" in text.split('msgid ""')[0]


def test_fit_is_labelled_meankieli_not_swedish():
    text = (ROOT / "translations" / "fit" / "LC_MESSAGES" / "messages.po").read_text(
        encoding="utf-8"
    )
    assert '"Language: fit\\n"' in text


def test_compiled_catalogs_are_not_committed():
    """.mo files are build output: compiled when the app starts, ignored by git."""
    tracked = subprocess.run(
        ["git", "ls-files", "translations"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if tracked.returncode != 0:
        pytest.skip("not a git checkout")
    assert ".po" in tracked.stdout and ".mo\n" not in tracked.stdout


@pytest.mark.parametrize("locale", COMPLETE + REVIEWED_LATER)
def test_translations_keep_the_placeholders_of_their_message(locale):
    """A translation that drops or renames %(name)s would break the page at run time."""
    catalog = _catalog(ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po")
    assert catalog is not None
    problems = [f"{message.id!r}: {errors}" for message, errors in catalog.check() if errors]
    assert not problems, "\n".join(problems)


PLUGIN_CATALOGS = sorted(path.parent.name for path in (ROOT / "plugins").glob("*/translations"))


@pytest.mark.parametrize("plugin", PLUGIN_CATALOGS)
def test_every_plugin_speaks_all_five_languages(plugin):
    """A Sami or Meänkieli page shows no English from a plugin: each ships all five catalogs."""
    folder = ROOT / "plugins" / plugin / "translations"
    english = _catalog(folder / "en" / "LC_MESSAGES" / "messages.po")
    assert english is not None
    needed = {m.id if isinstance(m.id, str) else tuple(m.id) for m in english if m.id}
    for locale in COMPLETE + REVIEWED_LATER:
        path = folder / locale / "LC_MESSAGES" / "messages.po"
        catalog = _catalog(path)
        assert catalog is not None, f"{plugin} has no {locale} catalog ({path})"
        done = {
            m.id if isinstance(m.id, str) else tuple(m.id)
            for m in catalog
            if m.id and _translated_string(m.string) and not m.fuzzy
        }
        assert not needed - done, f"{plugin}/{locale} lacks: {sorted(map(str, needed - done))}"
        problems = [f"{message.id!r}: {errors}" for message, errors in catalog.check() if errors]
        assert not problems, "\n".join(problems)
        if locale in REVIEWED_LATER:
            assert (
                "awaits review by a native" in path.read_text(encoding="utf-8").split('msgid ""')[0]
            )


def _translated_string(string: object) -> bool:
    return all(string) if isinstance(string, (list, tuple)) else bool(string)

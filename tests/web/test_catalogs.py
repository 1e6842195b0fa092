"""The message catalogs are never stale: every string in the code has a Swedish and English translation.

SCANNED FOLDERS: ``core/`` and ``plugins/`` (every ``*.py`` and every ``templates/**.html``),
with the rules of ``translations/babel.cfg`` and the keywords of the extraction command
(``_``, ``gettext``, ``ngettext``, ``lazy_gettext``, ``_l``). A string counts as translated
when core's catalog (``translations/<locale>/``) or a plugin's own catalog
(``plugins/<name>/translations/<locale>/``) translates it. When this test fails, run
``make translations`` (see docs/deploying.md, "Translations") and translate the strings it names.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from innoplat.translations.update import read_catalog, update

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("core", "plugins")
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None}
COMPLETE = ("sv", "en")
REVIEWED_LATER = ("se", "fi", "fit")
#: Every kept catalog: core's and each plugin's, in every language.
KEPT = sorted(
    path.relative_to(ROOT)
    for pattern in ("translations/*/LC_MESSAGES/*.po", "plugins/*/translations/*/LC_MESSAGES/*.po")
    for path in ROOT.glob(pattern)
)


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


def _header_comment(path: Path) -> str:
    return path.read_text(encoding="utf-8").split('msgid ""')[0]


@pytest.mark.parametrize("kept", KEPT, ids=str)
def test_unreviewed_catalogs_say_so_in_their_comment_and_header_field(kept):
    """se, fi and fit await a native speaker's review: the comment says so for people, the
    X-Review-Status field for tools; sv and en claim neither."""
    path = ROOT / kept
    locale = path.parents[1].name
    comment = _header_comment(path)
    field = dict(read_catalog(path).extra_headers).get("X-Review-Status")
    if locale in REVIEWED_LATER:
        assert "awaits review by a native" in comment
        assert field is not None and field.startswith("awaiting review by a native"), (
            f"{kept} lacks its X-Review-Status header field"
        )
    if "X-Review-Status" in comment:
        assert field is not None, f"{kept}: its comment names X-Review-Status, its header lacks it"
    if locale in COMPLETE:
        assert field is None and "review" not in comment.lower(), f"{kept} claims to be unreviewed"


def test_updating_a_catalog_keeps_its_review_status_and_translations(tmp_path):
    """`make translations` updates with translations/update.py, which keeps the X- header
    fields `pybabel update` drops."""
    kept = ROOT / "translations" / "se" / "LC_MESSAGES" / "messages.po"
    target = tmp_path / "se" / "LC_MESSAGES" / "messages.po"
    target.parent.mkdir(parents=True)
    shutil.copy(kept, target)
    template = _catalog(kept)
    assert template is not None
    template.add("A string new in the code")
    with (tmp_path / "messages.pot").open("wb") as handle:
        write_po(handle, template)

    update(tmp_path / "messages.pot", tmp_path)

    after = read_catalog(target)
    assert dict(after.extra_headers)["X-Review-Status"] == (
        "awaiting review by a native Northern Sami speaker (all entries)"
    )
    assert after.get("A string new in the code").string == ""
    before = {m.id: m.string for m in template if m.id and m.id != "A string new in the code"}
    assert {m.id: m.string for m in after if m.id and m.id in before} == before


@pytest.mark.slow
def test_make_translations_leaves_the_kept_catalogs_as_they_are(tmp_path):
    """The documented command on an unchanged tree changes nothing: the catalogs are kept in
    exactly the form it writes, so running it gives a diff of the new strings alone."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    for folder in ("core", "plugins", "translations"):
        shutil.copytree(
            ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__", "*.mo")
        )
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    tools = Path(sys.executable).parent  # this environment's python and pybabel
    ran = subprocess.run(
        [make, "-s", "translations", f"BIN={tools}", "-o", str(tools / "innoplat")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    changed = [str(p) for p in KEPT if (ROOT / p).read_bytes() != (tmp_path / p).read_bytes()]
    assert not changed, (
        f"`make translations` rewrites {changed}: run it and commit the catalogs it writes"
    )


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

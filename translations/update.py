"""Update the message catalogs of a folder from a template, as ``pybabel update`` would.

usage: python translations/update.py TEMPLATE.pot FOLDER

It does what ``pybabel update -i TEMPLATE.pot -d FOLDER -w 100 --no-fuzzy-matching
--ignore-obsolete --ignore-pot-creation-date`` does, through Babel's own ``Catalog.update`` and
``write_po``, and one thing more: it keeps the catalog's own ``X-`` header fields (such as
``X-Review-Status``), which Babel drops when it reads a catalog. ``make translations`` runs it
for core's catalogs and every plugin's; see docs/deploying.md, "Translations".
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import PoFileParser, read_po, write_po

#: The line width of the kept catalogs (``pybabel -w 100``).
WIDTH = 100


class HeaderKeepingCatalog(Catalog):
    """A catalog that writes back the ``X-`` header fields it read (Babel keeps known ones only)."""

    extra_headers: list[tuple[str, str]] = []

    def _set_mime_headers(self, headers: Iterable[tuple[str, str]]) -> None:
        headers = list(headers)
        self.extra_headers = [(n, v) for n, v in headers if n.lower().startswith("x-")]
        super()._set_mime_headers(headers)

    def _get_mime_headers(self) -> list[tuple[str, str]]:
        headers = super()._get_mime_headers()
        # Babel writes Generated-By last; the kept fields go just before it.
        return headers[:-1] + self.extra_headers + headers[-1:]


def read_catalog(path: Path) -> HeaderKeepingCatalog:
    """A catalog as ``read_po`` reads it, with its ``X-`` header fields in ``extra_headers``."""
    catalog = HeaderKeepingCatalog(locale=path.parents[1].name, domain="messages")
    with path.open("rb") as handle:
        PoFileParser(catalog).parse(handle)
    return catalog


def update(template_path: Path, folder: Path) -> list[Path]:
    """Update every ``FOLDER/<locale>/LC_MESSAGES/messages.po`` from the template."""
    with template_path.open("rb") as handle:
        template = read_po(handle)
    updated = []
    for path in sorted(folder.glob("*/LC_MESSAGES/messages.po")):
        catalog = read_catalog(path)
        catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
        partial = path.with_name(path.name + ".partial")
        with partial.open("wb") as handle:
            write_po(handle, catalog, width=WIDTH, ignore_obsolete=True)
        partial.replace(path)
        updated.append(path)
    return updated


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    template, folder = Path(argv[0]), Path(argv[1])
    if not template.is_file() or not folder.is_dir():
        print(f"error: no template {template} or no folder {folder}", file=sys.stderr)
        return 2
    if not update(template, folder):
        print(f"error: no */LC_MESSAGES/messages.po in {folder}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

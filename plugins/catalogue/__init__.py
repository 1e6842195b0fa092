"""The shared catalogue of public-sector innovation methods, contributed through the methods hook."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from innoplat.core.toolkit import hookimpl

CATALOGUE_FILE = Path(__file__).with_name("methods.toml")


def load_methods() -> list[dict[str, Any]]:
    with CATALOGUE_FILE.open("rb") as handle:
        return list(tomllib.load(handle)["methods"])


@hookimpl
def innoplat_methods() -> list[dict[str, Any]]:
    return load_methods()

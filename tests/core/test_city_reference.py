"""The city.toml reference is generated from the models and kept current: schema, docs, example."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import jsonschema
import pytest

from innoplat.core import city_reference
from innoplat.core.config import bundled_cities_folder, load_city

ROOT = Path(__file__).resolve().parents[2]
REGENERATE = "regenerate: python -m innoplat.core.city_reference docs"


def test_the_published_schema_is_current():
    published = json.loads((ROOT / "docs" / city_reference.SCHEMA_FILE).read_text(encoding="utf-8"))
    assert published == city_reference.json_schema(), REGENERATE


def test_the_reference_page_is_current():
    page = (ROOT / "docs" / city_reference.REFERENCE_FILE).read_text(encoding="utf-8")
    assert page == city_reference.markdown(), REGENERATE


def test_every_key_is_described():
    schema = city_reference.json_schema()
    missing = [
        path for path, node, _ in city_reference._fields(schema) if "description" not in node
    ]
    assert not missing, f"describe these keys in core/city_reference.py DESCRIPTIONS: {missing}"
    assert set(city_reference.DESCRIPTIONS) == {p for p, _, _ in city_reference._fields(schema)}


@pytest.mark.parametrize("slug", ["kiruna", "lund", "goteborg", "boras", "stockholm", "umea"])
def test_every_bundled_city_validates_against_the_schema(slug):
    data = tomllib.loads((bundled_cities_folder() / slug / "city.toml").read_text(encoding="utf-8"))
    jsonschema.validate(data, city_reference.json_schema())


def test_the_schema_refuses_what_the_loader_refuses():
    data = tomllib.loads(city_reference.EXAMPLE)
    for broken in ({**data, "timzone": "x"}, {**data, "reference_prefix": "exb"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, city_reference.json_schema())


def test_the_example_is_a_valid_city(tmp_path):
    folder = tmp_path / "exempelby"
    folder.mkdir()
    (folder / "city.toml").write_text(city_reference.EXAMPLE, encoding="utf-8")
    assert load_city(folder).slug == "exempelby"
    jsonschema.validate(tomllib.loads(city_reference.EXAMPLE), city_reference.json_schema())

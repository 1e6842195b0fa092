"""What ``innoplat cities`` and ``innoplat init`` refuse: the same checks, before any database is touched."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from innoplat.core.config import bundled_cities_folder, load_city
from innoplat.core.errors import ConfigError, ValidationError
from innoplat.core.platform import check_city

PLUGIN = """
from innoplat.core.toolkit import hookimpl


@hookimpl
def innoplat_methods():
    return [{{"key": "winter_walk", "name": {{"sv": "Vintervandring"}}, "guide_steps": {steps}}}]
"""


def _city(tmp_path: Path, slug: str = "kiruna", edit: tuple[str, str] | None = None) -> Path:
    folder = tmp_path / slug
    shutil.copytree(
        bundled_cities_folder() / slug, folder, ignore=shutil.ignore_patterns("__pycache__")
    )
    if edit:
        path = folder / "city.toml"
        text = path.read_text(encoding="utf-8")
        assert edit[0] in text
        path.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    return folder


MISSING_METHOD = ('maps_to = "co_creation_workshop"', 'maps_to = "co_creation_workshops"')


def test_cities_refuses_a_local_method_mapped_to_a_missing_catalogue_method(
    tmp_path, monkeypatch, run_cli
):
    """It said "valid" before; only init refused, after migrating the database."""
    _city(tmp_path, edit=MISSING_METHOD)
    monkeypatch.setenv("INNOPLAT_CITIES_PATH", str(tmp_path))
    row = next(r for r in json.loads(run_cli("cities", "--json")[1]) if r["city"] == "kiruna")
    assert not row["valid"]
    assert "methods[0].maps_to" in row["problem"] and "'co_creation_workshops'" in row["problem"]
    assert run_cli("cities")[0] == 1


def test_init_refuses_a_broken_city_before_touching_the_database(tmp_path, run_cli):
    folder = _city(tmp_path, edit=MISSING_METHOD)
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    code, out, err = run_cli("init", "--city", str(folder), "--db", url)
    assert code == 1 and err.count("\n") == 1 and "methods[0].maps_to" in err
    assert inspect(create_engine(url)).get_table_names() == []  # not even migrated


@pytest.mark.parametrize(
    ("steps", "problem"),
    [
        ('"undersoka"', "guide_steps: expected a list of steps, got str"),
        ('["undersok"]', "guide_steps: [0]: expected one of ringa_in, undersoka"),
        ('[{"sv": 1}]', "guide_steps: [0]: expected a table of texts by language"),
        ('{"sv": "Undersöka"}', "guide_steps: expected a list of steps, got dict"),
    ],
)
def test_a_method_with_guide_steps_of_the_wrong_shape_is_refused(tmp_path, steps, problem):
    folder = _city(tmp_path)
    (folder / "plugin.py").write_text(PLUGIN.format(steps=steps), encoding="utf-8")
    with pytest.raises(ValidationError) as error:
        check_city(load_city(folder))
    assert error.value.field == "city:kiruna: methods[0].guide_steps"
    assert problem in str(error.value)


def test_guide_steps_may_be_known_steps_or_texts_by_language(tmp_path):
    folder = _city(tmp_path)
    steps = '["undersoka", {"sv": "Gå ut i snön", "en": "Walk in the snow"}]'
    (folder / "plugin.py").write_text(PLUGIN.format(steps=steps), encoding="utf-8")
    check_city(load_city(folder))


def test_a_slug_twice_on_the_cities_path_is_reported(tmp_path, monkeypatch, run_cli):
    """The second folder silently lost before."""
    first, second = tmp_path / "a", tmp_path / "b"
    _city(first, "lund")
    _city(second, "lund")
    monkeypatch.setenv("INNOPLAT_CITIES_PATH", f"{first}:{second}")
    with pytest.raises(ConfigError, match="more than once") as error:
        load_city("lund")
    assert str(first / "lund") in str(error.value) and str(second / "lund") in str(error.value)
    code, out, _ = run_cli("cities")
    assert code == 1 and "more than once" in out
    assert load_city(second / "lund").slug == "lund"  # the folder itself still works


def test_a_city_on_the_path_replaces_the_bundled_one(tmp_path, monkeypatch):
    _city(tmp_path, "lund")
    monkeypatch.setenv("INNOPLAT_CITIES_PATH", str(tmp_path))
    assert load_city("lund").folder == tmp_path / "lund"

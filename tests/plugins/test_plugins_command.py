"""``innoplat plugins --city X``: each built-in plugin's state for a city, and settings errors."""

from __future__ import annotations

import json

BUILT_IN = (
    "catalogue",
    "comments",
    "evaluation",
    "notifications",
    "opendata",
    "similar_ideas",
    "voting",
)


def test_kiruna_enables_every_built_in_plugin(run_cli):
    code, out, err = run_cli("plugins", "--city", "kiruna", "--json")
    assert code == 0, err
    states = {row["plugin"]: row["state"] for row in json.loads(out)}
    assert {name: states[name] for name in BUILT_IN} == dict.fromkeys(BUILT_IN, "enabled")


def test_a_plugin_not_enabled_by_a_city_shows_as_disabled(run_cli):
    code, out, _err = run_cli("plugins", "--city", "boras", "--json")
    states = {row["plugin"]: row["state"] for row in json.loads(out)}
    assert states["evaluation"] == "disabled" and states["voting"] == "enabled"


def test_wrong_settings_show_as_misconfigured_with_the_key(city_folder, run_cli):
    folder = city_folder(
        plugins=["evaluation", "notifications"],
        settings={"notifications": ['smtp_url = "http://mail.example"']},
    )
    text = (
        (folder / "city.toml").read_text(encoding="utf-8").replace("weight = 0.35", "weight = 0.5")
    )
    (folder / "city.toml").write_text(text, encoding="utf-8")
    code, out, err = run_cli("plugins", "--city", str(folder))
    assert code == 0, err
    lines = {line.split()[0]: line for line in out.splitlines()[1:] if line.strip()}
    assert (
        "misconfigured" in lines["evaluation"]
        and "the weights sum to 1.15; they must sum to 1" in lines["evaluation"]
    )
    assert (
        "misconfigured" in lines["notifications"]
        and "smtp_url: expected smtp://" in lines["notifications"]
    )
    assert "enabled" in lines["catalogue"]

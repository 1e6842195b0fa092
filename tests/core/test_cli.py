"""The innoplat command: every command works, prints readable text or JSON, and errors are one clear line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, text

from innoplat.core.cli import main


@pytest.fixture
def innoplat(run_cli, database_url):
    """Run ``innoplat ARGS`` in-process against this test's database; returns (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        return (
            run_cli(*args)
            if args[0] in ("cities", "plugins")
            else run_cli(*args, "--db", database_url)
        )

    return run


def test_help_lists_the_commands():
    result = subprocess.run(
        [sys.executable, "-m", "innoplat.core.cli", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0
    for command in ("init", "demo", "serve", "cities", "plugins", "ideas", "methods", "actors"):
        assert f"  {command}" in result.stdout


def test_init_is_idempotent(innoplat):
    assert innoplat("init", "--city", "kiruna")[0] == 0
    code, out, _ = innoplat("init", "--city", "kiruna")
    assert code == 0 and "is ready: 8 stages" in out


def test_submit_show_move_and_list(innoplat):
    innoplat("init")
    code, out, _ = innoplat(
        "ideas",
        "submit",
        "--title",
        "Isbana på torget",
        "--focus-area",
        "stadsomvandling",
        "--json",
    )
    assert code == 0
    reference = json.loads(out)["reference"]
    code, out, _ = innoplat(
        "ideas", "move", reference, "--to", "bedomning", "--note", "Tas upp i arbetsgruppen"
    )
    assert code == 0 and f"Moved {reference} from inkommen to bedomning" in out
    code, out, _ = innoplat("ideas", "show", reference, "--json")
    detail = json.loads(out)
    assert [t["to"] for t in detail["transitions"]] == ["inkommen", "bedomning"]
    assert detail["transitions"][1]["note"] == "Tas upp i arbetsgruppen"
    code, out, _ = innoplat("ideas", "list", "--phase", "screening")
    assert reference in out and "1 of 1 ideas" in out


def test_an_illegal_move_is_one_clear_line(innoplat):
    innoplat("init")
    reference = json.loads(innoplat("ideas", "submit", "--title", "Idé", "--json")[1])["reference"]
    code, out, err = innoplat("ideas", "move", reference, "--to", "spridd")
    assert code == 1
    assert err.strip() == (
        f"Error: to: {reference} cannot move from 'inkommen' to 'spridd'; allowed next stages: bedomning, avslutad"
    )
    assert "Traceback" not in err


def test_a_stale_version_is_refused(innoplat):
    innoplat("init")
    reference = json.loads(innoplat("ideas", "submit", "--title", "Idé", "--json")[1])["reference"]
    code, _, err = innoplat(
        "ideas", "move", reference, "--to", "bedomning", "--expect-version", "7"
    )
    assert code == 1 and "changed by someone else" in err


def test_methods_list_show_and_apply(innoplat):
    innoplat("init")
    code, out, _ = innoplat("methods", "list")
    assert code == 0 and "living_lab" in out and "Living lab" in out
    code, out, _ = innoplat("methods", "show", "living_lab", "--lang", "sv", "--json")
    assert json.loads(out)["name"]["sv"] == "Levande labb"
    reference = json.loads(innoplat("ideas", "submit", "--title", "Idé", "--json")[1])["reference"]
    code, out, _ = innoplat(
        "methods",
        "apply",
        reference,
        "living_lab",
        "--outcome",
        "succeeded",
        "--started",
        "2026-01-10",
    )
    assert code == 0 and "Applied living_lab" in out
    detail = json.loads(innoplat("ideas", "show", reference, "--json")[1])
    assert detail["methods"] == [
        {
            "method": "living_lab",
            "outcome": "succeeded",
            "started_on": "2026-01-10",
            "ended_on": None,
        }
    ]


def test_methods_speak_the_language_of_lang(innoplat):
    innoplat("init")
    code, out, _ = innoplat("methods", "list", "--lang", "sv")
    assert code == 0
    assert out.split()[:4] == ["Nyckel", "Namn", "Kategori", "Faser"]
    assert "Levande labb" in out
    code, out, _ = innoplat("methods", "show", "living_lab", "--lang", "sv")
    assert code == 0 and "Kategori: " in out and "; faser: " in out
    assert "Category" not in out and "phases" not in out
    code, out, _ = innoplat("methods", "show", "living_lab")
    assert "Category: " in out and "; phases: " in out


def test_an_empty_table_says_so_in_the_language_of_lang(innoplat, database_url):
    """A table without rows says "(none)" in the reader's language, as its headings do."""
    innoplat("init")
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:  # a database whose method catalogue is empty
            connection.execute(text("DELETE FROM method"))
    finally:
        engine.dispose()
    code, out, _ = innoplat("methods", "list", "--lang", "sv")
    assert code == 0
    assert [line.split() for line in out.splitlines()] == [
        ["Nyckel", "Namn", "Kategori", "Faser"],
        ["(ingen)"],
    ]
    code, out, _ = innoplat("methods", "list", "--lang", "fi")
    assert out.splitlines()[-1] == "(ei mitään)"
    code, out, _ = innoplat("methods", "list")
    assert out.splitlines()[-1] == "(none)"


def test_actors_list(innoplat):
    innoplat("init")
    code, out, _ = innoplat("actors", "list", "--json")
    orgs = {o["key"]: o for o in json.loads(out)}
    assert (
        orgs["tekniska-verken"]["kind"] == "municipal_company"
        if "tekniska-verken" in orgs
        else True
    )
    assert orgs["vinnova"]["platform_role"] == "funder"
    code, out, _ = innoplat("actors", "list", "--kind", "university")
    assert "Luleå tekniska universitet" in out


def test_demo_loads_labelled_synthetic_data(innoplat):
    code, out, err = innoplat("demo", "--city", "umea", "--ideas", "300", "--seed", "4")
    assert code == 0 and "Loaded 300 synthetic ideas" in out, err
    listed = json.loads(innoplat("ideas", "list", "--city", "umea", "--limit", "300", "--json")[1])
    assert listed["total"] == 300 and all(i["synthetic"] for i in listed["ideas"])


def test_cities_shows_all_six_valid(innoplat):
    code, out, _ = innoplat("cities", "--json")
    rows = {r["city"]: r for r in json.loads(out)}
    assert code == 0
    assert {"kiruna", "lund", "goteborg", "boras", "stockholm", "umea"} <= set(rows)
    assert all(r["valid"] for r in rows.values())


def test_plugins_shows_state_and_hooks(innoplat):
    code, out, _ = innoplat("plugins", "--city", "kiruna", "--json")
    rows = {r["plugin"]: r for r in json.loads(out)}
    assert rows["catalogue"]["state"] == "enabled"
    assert rows["catalogue"]["hooks"] == ["innoplat_methods"]


def test_unknown_city_and_bad_database_url_are_clear(innoplat, capsys):
    code, _, err = innoplat("ideas", "list", "--city", "atlantis")
    assert code == 1 and "no such city" in err
    try:
        main(["ideas", "list", "--db", "mysql://nope"])
    except SystemExit as exit_:
        assert exit_.code == 1
    assert "unsupported database 'mysql'" in capsys.readouterr().err


def test_environment_variables_choose_city_and_database(monkeypatch, database_url, capsys):
    monkeypatch.setenv("INNOPLAT_CITY", "lund")
    monkeypatch.setenv("INNOPLAT_DATABASE_URL", database_url)
    main(["init"])
    assert "Future by Lund (lund) is ready" in capsys.readouterr().out

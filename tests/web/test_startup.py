"""Start-up fails one way: StartupFailed, one line saying what to fix, wherever the app starts."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from innoplat.core.cli import main
from innoplat.core.config import bundled_cities_folder
from innoplat.core.errors import ConfigError, StartupFailed
from innoplat.core.testing import free_port
from innoplat.core.web import create_app
from innoplat.core.web.sites import create_sites_app

BROKEN = ('reference_prefix = "KIR"', 'reference_prefix = "kir"')
#: gunicorn's exit status when the app failed to load (it stops instead of restarting workers).
APP_LOAD_ERROR = 4


def _broken_city(tmp_path: Path) -> Path:
    folder = tmp_path / "kiruna"
    shutil.copytree(
        bundled_cities_folder() / "kiruna", folder, ignore=shutil.ignore_patterns("__pycache__")
    )
    path = folder / "city.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(*BROKEN, 1), encoding="utf-8")
    return folder


def test_a_broken_city_and_a_missing_key_fail_the_same_way(tmp_path, platform, monkeypatch):
    monkeypatch.setenv("INNOPLAT_BASE_URL", "https://innovation.kiruna.example")
    monkeypatch.delenv("INNOPLAT_SECRET_KEY", raising=False)
    with pytest.raises(StartupFailed) as broken:
        create_app(city=_broken_city(tmp_path), config={"SECRET_KEY": "k" * 32})
    assert isinstance(broken.value.error, ConfigError)
    assert "reference_prefix" in str(broken.value) and "\n" not in str(broken.value)
    with pytest.raises(StartupFailed) as keyless:
        create_app(platform=platform)
    assert str(keyless.value).startswith("INNOPLAT_SECRET_KEY is not set")
    sites = tmp_path / "sites.toml"
    with pytest.raises(StartupFailed, match="sites.toml: cannot be read"):
        create_sites_app(sites, config={"SECRET_KEY": "k" * 32})
    sites.write_text('[cities.kiruna]\nhosts = ["innovation.kiruna.example"]\n', encoding="utf-8")
    with pytest.raises(StartupFailed, match="INNOPLAT_SECRET_KEY is not set"):
        create_sites_app(sites)


def test_serve_says_what_is_wrong_with_the_city_in_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--city", str(_broken_city(tmp_path))])
    err = capsys.readouterr().err
    assert exited.value.code == 1
    assert err.startswith("Error: ") and "reference_prefix" in err and err.count("\n") == 1


@pytest.mark.parametrize("case", ["broken city.toml", "no secret key", "uninitialised database"])
def test_gunicorn_prints_one_line_and_stops(tmp_path, case):
    """A WSGI server printed a traceback and restarted its workers over and over."""
    environment = {**os.environ, "INNOPLAT_BASE_URL": "https://innovation.kiruna.example"}
    environment.pop("INNOPLAT_SECRET_KEY", None)
    if case == "broken city.toml":
        environment["INNOPLAT_SECRET_KEY"] = "k" * 32
        city = _broken_city(tmp_path)
    else:
        city = bundled_cities_folder() / "kiruna"
    if case == "uninitialised database":
        environment["INNOPLAT_SECRET_KEY"] = "k" * 32
        sqlite3.connect(tmp_path / "innoplat.db").close()
    environment["INNOPLAT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'innoplat.db'}"
    gunicorn = Path(sys.executable).parent / "gunicorn"
    result = subprocess.run(
        [
            str(gunicorn),
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{free_port()}",
            f"innoplat.core.web:create_app(city={str(city)!r})",
        ],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )
    assert result.returncode == APP_LOAD_ERROR, result.stderr
    assert "Traceback" not in result.stderr
    wanted = {
        "broken city.toml": "reference_prefix",
        "no secret key": "INNOPLAT_SECRET_KEY is not set",
        "uninitialised database": f"the database {tmp_path / 'innoplat.db'} has no innoplat "
        "tables yet (run: innoplat init --city kiruna)",
    }[case]
    (line,) = [line for line in result.stderr.splitlines() if wanted in line]
    assert not line.startswith("[")  # the error itself, not a log line about it

"""The plugin author's kit end to end: ``innoplat new-plugin``, install in a fresh venv, its tests pass.

This also runs, step by step, the tutorial in docs/writing-plugins.md (the doc's commands
are checked to be the ones run here).
"""

from __future__ import annotations

import os
import re
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

from innoplat.core.cli.scaffold import write_plugin
from innoplat.core.config import bundled_cities_folder
from innoplat.core.errors import ValidationError

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "docs" / "writing-plugins.md"
NAME = "bike_racks"


def test_a_bad_name_or_a_used_folder_is_refused(tmp_path):
    with pytest.raises(ValidationError) as error:
        write_plugin("Bike Racks", tmp_path / "a")
    assert error.value.field == "name"
    write_plugin(NAME, tmp_path / "b")
    with pytest.raises(ValidationError) as error:
        write_plugin(NAME, tmp_path / "b")
    assert error.value.field == "output"


def test_the_tutorial_shows_the_commands_this_test_runs():
    text = TUTORIAL.read_text(encoding="utf-8")
    for command in (
        f"innoplat new-plugin {NAME}",
        'pip install -e "innoplat-bike-racks[test]"',
        "pytest",
        f'enabled = ["catalogue", "{NAME}"]',
        "innoplat plugins --city kiruna",
        "INNOPLAT_CITIES_PATH",
    ):
        assert command in text, f"docs/writing-plugins.md no longer shows {command!r}"


def _venv(folder: Path) -> Path:
    """A venv on this interpreter that also sees this environment's packages (no network needed).

    ``--system-site-packages`` reaches the base interpreter's packages only; innoplat and
    pytest live in the environment running this test, so a .pth file adds its site folders.
    """
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(folder)],
        check=True,
    )
    python = folder / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    dirs = [d for d in site.getsitepackages() if Path(d).is_dir()]
    lines = "".join(f"import site; site.addsitedir({d!r})\n" for d in dirs)
    (Path(purelib) / "innoplat-host-environment.pth").write_text(lines, encoding="utf-8")
    return python


def _run(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_a_scaffolded_plugin_installs_passes_its_tests_and_is_enabled(tmp_path, run_cli):
    """Scaffold, install into a new venv, run its tests, enable it for a city, check its settings."""
    code, out, err = run_cli("new-plugin", NAME, "--output", str(tmp_path / "innoplat-bike-racks"))
    assert code == 0, err
    package = tmp_path / "innoplat-bike-racks"
    assert (
        package / "innoplat_bike_racks" / "translations" / "sv" / "LC_MESSAGES" / "messages.po"
    ).is_file()

    python = _venv(tmp_path / "venv")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("VIRTUAL_ENV", "PYTHONPATH") and not k.startswith("INNOPLAT_")
    }
    installed = _run(
        str(python), "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "-e", str(package),
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr

    tested = _run(str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=package, env=env)
    assert tested.returncode == 0, tested.stdout[-4000:] + tested.stderr[-2000:]
    assert re.search(r"\b8 passed\b", tested.stdout), tested.stdout[-2000:]

    # Enable it for a city kept outside the package, found through INNOPLAT_CITIES_PATH.
    cities = tmp_path / "cities"
    shutil.copytree(
        bundled_cities_folder() / "kiruna",
        cities / "kiruna",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    toml = cities / "kiruna" / "city.toml"
    text = re.sub(
        r"(?m)^enabled = \[.*\]$",
        f'enabled = ["catalogue", "{NAME}"]',
        toml.read_text(encoding="utf-8"),
    )
    toml.write_text(text, encoding="utf-8")
    env["INNOPLAT_CITIES_PATH"] = str(cities)
    shown = _run(
        str(python),
        "-m",
        "innoplat.core.cli",
        "plugins",
        "--city",
        "kiruna",
        "--json",
        cwd=tmp_path,
        env=env,
    )
    assert shown.returncode == 0, shown.stderr
    assert re.search(
        rf'"plugin": "{NAME}",\s*"module": "innoplat_bike_racks",\s*"state": "enabled"',
        shown.stdout,
    )

    toml.write_text(text + f'\n[plugins.{NAME}]\ncolour = "blue"\n', encoding="utf-8")
    shown = _run(
        str(python), "-m", "innoplat.core.cli", "plugins", "--city", "kiruna", cwd=tmp_path, env=env
    )
    line = next(line for line in shown.stdout.splitlines() if line.startswith(NAME))
    assert "misconfigured" in line and "colour: unknown setting" in line


def test_the_scaffold_s_tests_need_only_what_the_tutorial_installs(tmp_path):
    """Its tests import nothing beyond innoplat's dependencies and the plugin's ``test`` extra,
    and the tutorial installs that extra (pytest was missing before)."""
    import ast
    import tomllib
    from importlib.metadata import packages_distributions, requires

    from packaging.requirements import Requirement

    write_plugin(NAME, tmp_path / "plugin")
    project = tomllib.loads((tmp_path / "plugin" / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(r) for r in requires("innoplat") or [] if "extra ==" not in r] + [
        Requirement(r) for r in project["optional-dependencies"]["test"]
    ]
    installed = {r.name.lower().replace("_", "-") for r in wanted} | {"innoplat"}
    providers = packages_distributions()
    for test_file in (tmp_path / "plugin" / "tests").glob("*.py"):
        for node in ast.walk(ast.parse(test_file.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top == "__future__":
                    continue
                dists = {d.lower().replace("_", "-") for d in providers.get(top, [top])}
                assert dists & installed, f"{test_file.name} imports {top}, which nothing installs"
    assert f'pip install -e "innoplat-bike-racks[{"test"}]"' in TUTORIAL.read_text(encoding="utf-8")

"""A wheel built from the checkout carries the encoded trials: installed into a fresh virtual
environment and run from another directory, ``matcher`` lists and checks every trial of rules/.

Marked ``slow`` (it builds a wheel and a virtual environment: about a minute, dependencies from
pip's cache); CI runs it, ``pytest -m 'not slow'`` leaves it out while working.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from .helpers import PATIENTS, ROOT, RULES

pytestmark = pytest.mark.slow

#: what a clean clone holds that the build needs (no .venv, no build products, no caches)
_NOT_IN_A_CLONE = shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "__pycache__",
                                         ".*_cache", ".hypothesis", "*.db", "*.html", "*.csv")


def _run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True,
                          check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``matcher`` script of a fresh venv holding only the wheel built from a copy of the checkout."""
    base = tmp_path_factory.mktemp("install")
    clone = base / "clone"
    shutil.copytree(ROOT, clone, ignore=_NOT_IN_A_CLONE)
    built = _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", base / "dist",
                 clone, cwd=base)
    assert built.returncode == 0, built.stderr
    wheels = list((base / "dist").glob("trial_matcher-*.whl"))
    assert len(wheels) == 1, wheels
    environment = base / "venv"
    venv.EnvBuilder(with_pip=True).create(environment)
    installing = _run(environment / "bin" / "python", "-m", "pip", "install", "--quiet", wheels[0], cwd=base)
    assert installing.returncode == 0, installing.stderr
    shutil.rmtree(clone)  # the installed matcher must not lean on the checkout it was built from
    return environment / "bin" / "matcher"


def _clean_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != "MATCHER_RULES"}


def test_an_installed_wheel_lists_every_encoded_trial_from_another_directory(installed: Path,
                                                                          tmp_path: Path) -> None:
    listed = _run(installed, "trials", "--format", "json", cwd=tmp_path, env=_clean_env())
    assert listed.returncode == 0, listed.stderr
    encoded = sorted(path.stem for path in RULES.glob("*.yaml"))
    assert [row["trial"] for row in json.loads(listed.stdout)] == encoded


def test_an_installed_wheel_checks_an_example_and_lints_its_own_trials(installed: Path, tmp_path: Path) -> None:
    example = next(PATIENTS.glob("*-eligible-*.yaml"))
    trial = example.name.split("-")[0]
    checked = _run(installed, "check", example, "--format", "json", cwd=tmp_path, env=_clean_env())
    assert checked.returncode == 0, checked.stderr  # eligible for its trial
    verdicts = {result["trial"]: result["verdict"] for result in json.loads(checked.stdout)["results"]}
    assert verdicts[trial] == "eligible"
    assert set(verdicts) == {path.stem for path in RULES.glob("*.yaml")}
    linted = _run(installed, "lint", "--quiet", cwd=tmp_path, env=_clean_env())  # registry copies shipped too
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_an_explicit_rules_directory_wins_over_the_installed_trials(installed: Path, tmp_path: Path) -> None:
    chosen = tmp_path / "one-trial"
    chosen.mkdir()
    first = sorted(RULES.glob("*.yaml"))[0]
    shutil.copy(first, chosen)
    by_option = _run(installed, "trials", "--format", "json", "--rules", chosen, cwd=tmp_path, env=_clean_env())
    by_variable = _run(installed, "trials", "--format", "json", cwd=tmp_path,
                       env={**_clean_env(), "MATCHER_RULES": str(chosen)})
    for listed in (by_option, by_variable):
        assert listed.returncode == 0, listed.stderr
        assert [row["trial"] for row in json.loads(listed.stdout)] == [first.stem]

"""matcher lint and matcher trials: every encoded trial lints clean, and lint catches what it claims to."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from matcher.rules.lint import coverage, lint_file

from .helpers import RULES, cli, copy_trial

RULE_FILES = sorted(RULES.glob("*.yaml"))


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.stem for p in RULE_FILES])
def test_every_rule_file_is_clean_and_covers_its_registry_text(path: Path) -> None:
    report = lint_file(path)
    assert report.errors == []
    assert report.bullets > 0
    assert report.uncovered == []


def test_a_text_that_is_not_verbatim(tmp_path: Path) -> None:
    path = copy_trial(tmp_path)
    path.write_text(path.read_text().replace("text: End-stage renal failure.", "text: End stage renal failure."))
    errors = lint_file(path).errors
    assert any("criterion exc-1: text is not verbatim in the registry copy" in e for e in errors)
    assert any("registry text not encoded by any criterion: 'End-stage renal failure.'" in e for e in errors)


def test_a_registry_bullet_nobody_encoded(tmp_path: Path) -> None:
    path = copy_trial(tmp_path)
    copy = tmp_path / "registry" / "NCT00953485.txt"
    copy.write_text(copy.read_text() + "Patients with a recent stroke.\n")
    report = lint_file(path)
    assert report.uncovered == ["Patients with a recent stroke."]


def test_a_contradiction(tmp_path: Path) -> None:
    path = copy_trial(tmp_path)
    path.write_text(path.read_text().replace("{field: age_years, lte: 70}", "{field: age_years, lt: 15}"))
    errors = lint_file(path).errors
    assert any("criterion inc-1: no value can satisfy age_years gte 15 and age_years lt 15" in e for e in errors)


def test_a_missing_registry_copy(tmp_path: Path) -> None:
    path = copy_trial(tmp_path)
    (tmp_path / "registry" / "NCT00953485.txt").unlink()
    assert any("no registry copy" in e for e in lint_file(path).errors)


def test_lint_cli_exit_codes_and_coverage(tmp_path: Path) -> None:
    code, out, _ = cli("lint", str(RULES / "NCT00953485.yaml"))
    assert code == 0
    assert "NCT00953485: 8 registry bullets, 8 encoded; 8 criteria (4 inclusion, 4 exclusion)" in out
    assert "inc-2: The threshold \"1~6ml/6min\"" in out  # interpretation notes are listed
    broken = copy_trial(tmp_path)
    broken.write_text(broken.read_text().replace("{field: ssdai, gte: 8}", "{field: ssdai, gte: eight}"))
    code, out, _ = cli("lint", str(broken))
    assert code == 1
    assert "takes a plain number, not 'eight'" in out


def test_coverage_counts() -> None:
    report = lint_file(RULES / "NCT00698191.yaml")
    assert report.trial is not None
    counts = coverage(report.trial)
    assert (counts.inclusion, counts.exclusion) == (5, 5)
    assert counts.manual == 3 and counts.partly_manual == 1 and counts.computable == 6
    assert counts.registry_errors == 2


def test_trials_lists_every_encoded_trial() -> None:
    code, out, _ = cli("trials", "--format", "json")
    assert code == 0
    rows = {row["trial"]: row for row in json.loads(out)}
    assert set(rows) == {p.stem for p in RULE_FILES}
    assert rows["NCT00698191"]["last_updated"] == "2008-06-16"
    assert rows["NCT00698191"]["inclusion"] == 5
    code, out, _ = cli("trials")
    assert "NCT00953485  Refractory primary Sjögren's syndrome" in out


def test_lint_quiet_prints_only_the_files_with_problems(tmp_path: Path) -> None:
    code, out, _ = cli("lint", "--quiet", str(RULES))
    assert code == 0
    assert out == ""  # nothing to say when every file is clean
    broken = copy_trial(tmp_path)
    broken.write_text(broken.read_text().replace("{field: ssdai, gte: 8}", "{field: ssdai, gte: eight}"))
    clean = tmp_path / "NCT00698191.yaml"
    shutil.copy(RULES / clean.name, clean)
    shutil.copy(RULES / "registry" / "NCT00698191.txt", tmp_path / "registry")
    code, out, _ = cli("lint", "--quiet", str(broken), str(clean))
    assert code == 1
    assert ": ok" not in out and "NCT00698191" not in out
    assert "takes a plain number, not 'eight'" in out
    assert out.splitlines()[-1] == "1 of 2 rule files clean"

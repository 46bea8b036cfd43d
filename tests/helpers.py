"""Shared test helpers: copies of the example patients to modify (see tests/patches.py), evaluating them, the CLI."""

from __future__ import annotations

import copy
import datetime as dt
import io
import shutil
from pathlib import Path
from typing import Any

from hypothesis import settings

from matcher.api import Matcher
from matcher.cli import main
from matcher.engine.evaluate import Evaluator
from matcher.intake.load import read_document
from matcher.model.profile import PatientProfile
from matcher.results.explain import TrialResult
from matcher.rules.language import Trial

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
PATIENTS = ROOT / "patients"
BASE_PATIENT = PATIENTS / "NCT00698191-eligible-lupus-nephritis.yaml"
#: every example patient file (patients/fhir/ holds the FHIR bundles, tested apart)
EXAMPLE_FILES = sorted(p for p in PATIENTS.glob("*") if p.suffix in (".yaml", ".json"))


def base_patient() -> dict[str, Any]:
    """A fresh copy of the eligible example as plain data, for tests to modify."""
    data = read_document(BASE_PATIENT).data
    assert isinstance(data, dict)
    return copy.deepcopy(data)


def profile(data: dict[str, Any]) -> PatientProfile:
    return PatientProfile.model_validate(data)


def run(engine: Matcher, data: dict[str, Any], trial: str = "NCT00698191",
        as_of: dt.date | None = None) -> TrialResult:
    results = {r.trial: r for r in engine.evaluate(profile(data), as_of)}
    return results[trial]


def outcome(engine: Matcher, data: dict[str, Any], criterion: str, trial: str = "NCT00698191",
            as_of: dt.date | None = None) -> str:
    result = run(engine, data, trial, as_of)
    return next(c.outcome for c in result.criteria if c.id == criterion)


def lab(data: dict[str, Any], test: str) -> dict[str, Any]:
    """The (first) lab entry of ``test`` in ``data``, to modify in place."""
    return next(entry for entry in data["labs"] if entry["test"] == test)


def example(name: str) -> dict[str, Any]:
    """A fresh copy of the example patient ``patients/<name>`` as plain data."""
    data = read_document(PATIENTS / name).data
    assert isinstance(data, dict)
    return copy.deepcopy(data)


def example_data() -> list[dict[str, Any]]:
    """Every example patient file as plain data, in file-name order."""
    return [read_document(path).data for path in EXAMPLE_FILES]


def criterion_result(engine: Matcher, data: dict[str, Any], criterion: str, trial: str,
                     as_of: dt.date | None = None) -> Any:
    result = run(engine, data, trial, as_of)
    return next(c for c in result.criteria if c.id == criterion)


def cli(*argv: str) -> tuple[int, str, str]:
    """Run ``matcher ARGV`` in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def examples(share: float) -> settings:
    """``share`` of the active hypothesis profile's max_examples (property tests differ a lot in cost per example)."""
    return settings(max_examples=max(2, round(settings.default.max_examples * share)))


def copy_trial(tmp_path: Path, trial: str = "NCT00953485") -> Path:
    """A copy of rules/<trial>.yaml and its registry text in ``tmp_path``, to modify; the copy's path."""
    (tmp_path / "registry").mkdir()
    shutil.copy(RULES / "registry" / f"{trial}.txt", tmp_path / "registry" / f"{trial}.txt")
    target = tmp_path / f"{trial}.yaml"
    shutil.copy(RULES / f"{trial}.yaml", target)
    return target


def engine_truths(evaluator: Evaluator, patient: PatientProfile, as_of: dt.date,
                  trial: Trial) -> dict[str, bool | None]:
    """criterion id -> the engine's value of its condition (True, False, or None for undecided)."""
    ev = evaluator.evaluate(patient, as_of, trial.id)
    roots = ev.compiled.criterion_roots
    return {c.id: ev.truths[roots[c.id]] for c in trial.criteria if c.condition is not None}

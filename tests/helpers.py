"""Shared test helpers: copies of the example patients to modify (see tests/patches.py), evaluating them, the CLI."""

from __future__ import annotations

import copy
import datetime as dt
import io
from pathlib import Path
from typing import Any

from hypothesis import settings

from matcher.api import Matcher
from matcher.cli import main
from matcher.intake.load import read_document
from matcher.model.profile import PatientProfile
from matcher.results.explain import TrialResult

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
PATIENTS = ROOT / "patients"
BASE_PATIENT = PATIENTS / "NCT00698191-eligible-lupus-nephritis.yaml"


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

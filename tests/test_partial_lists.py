"""partial_lists: a list recorded with the entries known so far. An entry that matches still answers "yes";
"none matches" is only "unknown", so the patient is undetermined, never wrongly eligible (unknown is not false)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, get_args

import pytest

from matcher.api import Matcher
from matcher.engine.evaluate import Evaluator
from matcher.errors import PatientFileError
from matcher.intake.load import Document, read_document
from matcher.intake.validate import validate_patient
from matcher.model.profile import PartialList
from matcher.rules.compile import compile_trial

from .helpers import PATIENTS, engine_truths, profile
from .oracle import oracle

ELIGIBLE = PATIENTS / "NCT05631717-eligible-active-lupus-nephritis.yaml"
RITUXIMAB = PATIENTS / "NCT05631717-ineligible-recent-rituximab.yaml"
TRIAL = "NCT05631717"
LISTS = get_args(PartialList)


def data(path: Path, partial: list[str]) -> dict[str, Any]:
    found = read_document(path).data
    assert isinstance(found, dict)
    found["partial_lists"] = partial
    return found


def result(engine: Matcher, patient: dict[str, Any]) -> Any:
    (found,) = [r for r in engine.evaluate(profile(patient)) if r.trial == TRIAL]
    return found


def test_a_partial_list_with_no_matching_entry_leaves_the_criterion_unknown(engine: Matcher) -> None:
    complete = result(engine, data(ELIGIBLE, []))
    assert complete.verdict == "eligible"
    partial = result(engine, data(ELIGIBLE, ["medications"]))
    assert partial.verdict == "undetermined"
    changed = {c.id for c, before in zip(partial.criteria, complete.criteria, strict=True)
               if c.outcome != before.outcome}
    assert changed and all(c.outcome == "unknown" for c in partial.criteria if c.id in changed)
    criterion = next(c for c in partial.criteria if c.id in changed)
    assert "the list is recorded as possibly incomplete" in " ".join(criterion.details)
    assert any("the recorded list may be incomplete" in item for item in partial.to_collect)


def test_a_matching_entry_of_a_partial_list_still_decides(engine: Matcher) -> None:
    complete = result(engine, data(RITUXIMAB, []))
    partial = result(engine, data(RITUXIMAB, ["medications"]))
    assert complete.verdict == partial.verdict == "ineligible"
    assert complete.deciding == partial.deciding


@pytest.mark.parametrize("path", sorted(PATIENTS.glob("*.yaml")), ids=lambda p: p.name)
def test_engine_agrees_with_the_oracle_on_partial_lists(trials: list[Any], path: Path) -> None:
    patient = read_document(path).data
    patient["partial_lists"] = [name for name in LISTS if patient.get(name) is not None]
    loaded = profile(patient)
    as_of = loaded.screening_date or dt.date(2026, 11, 2)
    compiled = [compile_trial(t) for t in trials]
    with Evaluator(compiled) as evaluator:
        for c in compiled:
            assert engine_truths(evaluator, loaded, as_of, c.trial) == oracle(c, loaded, as_of)


def test_partial_lists_must_name_recorded_lists() -> None:
    patient = {"id": "p", "partial_lists": ["medications"]}
    with pytest.raises(PatientFileError, match="partial_lists names medications, but there is no medications list"):
        validate_patient(Document("p.yaml", patient))
    with pytest.raises(PatientFileError, match="partial_lists"):
        validate_patient(Document("p.yaml", {"id": "p", "medications": [], "partial_lists": ["medicines"]}))

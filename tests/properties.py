"""What the property modules (tests/test_properties_*.py and the other *_properties modules) share: evaluating
a generated patient on every encoded trial, noting it as a patient file (printed only when the property fails,
to run with ``matcher check``), comparing the decisions of two evaluations, and what each operator means.

The properties derive everything from the rule files in rules/ and the field catalogue
(matcher/model/fields/fields.yaml), over patients and rule trees from tests/strategies/. Example counts follow
the hypothesis profile
(tests/conftest.py); a longer search: ``HYPOTHESIS_PROFILE=thorough pytest tests/test_properties_*.py``.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable
from typing import Any

from hypothesis import note

from matcher.engine.evaluate import Evaluation, Evaluator
from matcher.errors import PatientFileError
from matcher.intake.load import parse_yaml
from matcher.intake.validate import validate_patient
from matcher.model.profile import PatientProfile
from matcher.results.explain import TrialResult, explain
from matcher.rules.compile import CompiledTrial
from matcher.rules.language import Comparison

from . import strategies as gen

Truth = bool | None

# ================================================================== evaluation helpers

def compiled_trials(evaluator: Evaluator) -> list[CompiledTrial]:
    return [evaluator.compiled[trial.id] for trial in gen.encoded_trials()]


def show(data: dict[str, Any], as_of: dt.date) -> str:
    """Note the patient as a file ``matcher check`` runs (printed only when the property fails)."""
    text = gen.patient_file(data, as_of)
    note(text)
    return text


def root_truths(evaluation: Evaluation) -> dict[str, Truth]:
    compiled = evaluation.compiled
    return {cid: evaluation.truths[index] for cid, index in compiled.criterion_roots.items()}


def results_by_trial(evaluator: Evaluator, patient: PatientProfile | dict[str, Any],
                     as_of: dt.date) -> dict[str, TrialResult]:
    """Every encoded trial's result for ``patient`` (a profile, or plain data as a patient file holds it)."""
    profile = patient if isinstance(patient, PatientProfile) else PatientProfile.model_validate(patient)
    return {trial.id: explain(evaluator.evaluate(profile, as_of, trial.id), "given") for trial in gen.encoded_trials()}


def results(evaluator: Evaluator, patient: PatientProfile, as_of: dt.date) -> list[TrialResult]:
    return list(results_by_trial(evaluator, patient, as_of).values())


def decisions(found: list[TrialResult]) -> dict[str, tuple[str, dict[str, str], tuple[str, ...]]]:
    """trial -> (verdict, outcome of every criterion, deciding criteria): what must not change."""
    return {r.trial: (r.verdict, {c.id: c.outcome for c in r.criteria}, r.deciding) for r in found}


def changes(before: dict[str, Any], after: dict[str, Any]) -> str:
    """What differs between two ``decisions``: one line per criterion or verdict."""
    lines = []
    for trial in sorted(set(before) | set(after)):
        (v1, o1, d1), (v2, o2, d2) = before.get(trial, ("-", {}, ())), after.get(trial, ("-", {}, ()))
        if v1 != v2 or d1 != d2:
            lines.append(f"{trial}: verdict {v1} {d1} became {v2} {d2}")
        lines += [f"{trial} {cid}: {o1.get(cid)} became {o2.get(cid)}" for cid in sorted(set(o1) | set(o2))
                  if o1.get(cid) != o2.get(cid)]
    return "\n".join(lines)


def load_text(text: str, name: str) -> PatientProfile:
    """Read a generated patient as a file is read. Its dates are not checked against the wall clock and the
    birth date: generated screenings reach 2060 (test_dates_outside_the_patients_life_are_refused checks that)."""
    return validate_patient(parse_yaml(text, name, PatientFileError), check_dates=False)


def as_yaml(data: dict[str, Any]) -> str:
    return gen.dump(data)


#: what each operator means, written here independently of matcher.rules.language.OPERATORS
RELATIONS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "lte": operator.le, "gt": operator.gt,
    "gte": operator.ge, "in": lambda value, options: value in options,
}


def implied(node: Comparison, value: Any, numeric: bool) -> tuple[Truth, list[bool]]:
    """The truth a comparison must have for a patient value, and that of each of its readings
    (a disputed boundary is decided only where its readings agree)."""
    each = [RELATIONS[r.op](value, gen.exact(r.value) if numeric else r.value) for r in node.readings]
    return (each[0] if len(set(each)) == 1 else None), each

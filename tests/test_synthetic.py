"""The synthetic cohort generator: deterministic, always valid, covers the profile, mixes the verdicts."""

from __future__ import annotations

import datetime as dt
import json
import types
import typing
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from matcher.api import Matcher, load_trials
from matcher.model.profile import PatientProfile
from matcher.tools.synthetic import DEFAULT_AS_OF, iter_cohort, synthetic_patient, write_jsonl

COHORT_SIZE = 1000
#: fields the generator always writes by design (the brief: every patient is screened on the as-of date)
ALWAYS_PRESENT = {"PatientProfile.screening_date"}


@cache
def cohort() -> tuple[dict[str, Any], ...]:
    return tuple(iter_cohort(COHORT_SIZE, seed=0))


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation holds (through Optional, list and Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for argument in typing.get_args(annotation) for model in _models_in(argument)]


def _is_list(annotation: Any) -> bool:
    if typing.get_origin(annotation) is list:
        return True
    return typing.get_origin(annotation) in (typing.Union, types.UnionType) and any(
        _is_list(argument) for argument in typing.get_args(annotation))


def _instances(record: dict[str, Any], model: type[BaseModel], found: dict[str, list[dict[str, Any]]]) -> None:
    """Collect every dict of the record by the model it is an instance of."""
    found.setdefault(model.__name__, []).append(record)
    for name, field in model.model_fields.items():
        value = record.get(name)
        for nested in _models_in(field.annotation):
            for item in value if isinstance(value, list) else [value] if isinstance(value, dict) else []:
                _instances(item, nested, found)


def _all_models(model: type[BaseModel]) -> dict[str, type[BaseModel]]:
    models = {model.__name__: model}
    for field in model.model_fields.values():
        for nested in _models_in(field.annotation):
            models.update(_all_models(nested))
    return models


def test_same_seed_and_index_give_the_same_patient() -> None:
    assert synthetic_patient(7, 42, DEFAULT_AS_OF) == synthetic_patient(7, 42, DEFAULT_AS_OF)
    assert list(iter_cohort(5, seed=7))[3] == synthetic_patient(7, 3, DEFAULT_AS_OF)


def test_different_seeds_and_indexes_differ() -> None:
    first = synthetic_patient(1, 0, DEFAULT_AS_OF)
    assert first["id"] == "synthetic-1-0000000"
    assert {key: value for key, value in first.items() if key != "id"} != {
        key: value for key, value in synthetic_patient(2, 0, DEFAULT_AS_OF).items() if key != "id"}
    assert len({json.dumps(patient, sort_keys=True) for patient in iter_cohort(50, seed=1)}) == 50


def test_screening_date_is_the_as_of_date() -> None:
    assert synthetic_patient(0, 0, dt.date(2030, 2, 1))["screening_date"] == "2030-02-01"


@pytest.mark.parametrize("seed", [0, 1])
def test_every_patient_validates(seed: int) -> None:
    for patient in iter_cohort(300, seed=seed):
        PatientProfile.model_validate(patient)
    for patient in iter_cohort(100, seed=seed, as_of=dt.date(2024, 2, 29)):
        PatientProfile.model_validate(patient)


def test_every_optional_field_is_sometimes_present_and_sometimes_absent() -> None:
    found: dict[str, list[dict[str, Any]]] = {}
    for patient in cohort():
        _instances(patient, PatientProfile, found)
    problems = []
    for name, model in _all_models(PatientProfile).items():
        records = found.get(name, [])
        for field_name, field in model.model_fields.items():
            key = f"{name}.{field_name}"
            present = sum(field_name in record for record in records)
            if present == 0:
                problems.append(f"{key} never present")
            if not field.is_required() and present == len(records) and key not in ALWAYS_PRESENT:
                problems.append(f"{key} never absent")
    assert not problems, problems


def test_lists_are_sometimes_absent_sometimes_empty_sometimes_filled() -> None:
    # partial_lists names other lists; an empty one would say nothing, so it is never generated empty
    lists = [name for name, field in PatientProfile.model_fields.items()
             if _is_list(field.annotation) and name != "partial_lists"]
    assert "medications" in lists
    for name in lists:
        shapes = Counter("absent" if name not in patient else min(len(patient[name]), 1) for patient in cohort())
        assert set(shapes) == {"absent", 0, 1}, (name, shapes)
    sizes = Counter(len(patient.get("medications", [])) for patient in cohort())
    assert set(range(1, 5)) <= set(sizes)


def test_every_allowed_value_is_used() -> None:
    """Every choice of every Literal field (a biopsy class, an infection agent, a frequency) appears."""
    found: dict[str, list[dict[str, Any]]] = {}
    for patient in cohort():
        _instances(patient, PatientProfile, found)
    missing = []
    for name, model in _all_models(PatientProfile).items():
        for field_name, field in model.model_fields.items():
            choices = _literal_choices(field.annotation)
            if not choices:
                continue
            used = {value for record in found.get(name, []) for value in _as_list(record.get(field_name))}
            if choices - used:
                missing.append(f"{name}.{field_name}: {sorted(choices - used)}")
    assert not missing, missing


def _literal_choices(annotation: Any) -> set[str]:
    if typing.get_origin(annotation) is typing.Literal:
        return set(typing.get_args(annotation))
    return {choice for argument in typing.get_args(annotation) for choice in _literal_choices(argument)}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_labs_use_several_unit_spellings() -> None:
    units: dict[str, set[str]] = {}
    for patient in cohort():
        for result in patient.get("labs", []):
            if result["test"] != "ana_titre":  # a titre is written 1:N, without a unit
                units.setdefault(result["test"], set()).add(result["value"].split(" ", 1)[1])
    for test in ("urine_protein_24h", "urine_protein_creatinine_ratio", "serum_creatinine", "neutrophils",
                 "haemoglobin", "cd4", "pao2", "stimulated_saliva_flow", "alt", "wbc", "anti_dsdna",
                 "urine_rbc_per_hpf"):
        assert len(units[test]) >= 2, (test, units[test])


@pytest.mark.parametrize("trial", [trial.id for trial in load_trials()])
def test_each_trial_gets_eligible_ineligible_and_undetermined_patients(trial: str) -> None:
    """Patients in order until all three verdicts are seen; a trial no synthetic patient can pass fails."""
    seen: Counter[str] = Counter()
    with Matcher(load_trials(only=[trial])) as matcher:
        for patient in cohort():
            (result,) = matcher.evaluate(PatientProfile.model_validate(patient), DEFAULT_AS_OF)
            seen[result.verdict] += 1
            if {"eligible", "ineligible", "undetermined"} <= set(seen):
                break
    assert {"eligible", "ineligible", "undetermined"} <= set(seen), (trial, seen)


def test_write_jsonl_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "cohort.jsonl"
    write_jsonl(path, 25, seed=3, as_of=DEFAULT_AS_OF)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == list(iter_cohort(25, seed=3))

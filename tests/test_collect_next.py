"""What to collect next (matcher/results/collect_next.py): the ranking is checked by writing real values
into the patient records, on both sides of the rules' thresholds, and asking the matcher again."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import matcher
from matcher.model.fields import PATIENT_FIELDS
from matcher.model.measurements import LAB_TESTS
from matcher.model.profile import PatientProfile
from matcher.rules.language import Comparison, walk

from .helpers import PATIENTS, cli, example

COHORT = ["NCT00698191-undetermined-no-proteinuria.yaml", "NCT00698191-eligible-lupus-nephritis.yaml",
          "NCT05631717-undetermined-no-pregnancy-tests.yaml", "NCT03219801-undetermined-missing-uln.yaml",
          "NCT00953485-undetermined-no-ssdai.yaml", "NCT03562065-undetermined-no-cd4-count.yaml"]


def lab_values(trials: list[matcher.Trial], test: str) -> list[float]:
    """Just below, at and just above every threshold the rule files compare ``test`` with (canonical unit)."""
    values = set()
    for trial in trials:
        for criterion in trial.criteria:
            for node in walk(criterion.condition) if criterion.condition else ():
                if isinstance(node, Comparison) and node.field == test:
                    for reading in node.readings:
                        values |= {reading.value * 0.9, reading.value, reading.value * 1.1}
    return sorted(values)


def with_lab(data: dict[str, Any], test: str, value: float, day: dt.date) -> PatientProfile:
    changed = copy.deepcopy(data)
    unit = LAB_TESTS[test].measure.canonical
    changed.setdefault("labs", []).append({"test": test, "value": f"{value:g} {unit}", "date": day})
    return PatientProfile.model_validate(changed)


def filled_in(data: dict[str, Any], item: str, trials: list[matcher.Trial],
              day: dt.date | None) -> list[PatientProfile]:
    """The record with ``item`` (as the ranking names it) written in, once per value on both sides of every
    threshold the rules compare it with: a lab (by its label) or a yes/no attribute of the profile (by what
    its field asks to collect). An item of another kind fails the test: add it here."""
    labs = [name for name, spec in LAB_TESTS.items() if spec.label == item]
    if labs:
        return [with_lab(data, labs[0], value, day) for value in lab_values(trials, labs[0])]
    attributes = [spec.derive.removeprefix("attribute ") for spec in PATIENT_FIELDS.values()
                  if spec.collect == item and spec.type == "bool" and spec.derive.startswith("attribute ")]
    assert attributes, f"the cohort's top item {item!r} is neither a lab nor a yes/no attribute"
    filled = []
    for value in (True, False):
        changed = copy.deepcopy(data)
        node = changed
        *parents, last = attributes[0].split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
        filled.append(PatientProfile.model_validate(changed))
    return filled


def test_the_item_ranked_first_decides_what_it_says_when_written_into_the_record(
        engine: matcher.Matcher, trials: list[matcher.Trial]) -> None:
    data = example(COHORT[0])
    patient = PatientProfile.model_validate(data)
    results = engine.evaluate(patient)
    first = engine.collect_next(patient, results)[0]
    assert (first.item, first.decides, first.could_make_eligible) == (
        "24-hour urine protein", ("NCT00698191", "NCT05631717"), ("NCT00698191",))
    verdicts: dict[str, set[str]] = {trial: set() for trial in first.decides}
    for value in lab_values(trials, "urine_protein_24h"):
        for result in engine.evaluate(with_lab(data, "urine_protein_24h", value, patient.screening_date)):
            if result.trial in verdicts:
                verdicts[result.trial].add(result.verdict)
    for trial in first.decides:
        assert verdicts[trial] - {"undetermined"}, trial  # some real value decides it
    assert "eligible" in verdicts["NCT00698191"]
    assert "eligible" not in verdicts["NCT05631717"]  # only ruled out: other data is still missing there


def test_a_cohorts_top_item_filled_in_decides_at_least_as_many_pairs_as_listed(
        engine: matcher.Matcher, trials: list[matcher.Trial]) -> None:
    records = {name: example(name) for name in COHORT}
    patients = {name: PatientProfile.model_validate(data) for name, data in records.items()}
    ranking = engine.collect_next_cohort(patients.values())
    item, listed = ranking[0]
    assert listed >= ranking[1][1] and listed > 0
    decided = 0
    for name, data in records.items():
        before = {r.trial: r for r in engine.evaluate(patients[name])}
        lacking = [trial for trial, r in before.items() if r.verdict == "undetermined" and item in r.to_collect]
        outcomes: dict[str, set[str]] = {trial: set() for trial in lacking}
        for filled in filled_in(data, item, trials, patients[name].screening_date):
            for result in engine.evaluate(filled):
                if result.trial in outcomes:
                    outcomes[result.trial].add(result.verdict)
        decided += sum(1 for seen in outcomes.values() if seen - {"undetermined"})
    assert decided >= listed, (item, decided, listed)


def test_check_collect_next_prints_and_writes_json() -> None:
    path = str(PATIENTS / COHORT[0])
    code, out, _ = cli("check", path, "--collect-next")
    assert code == 11  # undetermined: --collect-next changes no exit code
    assert ("  24-hour urine protein: decides 2 (NCT00698191, NCT05631717); could make eligible for NCT00698191"
            in out)
    code, out, _ = cli("check", path, "--collect-next", "--format", "json")
    assert code == 11
    first = json.loads(out)["collect_next"][0]
    assert first == {"item": "24-hour urine protein", "decides": ["NCT00698191", "NCT05631717"],
                     "could_make_eligible": ["NCT00698191"], "only_ineligible": ["NCT05631717"]}

"""An ``equivalent`` group compares its measures' most recent records with each other, not only with the as-of date.

A measure whose most recent record is older than its window, but within its own window before the group's newest
record, still speaks against agreement: the group is unknown ("records disagree") where it disagrees. One more
than a window older than the newest record is superseded. So merely waiting never turns "records disagree" into
"met" (tests/test_currency_properties.py checks this on generated patients); a value past its window still never
decides anything, and the same field compared outside the group stays stale there.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.api import Matcher
from matcher.engine.evaluate import Evaluator
from matcher.intake.load import parse_yaml
from matcher.results.explain import CriterionResult, explain_criterion
from matcher.rules.compile import compile_trial
from matcher.rules.language import load_trial, parse_trial

from .helpers import RULES, base_patient, criterion_result, examples, profile
from .oracle import oracle

AS_OF = dt.date(2026, 11, 2)
RATIO_WINDOW, DAY_PROTEIN_WINDOW = 30, 14

TRIAL = f"""
trial: TEST-EQUIVALENT
title: equivalent measures and their windows
condition: none
source: {{registry: test, last_updated: 2026-01-01}}
criteria:
  - id: proteinuria
    kind: inclusion
    text: ratio > 1 or 24-hour protein > 1
    condition:
      equivalent:
        - {{field: urine_protein_creatinine_ratio, gt: 1 g/g, within: {RATIO_WINDOW} days}}
        - {{field: urine_protein_24h, gt: 1 g/day, within: {DAY_PROTEIN_WINDOW} days}}
  - id: ratio
    kind: inclusion
    text: ratio > 1
    condition: {{field: urine_protein_creatinine_ratio, gt: 1 g/g, within: {RATIO_WINDOW} days}}
"""


@pytest.fixture(scope="module")
def evaluator() -> Iterator[Evaluator]:
    with Evaluator([compile_trial(parse_trial(parse_yaml(TRIAL, "<string>")))]) as ev:
        yield ev


def judged(evaluator: Evaluator, ratio: tuple[str, int] | None, day_protein: tuple[str, int] | None,
           criterion: str = "proteinuria", shift: int = 0) -> CriterionResult:
    """The criterion for a patient with a ratio and a 24-hour protein (value, days before the as-of date), every
    date moved ``shift`` days further back."""
    data = base_patient()
    data["labs"] = []
    for test, record in (("urine_protein_creatinine_ratio", ratio), ("urine_protein_24h", day_protein)):
        if record:
            data["labs"].append({"test": test, "value": record[0],
                                 "date": AS_OF - dt.timedelta(days=record[1] + shift)})
    evaluation = evaluator.evaluate(profile(data), AS_OF, "TEST-EQUIVALENT")
    return explain_criterion(evaluation, evaluation.compiled.trial.criterion(criterion))


# the 24-hour protein, current (5 days old) and > 1 g; the ratio, past its 30-day window, <= 1: they disagree
@pytest.mark.parametrize(("ratio_age", "expected"), [
    (20, "unknown"),                         # both current: records disagree, as before
    (5 + RATIO_WINDOW - 1, "unknown"),       # 34 days old: past its window, within 30 days of the newer one
    (5 + RATIO_WINDOW, "unknown"),           # exactly its window before the newer record: still counts
    (5 + RATIO_WINDOW + 1, "met"),           # a day more: superseded by the newer measure
    (400, "met"),
])
def test_an_older_measure_within_its_window_of_the_newest_record_still_disagrees(
        evaluator: Evaluator, ratio_age: int, expected: str) -> None:
    result = judged(evaluator, ("0.3 g/g", ratio_age), ("3 g/24h", 5))
    assert result.outcome == expected
    if expected == "unknown":
        assert "records disagree (the clinician decides)" in result.reason
    if expected == "unknown" and ratio_age > RATIO_WINDOW:
        ratio_day = AS_OF - dt.timedelta(days=ratio_age)
        assert result.reason.startswith(
            f"urine protein/creatinine ratio 0.3 g/g of {ratio_day}, {ratio_age} days old, is within 30 days of the "
            f"24-hour urine protein of {AS_OF - dt.timedelta(days=5)} and disagrees: records disagree")
        assert any(item.startswith("a current urine protein/creatinine ratio") for item in result.missing)
        assert any(item.startswith("the clinician's reading of proteinuria") for item in result.missing)


@pytest.mark.parametrize(("day_protein_age", "expected"), [
    (3 + DAY_PROTEIN_WINDOW, "unknown"),     # the older measure's own window (14 days) applies, not the newer's
    (3 + DAY_PROTEIN_WINDOW + 1, "met"),
])
def test_the_older_measures_own_window_is_counted_back_from_the_newest_record(
        evaluator: Evaluator, day_protein_age: int, expected: str) -> None:
    assert judged(evaluator, ("2 g/g", 3), ("0.5 g/24h", day_protein_age)).outcome == expected


@pytest.mark.parametrize(("ratio", "day_protein", "expected"), [
    (("2 g/g", 33), ("3 g/24h", 5), "met"),          # an old value that agrees changes nothing
    (("0.3 g/g", 33), ("0.5 g/24h", 5), "not_met"),
    (("0.3 g/g", 40), ("3 g/24h", 20), "unknown"),   # nothing current: a stale value alone never decides
    (("2 g/g", 40), ("3 g/24h", 20), "unknown"),
])
def test_a_value_past_its_window_never_decides_alone(evaluator: Evaluator, ratio: tuple[str, int],
                                                      day_protein: tuple[str, int], expected: str) -> None:
    result = judged(evaluator, ratio, day_protein)
    assert result.outcome == expected
    if ratio[1] > RATIO_WINDOW and day_protein[1] > DAY_PROTEIN_WINDOW:
        assert "records disagree" not in result.reason


@pytest.mark.parametrize("shift", [0, 10, 16, 30, 200])
def test_waiting_never_turns_disagreeing_records_into_met(evaluator: Evaluator, shift: int) -> None:
    """Records 2 and 12 days old that disagree, seen later and later: unknown while the newer is current, and
    unknown for want of data after."""
    assert judged(evaluator, ("0.3 g/g", 2), ("3 g/24h", 12), shift=shift).outcome == "unknown"


def test_the_same_field_compared_outside_the_group_stays_stale(evaluator: Evaluator) -> None:
    """A ratio 35 days old counts in the group (within 30 days of the 24-hour protein), but the ratio alone, in
    another criterion, is past its window there: unknown for want of a current ratio, never met."""
    grouped = judged(evaluator, ("2 g/g", 35), ("0.5 g/24h", 5))
    alone = judged(evaluator, ("2 g/g", 35), ("0.5 g/24h", 5), criterion="ratio")
    assert grouped.outcome == "unknown" and "records disagree" in grouped.reason
    assert alone.outcome == "unknown" and "records disagree" not in alone.reason
    assert "older than the 30-day window" in alone.reason
    assert alone.missing[0].startswith("a current urine protein/creatinine ratio")


# the counterexample tests/test_currency_properties.py found: its results moved back 68 days
FOUND = """
id: generated-patient
screening_date: 2011-11-30
demographics: {sex: female, birth_date: 1925-11-30, weight: 37.91950909579894388435149 lb}
labs:
- {test: alt, value: 2511.5 U/L, date: 2012-01-09}
- {test: alt, value: 4460.69 mU/mL, date: 2011-08-23}
- {test: alt, value: 0.96 U/L, date: 2009-11-01}
- {test: alt, value: 15.21 U/L, date: 2010-07-31, uln: 35 U/L}
- {test: ast, value: 2 U/L, uln: 1 IU/L, date: 2011-09-07}
- {test: ast, value: 0.000004666666666666666666666667 ukat/L, uln: 40 U/L, date: 2011-12-30}
- {test: serum_creatinine, value: 0.2604960232812906647807638 mmol/L, date: 2011-09-23}
- {test: mean_pap, value: 2.08116246754815 kPa, date: 2010-07-26}
- {test: mean_pap, value: 6.6660527095562925 kPa, date: 2011-09-06}
- {test: mean_pap, value: 18 mmHg, date: 2012-01-18}
- {test: mean_pap, value: 5.64 mmHg, date: 2010-12-05}
- {test: neutrophils, value: 39.9 10^9/L, date: 2011-06-15}
- {test: neutrophils, value: 5390 cells/uL, date: 2011-09-09}
- {test: urine_protein_24h, value: 1.00001 g/24h, date: 2011-09-07}
- {test: urine_protein_creatinine_ratio, value: 4.93 g/g, date: 2011-08-10}
- {test: urine_protein_creatinine_ratio, value: 5219.3568 g/mol, date: 2011-12-09}
- {test: urine_protein_creatinine_ratio, value: 1000 mg/g, date: 2011-08-20}
pregnancy:
  planning_pregnancy: false
  pregnant: true
  tests:
  - {date: 2011-09-15, result: positive, specimen: serum}
  - {date: 2009-12-03, result: positive, specimen: serum}
  - {date: 2011-09-17, result: negative, specimen: urine}
consent: {signed: true}
renal: {kidney_transplant: false}
administrative: {legal_protection: true, social_security_affiliation: false}
diagnoses:
  lupus_nephritis: {biopsy_class: I, present: false}
  primary_sjogren: {aecg2002_fulfilled: false, present: false}
  sle: {ana_positive: true}
disease_activity:
- {index: SELENA-SLEDAI, score: 41, date: 2011-09-11}
- {index: SELENA-SLEDAI, score: 41, date: 2011-03-19}
- {index: SSDAI, score: 8, date: 2011-08-19}
- {index: SSDAI, score: 19, date: 2010-07-14}
- {index: SSDAI, score: 9, date: 2011-12-06}
immunizations:
- {vaccine: zoster, live: true}
- {vaccine: zoster, live: false, planned: false, date: 2011-09-06}
- {vaccine: MMR, live: false}
medications: []
procedures: []
"""


def _moved_forward(data: dict[str, Any], days: int) -> dict[str, Any]:
    """The patient as it was before its results were moved back ``days`` days (those on or before the as-of)."""
    moved = copy.deepcopy(data)
    for entry in [*moved["labs"], *moved["disease_activity"], *moved["pregnancy"]["tests"]]:
        if entry["date"] <= dt.date(2011, 11, 30) - dt.timedelta(days=days):
            entry["date"] += dt.timedelta(days=days)
    return moved


def test_the_found_counterexample_stays_unknown_as_its_results_age() -> None:
    data = parse_yaml(FOUND, "<string>").data
    assert isinstance(data, dict)
    with Matcher([load_trial(RULES / "NCT05631717.yaml")]) as engine:
        before = criterion_result(engine, _moved_forward(data, 68), "inc-4", "NCT05631717")
        after = criterion_result(engine, data, "inc-4", "NCT05631717")
    assert before.outcome == "unknown" and before.reason.startswith("records disagree (the clinician decides)")
    assert after.outcome == "unknown"
    assert after.reason.startswith(
        "urine protein/creatinine ratio 1000 mg/g (= 1 g/g) of 2011-08-20, 102 days old, is within 90 days of the "
        "24-hour urine protein of 2011-09-07 and disagrees: records disagree (the clinician decides)")
    assert after.missing[0].startswith("a current urine protein/creatinine ratio (the last one, on 2011-08-20")


# ------------------------------------------------------------------ the engine agrees with the oracle
@examples(3.0)
@given(ratio=st.none() | st.tuples(st.booleans(), st.integers(0, 50)),
       day_protein=st.none() | st.tuples(st.booleans(), st.integers(0, 50)),
       shift=st.integers(0, 40))
def test_the_engine_and_the_oracle_count_the_same_measures(
        evaluator: Evaluator, ratio: tuple[bool, int] | None, day_protein: tuple[bool, int] | None,
        shift: int) -> None:
    """Measures above or below the threshold, dated around their windows and each other's: the engine decides
    both criteria as the plain-Python oracle does, and moving every record back never makes the group met."""
    data = base_patient()
    data["labs"] = []
    for test, record, (high, low) in (("urine_protein_creatinine_ratio", ratio, ("2 g/g", "0.3 g/g")),
                                     ("urine_protein_24h", day_protein, ("3 g/24h", "0.5 g/24h"))):
        if record:
            data["labs"].append({"test": test, "value": high if record[0] else low,
                                 "date": AS_OF - dt.timedelta(days=record[1])})
    aged = copy.deepcopy(data)
    for entry in aged["labs"]:
        entry["date"] -= dt.timedelta(days=shift)
    compiled = evaluator.compiled["TEST-EQUIVALENT"]
    found = {}
    for patient in (data, aged):
        evaluation = evaluator.evaluate(profile(patient), AS_OF, "TEST-EQUIVALENT")
        roots = {c: evaluation.truths[i] for c, i in compiled.criterion_roots.items()}
        assert roots == oracle(compiled, profile(patient), AS_OF), patient["labs"]
        found[id(patient)] = roots["proteinuria"]
    if found[id(data)] is not True:
        assert found[id(aged)] is not True, (data["labs"], aged["labs"])

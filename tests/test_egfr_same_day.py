"""A lab's eGFR and a serum creatinine of the same day are two readings of one kidney function: the eGFR
criteria of NCT00698191, NCT00953485, NCT03917797 and NCT04184258 compare both (an ``equivalent`` of
egfr_reported_or_ckd_epi_2021 and egfr_ckd_epi_2021_same_day_as_reported), so a same-day pair that falls on
either side of the threshold is "records disagree (the clinician decides)", never a decided criterion
(principle 6: a contradicted value never makes a criterion met, nor clears an exclusion). A pair that agrees,
and records of different days (the newer one is the evidence), decide as before.

The creatinine of each case is worked out from the published CKD-EPI 2021 equation
(tests/strategies/demographics.py), never from the matcher's own arithmetic.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from matcher.cli import EXIT_UNDETERMINED
from matcher.model.fields import PATIENT_FIELDS
from matcher.model.fields.readings import Absence, Observation

from .helpers import PATIENTS, cli, criterion_result, example, examples, profile, run
from .strategies.demographics import ckd_epi_2021
from .strategies.quantities import completed_years

DISAGREE = "records disagree (the clinician decides)"
SAME_DAY_FIELD = "egfr_ckd_epi_2021_same_day_as_reported"

#: (trial, eligible example it starts from, eGFR criterion, threshold in mL/min/1.73 m2, the criterion's outcome
#: where both readings are below the threshold: NCT04184258 leaves "need for dialysis" below 15 to the clinician)
TRIALS = [
    ("NCT00698191", "NCT00698191-eligible-lupus-nephritis.yaml", "exc-2", 15, "met"),
    ("NCT00953485", "NCT00953485-eligible-primary-sjogren.yaml", "exc-1", 15, "met"),
    ("NCT03917797", "NCT03917797-eligible-class-iv-on-mycophenolate.yaml", "exc-1", 40, "met"),
    ("NCT04184258", "NCT04184258-eligible-active-nephritis.yaml", "exc-1", 15, "manual"),
]


def creatinine_for(data: dict[str, Any], target: float) -> str:
    """The serum creatinine (mg/dL, written to 4 decimals) whose CKD-EPI 2021 eGFR is ``target`` for the patient
    of ``data`` on its screening date (bisection on the published, decreasing equation)."""
    demographics = data["demographics"]
    years = completed_years(dt.date.fromisoformat(str(demographics["birth_date"])),
                            dt.date.fromisoformat(str(data["screening_date"])))
    low, high = 0.05, 30.0
    for _ in range(100):
        middle = (low + high) / 2
        low, high = (middle, high) if ckd_epi_2021(middle, years, demographics["sex"]) > target else (low, middle)
    return f"{low:.4f} mg/dL"


def kidney_labs(data: dict[str, Any], reported: float | None, computed: float | None,
                reported_days_ago: int = 7, creatinine_days_ago: int = 7) -> dict[str, Any]:
    """``data`` with its eGFR and creatinine replaced: a lab eGFR of ``reported`` and a creatinine giving
    CKD-EPI ``computed`` (None: no such result), each taken the given number of days before screening."""
    screened = dt.date.fromisoformat(str(data["screening_date"]))
    labs = [entry for entry in data["labs"] if entry["test"] not in ("egfr", "serum_creatinine")]
    if reported is not None:
        labs.append({"test": "egfr", "value": f"{reported} mL/min/1.73m2",
                     "date": str(screened - dt.timedelta(days=reported_days_ago))})
    if computed is not None:
        labs.append({"test": "serum_creatinine", "value": creatinine_for(data, computed),
                     "date": str(screened - dt.timedelta(days=creatinine_days_ago))})
    data["labs"] = labs
    return data


@pytest.mark.parametrize(("trial", "base", "criterion", "threshold", "below"), TRIALS, ids=[t[0] for t in TRIALS])
@pytest.mark.parametrize("lab_below", [False, True], ids=["lab-above-computed-below", "lab-below-computed-above"])
def test_a_same_day_pair_that_disagrees_is_left_to_the_clinician(
        engine: Any, trial: str, base: str, criterion: str, threshold: int, below: str, lab_below: bool) -> None:
    reported, computed = (threshold - 1, threshold + 1) if lab_below else (threshold + 1, threshold - 1)
    data = kidney_labs(example(base), reported, computed)
    result = run(engine, data, trial)
    found = next(c for c in result.criteria if c.id == criterion)
    assert found.outcome == "unknown", found.reason
    assert DISAGREE in found.reason
    # side by side: the lab's value and the computed one, each with its date and its verdict
    lines = [line for line in found.details if "eGFR" in line]
    assert any(f"{reported} mL/min/1.73m2" in line for line in lines), lines
    assert any("(computed)" in line and f"{computed}" in line for line in lines), lines
    assert any("clinician's reading" in item for item in found.missing), found.missing
    assert result.verdict == "undetermined"
    assert criterion in result.deciding


@pytest.mark.parametrize(("trial", "base", "criterion", "threshold", "below"), TRIALS, ids=[t[0] for t in TRIALS])
@pytest.mark.parametrize("side", ["above", "below"])
def test_a_same_day_pair_that_agrees_decides(engine: Any, trial: str, base: str, criterion: str, threshold: int,
                                             below: str, side: str) -> None:
    pair = (threshold + 1, threshold + 3) if side == "above" else (threshold - 3, threshold - 1)
    for reported, computed in (pair, pair[::-1]):
        found = criterion_result(engine, kidney_labs(example(base), reported, computed), criterion, trial)
        assert found.outcome == ("not_met" if side == "above" else below), found.reason
        assert DISAGREE not in found.reason


@pytest.mark.parametrize(("trial", "base", "criterion", "threshold", "below"), TRIALS, ids=[t[0] for t in TRIALS])
def test_records_of_different_days_the_newer_decides(engine: Any, trial: str, base: str, criterion: str,
                                                      threshold: int, below: str) -> None:
    """A creatinine a day newer than the lab's eGFR gives the eGFR, and a lab eGFR a day newer than the creatinine
    is the eGFR: successive evidence of one kidney function, the older one replaced, not compared."""
    above, under = threshold + 1, threshold - 1
    newer_creatinine = kidney_labs(example(base), above, under, reported_days_ago=8, creatinine_days_ago=7)
    assert criterion_result(engine, newer_creatinine, criterion, trial).outcome == below
    newer_lab = kidney_labs(example(base), above, under, reported_days_ago=7, creatinine_days_ago=8)
    assert criterion_result(engine, newer_lab, criterion, trial).outcome == "not_met"
    newer_lab_below = kidney_labs(example(base), under, above, reported_days_ago=7, creatinine_days_ago=8)
    assert criterion_result(engine, newer_lab_below, criterion, trial).outcome == below


@pytest.mark.parametrize(("trial", "base", "criterion", "threshold", "below"), TRIALS, ids=[t[0] for t in TRIALS])
def test_one_reading_alone_decides_and_neither_asks_for_the_egfr(engine: Any, trial: str, base: str,
                                                                 criterion: str, threshold: int, below: str) -> None:
    for reported, computed in ((threshold - 1, None), (None, threshold - 1)):
        assert criterion_result(engine, kidney_labs(example(base), reported, computed), criterion,
                                trial).outcome == below
    neither = criterion_result(engine, kidney_labs(example(base), None, None), criterion, trial)
    assert neither.outcome == "unknown" and DISAGREE not in neither.reason
    assert any("eGFR" in item for item in neither.missing), neither.missing


def test_a_stale_same_day_pair_asks_for_a_current_egfr_not_the_clinician(engine: Any) -> None:
    """Both records of one day past the 90-day lab window decide nothing, agreeing or not: a current eGFR is
    asked for, not the clinician's reading of two old values."""
    data = kidney_labs(example("NCT00953485-eligible-primary-sjogren.yaml"), 16, 14,
                       reported_days_ago=91, creatinine_days_ago=91)
    found = criterion_result(engine, data, "exc-1", "NCT00953485")
    assert found.outcome == "unknown"
    assert DISAGREE not in found.reason
    assert any("current" in item and "eGFR" in item for item in found.missing), found.missing


def test_a_pair_without_a_computable_estimate_is_decided_by_the_lab(engine: Any) -> None:
    """CKD-EPI 2021 is for adults: a 17-year-old's same-day creatinine gives no second reading, and the lab's
    eGFR decides alone (NCT00953485 takes patients from 15)."""
    data = kidney_labs(example("NCT00953485-eligible-primary-sjogren.yaml"), 16, None)
    data["demographics"]["birth_date"] = "2009-01-01"
    data["labs"].append({"test": "serum_creatinine", "value": "3.8 mg/dL", "date": data["labs"][-1]["date"]})
    found = criterion_result(engine, data, "exc-1", "NCT00953485")
    assert found.outcome == "not_met", found.reason


def test_the_same_day_reading_exists_only_for_a_same_day_pair() -> None:
    as_of = dt.date(2026, 9, 1)
    extract = PATIENT_FIELDS[SAME_DAY_FIELD].extract
    base = example("NCT00953485-eligible-primary-sjogren.yaml")
    same_day = extract(profile(kidney_labs(example("NCT00953485-eligible-primary-sjogren.yaml"), 16, 14)), as_of)
    assert isinstance(same_day, Observation) and same_day.value == pytest.approx(14, abs=0.05)
    assert same_day.derivation is not None and "the lab's eGFR 16 mL/min/1.73m2 is of the same day" in \
        same_day.derivation
    for reported_days_ago, creatinine_days_ago in ((8, 7), (7, 8)):
        other_days = kidney_labs(example("NCT00953485-eligible-primary-sjogren.yaml"), 16, 14,
                                 reported_days_ago, creatinine_days_ago)
        assert isinstance(extract(profile(other_days), as_of), Absence)
    assert isinstance(extract(profile(kidney_labs(base, None, 14)), as_of), Absence)


def test_cli_shows_the_disagreeing_pair_of_the_example_side_by_side() -> None:
    path = PATIENTS / "NCT00953485-undetermined-same-day-egfr-and-creatinine-disagree.yaml"
    code, out, err = cli("check", str(path), "--trial", "NCT00953485", "--format", "json")
    assert code == EXIT_UNDETERMINED and not err
    (result,) = json.loads(out)["results"]
    assert result["verdict"] == "undetermined"
    (exc,) = [c for c in result["criteria"] if c["id"] == "exc-1"]
    assert exc["outcome"] == "unknown" and DISAGREE in exc["reason"]
    assert "16 mL/min/1.73m2" in exc["reason"] and "14.1 mL/min/1.73m2 (computed)" in exc["reason"]
    code, text, _ = cli("check", str(path), "--trial", "NCT00953485")
    words = " ".join(text.split())  # the text output wraps its lines
    assert code == EXIT_UNDETERMINED and "UNDETERMINED" in words
    assert "eGFR: 16 mL/min/1.73m2 on 2026-08-25" in words and "14.1 mL/min/1.73m2 (computed) on 2026-08-25" in words


@pytest.mark.parametrize(("trial", "base", "criterion", "threshold", "below"), TRIALS, ids=[t[0] for t in TRIALS])
@examples(0.3)
@given(reported=st.integers(10, 1200).map(lambda tenths: tenths / 10), creatinine=st.integers(30, 1500),
       years=st.integers(18, 90))
def test_property_a_same_day_pair_decides_exactly_where_both_readings_agree(
        engine: Any, trial: str, base: str, criterion: str, threshold: int, below: str,
        reported: float, creatinine: int, years: int) -> None:
    """Any adult (of the example's sex: three women and a man), any lab eGFR and any serum creatinine (hundredths
    of mg/dL) of one day: the criterion is decided as both readings say where they fall on one side of the
    threshold, and is "records disagree" otherwise."""
    data = kidney_labs(example(base), reported, None)
    computed = ckd_epi_2021(creatinine / 100, years, data["demographics"]["sex"])
    assume(abs(computed - threshold) > 0.1)  # the matcher reads CKD-EPI to one decimal
    screened = dt.date.fromisoformat(str(data["screening_date"]))
    data["demographics"]["birth_date"] = str(screened.replace(year=screened.year - years - 1) + dt.timedelta(days=1))
    data["labs"].append({"test": "serum_creatinine", "value": f"{creatinine / 100} mg/dL",
                         "date": str(screened - dt.timedelta(days=7))})
    found = criterion_result(engine, data, criterion, trial)
    if (reported < threshold) != (computed < threshold):
        assert found.outcome == "unknown" and DISAGREE in found.reason, found.reason
    else:
        assert found.outcome == (below if reported < threshold else "not_met"), found.reason

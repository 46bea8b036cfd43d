"""Property: filling in missing data never changes a decided outcome, and a verdict moves only away from
undetermined.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from matcher.engine.evaluate import Evaluator
from matcher.model.profile import PatientProfile

from . import strategies as gen
from .helpers import examples
from .properties import decisions, results, results_by_trial, show


# ================================================================== 3. information monotonicity
@examples(0.6)
@given(drawn=gen.patients(complete=True), data=st.data())
def test_filling_in_missing_data_never_changes_a_decided_outcome(
        evaluator: Evaluator, drawn: tuple[dict[str, Any], dt.date], data: st.DataObject) -> None:
    """Take information away from a patient (optional keys at any depth, a whole list, every result of a
    test): each criterion that was met or not met with less information is the same with more, and a
    verdict of eligible or ineligible stays; only undetermined may change. Asserted for records that do
    not contradict themselves (gen.consistent) and for keys whose absence the matcher does not read as a
    value (gen.removable says which and why)."""
    full, as_of = drawn
    gen.consistent(full, as_of)
    partial, removed = data.draw(gen.less_informed(full, as_of))
    note(f"removed: {removed}")
    show(partial, as_of)
    before = decisions(results(evaluator, PatientProfile.model_validate(partial), as_of))
    after = decisions(results(evaluator, PatientProfile.model_validate(full), as_of))
    for trial, (verdict, outcomes, _) in before.items():
        for cid, outcome in outcomes.items():
            if outcome in ("met", "not_met"):
                assert after[trial][1][cid] == outcome, f"{trial} {cid}: {outcome} became {after[trial][1][cid]}"
        if verdict != "undetermined":
            assert after[trial][0] == verdict, f"{trial}: {verdict} became {after[trial][0]}"


@pytest.mark.parametrize(("egfr_day", "creatinine", "deciding"), [
    # found by the thorough profile: a creatinine newer than the reported eGFR decides
    (dt.date(2024, 2, 18), "0.05 mg/dL", "serum_creatinine"),
    # on the same day the lab's own eGFR decides, whatever the creatinine says
    (dt.date(2024, 2, 29), "8 mg/dL", "egfr"),
])
def test_the_source_of_the_egfr_the_matcher_reads_is_removed_only_with_the_other(
        evaluator: Evaluator, egfr_day: dt.date, creatinine: str, deciding: str) -> None:
    """The reported eGFR and a serum creatinine are successive evidence of one quantity (the most recent
    decides): taking the deciding one away alone brings the other back, a different value, not a missing one,
    so gen.removable offers it only together with the other, and every removal it offers keeps decided
    outcomes. Here the reported eGFR says end-stage (3) and the creatinine does not, or the other way round."""
    as_of = dt.date(2024, 2, 29)
    full = {"id": "p", "screening_date": as_of, "demographics": {"sex": "female", "birth_date": dt.date(1977, 2, 28)},
            "labs": [{"test": "egfr", "value": "3 mL/min/1.73 m2" if deciding != "egfr" else "60 mL/min/1.73 m2",
                      "date": egfr_day},
                     {"test": "serum_creatinine", "value": creatinine, "date": as_of}]}
    paths = gen.removable(full, as_of)
    other = next(test for test in ("egfr", "serum_creatinine") if test != deciding)
    assert ("labs", f"test={deciding}") not in paths
    assert ("labs", f"test={other}") in paths and ("labs", "test=egfr|serum_creatinine") in paths
    after = results_by_trial(evaluator, full, as_of)["NCT00698191"]
    for path in paths:
        partial = copy.deepcopy(full)
        gen.remove(partial, path)
        before = results_by_trial(evaluator, partial, as_of)["NCT00698191"]
        for old, new in zip(before.criteria, after.criteria, strict=True):
            if old.outcome in ("met", "not_met"):
                assert new.outcome == old.outcome, f"removing {path}: {old.id} {old.outcome} became {new.outcome}"

"""Property: filling in missing data never changes a decided outcome, and a verdict moves only away from
undetermined.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, note
from hypothesis import strategies as st

from matcher.engine.evaluate import Evaluator
from matcher.model.profile import PatientProfile

from . import strategies as gen
from .helpers import examples
from .properties import decisions, results, show


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

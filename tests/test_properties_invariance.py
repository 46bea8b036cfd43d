"""Properties: the same patient written otherwise is decided the same: quantities in other units, every date
shifted by whole leap cycles, keys and entries in another order; and evaluation is deterministic.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

import matcher
from matcher.engine.evaluate import Evaluator
from matcher.model.measurements import LAB_TESTS
from matcher.model.profile import PatientProfile

from . import strategies as gen
from .helpers import examples
from .properties import as_yaml, changes, decisions, load_text, results, show


# ================================================================== 5. unit invariance
@examples(0.8)
@given(drawn=gen.patients(), data=st.data())
def test_the_same_quantities_in_other_units_give_the_same_outcomes(
        evaluator: Evaluator, drawn: tuple[dict[str, Any], dt.date], data: st.DataObject) -> None:
    """Every lab value, ULN, dose, weight and height rewritten in another accepted unit (g/24h and mg/24h,
    umol/L and mg/dL, mg/mmol, g/g and mg/g, x10^9/L and /uL, kPa and mmHg, ...) at exactly the same
    amount gives the same outcome for every criterion of every trial."""
    missing = sorted({t.measure.display for t in LAB_TESTS.values()
                      if len(gen.spellings(t.measure.display)) < 2 and not t.measure.titre})
    assert not missing, (f"tests/strategies/quantities.py UNITS has no other spelling for {missing}: "
                         "add the accepted ones")
    data_a, as_of = drawn
    data_b = gen.rewrite_units(data.draw, data_a)
    show(data_b, as_of)
    first = decisions(results(evaluator, PatientProfile.model_validate(data_a), as_of))
    second = decisions(results(evaluator, PatientProfile.model_validate(data_b), as_of))
    assert second == first, changes(first, second)


# ================================================================== 6. time invariance
FIRST, LAST = dt.date(1901, 1, 1), dt.date(2099, 12, 31)  # every 4th year is a leap year in between


@examples(0.8)
@given(drawn=gen.patients(), years=st.integers(-25, 25).filter(bool), data=st.data())
def test_shifting_every_date_by_whole_leap_cycles_changes_nothing(
        evaluator: Evaluator, drawn: tuple[dict[str, Any], dt.date], years: int, data: st.DataObject) -> None:
    """Every date of the patient and the as-of date moved by the same number of 4-year cycles (so each
    date keeps its month and day, 29 February included, and every month its length: all dates stay
    within 1901-2099) gives the same outcomes and verdicts. Shifts by a number of days are not asserted:
    calendar months have different lengths, so a duration in months may rightly change."""
    data_a, as_of = drawn
    shift = 4 * years
    dates = [as_of, *gen.all_dates(data_a)]
    assume(min(dates) >= FIRST and max(dates) <= LAST)
    assume(FIRST.year <= min(dates).year + shift and max(dates).year + shift <= LAST.year)

    def moved(day: dt.date) -> dt.date:
        return day.replace(year=day.year + shift)

    data_b = gen.shift_dates(data_a, moved)
    show(data_b, moved(as_of))
    first = decisions(results(evaluator, PatientProfile.model_validate(data_a), as_of))
    second = decisions(results(evaluator, PatientProfile.model_validate(data_b), moved(as_of)))
    assert second == first, changes(first, second)


# ================================================================== 7. order invariance, determinism
def _unplaced(items: tuple[str, ...]) -> set[str]:
    return {re.sub(r"\[\d+\]", "[]", item) for item in items}


@examples(0.8)
@given(drawn=gen.patients(), data=st.data())
def test_order_of_keys_and_entries_changes_nothing_and_evaluation_is_deterministic(
        evaluator: Evaluator, drawn: tuple[dict[str, Any], dt.date], data: st.DataObject) -> None:
    """The patient file with its keys, medication courses, lab results (distinct dates for one test),
    scores and other list entries in another order gives the same outcomes, verdicts and things to
    collect; the same patient evaluated twice, or by a freshly compiled matcher, gives equal results."""
    data_a, as_of = drawn
    data_b = gen.shuffled(data.draw, data_a)
    show(data_b, as_of)
    patient_a, patient_b = load_text(as_yaml(data_a), "a.yaml"), load_text(as_yaml(data_b), "b.yaml")
    first, second = results(evaluator, patient_a, as_of), results(evaluator, patient_b, as_of)
    assert decisions(second) == decisions(first), changes(decisions(first), decisions(second))
    for one, other in zip(first, second, strict=True):  # entries are named by their place in the list
        assert _unplaced(one.to_collect) == _unplaced(other.to_collect), (one.trial, one.to_collect, other.to_collect)
    assert results(evaluator, patient_a, as_of) == first, "evaluating the same patient again gave another result"
    fresh = matcher.evaluate(patient_a, list(gen.encoded_trials()), as_of)
    assert fresh == first, "a freshly compiled matcher gave another result"

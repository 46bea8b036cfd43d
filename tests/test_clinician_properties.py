"""Properties of recorded decisions and of merged treatment courses (issue 11).

* Adding clinician decisions never changes an outcome the record decides (met, not met, unknown).
* A decision made on another version of the rule file is never used.
* How one continuous treatment is split into entries (and in what order they are listed) never
  changes the treatment's duration, response or any outcome.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from hypothesis import given, note, settings
from hypothesis import strategies as st

from matcher.engine.evaluate import Evaluator
from matcher.model.fields import MEDICATION_FIELDS, Observation
from matcher.model.profile import PatientProfile
from matcher.results.decisions import DECISION_WINDOW_DAYS
from matcher.results.explain import explain

from . import strategies as gen
from .properties import results_by_trial

TRIALS = {trial.id: trial for trial in gen.encoded_trials()}


@st.composite
def decisions(draw: gen.Draw, as_of: dt.date, same_version: bool) -> list[dict[str, Any]]:
    """Decisions on criteria of the encoded trials (some on unknown ids), met or not met, in the window."""
    made = []
    for _ in range(draw(st.integers(1, 6))):
        trial = TRIALS[draw(st.sampled_from(sorted(TRIALS)))]
        criterion = draw(st.sampled_from([c.id for c in trial.criteria] + ["exc-99"]))
        current = trial.content_hash
        sha = current if same_version else draw(
            st.text("0123456789abcdef", min_size=64, max_size=64).filter(lambda s, now=current: s != now))
        made.append({"trial": trial.id, "criterion": criterion, "outcome": draw(st.sampled_from(["met", "not_met"])),
                     "by": draw(st.sampled_from(["Dr A", "Dr B"])), "rules_sha256": sha,
                     "on": as_of - dt.timedelta(days=draw(st.integers(0, DECISION_WINDOW_DAYS - 1)))})
    return made


@settings(max_examples=40)
@given(drawn=gen.patients(), data=st.data())
def test_adding_a_decision_never_changes_a_computed_outcome(evaluator: Evaluator, drawn: Any,
                                                           data: st.DataObject) -> None:
    patient, as_of = drawn
    before = results_by_trial(evaluator, patient, as_of)
    patient["decisions"] = data.draw(decisions(as_of, same_version=True))
    note(f"decisions: {patient['decisions']}")
    after = results_by_trial(evaluator, patient, as_of)
    for trial, result in before.items():
        for old, new in zip(result.criteria, after[trial].criteria, strict=True):
            if old.outcome != "manual":
                assert new.outcome == old.outcome, (trial, old.id)
                assert new.decision is None, (trial, old.id)
            else:
                assert new.outcome in ("manual", "met", "not_met"), (trial, old.id)
                assert (new.outcome != "manual") == (new.decision is not None), (trial, old.id)


@settings(max_examples=40)
@given(drawn=gen.patients(), data=st.data())
def test_a_decision_on_another_rule_file_version_is_never_used(evaluator: Evaluator, drawn: Any,
                                                                data: st.DataObject) -> None:
    patient, as_of = drawn
    before = results_by_trial(evaluator, patient, as_of)
    patient["decisions"] = data.draw(decisions(as_of, same_version=False))
    after = results_by_trial(evaluator, patient, as_of)
    for trial, result in before.items():
        assert after[trial].verdict == result.verdict, trial
        assert [c.outcome for c in after[trial].criteria] == [c.outcome for c in result.criteria], trial
        assert all(c.decision is None for c in after[trial].criteria), trial


# ------------------------------------------------------------------ merged courses
DOSES = {"prednisone": ["5 mg", "7.5 mg", "20 mg", "40 mg"], "mycophenolate_mofetil": ["750 mg", "1000 mg", "1500 mg"],
         "azathioprine": ["50 mg", "100 mg"], "methotrexate": ["15 mg", "25 mg"]}
FREQUENCY = {"prednisone": "daily", "mycophenolate_mofetil": "twice_daily", "azathioprine": "daily",
             "methotrexate": "weekly"}
TREATMENT_FIELDS = ("treatment_days", "treatment_months", "treatment_response", "adequate_trial")


@st.composite
def split_treatment(draw: gen.Draw, as_of: dt.date) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One continuous treatment at one dose as a single entry, and the same treatment cut into pieces.

    Pieces follow each other (the next starts the day after) or overlap; the response is recorded
    on the last piece, or on every piece alike.
    """
    drug = draw(st.sampled_from(sorted(DOSES)))
    length = draw(st.integers(1, 400))
    ongoing = draw(st.booleans())
    last = as_of if ongoing else as_of - dt.timedelta(days=draw(st.integers(1, 300)))
    start = last - dt.timedelta(days=length - 1)
    response = draw(st.sampled_from(["failed", "not_tolerated", "responded"]))
    whole = {"drug": drug, "dose": draw(st.sampled_from(DOSES[drug])), "frequency": FREQUENCY[drug],
             "route": "oral", "start": start, "response": response}
    whole.update({"ongoing": True} if ongoing else {"end": last})
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, length - 1)), max_size=4)))) if length > 1 else []
    bounds = [0, *cuts, length]
    every_piece = draw(st.booleans())
    pieces = []
    for k, (begin, end) in enumerate(itertools.pairwise(bounds)):
        overlap = draw(st.integers(0, min(begin, 5)))
        piece = {key: value for key, value in whole.items() if key not in ("end", "ongoing", "response")}
        piece["start"] = start + dt.timedelta(days=begin - overlap)
        is_last = k == len(bounds) - 2
        if is_last and ongoing:
            piece["ongoing"] = True
        else:
            piece["end"] = start + dt.timedelta(days=end - 1)
        if is_last or every_piece:
            piece["response"] = response
        pieces.append(piece)
    return whole, draw(st.permutations(pieces))


def _treatment_readings(profile: PatientProfile, as_of: dt.date) -> set[tuple[str, object]]:
    """The treatment fields every entry reads (the same for each piece of one treatment)."""
    found = set()
    for index, course in enumerate(profile.medications or []):
        for name in TREATMENT_FIELDS:
            reading = MEDICATION_FIELDS[name].extract(course, index, profile, as_of)
            found.add((name, reading.value if isinstance(reading, Observation) else None))
    return found


@settings(max_examples=60)
@given(drawn=gen.patients(sparse=True), data=st.data())
def test_merging_courses_does_not_depend_on_how_a_treatment_is_split(evaluator: Evaluator, drawn: Any,
                                                                     data: st.DataObject) -> None:
    patient, as_of = drawn
    patient.setdefault("demographics", {})["weight"] = "60 kg"
    whole, pieces = data.draw(split_treatment(as_of))
    note(f"whole: {whole}\npieces: {pieces}")
    one = PatientProfile.model_validate({**patient, "medications": [whole]})
    split = PatientProfile.model_validate({**patient, "medications": pieces})
    assert _treatment_readings(split, as_of) == _treatment_readings(one, as_of)
    for trial in TRIALS:
        single = explain(evaluator.evaluate(one, as_of, trial), "test")
        many = explain(evaluator.evaluate(split, as_of, trial), "test")
        assert single.verdict == many.verdict, trial
        assert [c.outcome for c in single.criteria] == [c.outcome for c in many.criteria], trial

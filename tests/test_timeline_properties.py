"""The timeline misses no change and reports none that is not one (matcher/results/timeline.py).

On generated patients (tests/strategies.py, dates around every threshold of the rule files), every change
point the timeline reports differs, as the engine decides it, from the day before; and any day between two
change points is decided as the change point before it (or the as-of date), so no change was missed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, note
from hypothesis import strategies as st

from matcher.engine.evaluate import Evaluator
from matcher.model.profile import PatientProfile
from matcher.results.explain import explain
from matcher.results.timeline import timeline

from . import strategies as gen
from .helpers import examples

State = tuple[str, tuple[tuple[str, str], ...]]


def state(evaluator: Evaluator, patient: PatientProfile, day: dt.date, trial: str) -> State:
    result = explain(evaluator.evaluate(patient, day, trial), "given")
    return result.verdict, tuple((criterion.id, criterion.outcome) for criterion in result.criteria)


@examples(0.3)
@given(drawn=gen.patients(), horizon=st.integers(1, 200), data=st.data())
def test_every_change_point_is_a_change_and_no_change_is_missed(
        evaluator: Evaluator, drawn: tuple[dict[str, Any], dt.date], horizon: int, data: st.DataObject) -> None:
    patient_data, as_of = drawn
    note(gen.patient_file(patient_data, as_of))
    patient = PatientProfile.model_validate(patient_data)
    until = as_of + dt.timedelta(days=horizon)
    for line in timeline(evaluator, patient, as_of, list(evaluator.compiled), until):
        assert line.until == until
        points = [as_of] + [change.date for change in line.changes]
        assert points == sorted(set(points)), "change points in order, each once, after the as-of date"
        assert line.verdict == state(evaluator, patient, as_of, line.trial)[0]
        for change in line.changes:
            here = state(evaluator, patient, change.date, line.trial)
            assert here != state(evaluator, patient, change.date - dt.timedelta(days=1), line.trial), change
            assert here[0] == change.verdict
            assert {c.criterion for c in change.changes}, change
        for day in data.draw(st.lists(st.dates(as_of, until), max_size=6), label="days between"):
            last = max(point for point in points if point <= day)
            assert state(evaluator, patient, day, line.trial) == state(evaluator, patient, last, line.trial), (
                f"{line.trial}: {day} differs from the change point {last} before it: a change was missed")
            assert line.verdict_on(day) == state(evaluator, patient, day, line.trial)[0]

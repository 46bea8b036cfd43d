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
from matcher.rules.language import Comparison, walk

from . import strategies as gen
from .helpers import examples

State = tuple[str, tuple[tuple[str, str], ...]]
#: the age limits of the rule files
AGE_LIMITS = sorted({int(reading.value) for trial in gen.encoded_trials() for criterion in trial.criteria
                     if criterion.condition for node in walk(criterion.condition)
                     if isinstance(node, Comparison) and node.field == "age_years" for reading in node.readings})


def state(evaluator: Evaluator, patient: PatientProfile, day: dt.date, trial: str) -> State:
    result = explain(evaluator.evaluate(patient, day, trial), "given")
    return result.verdict, tuple((criterion.id, criterion.outcome) for criterion in result.criteria)


@examples(0.3)
@given(drawn=gen.patients(), horizon=st.integers(1, 200), data=st.data())
def test_every_change_point_is_a_change_and_no_change_is_missed(
        evaluator: Evaluator, drawn: tuple[dict[str, Any], dt.date], horizon: int, data: st.DataObject) -> None:
    patient_data, generated_on = drawn
    # the strategies put values just around the thresholds on the date they draw: start the timeline
    # before it, so those crossings fall inside the horizon
    as_of = generated_on - dt.timedelta(days=data.draw(st.integers(0, horizon), label="days before"))
    if data.draw(st.booleans(), label="any birth date"):  # ages on every side of every age limit
        demographics = patient_data.setdefault("demographics", {})
        demographics.pop("age", None)
        years = data.draw(st.sampled_from(AGE_LIMITS), label="years old") + data.draw(st.integers(-1, 1))
        demographics["birth_date"] = gen.plus_months(as_of, -12 * years) - dt.timedelta(
            days=data.draw(st.integers(0, 365), label="days past the birthday"))
    note(gen.patient_file(patient_data, as_of))
    patient = PatientProfile.model_validate(patient_data)
    until = as_of + dt.timedelta(days=horizon)
    for line in timeline(evaluator, patient, as_of, list(evaluator.compiled), until):
        ends = [change.date - dt.timedelta(days=1) for change in line.changes] + [until]
        starts = [as_of] + [change.date for change in line.changes]
        for start, end in zip(starts, ends, strict=True):  # a missed change would most often show here
            assert state(evaluator, patient, end, line.trial) == state(evaluator, patient, start, line.trial), (
                f"{line.trial}: {end} differs from {start}: a change between them was missed")
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


@examples(0.3)
@given(drawn=gen.patients(), horizon=st.integers(1, 45), data=st.data())
def test_over_a_short_horizon_the_change_points_are_exactly_the_days_that_differ_from_the_day_before(
        evaluator: Evaluator, drawn: tuple[dict[str, Any], dt.date], horizon: int, data: st.DataObject) -> None:
    """Every day of a short horizon, decided by the engine (a scan the timeline itself never does)."""
    patient_data, generated_on = drawn
    as_of = generated_on - dt.timedelta(days=data.draw(st.integers(0, horizon), label="days before"))
    note(gen.patient_file(patient_data, as_of))
    patient = PatientProfile.model_validate(patient_data)
    until = as_of + dt.timedelta(days=horizon)
    days = [as_of + dt.timedelta(days=n) for n in range(horizon + 1)]
    for line in timeline(evaluator, patient, as_of, list(evaluator.compiled), until):
        states = [state(evaluator, patient, day, line.trial) for day in days]
        differing = [day for day, before, after in zip(days[1:], states, states[1:], strict=False) if before != after]
        assert [change.date for change in line.changes] == differing, line.trial


def test_a_birthday_that_crosses_an_age_limit_is_a_change_point(evaluator: Evaluator) -> None:
    """inc-1 of NCT00698191 reads "aged from 15 to 70": on the 71st birthday (not the 70th) it fails."""
    patient = PatientProfile.model_validate({"id": "p", "demographics": {"birth_date": "1955-12-01"}})
    line, = timeline(evaluator, patient, dt.date(2026, 11, 2), ["NCT00698191"], dt.date(2027, 1, 1))
    change, = [change for change in line.changes if change.date == dt.date(2026, 12, 1)]
    assert [(c.criterion, c.before, c.after) for c in change.changes] == [("inc-1", "unknown", "not_met")]
    assert "turns 71" in change.changes[0].crossings[0]


@examples(0.5)
@given(drawn=gen.patients(sparse=True), limit=st.sampled_from(AGE_LIMITS), delta=st.integers(-1, 1),
       past=st.integers(0, 365))
def test_every_birthday_that_crosses_an_age_limit_within_a_year_is_found(
        evaluator: Evaluator, drawn: tuple[dict[str, Any], dt.date], limit: int, delta: int, past: int) -> None:
    """A patient aged about an age limit of the rule files, over the year to come: the timeline's verdict and
    criteria at the end of each interval between change points are those at its start."""
    patient_data, as_of = drawn
    demographics = patient_data.setdefault("demographics", {})
    demographics.pop("age", None)
    demographics["birth_date"] = gen.plus_months(as_of, -12 * (limit + delta)) - dt.timedelta(days=past)
    note(gen.patient_file(patient_data, as_of))
    patient = PatientProfile.model_validate(patient_data)
    until = as_of + dt.timedelta(days=366)
    for line in timeline(evaluator, patient, as_of, list(evaluator.compiled), until):
        ends = [change.date - dt.timedelta(days=1) for change in line.changes] + [until]
        starts = [as_of] + [change.date for change in line.changes]
        for start, end in zip(starts, ends, strict=True):
            assert state(evaluator, patient, end, line.trial) == state(evaluator, patient, start, line.trial), (
                f"{line.trial}: {end} differs from {start}: a change between them was missed")

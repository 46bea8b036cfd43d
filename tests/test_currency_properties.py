"""Properties of currency windows and of the most recent evidence (issue 10), over the patients of
tests/strategies/: a value that ages past its window never makes anything met or a verdict eligible, and
a newer value that contradicts what made a trial eligible never leaves it eligible."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import assume, given, note
from hypothesis import strategies as st

from matcher.engine.evaluate import Evaluator
from matcher.model.currency import FIELD_KINDS
from matcher.model.fields import Observation
from matcher.model.profile import PatientProfile
from matcher.rules.language import AllOf, AnyOf, Comparison, Criterion, Equivalent, Node

from . import strategies as gen
from .helpers import PATIENTS, example, examples
from .properties import RELATIONS, results_by_trial

#: the dated entries of a patient file: list, and the key that says which test or index an entry is
DATED = {"labs": "test", "disease_activity": "index"}


def _entries(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for listed in DATED:
        yield from data.get(listed) or []
    yield from (data.get("pregnancy") or {}).get("tests") or []


def _longest_window(evaluator: Evaluator) -> int:
    return max(w.days for compiled in evaluator.compiled.values() for w in compiled.windows.values())


@examples(0.6)
@given(drawn=gen.patients(), data=st.data())
def test_ageing_values_past_their_window_never_makes_a_criterion_met_or_a_verdict_eligible(
        evaluator: Evaluator, drawn: tuple[dict[str, Any], dt.date], data: st.DataObject) -> None:
    """Move every dated result on or before the as-of date (labs, scores, pregnancy tests) back by the same
    number of days, enough for some or all of them to leave their windows (their order is kept, so the most
    recent evidence is still the same record): no criterion that was unknown for want of data becomes met,
    and no verdict becomes eligible."""
    patient, as_of = drawn
    assume(any(entry["date"] <= as_of for entry in _entries(patient)))
    shift = dt.timedelta(days=data.draw(st.integers(1, _longest_window(evaluator) + 60)))
    aged = copy.deepcopy(patient)
    for entry in _entries(aged):
        if entry["date"] <= as_of:
            entry["date"] -= shift
    note(f"every dated result moved back {shift.days} days")
    note(gen.patient_file(aged, as_of))
    before, after = results_by_trial(evaluator, patient, as_of), results_by_trial(evaluator, aged, as_of)
    for trial, result in before.items():
        later = {c.id: c.outcome for c in after[trial].criteria}
        for criterion in result.criteria:
            if criterion.outcome == "unknown":
                assert later[criterion.id] != "met", f"{trial} {criterion.id}: unknown became met"
        if result.verdict != "eligible":
            assert after[trial].verdict != "eligible", f"{trial}: {result.verdict} became eligible"


def _deciding_comparisons(evaluator: Evaluator, trial_id: str) -> list[tuple[str, Comparison]]:
    """(criterion id, comparison) for comparisons on a dated patient field (one the strategies can write) whose
    contrary alone keeps the criterion from its eligible outcome: every node above it is an ``all`` (inclusions)
    or an ``any`` (exclusions), or an ``equivalent`` (its measures then disagree, or agree on the contrary)."""
    found: list[tuple[str, Comparison]] = []

    def visit(criterion: Criterion, node: Node, passing: type) -> None:
        if isinstance(node, Comparison):
            if node.field in FIELD_KINDS and gen.writer_for(gen.PATIENT, node.field) is not None:
                found.append((criterion.id, node))
        elif isinstance(node, (passing, Equivalent)):
            for child in node.children:
                visit(criterion, child, passing)

    for criterion in evaluator.compiled[trial_id].trial.criteria:
        if criterion.condition is not None:
            visit(criterion, criterion.condition, AllOf if criterion.kind == "inclusion" else AnyOf)
    return found


ELIGIBLE_EXAMPLES = sorted(p.name for p in PATIENTS.glob("*-eligible-*.yaml"))


@pytest.mark.parametrize("name", ELIGIBLE_EXAMPLES)
def test_a_newer_contradicting_value_never_leaves_a_verdict_eligible(evaluator: Evaluator, name: str) -> None:
    """From each eligible example patient: record a new value dated on the as-of date (newer than every other
    record) on the other side of the threshold of a comparison that alone decides a criterion (or of one
    measure of an ``equivalent`` criterion), keeping every older record: the trial is no longer eligible."""
    trial = name.split("-", maxsplit=1)[0]
    patient = example(name)
    as_of = patient["screening_date"]
    assert results_by_trial(evaluator, patient, as_of)[trial].verdict == "eligible"
    sites = _deciding_comparisons(evaluator, trial)
    assert sites, f"{trial}: no criterion decided by a dated value"

    @examples(1.0)
    @given(site=st.sampled_from(sites), data=st.data())
    def check(site: tuple[str, Comparison], data: st.DataObject) -> None:
        contradict(evaluator, trial, patient, as_of, site, data)

    check()


def contradict(evaluator: Evaluator, trial: str, patient: dict[str, Any], as_of: dt.date,
               site: tuple[str, Comparison], data: st.DataObject) -> None:
    criterion_id, node = site
    writer = gen.writer_for(gen.PATIENT, node.field)
    assert writer is not None
    reading = evaluator.evaluate(PatientProfile.model_validate(patient), as_of, trial).readings[node.field]
    assume(isinstance(reading, Observation))
    assert isinstance(reading, Observation)

    def truths(value: Any) -> set[bool]:
        read = gen.exact(value) if writer.numeric else value
        return {bool(RELATIONS[r.op](read, gen.exact(r.value) if writer.numeric else r.value))
                for r in node.readings}

    was = truths(reading.value)
    criterion = evaluator.compiled[trial].trial.criterion(criterion_id)
    assume(was == {criterion.kind == "inclusion"})  # the comparison supports the eligible outcome
    ctx = gen.Ctx(data.draw, as_of)
    contrary = {not was.pop()}
    value = writer.token(ctx, gen.rule_thresholds())
    if truths(value.value) != contrary:
        # a value that does not contradict is replaced by one just across this comparison's own threshold (or
        # by a contradicting choice): a field whose contrary is narrow (SELENA-SLEDAI below 6, in a trial where
        # it is the only deciding site) would otherwise be filtered out wholesale by the assume below
        across = ([token for r in node.readings for token in writer.around(ctx, gen.exact(r.value))]
                  if writer.numeric else [gen.Token(choice) for choice in writer.choices])
        across = [token for token in across if truths(token.value) == contrary]
        if across:
            value = data.draw(st.sampled_from(across))
    assume(truths(value.value) == contrary)  # the new value contradicts the one that decided
    changed = copy.deepcopy(patient)
    older = [copy.deepcopy(e) for e in _entries(patient) if e["date"] < as_of]
    writer.write(ctx, changed, value)
    kept = [sorted(e.items(), key=str) for e in _entries(changed)]
    for entry in older:  # the writer may replace a test's entries: bring the older ones back
        if sorted(entry.items(), key=str) not in kept:
            _list_of(changed, entry).append(entry)
    note(f"{trial} {criterion_id}: {node.field} written as {value} on {as_of}, older records kept")
    note(gen.patient_file(changed, as_of))
    after = results_by_trial(evaluator, changed, as_of)[trial]
    assert after.verdict != "eligible", f"{trial} stayed eligible after a newer {node.field} of {value}"


def _list_of(data: dict[str, Any], entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The list of ``data`` an entry of another copy belongs in (created if the writer removed it)."""
    if "test" in entry:
        labs: list[dict[str, Any]] = data.setdefault("labs", [])
        return labs
    if "index" in entry:
        scores: list[dict[str, Any]] = data.setdefault("disease_activity", [])
        return scores
    tests: list[dict[str, Any]] = data.setdefault("pregnancy", {}).setdefault("tests", [])
    return tests

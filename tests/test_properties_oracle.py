"""Property: the engine agrees with a plain-Python oracle (tests/oracle.py) on every criterion of every
encoded trial and on random rule trees.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, note
from hypothesis import strategies as st

from matcher.engine.evaluate import Evaluator
from matcher.intake.load import Document
from matcher.model.profile import PatientProfile
from matcher.rules.compile import compile_trial
from matcher.rules.language import parse_trial

from . import strategies as gen
from .helpers import examples
from .oracle import oracle
from .properties import compiled_trials, root_truths, show


# ================================================================== 1. engine = oracle
@examples(1.0)
@given(drawn=gen.patients())
def test_engine_agrees_with_the_oracle_on_every_criterion_of_every_trial(
        evaluator: Evaluator, drawn: tuple[dict[str, Any], dt.date]) -> None:
    """durable-rules decides every criterion of every encoded trial as the plain-Python three-valued
    evaluator (tests/oracle.py) does, on partial, complete and boundary patients."""
    data, as_of = drawn
    show(data, as_of)
    patient = PatientProfile.model_validate(data)
    for compiled in compiled_trials(evaluator):
        engine = root_truths(evaluator.evaluate(patient, as_of, compiled.trial.id))
        assert engine == oracle(compiled, patient, as_of), compiled.trial.id


@examples(1.0)
@given(document=gen.rule_documents(), data=st.data())
def test_engine_agrees_with_the_oracle_on_random_rule_trees(document: dict[str, Any], data: st.DataObject) -> None:
    """Random rule files over every patient and list field (all/any/not, queries, manual parts,
    disputed boundaries, thresholds in any accepted unit) compile to rules the engine evaluates as
    the oracle does: this tests the compiler and the engine workarounds, not only the encoded trials."""
    note(gen.rule_file(document))
    trial = parse_trial(Document("<string>", document, {}))
    compiled = compile_trial(trial)
    near = gen.thresholds_of([trial])
    with Evaluator([compiled]) as ev:
        for _ in range(3):
            patient_data, as_of = data.draw(gen.patients(thresholds=near))
            show(patient_data, as_of)
            patient = PatientProfile.model_validate(patient_data)
            assert root_truths(ev.evaluate(patient, as_of, trial.id)) == oracle(compiled, patient, as_of)

"""Property: verdicts follow from the criterion outcomes (the verdict algebra), and outcomes from the engine's
truths.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given

from matcher.engine.evaluate import Evaluator
from matcher.model.profile import PatientProfile
from matcher.results.explain import explain

from . import strategies as gen
from .helpers import examples
from .properties import root_truths, show


# ================================================================== 4. verdict algebra
@examples(1.0)
@given(drawn=gen.patients())
def test_verdicts_follow_from_the_criterion_outcomes(
        evaluator: Evaluator, drawn: tuple[dict[str, Any], dt.date]) -> None:
    """ineligible exactly when an inclusion is not met or an exclusion is met; eligible exactly when every
    inclusion is met, no exclusion is met and nothing is unknown (manual criteria are pending, not
    unknown); undetermined otherwise. Outcomes are the engine's truths (met = true, not met = false);
    an unknown outcome says what to collect, a decided one does not."""
    data, as_of = drawn
    show(data, as_of)
    patient = PatientProfile.model_validate(data)
    for trial in gen.encoded_trials():
        evaluation = evaluator.evaluate(patient, as_of, trial.id)
        result = explain(evaluation, "given")
        truths = root_truths(evaluation)
        by_id = {c.id: c for c in result.criteria}
        assert list(by_id) == [c.id for c in trial.criteria]
        for criterion in trial.criteria:
            outcome = by_id[criterion.id].outcome
            if criterion.condition is None:
                assert outcome == "manual", criterion.id
            else:
                wanted = {True: {"met"}, False: {"not_met"}, None: {"unknown", "manual"}}[truths[criterion.id]]
                assert outcome in wanted, (criterion.id, outcome, truths[criterion.id])
            assert bool(by_id[criterion.id].missing) == (outcome == "unknown"), (criterion.id, outcome)
        inclusions = [c for c in result.criteria if c.kind == "inclusion"]
        exclusions = [c for c in result.criteria if c.kind == "exclusion"]
        failing = [c.id for c in result.criteria if (c.kind, c.outcome) in (("inclusion", "not_met"),
                                                                            ("exclusion", "met"))]
        unknown = [c.id for c in result.criteria if c.outcome == "unknown"]
        assert (result.verdict == "ineligible") == bool(failing), result.trial
        questions = [c.id for c in result.criteria if c.outcome == "manual" and c.question]
        assert (result.verdict in ("eligible", "review")) == (
            all(c.outcome in ("met", "manual") for c in inclusions)
            and all(c.outcome in ("not_met", "manual") for c in exclusions) and not unknown), result.trial
        assert (result.verdict == "review") == (not failing and not unknown and bool(questions)), result.trial
        assert result.deciding == tuple(failing if failing else unknown if result.verdict == "undetermined"
                                        else questions if result.verdict == "review" else ())
        assert result.pending_manual == tuple(c.id for c in result.criteria if c.outcome == "manual")
        if result.verdict == "undetermined":
            assert result.to_collect, result.trial

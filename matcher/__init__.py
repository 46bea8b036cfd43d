"""Clinical-trial eligibility matcher: explained, three-valued verdicts decided by durable-rules.

The public API (see README.md)::

    import matcher
    trials = matcher.load_trials()
    patient = matcher.load_patient("patients/NCT00698191-eligible-lupus-nephritis.yaml")
    for result in matcher.evaluate(patient, trials):
        print(result.trial, result.verdict)
"""

from matcher.api import CohortRecord, Matcher, default_rules_dir, evaluate, load_trials, read_cohort
from matcher.errors import (
    EngineUnavailableError,
    EvaluationError,
    MatcherError,
    PatientFileError,
    RuleFileError,
)
from matcher.intake.validate import load_patient
from matcher.model.profile import PatientProfile
from matcher.results.explain import (
    CriterionOutcome,
    CriterionResult,
    Outcome,
    TrialOutcome,
    TrialResult,
    ValueUsed,
    Verdict,
)
from matcher.results.timeline import ChangePoint, CriterionChange, TrialTimeline
from matcher.rules.language import Criterion, Trial, load_trial

__all__ = [
    "ChangePoint",
    "CohortRecord",
    "Criterion",
    "CriterionChange",
    "CriterionOutcome",
    "CriterionResult",
    "EngineUnavailableError",
    "EvaluationError",
    "Matcher",
    "MatcherError",
    "Outcome",
    "PatientFileError",
    "PatientProfile",
    "RuleFileError",
    "Trial",
    "TrialOutcome",
    "TrialResult",
    "TrialTimeline",
    "ValueUsed",
    "Verdict",
    "default_rules_dir",
    "evaluate",
    "load_patient",
    "load_trial",
    "load_trials",
    "read_cohort",
]

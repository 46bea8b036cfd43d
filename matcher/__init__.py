"""Clinical-trial eligibility matcher: explained, three-valued verdicts decided by durable-rules.

The public API (see README.md)::

    import matcher
    trials = matcher.load_trials()
    patient = matcher.load_patient("patients/NCT00698191-eligible-lupus-nephritis.yaml")
    for result in matcher.evaluate(patient, trials):
        print(result.trial, result.verdict)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

#: each public name -> the module it comes from; imported on first use (PEP 562), so that ``matcher check``
#: and the other commands load only the modules they need (``import matcher.cli`` runs this file)
_WHERE = {
    "CohortRecord": "matcher.api",
    "Matcher": "matcher.api",
    "default_rules_dir": "matcher.api",
    "evaluate": "matcher.api",
    "load_trials": "matcher.api",
    "read_cohort": "matcher.api",
    "EngineUnavailableError": "matcher.errors",
    "EvaluationError": "matcher.errors",
    "MatcherError": "matcher.errors",
    "PatientFileError": "matcher.errors",
    "RuleFileError": "matcher.errors",
    "load_patient": "matcher.intake.validate",
    "PatientProfile": "matcher.model.profile",
    "CriterionOutcome": "matcher.results.explain",
    "CriterionResult": "matcher.results.explain",
    "Outcome": "matcher.results.explain",
    "TrialOutcome": "matcher.results.explain",
    "TrialResult": "matcher.results.explain",
    "ValueUsed": "matcher.results.explain",
    "Verdict": "matcher.results.explain",
    "ChangePoint": "matcher.results.timeline",
    "CriterionChange": "matcher.results.timeline",
    "TrialTimeline": "matcher.results.timeline",
    "Criterion": "matcher.rules.language",
    "Trial": "matcher.rules.language",
    "load_trial": "matcher.rules.language",
}


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


def __getattr__(name: str) -> Any:
    if name not in _WHERE:  # a submodule (``matcher.api``), as the eager imports used to make available
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

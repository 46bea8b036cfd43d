"""Near misses: an ineligible patient that a single criterion decides, and when that criterion would pass.

"Fails only exc-1a" is read off the engine's outcomes: exactly one criterion excludes the patient. What
the verdict would be were that criterion to pass is the verdict rule (:func:`verdict_of`) applied to the
other outcomes as the engine decided them (eligible, or undetermined with data still to collect, or a
clinician's review). When the criterion is time-bound (a washout, a duration, a value's window), the
timeline of that criterion (:mod:`matcher.results.timeline`) gives the first day, within the horizon, on
which the engine decides it passes, and the verdict the engine gives on that day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from matcher.engine.evaluate import Evaluator
from matcher.model.dates import LAST_AS_OF
from matcher.model.profile import PatientProfile
from matcher.results.explain import (
    CriterionOutcome,
    CriterionResult,
    TrialOutcome,
    Verdict,
    excludes,
    outcomes,
    verdict_of,
)
from matcher.results.timeline import DEFAULT_HORIZON_DAYS, candidates, criterion_owners, time_bound
from matcher.rules.compile import CompiledTrial


@dataclass(frozen=True)
class NearMiss:
    trial: str
    #: the one criterion that excludes the patient
    criterion: str
    #: the verdict were that criterion to pass, the other outcomes as they are
    otherwise: Verdict
    #: whether the criterion's outcome can change with the date alone (a time elapsed, an age, a value's window)
    time_bound: bool
    #: the first day (after the as-of date, up to ``until``) on which the engine decides the criterion passes
    passes_on: dt.date | None
    #: the verdict the engine gives on ``passes_on``
    verdict_then: Verdict | None
    #: the crossing that makes it pass ("24 weeks after the medications[1] (rituximab) end 2026-05-04")
    because: str
    #: the end of the horizon searched
    until: dt.date
    #: whether the day it passes was searched (not in a cohort's screening)
    searched: bool = True

    @property
    def text(self) -> str:
        """"fails only exc-1a (otherwise eligible); passes from 2026-10-20 (...), eligible then"."""
        words = f"fails only {self.criterion} (otherwise {self.otherwise})"
        if not self.time_bound:
            return words
        if not self.searched:
            return f"{words}; time-bound: matcher check --timeline gives when it passes"
        if self.passes_on is None:
            return f"{words}; does not pass by {self.until} on the record as it stands"
        why = f" ({self.because})" if self.because else ""
        return f"{words}; passes from {self.passes_on}{why}, {self.verdict_then} then"

    def to_json(self, with_text: bool = True) -> dict[str, Any]:
        """The JSON object (docs/check.md, "Near misses"); ``with_text=False`` leaves out the words
        (the compact JSON Lines form holds no explanation text)."""
        document = {"criterion": self.criterion, "otherwise": self.otherwise, "time_bound": self.time_bound,
                "passes_on": self.passes_on.isoformat() if self.passes_on else None,
                "verdict_then": self.verdict_then, "because": self.because,
                "until": self.until.isoformat() if self.searched else None,
                "text": self.text}
        if not with_text:
            del document["text"], document["because"]
        return document


def _passing(criterion: CriterionOutcome | CriterionResult) -> CriterionOutcome | CriterionResult:
    return replace(criterion, outcome="met" if criterion.kind == "inclusion" else "not_met", missing=())


def _time_bound(compiled: CompiledTrial, criterion: str) -> bool:
    """:func:`time_bound`, worked out once per criterion of a compiled trial (it depends on the rule file only)."""
    known: dict[str, bool] = compiled.derived.setdefault("near_miss.time_bound", {})
    found = known.get(criterion)
    if found is None:
        found = known[criterion] = time_bound(compiled, criterion)
    return found


def near_miss(evaluator: Evaluator, profile: PatientProfile, result: TrialOutcome,
              until: dt.date | None = None, when: bool = True) -> NearMiss | None:
    """The near miss of an ineligible result that a single criterion decides, else None. ``when``: search the
    day a time-bound criterion passes (the engine evaluates the trial on its candidate days: a screening of a
    cohort leaves it out, ``matcher check`` gives it). ``result``: the outcome view of the evaluation, or its
    full explanation."""
    if result.verdict != "ineligible":
        return None
    failing = [criterion for criterion in result.criteria if excludes(criterion)]
    if len(failing) != 1:
        return None
    only = failing[0]
    otherwise = verdict_of(tuple(_passing(c) if c is only else c for c in result.criteria))[0]
    bound = _time_bound(evaluator.compiled[result.trial], only.id)
    if not bound or not when:
        end = until or result.as_of + dt.timedelta(days=DEFAULT_HORIZON_DAYS)
        return NearMiss(result.trial, only.id, otherwise, bound, None, None, "", end, searched=False)
    end = min(until or result.as_of + dt.timedelta(days=DEFAULT_HORIZON_DAYS), LAST_AS_OF)
    compiled = evaluator.compiled[result.trial]
    root = compiled.criterion_roots[only.id]
    found = candidates([compiled], profile, result.as_of, end, criterion_owners(compiled, only.id))
    # the first candidate day on which the engine decides the criterion passes (the criterion's outcome is
    # constant between its candidate days, so no earlier day can be the first); its root truth is read
    # straight from the engine, and the day's outcomes confirm it
    for day in sorted(found):
        truth = evaluator.evaluate(profile, day, result.trial).truths[root]
        if truth is None or truth is (only.kind == "exclusion"):
            continue
        then = outcomes(evaluator.evaluate(profile, day, result.trial), result.as_of_source)
        passing = next(c for c in then.criteria if c.id == only.id)
        if passing.outcome == "unknown" or excludes(passing):
            continue
        because = [c for c in found[day] if c.trial == result.trial and c.day == day] or found[day]
        return NearMiss(result.trial, only.id, otherwise, True, day, then.verdict,
                        because[0].text if because else "", end)
    return NearMiss(result.trial, only.id, otherwise, True, None, None, "", end)


def near_misses(evaluator: Evaluator, profile: PatientProfile, results: Sequence[TrialOutcome],
                until: dt.date | None = None, when: bool = True) -> dict[str, NearMiss]:
    """trial -> near miss, for the results a single criterion makes ineligible."""
    found = {}
    for result in results:
        miss = near_miss(evaluator, profile, result, until, when)
        if miss is not None:
            found[result.trial] = miss
    return found

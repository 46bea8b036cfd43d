"""Recorded clinician decisions: which settle a criterion left to the clinician, and why others do not.

A decision settles only a ``manual`` outcome (a judgement, or a disputed boundary): it never overrides
what the record decides (met, not met) or stands in for missing data (unknown). It is used only on the
rule file it was made on and while recent (:data:`DECISION_WINDOW_DAYS`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal, NamedTuple

from matcher.model.profile import ClinicianDecision

#: a recorded clinician decision is used for this many days up to the screening date (both counted): a
#: judgement on the patient's state (the cause of raised transaminases) goes stale like a lab value
DECISION_WINDOW_DAYS = 90

_OUTCOME_WORDS = {"met": "met", "not_met": "not met"}


class Settlement(NamedTuple):
    """What the recorded decisions do to one criterion."""

    #: the decided outcome (None: the computed outcome stands)
    outcome: Literal["met", "not_met"] | None
    #: "decided by <who> on <date>: <outcome> (<note>)" when a decision is used
    decision: str | None
    #: why recorded decisions on the criterion were not used
    ignored: str | None


def decision_line(decision: ClinicianDecision) -> str:
    note = f" ({decision.note})" if decision.note else ""
    return f"decided by {decision.by} on {decision.on}: {_OUTCOME_WORDS[decision.outcome]}{note}"


def _why_not_usable(decision: ClinicianDecision, sha256: str, as_of: dt.date) -> str | None:
    if decision.rules_sha256 != sha256:
        return (f"{decision_line(decision)}; made on another version of the rule file (sha256 "
                f"{decision.rules_sha256[:12]}, now {sha256[:12]}): the question may have changed, decide again")
    if decision.on > as_of:
        return f"{decision_line(decision)}; dated after the screening date {as_of}"
    if (as_of - decision.on).days >= DECISION_WINDOW_DAYS:
        return (f"{decision_line(decision)}; older than the {DECISION_WINDOW_DAYS}-day window before the "
                f"screening date {as_of}: decide again")
    return None


def _settle_one(outcome: str, recorded: list[ClinicianDecision], sha256: str, as_of: dt.date) -> Settlement:
    if outcome != "manual":
        why = ("the record decides it" if outcome != "unknown" else
               "data is missing: collect it, a decision does not stand in for data")
        lines = "; ".join(decision_line(d) for d in sorted(recorded, key=lambda d: (d.on, d.by)))
        computed = _OUTCOME_WORDS.get(outcome, outcome)
        return Settlement(None, None, f"{lines}; not used: the outcome is computed ({computed}, {why}); a "
                                      "decision never overrides it")
    problems = [why for why in (_why_not_usable(d, sha256, as_of) for d in recorded) if why]
    usable = [d for d in recorded if _why_not_usable(d, sha256, as_of) is None]
    chosen = None
    if usable:
        latest = max(d.on for d in usable)
        last = [d for d in usable if d.on == latest]
        if len({d.outcome for d in last}) == 1:
            chosen = min(last, key=lambda d: d.by)
        else:
            problems.append(f"{len(last)} decisions on {latest} disagree (met and not met): decide again")
    ignored = " | ".join(sorted(problems)) or None
    if chosen is None:
        return Settlement(None, None, ignored)
    return Settlement(chosen.outcome, decision_line(chosen), ignored)


def settle(criteria: Sequence[tuple[str, str]], decisions: list[ClinicianDecision], trial: str, sha256: str,
           as_of: dt.date) -> tuple[dict[str, Settlement], tuple[str, ...]]:
    """For the criteria (id, computed outcome) of ``trial``: what its recorded decisions settle, by id, and
    the decisions that name no criterion of the trial.

    A decision on another version of the rule file (``sha256``), dated after the screening date, or
    older than :data:`DECISION_WINDOW_DAYS` is not used. Of the usable decisions on one criterion the
    latest counts; two of that day that disagree are both left out (file order never decides).
    """
    mine = [d for d in decisions if d.trial == trial]
    known = {criterion_id for criterion_id, _ in criteria}
    unattached = tuple(f"{d.criterion}: {decision_line(d)}; the trial has no criterion {d.criterion!r}"
                       for d in mine if d.criterion not in known)
    settlements = {}
    for criterion_id, outcome in criteria:
        recorded = [d for d in mine if d.criterion == criterion_id]
        if recorded:
            settlements[criterion_id] = _settle_one(outcome, recorded, sha256, as_of)
    return settlements, unattached

"""Eligibility over time: the dates at which a patient's verdict or a criterion's outcome changes.

A verdict holds on one date. On the record as it stands, what changes with the date is
arithmetic on the record's own dates: a washout ends (weeks since a course's end), a course
reaches its minimum duration, the patient turns an age limit, a dated value passes its
currency window, a clinician's decision expires, an entry dated after the as-of date becomes
current. Each of those crosses a threshold of the compiled rules on a day this module works
out from the record's dates and the rules' thresholds (the *candidate* dates, each with the
crossing that makes it one). The engine then decides every candidate day and the day before
it, and a day is a change point only where what the engine decides differs from the day
before. Nothing is decided here: the candidates only say where to look, and a day-by-day scan
is never needed (tests/test_timeline_properties.py checks that random days between change
points agree with the change point before them).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from matcher.engine.evaluate import Evaluator
from matcher.model import drugs
from matcher.model.dates import LAST_AS_OF, add_months, completed_years
from matcher.model.fields import LISTS, PATIENT_FIELDS, FieldSpec
from matcher.model.fields.courses import TREATMENT_GAP_DAYS
from matcher.model.fields.pregnancy import NEGATIVE_TEST_DAYS
from matcher.model.profile import FREQUENCY_INTERVAL_DAYS, PatientProfile
from matcher.results.decisions import DECISION_WINDOW_DAYS
from matcher.results.explain import CriterionResult, Outcome, TrialResult, Verdict, explain
from matcher.rules.compile import PATIENT_KIND, CompiledTrial
from matcher.rules.language import OPERATORS, Comparison, QueryRef, walk

#: the horizon of a timeline when no end date is given: this many days after the as-of date
DEFAULT_HORIZON_DAYS = 180

#: how a field's number counts time (its ``suffix``), as the calendar step that crosses a threshold
_TIME_UNITS = {"days": "days", "weeks": "weeks", "months": "months", "calendar months": "months", "years": "years"}


@dataclass(frozen=True)
class RecordDate:
    """A date the record holds (or one dosing interval after a course's last dose), and where."""

    day: dt.date
    #: e.g. "medications[1] (rituximab) end", "demographics birth_date"
    where: str
    #: the list the date belongs to ("medications"), "" for a date outside the lists
    listed: str


@dataclass(frozen=True)
class Crossing:
    """Why a day is a candidate: a record date plus a threshold of one trial's rules (or no trial)."""

    day: dt.date
    #: the trial whose rules give the threshold; "" for an entry becoming current, which concerns every trial
    trial: str
    #: the criterion or query whose comparison gives the threshold ("" for an entry becoming current)
    owner: str
    field: str
    text: str
    #: the record date the crossing counts from
    base: dt.date
    #: a currency window's expiry (matched to the value a criterion used), not a threshold of elapsed time
    window: bool = False


@dataclass(frozen=True)
class CriterionChange:
    criterion: str
    before: Outcome
    after: Outcome
    #: the criterion's reason on the change date (values, thresholds, what is missing)
    reason: str
    #: the crossings of the record's dates that explain the change (may be empty)
    crossings: tuple[str, ...]


@dataclass(frozen=True)
class ChangePoint:
    date: dt.date
    verdict_before: Verdict
    verdict: Verdict
    changes: tuple[CriterionChange, ...]
    #: the change in plain words: "eligible from 2027-01-15 (exc-1a not met: ...)"
    summary: str


@dataclass(frozen=True)
class TrialTimeline:
    trial: str
    as_of: dt.date
    until: dt.date
    #: the verdict on the as-of date
    verdict: Verdict
    changes: tuple[ChangePoint, ...]

    def verdict_on(self, day: dt.date) -> Verdict:
        """The verdict on ``day`` (between the as-of date and the horizon), read off the change points."""
        if not self.as_of <= day <= self.until:
            raise ValueError(f"{day} is outside the timeline {self.as_of} to {self.until}")
        verdict = self.verdict
        for change in self.changes:
            if change.date <= day:
                verdict = change.verdict
        return verdict


# ------------------------------------------------------------------ the record's dates
def _item_name(item: BaseModel) -> str:
    for attribute in ("drug", "test", "index", "vaccine", "name", "type", "criterion"):
        value = getattr(item, attribute, None)
        if isinstance(value, str):
            return f" ({value.replace('_', ' ')})"
    return ""


def _walk_dates(value: Any, where: str, listed: str) -> Iterator[RecordDate]:
    if isinstance(value, dt.date):
        yield RecordDate(value, where, listed)
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _walk_dates(getattr(value, name), f"{where} {name}".strip(), listed)
    elif isinstance(value, list):
        for index, entry in enumerate(value):
            label = _item_name(entry) if isinstance(entry, BaseModel) else ""
            yield from _walk_dates(entry, f"{where}[{index}]{label}", listed or where)


def record_dates(profile: PatientProfile) -> list[RecordDate]:
    """Every date of the record (walked, so no section is forgotten), and the day one dosing interval after
    each course's start and end (a pulse course covers the period to its next dose)."""
    found = [date for date in _walk_dates(profile, "", "") if not date.where.startswith("screening_date")]
    for index, course in enumerate(profile.medications or []):
        interval = FREQUENCY_INTERVAL_DAYS.get(course.frequency or "")
        for name, day in (("start", course.start), ("end", course.end)):
            if day is None:
                continue
            where = f"medications[{index}]{_item_name(course)} {name}"
            if course.frequency == "monthly":
                found.append(RecordDate(add_months(day, 1), f"one month after {where}", "medications"))
            elif interval is not None:
                shifted = day + dt.timedelta(days=max(1, round(interval)))
                found.append(RecordDate(shifted, f"one dosing interval after {where}", "medications"))
    return found


# ------------------------------------------------------------------ the rules' thresholds
@dataclass(frozen=True)
class _Step:
    """A threshold of the rules as a step in time from a record date."""

    unit: str  # days, weeks, months, years
    amount: float
    trial: str
    owner: str
    field: str
    #: the list the field reads ("" for a patient field)
    listed: str
    #: the field's label and the threshold as written ("weeks since the last dose 24"), or the window
    text: str
    label: str = ""


def _field_spec(scope: str, name: str) -> FieldSpec:
    return PATIENT_FIELDS[name] if scope == PATIENT_KIND else LISTS[scope].fields[name]


def _steps(compiled: CompiledTrial) -> list[_Step]:
    trial = compiled.trial.id
    steps: list[_Step] = []
    for node in compiled.nodes:
        comparison = node.node
        if not isinstance(comparison, Comparison) or node.key is not None:  # a peer node repeats its measure
            continue
        scope = node.scope
        listed = "" if scope == PATIENT_KIND else scope
        spec = _field_spec(scope, comparison.field)
        unit = _TIME_UNITS.get(spec.suffix)
        if unit is not None:
            for reading in comparison.readings:
                if isinstance(reading.value, (int, float)) and not isinstance(reading.value, bool):
                    steps.append(_Step(unit, float(reading.value), trial, node.owner, comparison.field, listed,
                                       f"{spec.label} {OPERATORS[reading.op].symbol} {reading.written}"))
        if comparison.within is not None:
            steps.append(_Step("window", float(comparison.within.days), trial, node.owner, comparison.field, listed,
                               comparison.within.describe(), spec.label))
    return steps


#: steps of the matcher's own tables that apply to every trial (a field reads them, not a rule)
_TABLE_DAYS: tuple[tuple[int, str], ...] = (
    (NEGATIVE_TEST_DAYS, f"a negative pregnancy test counts for {NEGATIVE_TEST_DAYS} days"),
    (TREATMENT_GAP_DAYS, f"courses of one drug less than {TREATMENT_GAP_DAYS} days apart are one treatment"),
    (DECISION_WINDOW_DAYS, f"a clinician's decision is used for {DECISION_WINDOW_DAYS} days"),
    *((row.days, f"an adequate trial of {name.replace('_', ' ')} lasts {row.days} days")
      for name, row in drugs.ADEQUATE_TRIALS.items()),
)


def _add_years(day: dt.date, years: int) -> dt.date:
    """The day ``years`` completed years after ``day`` (a 29 February counts on 1 March)."""
    year = day.year + years
    if not 1 <= year <= LAST_AS_OF.year:
        return dt.date.max
    try:
        return day.replace(year=year)
    except ValueError:
        return dt.date(year, 3, 1)


def _months_later(day: dt.date, months: float) -> list[dt.date]:
    """The days around which calendar months from ``day`` reach ``months`` (a fraction counts in the next month)."""
    whole = math.floor(months)
    if abs(whole) > 12 * 1000:
        return []
    anchor = add_months(day, whole)
    length = (add_months(day, whole + 1) - anchor).days
    part = (months - whole) * length
    return [anchor + dt.timedelta(days=math.floor(part)), anchor + dt.timedelta(days=math.ceil(part))]


def _crossing_days(base: dt.date, step: _Step) -> list[dt.date]:
    """The days around which the value measured from ``base`` crosses the step's threshold."""
    try:
        if step.unit == "years":
            if step.amount != int(step.amount):
                return []
            # completed years are whole: "at most 70" fails on the 71st birthday, "at least 18" holds from the 18th
            nominal = [_add_years(base, int(step.amount)), _add_years(base, int(step.amount) + 1)]
        elif step.unit == "months":
            nominal = _months_later(base, step.amount)
        else:
            days = step.amount * 7 if step.unit == "weeks" else step.amount + (1 if step.unit == "window" else 0)
            if abs(days) > 366 * 1000:
                return []
            nominal = [base + dt.timedelta(days=math.floor(days)), base + dt.timedelta(days=math.ceil(days))]
    except OverflowError:
        return []
    return nominal


def _describe(base: RecordDate, step: _Step, day: dt.date, born: bool) -> str:
    if step.unit == "window":
        return f"the {step.label} of {base.day} passes the {step.text} on {day}"
    if step.unit == "years" and born:
        return f"turns {completed_years(base.day, day)} on {day} (born {base.day}; {step.text})"
    return f"{step.amount:g} {step.unit} after the {base.where} {base.day} ({step.text})"


def _relevant(base: RecordDate, step: _Step) -> bool:
    """An age counts from the birth date; a list entry's field from that list's dates; anything else from any
    date of the record (a superset: the engine decides which candidates change anything)."""
    if step.field == "age_years":
        return base.where.endswith("birth_date")
    if step.listed:
        return base.listed == step.listed
    return True


def candidates(compiled: list[CompiledTrial], profile: PatientProfile, as_of: dt.date,
               until: dt.date, owners: set[str] | None = None) -> dict[dt.date, list[Crossing]]:
    """Candidate change days in (as_of, until], each with the crossings that make it one; with ``owners``,
    only those where a comparison of these criteria and queries (or any entry or table) can change."""
    found: dict[dt.date, list[Crossing]] = {}

    def add(day: dt.date, crossing: Crossing) -> None:
        for near in (day - dt.timedelta(days=1), day, day + dt.timedelta(days=1)):
            if as_of < near <= until:
                found.setdefault(near, []).append(crossing)
    dates = record_dates(profile)
    for base in dates:
        if base.day <= dt.date.max - dt.timedelta(days=2) and base.day > as_of:
            add(base.day, Crossing(base.day, "", "", "", f"the {base.where} {base.day} is on or before the "
                                                         f"as-of date from {base.day}", base.day))
    steps = [step for trial in compiled for step in _steps(trial) if owners is None or step.owner in owners]
    steps += [_Step("days", days, "", "", "", "", text) for days, text in _TABLE_DAYS]
    for base in dates:
        for step in steps:
            if step.trial and not _relevant(base, step):
                continue
            for day in _crossing_days(base.day, step):
                if day == dt.date.max or day <= as_of - dt.timedelta(days=1) or day > until + dt.timedelta(days=1):
                    continue
                text = (_describe(base, step, day, base.where.endswith("birth_date")) if step.trial
                        else f"{step.text}: {step.amount:g} days after the {base.where} {base.day}")
                add(day, Crossing(day, step.trial, step.owner, step.field, text, base.day, step.unit == "window"))
    return found


# ------------------------------------------------------------------ deciding each candidate day
def _state(result: TrialResult) -> tuple[Verdict, tuple[tuple[str, Outcome], ...]]:
    return result.verdict, tuple((criterion.id, criterion.outcome) for criterion in result.criteria)


_VERDICT_WORDS: dict[str, str] = {
    "eligible": "eligible from",
    "ineligible": "ineligible from",
    "undetermined": "becomes undetermined on",
    "review": "in review (a clinician to decide) from",
}


def _outcome_words(outcome: str) -> str:
    return outcome.replace("_", " ")


def _crossings_for(criterion: str, compiled: CompiledTrial, crossings: list[Crossing], day: dt.date,
                   used: set[tuple[str, dt.date]]) -> tuple[str, ...]:
    """The crossings that explain a criterion's change on ``day``: those of its own comparisons (a window only
    where the criterion used a value of that date), else an entry of the record becoming current."""
    owners = criterion_owners(compiled, criterion)
    dates = {date for _, date in used}
    mine = [c for c in crossings if c.trial == compiled.trial.id and c.owner in owners
            and (not c.window or (c.field, c.base) in used)]
    generic = [c for c in crossings if not c.trial and (c.base in dates or not dates)]
    for pool in (mine, generic):
        exact = [c.text for c in pool if c.day == day]
        if exact:
            return tuple(dict.fromkeys(exact))
    return tuple(dict.fromkeys(c.text for c in mine))


def _values_used(criterion: CriterionResult) -> set[tuple[str, dt.date]]:
    return {(value.field, value.date) for value in criterion.values if value.date is not None}


def _summary(day: dt.date, before: Verdict, after: Verdict, changes: tuple[CriterionChange, ...]) -> str:
    parts = []
    for change in changes:
        why = f": {change.crossings[0]}" if change.crossings else ""
        parts.append(f"{change.criterion} {_outcome_words(change.after)}{why}")
    detail = "; ".join(parts)
    if before != after:
        return f"{_VERDICT_WORDS[after]} {day} ({detail})"
    return f"from {day}: {detail} (still {after})"


def criterion_owners(compiled: CompiledTrial, criterion: str) -> set[str]:
    """The criterion and the queries it reads: the comparisons its outcome depends on."""
    found = next(c for c in compiled.trial.criteria if c.id == criterion)
    owners = {criterion}
    if found.condition is not None:
        owners |= {node.query for node in walk(found.condition) if isinstance(node, QueryRef)}
    return owners


def time_bound(compiled: CompiledTrial, criterion: str) -> bool:
    """Whether the criterion compares a time elapsed, an age or a dated value with a window: its outcome can
    change with the date alone."""
    owners = criterion_owners(compiled, criterion)
    return any(step.owner in owners for step in _steps(compiled))


def timeline(evaluator: Evaluator, profile: PatientProfile, as_of: dt.date, trial_ids: list[str],
             until: dt.date | None = None, as_of_source: str = "given", criterion: str | None = None
             ) -> list[TrialTimeline]:
    """For each trial, the change points in (as_of, until] (default :data:`DEFAULT_HORIZON_DAYS` days after
    the as-of date), each decided by the engine on that day and the day before. With ``criterion`` (one trial):
    only the days that criterion's own thresholds, the record's entries and the tables can change, so every
    change of that criterion is found (other changes may be missed)."""
    end = min(until if until is not None else as_of + dt.timedelta(days=DEFAULT_HORIZON_DAYS), LAST_AS_OF)
    if end < as_of:
        raise ValueError(f"the timeline's end {end} is before the as-of date {as_of}")
    compiled = [evaluator.compiled[trial_id] for trial_id in trial_ids]
    owners = criterion_owners(compiled[0], criterion) if criterion is not None and len(compiled) == 1 else None
    found = candidates(compiled, profile, as_of, end, owners)
    days = sorted({as_of} | set(found) | {day - dt.timedelta(days=1) for day in found})
    timelines = []
    for trial in compiled:
        results = {day: explain(evaluator.evaluate(profile, day, trial.trial.id), as_of_source) for day in days}
        points = []
        for day in sorted(found):
            before, after = results[day - dt.timedelta(days=1)], results[day]
            if _state(before) == _state(after):
                continue
            old = {criterion.id: criterion for criterion in before.criteria}
            changes = tuple(
                CriterionChange(criterion.id, old[criterion.id].outcome, criterion.outcome, criterion.reason,
                                _crossings_for(criterion.id, trial, found[day], day,
                                               _values_used(old[criterion.id]) | _values_used(criterion)))
                for criterion in after.criteria if old[criterion.id].outcome != criterion.outcome)
            points.append(ChangePoint(day, before.verdict, after.verdict, changes,
                                      _summary(day, before.verdict, after.verdict, changes)))
        timelines.append(TrialTimeline(trial.trial.id, as_of, end, results[as_of].verdict, tuple(points)))
    return timelines



# ------------------------------------------------------------------ output
def timeline_document(timelines: list[TrialTimeline], patient: str, as_of_source: str) -> dict[str, Any]:
    """The timeline as JSON data (docs/check.md, "Timeline")."""
    first = timelines[0] if timelines else None
    return {
        "patient": patient,
        "as_of": str(first.as_of) if first else None,
        "as_of_source": as_of_source,
        "until": str(first.until) if first else None,
        "trials": [{
            "trial": line.trial,
            "verdict": line.verdict,
            "changes": [{
                "date": str(change.date),
                "verdict_before": change.verdict_before,
                "verdict": change.verdict,
                "summary": change.summary,
                "criteria": [{
                    "criterion": item.criterion,
                    "before": item.before,
                    "after": item.after,
                    "reason": item.reason,
                    "because": list(item.crossings),
                } for item in change.changes],
            } for change in line.changes],
        } for line in timelines],
    }


def timeline_text(timelines: list[TrialTimeline]) -> str:
    """One block per trial: the verdict on the as-of date, then each change point in plain words."""
    lines = []
    for line in timelines:
        lines.append(f"{line.trial}  {line.verdict.upper()} on {line.as_of}")
        for change in line.changes:
            lines.append(f"  {change.date}  {change.verdict.upper()}  {change.summary}")
        if not line.changes:
            lines.append(f"  no change up to {line.until}")
    return "\n".join(lines)

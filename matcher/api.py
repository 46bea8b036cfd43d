"""The Python API: load trials and patients, evaluate, get explained results.

Typical screening script::

    import matcher
    trials = matcher.load_trials()                       # rules/ of this checkout
    patient = matcher.load_patient("patients/NCT00698191-eligible-lupus-nephritis.yaml")
    for result in matcher.evaluate(patient, trials):
        print(result.trial, result.verdict, result.summary)

For many patients, keep one :class:`Matcher` open: compiling trials into the
engine happens once, and :meth:`Matcher.screen` iterates over the results of a
whole cohort (:func:`read_cohort` streams one from a directory, JSON Lines or
CSV)::

    with matcher.Matcher(matcher.load_trials()) as screening:
        cohort = (r.profile for r in matcher.read_cohort("patients/") if r.profile)
        for result in screening.screen(cohort):
            print(result.patient, result.trial, result.verdict)

Where only outcomes are read (verdicts, criterion outcomes, data to collect), :meth:`Matcher.outcomes` and
``screen(..., explain=False)`` give them without building the explanation lines (several times faster).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, overload

from matcher.engine.adapter import HoldsEngineHandles
from matcher.engine.cache import CacheStats
from matcher.engine.evaluate import Evaluator, PatientReads
from matcher.errors import MatcherError, PatientFileError
from matcher.model.dates import LAST_AS_OF, completed_years
from matcher.model.profile import PatientProfile
from matcher.results.collect_next import CollectItem, DecidingItem, cohort_collect_next, collect_next, deciding_items
from matcher.results.explain import TrialOutcome, TrialResult, explain, outcomes
from matcher.results.near_miss import NearMiss, near_misses
from matcher.results.timeline import TrialTimeline, timeline
from matcher.rules.compile import compile_trial
from matcher.rules.language import Trial
from matcher.rules.language import load_trials as _load_trials_from

if TYPE_CHECKING:
    from matcher.intake.fhir import FhirImport

MAX_AGE = 120
#: rules/ beside the package (a checkout or an editable install)
_CHECKOUT_RULES = Path(__file__).resolve().parent.parent / "rules"
#: the copy of rules/ a wheel carries inside the package (see setup.py)
_INSTALLED_RULES = Path(__file__).resolve().parent / "encoded_trials"


def default_rules_dir() -> Path:
    """``$MATCHER_RULES`` if set, else the trials installed with the matcher: the ``rules/`` directory of
    this checkout (a clone, an editable install), or the copy a wheel installs inside the package."""
    configured = os.environ.get("MATCHER_RULES")
    if configured:
        return Path(configured)
    return _INSTALLED_RULES if _INSTALLED_RULES.is_dir() else _CHECKOUT_RULES


def load_trials(directory: str | Path | None = None, only: Iterable[str] | None = None) -> list[Trial]:
    """Load every rule file in ``directory`` (default :func:`default_rules_dir`), optionally only some ids."""
    trials = _load_trials_from(directory or default_rules_dir())
    if only is None:
        return trials
    wanted = list(only)
    known = {trial.id: trial for trial in trials}
    for trial_id in wanted:
        if trial_id not in known:
            from matcher.errors import did_you_mean

            raise MatcherError(f"no rule file for trial {trial_id!r}{did_you_mean(trial_id, known)}; "
                               f"encoded trials: {', '.join(known)}", field="--trial")
    return [known[trial_id] for trial_id in wanted]


def resolve_as_of(patient: PatientProfile, as_of: dt.date | None) -> tuple[dt.date, str]:
    """The screening date and where it came from: given, the patient's screening_date, or today."""
    if as_of is not None:
        return as_of, "given"
    if patient.screening_date is not None:
        return patient.screening_date, "screening_date in the patient file"
    return dt.date.today(), "today (no --as-of and no screening_date in the patient file)"


def _check_dates(patient: PatientProfile, as_of: dt.date) -> None:
    if as_of > LAST_AS_OF:
        raise MatcherError(f"as-of date {as_of} is too far in the future: the matcher screens on dates up to "
                           f"{LAST_AS_OF}", field="as_of")
    demo = patient.demographics
    if demo and demo.birth_date and demo.birth_date > as_of:
        raise PatientFileError(f"birth date {demo.birth_date} is after the as-of date {as_of}",
                               field="demographics.birth_date")
    if demo and demo.birth_date and completed_years(demo.birth_date, as_of) > MAX_AGE:
        raise PatientFileError(f"birth date {demo.birth_date} makes the patient older than {MAX_AGE} on {as_of}",
                               field="demographics.birth_date")


class Matcher(HoldsEngineHandles):
    """Trials compiled into durable-rules once, for evaluating many patients. It cannot be pickled or copied
    into another process: build one per worker (or Spark partition), and close it.

    ``cache=False`` turns the decision cache off (docs/engine.md): durable-rules is then asked about every
    fact, for audits; the results are the same either way."""

    def __init__(self, trials: Sequence[Trial], cache: bool = True) -> None:
        self.trials = list(trials)
        self._evaluator = Evaluator((compile_trial(trial) for trial in self.trials), cache=cache)

    def evaluate(self, patient: PatientProfile, as_of: dt.date | None = None,
                 as_of_source: str | None = None) -> list[TrialResult]:
        """One explained result per trial, in trial-id order."""
        day, source, read = self._prepare(patient, as_of, as_of_source)
        return [explain(self._evaluator.evaluate(patient, day, trial.id, read=read), source) for trial in self.trials]

    def outcomes(self, patient: PatientProfile, as_of: dt.date | None = None,
                 as_of_source: str | None = None) -> list[TrialOutcome]:
        """One outcome view per trial, in trial-id order: what :meth:`evaluate` gives (verdict, each criterion's
        outcome, deciding criteria, data to collect, clinician's questions, recorded decisions) without the
        explanation lines (reason, details, values), which are most of the cost of an evaluation after the
        engine."""
        day, source, read = self._prepare(patient, as_of, as_of_source)
        return [outcomes(self._evaluator.evaluate(patient, day, trial.id, read=read), source) for trial in self.trials]

    def _prepare(self, patient: PatientProfile, as_of: dt.date | None,
                 as_of_source: str | None) -> tuple[dt.date, str, PatientReads]:
        day, source = resolve_as_of(patient, as_of)
        _check_dates(patient, day)
        return day, as_of_source or source, PatientReads(patient, day)  # each field read once, whatever the trials

    def timeline(self, patient: PatientProfile, as_of: dt.date | None = None,
                 until: dt.date | None = None) -> list[TrialTimeline]:
        """Per trial, the dates in (as-of date, ``until``] (default 180 days later) at which the verdict or a
        criterion's outcome changes on the record as it stands, each decided by the engine, with its reason
        (matcher.results.timeline)."""
        day, source = resolve_as_of(patient, as_of)
        _check_dates(patient, day)
        if until is not None and until < day:
            raise MatcherError(f"the timeline's end {until} is before the as-of date {day}", field="until")
        if until is not None and until > LAST_AS_OF:
            raise MatcherError(f"the timeline's end {until} is too far in the future: dates up to {LAST_AS_OF}",
                               field="until")
        return timeline(self._evaluator, patient, day, [trial.id for trial in self.trials], until, source)

    def near_misses(self, patient: PatientProfile, results: Sequence[TrialOutcome],
                    until: dt.date | None = None, when: bool = True) -> dict[str, NearMiss]:
        """trial -> near miss, for the ``results`` (of :meth:`evaluate` or :meth:`outcomes`) a single criterion
        makes ineligible: which criterion, the verdict were it to pass, and, for a time-bound one, the first day
        up to ``until`` (default 180 days after the as-of date) on which the engine decides it passes
        (matcher.results.near_miss); ``when=False`` leaves that day out (a cohort's screening: it costs an
        evaluation per candidate day)."""
        return near_misses(self._evaluator, patient, list(results), until, when)

    def collect_next(self, patient: PatientProfile, results: Sequence[TrialOutcome]) -> list[CollectItem]:
        """The data the ``results`` (of :meth:`evaluate` or :meth:`outcomes`) lack, ranked by how many
        undetermined trials a value of each could decide, and whether one could make the patient eligible
        (matcher.results.collect_next)."""
        return collect_next(self._evaluator, patient, results)

    def deciding_items(self, patient: PatientProfile, result: TrialOutcome) -> tuple[DecidingItem, ...]:
        """For one undetermined ``result`` (of :meth:`evaluate` or :meth:`outcomes`): the missing items a value
        of which alone would decide it, each with whether one could make the patient eligible (what
        ``matcher screen --collect-next`` records per pair)."""
        return deciding_items(self._evaluator, patient, result)

    def collect_next_cohort(self, patients: Iterable[PatientProfile],
                            as_of: dt.date | None = None) -> list[tuple[str, int]]:
        """Over a cohort: each item to collect with how many undetermined patient-trial pairs a value of it
        could decide, most first."""
        return cohort_collect_next(self._evaluator, ((patient, self.outcomes(patient, as_of)) for patient in patients))

    @overload
    def screen(self, patients: Iterable[PatientProfile], as_of: dt.date | None = None, *,
               explain: Literal[True] = True) -> Iterator[TrialResult]: ...

    @overload
    def screen(self, patients: Iterable[PatientProfile], as_of: dt.date | None = None, *,
               explain: Literal[False]) -> Iterator[TrialOutcome]: ...

    def screen(self, patients: Iterable[PatientProfile], as_of: dt.date | None = None, *,
               explain: bool = True) -> Iterator[TrialOutcome]:
        """The results of every patient against every trial, patient by patient, as they are computed
        (the same objects as :meth:`evaluate`; ``explain=False``: those of :meth:`outcomes`). A patient whose
        dates contradict the as-of date raises PatientFileError when reached."""
        for patient in patients:
            yield from (self.evaluate(patient, as_of) if explain else self.outcomes(patient, as_of))

    def cache_stats(self) -> CacheStats:
        """How many facts the decision cache answered, how many the engine was asked about, answers held."""
        return self._evaluator.cache_stats()

    def close(self) -> None:
        self._evaluator.close()

    def __enter__(self) -> Matcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def evaluate(patient: PatientProfile, trials: Sequence[Trial] | None = None,
             as_of: dt.date | None = None, cache: bool = True) -> list[TrialResult]:
    """Evaluate one patient against ``trials`` (default: every encoded trial); ``cache`` as for :class:`Matcher`."""
    with Matcher(trials if trials is not None else load_trials(), cache=cache) as matcher:
        return matcher.evaluate(patient, as_of)


@dataclass(frozen=True)
class CohortRecord:
    """One record of a cohort source: its profile, or the problem that kept it from being read."""

    location: str
    profile: PatientProfile | None
    problem: MatcherError | None
    #: for a FHIR bundle, the import's report: resources and codes not used, fields left unknown
    fhir: FhirImport | None = None


def read_cohort(source: str | Path) -> Iterator[CohortRecord]:
    """Stream the records of a directory of patient files, a JSON Lines file or a CSV (README, "Cohort input
    formats"). A problem with the source itself raises MatcherError at once; a bad record is yielded with its
    problem, and reading goes on."""
    from matcher.intake.sources import iter_records, read_record

    records = iter_records(source)  # raises now, not at the first next(), on a bad source

    def generate() -> Iterator[CohortRecord]:
        for record in records:
            try:
                loaded = read_record(record)
                yield CohortRecord(record.location, loaded.profile, None, loaded.fhir)
            except MatcherError as exc:
                yield CohortRecord(record.location, None, exc)

    return generate()

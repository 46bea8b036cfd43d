"""Screening a cohort: every patient record of a source against the trials, in one or more processes.

The stages are those of ``matcher check`` (read -> validate -> evaluate ->
explain -> render), run per record by :func:`screen_batch` (when no output reads the JSON, only the outcome
view is built: no explanation lines, no rendering): in this process
for one worker, or in worker processes for several. durable-rules holds the
GIL, so threads would not help; each worker compiles the trials into its own
engine once. Batches come back in input order, so the results do not depend
on the number of workers, and at most a few batches per worker are in flight,
so memory stays bounded however large the source.

A record that cannot be read (or that the engine refuses) becomes a
:class:`ScreenedRecord` with its problem and location: it is reported and
counted, and the run goes on.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from matcher.errors import EvaluationError, MatcherError, one_line
from matcher.results.collect_next import DecidingItem
from matcher.results.explain import TrialOutcome, TrialResult, excludes
from matcher.results.near_miss import NearMiss

if TYPE_CHECKING:
    from matcher.api import Matcher

#: records per task sent to a worker: large enough to amortise the pickling, small enough to keep order cheap
BATCH_SIZE = 64
#: batches in flight per worker
WINDOW_PER_WORKER = 4
#: the longest problem message kept for a record (well within a CSV cell's limit)
MAX_PROBLEM_CHARACTERS = 2_000


@dataclass(frozen=True, slots=True)
class TrialRow:
    """One patient-trial evaluation, as the outputs and the screening log need it."""

    trial: str
    verdict: str
    #: criteria that exclude the patient (inclusion not met, exclusion met)
    not_met: tuple[str, ...]
    #: criteria whose data is missing
    unknown: tuple[str, ...]
    to_collect: tuple[str, ...]
    #: criteria left to the clinician
    manual: tuple[str, ...]
    rules_file: str
    rules_sha256: str
    #: every criterion's (id, kind, outcome), in rule-file order
    criteria: tuple[tuple[str, str, str], ...]
    #: for a review verdict: the clinician's questions, each with the recorded evidence behind it
    to_decide: tuple[str, ...]
    #: "<criterion>: decided by <who> on <date>: ..." for each manual criterion a recorded decision settled
    decided: tuple[str, ...]
    #: the criteria that make the verdict (ineligible, undetermined or review)
    deciding: tuple[str, ...]
    #: clinical questions with nothing recorded against them, and routine confirmations (consent, willingness)
    clinical_pending: tuple[str, ...]
    routine_pending: tuple[str, ...]
    #: recorded decisions naming no criterion of the trial
    decisions_not_used: tuple[str, ...]
    #: the per-trial object of ``matcher check --format json`` with the patient's id, as one line of JSON
    #: (None when no output needs it: rendering it is a good part of the cost of an evaluation)
    json: str | None
    #: a single criterion makes the patient ineligible: which, and when it would pass (matcher.results.near_miss)
    near_miss: NearMiss | None = None
    #: with --collect-next, for an undetermined pair: the missing items a value of which alone decides it
    #: (matcher.results.collect_next.deciding_items); None when not computed (decided pairs have ())
    collect_next: tuple[DecidingItem, ...] | None = None


@dataclass(frozen=True, slots=True)
class ScreenedRecord:
    """The outcome of one record of the source: its rows, or why it could not be screened."""

    location: str
    patient: str | None
    as_of: str | None
    as_of_source: str | None
    rows: tuple[TrialRow, ...]
    #: for a FHIR bundle: how many resources or codes were not used, and how many fields were left unknown
    fhir_unused: int = 0
    fhir_unknown: int = 0
    #: the one-line problem when the record was not screened
    problem: str | None = None
    #: ``input`` (the record could not be read) or ``engine`` (the engine refused or contradicted itself)
    problem_kind: str | None = None


def trial_row(result: TrialOutcome, location: str, render_json: bool = True,
              fhir_import: dict[str, object] | None = None, near_miss: NearMiss | None = None,
              collect_next: tuple[DecidingItem, ...] | None = None) -> TrialRow:
    """The row of one evaluation: from its outcome view, or from its full explanation (needed to fill
    :attr:`TrialRow.json` with ``render_json``)."""
    from matcher.results.render import compact_json, trial_json

    text = None
    if render_json:
        if not isinstance(result, TrialResult):
            raise TypeError("rendering a result's JSON needs its full explanation (explain), not its outcome view")
        document = {"patient": result.patient, "location": location, "as_of": result.as_of.isoformat(),
                    "as_of_source": result.as_of_source, **trial_json(result),
                    "near_miss": near_miss.to_json() if near_miss else None}
        if collect_next is not None:  # docs/screening.md, "What to collect next"
            document["collect_next"] = [entry.to_json() for entry in collect_next]
        if fhir_import is not None:  # read from a FHIR bundle: what it did not give, as in matcher check
            document["fhir_import"] = fhir_import
        text = compact_json(document)
    return TrialRow(
        trial=result.trial,
        verdict=result.verdict,
        not_met=tuple(c.id for c in result.criteria if excludes(c)),
        unknown=tuple(c.id for c in result.criteria if c.outcome == "unknown"),
        to_collect=result.to_collect,
        manual=result.pending_manual,
        rules_file=result.rules_file,
        rules_sha256=result.rules_sha256,
        criteria=tuple((c.id, c.kind, c.outcome) for c in result.criteria),
        to_decide=result.to_decide,
        decided=result.decided,
        deciding=result.deciding,
        clinical_pending=result.clinical_pending,
        routine_pending=result.routine_pending,
        decisions_not_used=result.decisions_not_used,
        json=text,
        near_miss=near_miss,
        collect_next=collect_next,
    )


# ------------------------------------------------------------------ the work of one process
@dataclass
class _WorkerState:
    matcher: Matcher
    as_of: dt.date | None
    render_json: bool
    #: compute each undetermined pair's deciding items (TrialRow.collect_next)
    collect_next: bool = False


_STATE: _WorkerState | None = None


def init_worker(rules_dir: str | None, trial_ids: Sequence[str] | None, as_of: dt.date | None,
                render_json: bool = True, cache: bool = True, collect_next: bool = False) -> None:
    """Compile the trials into this process's engine (run once per worker process)."""
    global _STATE  # noqa: PLW0603 - one engine per worker process, built once by the pool's initializer
    import signal

    from matcher import api
    if multiprocessing.parent_process() is not None:  # a worker: Ctrl-C is the main process's to handle
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        from matcher.screening.lifeline import die_with_parent

        die_with_parent()  # and it dies with the forkserver, which dies with the main process

    trials = api.load_trials(rules_dir, trial_ids)
    _STATE = _WorkerState(api.Matcher(trials, cache=cache), as_of, render_json, collect_next)


def screen_batch(records: Sequence[object], state: _WorkerState | None = None) -> list[ScreenedRecord]:
    """Read and evaluate each record (explained only with ``render_json``); a record's problem is captured, not
    raised. ``state`` holds the engine to use (default: the one :func:`init_worker` built for this worker
    process)."""
    from matcher.api import resolve_as_of
    from matcher.intake.sources import RawRecord, read_record

    state = state or _STATE
    if state is None:
        raise RuntimeError("init_worker was not called in this process")
    matcher = state.matcher
    screened = []
    for record in records:
        assert isinstance(record, RawRecord)
        location = record.location
        patient_id = None
        try:
            loaded = read_record(record)
            profile = loaded.profile
            patient_id = profile.id
            as_of, source = resolve_as_of(profile, state.as_of)
            # the explanation lines are built only where an output reads them (the JSON)
            results: Sequence[TrialOutcome] = (matcher.evaluate(profile, as_of, source) if state.render_json
                                            else matcher.outcomes(profile, as_of, source))
        except EvaluationError as exc:
            screened.append(ScreenedRecord(location, patient_id, None, None, (),
                                           problem=one_line(str(exc), MAX_PROBLEM_CHARACTERS), problem_kind="engine"))
            continue
        except MatcherError as exc:
            for problem in (exc, *exc.also):
                if problem.file is None:
                    problem.file = record.file
                    problem.line = problem.line or (record.line or None)
            screened.append(ScreenedRecord(location, patient_id, None, None, (),
                                           problem=one_line("; ".join(exc.problems()), MAX_PROBLEM_CHARACTERS),
                                           problem_kind="input"))
            continue
        report = loaded.fhir.report() if loaded.fhir is not None else None
        misses = matcher.near_misses(profile, results, when=False)  # the day it passes: matcher check
        rows = tuple(trial_row(result, location, state.render_json, report, misses.get(result.trial),
                               matcher.deciding_items(profile, result) if state.collect_next else None)
                     for result in results)
        screened.append(ScreenedRecord(location, profile.id, as_of.isoformat(), source, rows,
                                       len(loaded.fhir.unused) if loaded.fhir else 0,
                                       len(loaded.fhir.unknown) if loaded.fhir else 0))
    return screened


# ------------------------------------------------------------------ ordering and parallelism
def _batches(records: Iterable[object], size: int) -> Iterator[list[object]]:
    batch: list[object] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def screen_records(records: Iterable[object], *, rules_dir: str | Path | None = None,
                   trial_ids: Sequence[str] | None = None, as_of: dt.date | None = None, workers: int = 1,
                   render_json: bool = True, batch_size: int = BATCH_SIZE,
                   cache: bool = True, collect_next: bool = False) -> Iterator[ScreenedRecord]:
    """Screen ``records`` (from :func:`matcher.intake.sources.iter_records`) in input order, with ``workers``
    processes; ``render_json`` fills :attr:`TrialRow.json`; ``cache=False`` turns each worker's decision cache
    off (docs/engine.md: the results are the same, durable-rules is asked about every fact); ``collect_next``
    fills :attr:`TrialRow.collect_next` (more engine evaluations per undetermined pair). The trials are
    loaded (and a bad rule file reported) before the first record is read."""
    from matcher import api
    rules = str(rules_dir) if rules_dir is not None else None
    trials = list(trial_ids) if trial_ids else None
    loaded = api.load_trials(rules, trials)  # fail early, in this process, on a bad rules directory or trial id
    if workers <= 1:  # an engine of this run's own, closed at its end: no state shared with another run
        state = _WorkerState(api.Matcher(loaded, cache=cache), as_of, render_json, collect_next)
        try:
            for batch in _batches(records, batch_size):
                yield from screen_batch(batch, state)
        finally:
            state.matcher.close()
        return
    # forkserver: workers start from a clean interpreter, not a copy of this one (threads, open files)
    context = multiprocessing.get_context("forkserver")
    from matcher.screening.lifeline import start_helpers

    start_helpers(context)
    with ProcessPoolExecutor(workers, mp_context=context, initializer=init_worker,
                             initargs=(rules, trials, as_of, render_json, cache, collect_next)) as pool:
        pending: deque[Future[list[ScreenedRecord]]] = deque()
        try:
            for batch in _batches(records, batch_size):
                pending.append(pool.submit(screen_batch, batch))
                if len(pending) >= workers * WINDOW_PER_WORKER:
                    yield from pending.popleft().result()
            while pending:
                yield from pending.popleft().result()
        except BaseException:
            for future in pending:
                future.cancel()
            raise

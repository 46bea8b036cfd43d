"""The screening log: an SQLite audit trail of every evaluation, and its CONSORT-style summary.

One row per patient-trial evaluation, with the verdict, the criteria not met
and unknown, the data to collect, the as-of date, the matcher and engine
versions and the SHA-256 of the trial's rule file. The rule file's text is
stored once per hash, so months later one can see exactly which version of
the rules decided, and re-run it. Rows are only ever appended: re-screening a
patient adds rows, and the summary counts each patient's latest evaluation.

Each run has a row in ``runs`` with its status: ``running`` until it ends,
then ``complete`` or ``interrupted`` (a run whose process was killed stays
``running``). Evaluations are committed batch by batch, so what is in the log
was really evaluated, even when the run did not finish; a record's rows are
committed together. ``matcher screen --resume`` continues the latest
unfinished run of a source under the same run id, skipping the records it
already logged, so a run never holds two rows for one patient-trial pair. The
summary counts only runs that completed and lists the unfinished ones.

Several processes may share a log: a writer waits up to
:data:`BUSY_TIMEOUT_SECONDS` for another's lock, and past it the run goes on
(its outputs are written) while the log keeps its rows in memory and retries;
if the log is still locked at the end, one line says what was not logged.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matcher.errors import MatcherError
from matcher.screening.collect_items import GROUPS, CollectNext, PlainItem, plain_item
from matcher.screening.screen import ScreenedRecord

SCHEMA_VERSION = 3
#: what each older schema version lacks, added in place when a run opens such a log (never dropped or rewritten)
_MIGRATIONS = {
    1: ("ALTER TABLE evaluations ADD COLUMN clinician_to_decide TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE evaluations ADD COLUMN clinician_decided TEXT NOT NULL DEFAULT '[]'"),
    2: ("ALTER TABLE evaluations ADD COLUMN collect_next TEXT",),
}
#: how long a writer waits for another process's lock on the log before giving up
BUSY_TIMEOUT_SECONDS = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    source TEXT NOT NULL,
    as_of_given TEXT,
    trials TEXT NOT NULL,
    matcher_version TEXT NOT NULL,
    engine TEXT NOT NULL,
    command TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rule_files (
    sha256 TEXT PRIMARY KEY,
    trial_id TEXT NOT NULL,
    path TEXT NOT NULL,
    content TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS evaluations (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(run_id),
    patient_id TEXT NOT NULL,
    trial_id TEXT NOT NULL,
    verdict TEXT NOT NULL,
    criteria_not_met TEXT NOT NULL,
    criteria_unknown TEXT NOT NULL,
    data_to_collect TEXT NOT NULL,
    clinician_to_confirm TEXT NOT NULL,
    clinician_to_decide TEXT NOT NULL DEFAULT '[]',
    clinician_decided TEXT NOT NULL DEFAULT '[]',
    -- with --collect-next: [{"item", "could_make_eligible"}] deciding an undetermined pair; NULL: not computed
    collect_next TEXT,
    as_of TEXT NOT NULL,
    matcher_version TEXT NOT NULL,
    engine TEXT NOT NULL,
    rules_sha256 TEXT NOT NULL REFERENCES rule_files(sha256),
    location TEXT NOT NULL,
    evaluated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS evaluations_by_trial ON evaluations (trial_id, patient_id, id);
CREATE TABLE IF NOT EXISTS not_screened (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(run_id),
    location TEXT NOT NULL,
    patient_id TEXT,
    problem_kind TEXT NOT NULL,
    problem TEXT NOT NULL
);
"""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _connect(path: str | Path, create: bool) -> sqlite3.Connection:
    target = Path(path)
    if not create and not target.is_file():
        raise MatcherError("no such screening log", file=str(path))
    try:
        connection = sqlite3.connect(target, timeout=BUSY_TIMEOUT_SECONDS)
        connection.execute("PRAGMA foreign_keys = ON")
        if create:
            found = _migrate(connection)
            connection.executescript(_SCHEMA)
            if found is None:
                connection.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                connection.commit()
            elif found[0] != str(SCHEMA_VERSION):
                raise MatcherError(f"screening log schema version {found[0]}, this matcher writes "
                                   f"{SCHEMA_VERSION}", file=str(path))
        else:
            connection.execute("SELECT 1 FROM evaluations LIMIT 1")
    except sqlite3.OperationalError as exc:
        if _locked(exc):
            raise _locked_error(path) from None
        raise MatcherError(f"not a screening log ({exc})", file=str(path)) from None
    except sqlite3.DatabaseError as exc:
        raise MatcherError(f"not a screening log ({exc})", file=str(path)) from None
    return connection


def _migrate(connection: sqlite3.Connection) -> tuple[str] | None:
    """Bring a log written by an older matcher up to :data:`SCHEMA_VERSION` (its rows kept as they are); the
    version found, or None for a new log."""
    has_meta = connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
    found: tuple[str] | None = (connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                                if has_meta else None)
    if found is None or not found[0].isdigit():
        return found
    version = int(found[0])
    if version not in _MIGRATIONS:
        return found
    with connection:
        while version in _MIGRATIONS:
            for statement in _MIGRATIONS[version]:
                connection.execute(statement)
            version += 1
        connection.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version),))
    return (str(version),)


def _locked(exc: sqlite3.Error) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def _locked_error(path: str | Path, what: str = "nothing was screened") -> MatcherError:
    return MatcherError(f"the screening log is locked by another process (waited {BUSY_TIMEOUT_SECONDS:g} s); "
                        f"{what}", file=str(path))


class FinishedRunError(MatcherError):
    """``--resume`` of a source whose latest run completed: there is nothing to continue."""


@dataclass(frozen=True)
class Resumable:
    """An unfinished run to continue: its id and the locations it already logged."""

    run_id: int
    done: frozenset[str]
    #: the --as-of the run was given (None: each patient's screening date)
    as_of: dt.date | None = None


def find_resumable(path: str | Path, source: str, trial_ids: list[str]) -> Resumable:
    """The latest run of ``source`` in the log, if it did not complete (a FinishedRunError if it did; a
    MatcherError if there is none, or it screened other trials)."""
    if not Path(path).is_file():
        raise MatcherError("no screening log to resume from", file=str(path), field="--resume")
    connection = _connect(path, create=False)
    try:
        found = connection.execute("SELECT run_id, status, trials, finished_at, as_of_given FROM runs WHERE "
                                   "source = ? ORDER BY run_id DESC LIMIT 1", (source,)).fetchone()
        if found is None:
            raise MatcherError(f"no run of {source} in this log to resume", file=str(path), field="--resume")
        run_id, status, trials, finished_at, as_of_given = found
        if status == "complete":
            raise FinishedRunError(f"run {run_id} of {source} already finished (complete at {finished_at}); "
                                   "nothing to resume", file=str(path), field="--resume")
        if json.loads(trials) != trial_ids:
            raise MatcherError(f"run {run_id} screened the trials {', '.join(json.loads(trials))}: resume it with "
                               "the same --trials", file=str(path), field="--resume")
        done = {row[0] for row in connection.execute(
            "SELECT location FROM evaluations WHERE run_id = ? UNION SELECT location FROM not_screened "
            "WHERE run_id = ?", (run_id, run_id))}
    except sqlite3.OperationalError as exc:
        if _locked(exc):
            raise _locked_error(path) from None
        raise MatcherError(f"cannot read the screening log ({exc})", file=str(path)) from None
    finally:
        connection.close()
    return Resumable(run_id, frozenset(done), dt.date.fromisoformat(as_of_given) if as_of_given else None)


class ScreeningLog:
    """Appends one run's evaluations to the log at ``path`` (created if missing)."""

    def __init__(self, path: str | Path, *, source: str, as_of: dt.date | None, trials: list[Any],
                 matcher_version: str, engine: str, command: str, resume: Resumable | None = None) -> None:
        self.path = Path(path)
        self.connection = _connect(self.path, create=True)
        self.matcher_version = matcher_version
        self.engine = engine
        #: locations this run had already logged before it was resumed (they are not logged again)
        self.done: frozenset[str] = resume.done if resume else frozenset()
        #: evaluations not written because the log stayed locked
        self.unwritten = 0
        try:
            with self.connection:
                for trial in trials:
                    content = Path(trial.path).read_text(encoding="utf-8") if Path(trial.path).is_file() else ""
                    self.connection.execute("INSERT OR IGNORE INTO rule_files VALUES (?, ?, ?, ?)",
                                            (trial.content_hash, trial.id, trial.path, content))
                if resume is not None:
                    self.connection.execute("UPDATE runs SET status = 'running', finished_at = NULL "
                                            "WHERE run_id = ?", (resume.run_id,))
                    self.run_id: int | None = resume.run_id
                else:
                    cursor = self.connection.execute(
                        "INSERT INTO runs (started_at, status, source, as_of_given, trials, matcher_version, engine,"
                        " command) VALUES (?, 'running', ?, ?, ?, ?, ?, ?)",
                        (_now(), source, as_of.isoformat() if as_of else None, json.dumps([t.id for t in trials]),
                         matcher_version, engine, command))
                    self.run_id = cursor.lastrowid
        except sqlite3.OperationalError as exc:
            self.connection.close()
            if _locked(exc):
                raise _locked_error(path) from None
            raise MatcherError(f"cannot write the screening log ({exc})", file=str(path)) from None
        self._pending: list[ScreenedRecord] = []

    def add(self, record: ScreenedRecord) -> None:
        if record.location in self.done:
            return  # logged by this run before it was interrupted
        self._pending.append(record)
        if len(self._pending) >= 500 and len(self._pending) % 500 == 0:
            try:
                self.flush()
            except sqlite3.OperationalError as exc:
                if not _locked(exc):
                    raise
                # locked past the busy timeout: keep the rows and retry at the next batch or the end

    def flush(self) -> None:
        now = _now()
        evaluations = []
        problems = []
        for record in self._pending:
            if record.problem is not None:
                problems.append((self.run_id, record.location, record.patient, record.problem_kind, record.problem))
                continue
            for row in record.rows:
                evaluations.append((self.run_id, record.patient, row.trial, row.verdict, json.dumps(row.not_met),
                                    json.dumps(row.unknown), json.dumps(row.to_collect, ensure_ascii=False),
                                    json.dumps(row.manual), json.dumps(row.to_decide, ensure_ascii=False),
                                    json.dumps(row.decided, ensure_ascii=False),
                                    None if row.collect_next is None else json.dumps(
                                        [entry.to_json() for entry in row.collect_next], ensure_ascii=False),
                                    record.as_of,
                                    self.matcher_version, self.engine, row.rules_sha256, record.location, now))
        with self.connection:
            self.connection.executemany(
                "INSERT INTO evaluations (run_id, patient_id, trial_id, verdict, criteria_not_met, criteria_unknown,"
                " data_to_collect, clinician_to_confirm, clinician_to_decide, clinician_decided, collect_next,"
                " as_of, matcher_version, engine, rules_sha256, location, evaluated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", evaluations)
            self.connection.executemany(
                "INSERT INTO not_screened (run_id, location, patient_id, problem_kind, problem)"
                " VALUES (?, ?, ?, ?, ?)", problems)
        self._pending.clear()

    def finish(self, status: str) -> None:
        """Write what is pending and mark the run ``complete`` or ``interrupted``; a MatcherError of one line
        when the log stayed locked (the run's outputs are not affected)."""
        try:
            self.flush()
            with self.connection:
                self.connection.execute("UPDATE runs SET status = ?, finished_at = ? WHERE run_id = ?",
                                        (status, _now(), self.run_id))
        except sqlite3.OperationalError as exc:
            if not _locked(exc):
                raise MatcherError(f"cannot write the screening log ({exc})", file=str(self.path)) from None
            records = len(self._pending)
            raise _locked_error(self.path, f"the results of the last {records} record{'s' if records != 1 else ''} "
                                           f"are in the output files but not in the log, and run {self.run_id} "
                                           f"stays unfinished (continue it with --resume)") from None
        finally:
            self.connection.close()


# ------------------------------------------------------------------ summary
@dataclass
class TrialFlow:
    """CONSORT-style counts for one trial, from each patient's latest evaluation."""

    trial: str
    screened: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    #: criterion id -> ineligible patients it excludes (a patient may fail several)
    not_met: Counter[str] = field(default_factory=Counter)
    #: data item, named plainly (collect_items.plain_item) -> undetermined patients it is missing for
    to_collect: Counter[PlainItem] = field(default_factory=Counter)
    #: data item -> undetermined patients for whom it is the only item missing (collecting it settles them)
    only_missing: Counter[PlainItem] = field(default_factory=Counter)
    rule_versions: Counter[str] = field(default_factory=Counter)
    #: criterion id -> its label, from the rule file versions that decided (the newest where they differ)
    labels: dict[str, str] = field(default_factory=dict)

    def count_undetermined(self, to_collect: Iterable[str], patients: int = 1) -> None:
        """Count ``patients`` undetermined patients whose data to collect is ``to_collect`` (as logged)."""
        items = {plain_item(item) for item in to_collect}
        for item in items:
            self.to_collect[item] += patients
        if len(items) == 1:
            self.only_missing[next(iter(items))] += patients

    def ranked_items(self) -> list[PlainItem]:
        """The data items by how many patients each alone would settle, then by how many lack it."""
        return sorted(self.to_collect, key=lambda item: (-self.only_missing[item], -self.to_collect[item],
                                                         GROUPS.index(item.group), item.name))


@dataclass(frozen=True)
class UnfinishedRun:
    """A run that did not complete (interrupted, killed, or still running): its rows are not counted."""

    run_id: int
    status: str
    source: str
    started_at: str
    evaluations: int


@dataclass
class LogSummary:
    runs: int
    evaluations: int
    not_screened: int
    flows: list[TrialFlow]
    unfinished: list[UnfinishedRun] = field(default_factory=list)
    #: the cohort's "collect next" ranking (screenings with --collect-next)
    collect_next: CollectNext = field(default_factory=CollectNext)


def labels_of_rule_file(content: str) -> dict[str, str]:
    """Criterion id -> label of a rule file's text, as stored in the log (the file was checked when the run read
    it; an unreadable text gives no labels, never an error: the summary then shows bare ids)."""
    import yaml

    try:
        document = yaml.load(content, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        criteria = document.get("criteria") if isinstance(document, dict) else None
    except yaml.YAMLError:
        return {}
    return {str(c["id"]): str(c["label"]) for c in criteria or () if isinstance(c, dict) and c.get("id")
            and isinstance(c.get("label"), str)}


def _add_labels(connection: sqlite3.Connection, flows: dict[str, TrialFlow]) -> None:
    """Each trial's criterion labels from the stored rule files that decided its evaluations (oldest first, so
    the newest version's label wins)."""
    shas = {sha for flow in flows.values() for sha in flow.rule_versions}
    if not shas:
        return
    marks = ", ".join("?" * len(shas))
    for trial_id, content in connection.execute(
            f"SELECT trial_id, content FROM rule_files WHERE sha256 IN ({marks}) ORDER BY rowid", sorted(shas)):
        if trial_id in flows:
            flows[trial_id].labels.update(labels_of_rule_file(content))


def summarise(path: str | Path) -> LogSummary:
    connection = _connect(path, create=False)
    try:
        runs = connection.execute("SELECT count(*) FROM runs").fetchone()[0]
        finished = "run_id IN (SELECT run_id FROM runs WHERE status = 'complete')"
        evaluations = connection.execute(f"SELECT count(*) FROM evaluations WHERE {finished}").fetchone()[0]
        not_screened = connection.execute(f"SELECT count(*) FROM not_screened WHERE {finished}").fetchone()[0]
        unfinished = [UnfinishedRun(*row) for row in connection.execute(
            "SELECT run_id, status, source, started_at, (SELECT count(*) FROM evaluations e WHERE e.run_id = r.run_id)"
            " FROM runs r WHERE status != 'complete' ORDER BY run_id")]
        flows: dict[str, TrialFlow] = {}
        collect = CollectNext()
        columns = {row[1] for row in connection.execute("PRAGMA table_info(evaluations)")}
        logged_next = "collect_next" if "collect_next" in columns else "NULL"  # a log older than schema 3
        latest = connection.execute(
            f"SELECT trial_id, verdict, criteria_not_met, data_to_collect, rules_sha256, {logged_next}"
            " FROM evaluations"
            f" WHERE id IN (SELECT max(id) FROM evaluations WHERE {finished} GROUP BY trial_id, patient_id)"
            " ORDER BY trial_id")
        for trial_id, verdict, not_met, to_collect, sha, deciding in latest:
            flow = flows.setdefault(trial_id, TrialFlow(trial_id))
            flow.screened += 1
            flow.verdicts[verdict] += 1
            flow.rule_versions[sha] += 1
            if verdict == "ineligible":
                flow.not_met.update(json.loads(not_met))
            elif verdict == "undetermined":
                flow.count_undetermined(json.loads(to_collect))
                collect.count(None if deciding is None else json.loads(deciding))
        _add_labels(connection, flows)
    except sqlite3.OperationalError as exc:
        if _locked(exc):
            raise _locked_error(path, "try again when the screening writing it has committed") from None
        raise MatcherError(f"cannot read the screening log ({exc})", file=str(path)) from None
    except sqlite3.DatabaseError as exc:
        raise MatcherError(f"cannot read the screening log ({exc})", file=str(path)) from None
    finally:
        connection.close()
    return LogSummary(runs, evaluations, not_screened, list(flows.values()), unfinished, collect)

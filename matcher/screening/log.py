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
was really evaluated, even when the run did not finish.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matcher.errors import MatcherError
from matcher.screening.screen import ScreenedRecord

SCHEMA_VERSION = 1

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
        connection = sqlite3.connect(target)
        connection.execute("PRAGMA foreign_keys = ON")
        if create:
            connection.executescript(_SCHEMA)
            found = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if found is None:
                connection.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                connection.commit()
            elif found[0] != str(SCHEMA_VERSION):
                raise MatcherError(f"screening log schema version {found[0]}, this matcher writes "
                                   f"{SCHEMA_VERSION}", file=str(path))
        else:
            connection.execute("SELECT 1 FROM evaluations LIMIT 1")
    except sqlite3.DatabaseError as exc:
        raise MatcherError(f"not a screening log ({exc})", file=str(path)) from None
    return connection


class ScreeningLog:
    """Appends one run's evaluations to the log at ``path`` (created if missing)."""

    def __init__(self, path: str | Path, *, source: str, as_of: dt.date | None, trials: list[Any],
                 matcher_version: str, engine: str, command: str) -> None:
        self.path = Path(path)
        self.connection = _connect(self.path, create=True)
        self.matcher_version = matcher_version
        self.engine = engine
        with self.connection:
            for trial in trials:
                content = Path(trial.path).read_text(encoding="utf-8") if Path(trial.path).is_file() else ""
                self.connection.execute("INSERT OR IGNORE INTO rule_files VALUES (?, ?, ?, ?)",
                                        (trial.content_hash, trial.id, trial.path, content))
            cursor = self.connection.execute(
                "INSERT INTO runs (started_at, status, source, as_of_given, trials, matcher_version, engine, command)"
                " VALUES (?, 'running', ?, ?, ?, ?, ?, ?)",
                (_now(), source, as_of.isoformat() if as_of else None, json.dumps([t.id for t in trials]),
                 matcher_version, engine, command))
        self.run_id = cursor.lastrowid
        self._pending: list[ScreenedRecord] = []

    def add(self, record: ScreenedRecord) -> None:
        self._pending.append(record)
        if len(self._pending) >= 500:
            self.flush()

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
                                    json.dumps(row.manual), record.as_of, self.matcher_version, self.engine,
                                    row.rules_sha256, record.location, now))
        with self.connection:
            self.connection.executemany(
                "INSERT INTO evaluations (run_id, patient_id, trial_id, verdict, criteria_not_met, criteria_unknown,"
                " data_to_collect, clinician_to_confirm, as_of, matcher_version, engine, rules_sha256, location,"
                " evaluated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", evaluations)
            self.connection.executemany(
                "INSERT INTO not_screened (run_id, location, patient_id, problem_kind, problem)"
                " VALUES (?, ?, ?, ?, ?)", problems)
        self._pending.clear()

    def finish(self, status: str) -> None:
        """Write what is pending and mark the run ``complete`` or ``interrupted``."""
        self.flush()
        with self.connection:
            self.connection.execute("UPDATE runs SET status = ?, finished_at = ? WHERE run_id = ?",
                                    (status, _now(), self.run_id))
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
    #: data item -> undetermined patients it is missing for
    to_collect: Counter[str] = field(default_factory=Counter)
    rule_versions: Counter[str] = field(default_factory=Counter)


@dataclass
class LogSummary:
    runs: int
    evaluations: int
    not_screened: int
    flows: list[TrialFlow]


def summarise(path: str | Path) -> LogSummary:
    connection = _connect(path, create=False)
    try:
        runs = connection.execute("SELECT count(*) FROM runs").fetchone()[0]
        evaluations = connection.execute("SELECT count(*) FROM evaluations").fetchone()[0]
        not_screened = connection.execute("SELECT count(*) FROM not_screened").fetchone()[0]
        flows: dict[str, TrialFlow] = {}
        latest = connection.execute(
            "SELECT trial_id, verdict, criteria_not_met, data_to_collect, rules_sha256 FROM evaluations"
            " WHERE id IN (SELECT max(id) FROM evaluations GROUP BY trial_id, patient_id) ORDER BY trial_id")
        for trial_id, verdict, not_met, to_collect, sha in latest:
            flow = flows.setdefault(trial_id, TrialFlow(trial_id))
            flow.screened += 1
            flow.verdicts[verdict] += 1
            flow.rule_versions[sha] += 1
            if verdict == "ineligible":
                flow.not_met.update(json.loads(not_met))
            elif verdict == "undetermined":
                flow.to_collect.update(json.loads(to_collect))
    except sqlite3.DatabaseError as exc:
        raise MatcherError(f"cannot read the screening log ({exc})", file=str(path)) from None
    finally:
        connection.close()
    return LogSummary(runs, evaluations, not_screened, list(flows.values()))


def render_summary(summary: LogSummary) -> str:
    lines = [f"{summary.runs} run{'s' if summary.runs != 1 else ''}, {summary.evaluations} evaluations, "
             f"{summary.not_screened} records not screened. Counts use each patient's latest evaluation per trial."]
    for flow in summary.flows:
        versions = ", ".join(f"{sha[:12]} ({n})" for sha, n in flow.rule_versions.most_common())
        lines += ["", f"{flow.trial}  (rule file sha256: {versions})",
                  f"  screened      {flow.screened:>7}",
                  f"  eligible      {flow.verdicts['eligible']:>7}",
                  f"  review        {flow.verdicts['review']:>7}   clinician to decide (the record points against)",
                  f"  ineligible    {flow.verdicts['ineligible']:>7}   by criterion not met "
                  "(a patient may fail several):"]
        lines += [f"      {criterion:<12}{count:>7}" for criterion, count in flow.not_met.most_common()]
        lines.append(f"  undetermined  {flow.verdicts['undetermined']:>7}   by data item to collect:")
        lines += [f"      {count:>7}  {item}" for item, count in flow.to_collect.most_common()]
    return "\n".join(lines)

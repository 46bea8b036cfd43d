"""Screening on a data platform (Spark, Dask, Ray): Arrow record batches of patients in, result batches out.

:func:`screen_arrow` is a pure function of its arguments: it builds one engine
for the call from rule-file texts passed in as data (:class:`RulesData`, built
once on the driver with :func:`load_rules_data`), screens every record exactly
as ``matcher screen --workers 1`` does (:func:`matcher.screening.screen.screen_batch`),
closes the engine at the end, and never raises for a bad record: it becomes a
problem row. It plugs into Spark's ``DataFrame.mapInArrow`` (``docs/spark.md``)
and maps over partitions in Dask or Ray the same way.

Input batches (:data:`INPUT_COLUMNS`): ``profile`` (the JSON of a patient
profile, or of a FHIR R4 Bundle, as one line of a ``.jsonl`` cohort),
optionally ``patient_id`` (checked against the profile's id: a mismatch is a
problem, never a guess) and ``source_file`` / ``source_line``, where the
record came from (the location in results, ``file:line`` as ``matcher screen``
writes it). A FHIR bulk export, grouped by patient
(:mod:`matcher.intake.fhir.bulk`), gives records with ``source_kind`` ``bulk``:
a patient's bundle in ``profile``, or the ``problem`` of lines that belong to
no patient.

Output batches follow the versioned result schema :data:`RESULT_COLUMNS`
(:func:`result_schema` in pyarrow, :data:`RESULT_DDL` for Spark): one row per
patient and trial, and one row per record that could not be screened (its
``problem``, no trial). A row carries everything ``matcher log summary``
counts. The explanation JSON (``matcher check --format json`` for the trial,
~1.5 KB a row in Parquet) is only filled with ``explanations=True``.

pyarrow is an optional dependency (``pip install 'trial-matcher[spark]'``),
imported only when batches are built.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matcher.errors import MatcherError, RuleFileError

if TYPE_CHECKING:
    import pyarrow as pa

    from matcher.rules.language import Trial
    from matcher.screening.screen import ScreenedRecord

#: bumped whenever a column is added, removed, renamed or changes meaning (2: ``criteria`` carries each
#: criterion's ``label``)
SCHEMA_VERSION = 2

#: a column type: "string", "int", "date", ("array", element) or ("struct", ((name, type), ...))
ColumnType = Any

_CRITERION_OUTCOME: ColumnType = ("struct", (("id", "string"), ("kind", "string"), ("outcome", "string"),
                                             ("label", "string")))

#: the result schema, version :data:`SCHEMA_VERSION`: (name, type, meaning)
RESULT_COLUMNS: tuple[tuple[str, ColumnType, str], ...] = (
    ("schema_version", "int", "version of this schema"),
    ("run_id", "string", "the run that wrote the row (one id for every partition of a run)"),
    ("patient_id", "string", "the profile's id (null when the record could not be read)"),
    ("location", "string", "where the record came from: file:line"),
    ("trial", "string", "trial id (null on a problem row)"),
    ("verdict", "string", "eligible, ineligible, undetermined... (null on a problem row)"),
    ("as_of", "date", "the screening date used"),
    ("as_of_source", "string", "where the as-of date came from (given, the patient's screening_date, today)"),
    ("rules_file", "string", "the trial's rule file, as the driver named it"),
    ("rules_sha256", "string", "SHA-256 of the rule file's bytes: which version of the rules decided"),
    ("matcher_version", "string", "trial-matcher version on the executor"),
    ("engine", "string", "durable-rules version on the executor"),
    ("criteria", ("array", _CRITERION_OUTCOME), "every criterion's id, kind, outcome and short label (from the "
     "rule file; null if it has none), in rule-file order"),
    ("criteria_not_met", ("array", "string"), "criteria that exclude the patient"),
    ("criteria_unknown", ("array", "string"), "criteria whose data is missing"),
    ("data_to_collect", ("array", "string"), "data items to collect to settle the unknown criteria"),
    ("clinician_to_confirm", ("array", "string"), "criteria left to the clinician"),
    ("fhir_unused", "int", "FHIR resources or codes the import did not use (0 for a profile)"),
    ("fhir_unknown", "int", "fields a FHIR bundle left unknown (0 for a profile)"),
    ("problem_kind", "string", "input (the record could not be read) or engine; null when screened"),
    ("problem", "string", "why the record was not screened (one line); null when screened"),
    ("explanation", "string", "the trial's matcher check --format json object (only with explanations)"),
)

#: the input columns :func:`screen_arrow` reads (only ``profile`` is required)
INPUT_COLUMNS: tuple[tuple[str, ColumnType, str], ...] = (
    ("profile", "string", "JSON of a patient profile or of a FHIR R4 Bundle"),
    ("patient_id", "string", "optional: must equal the profile's id"),
    ("source_file", "string", "optional: the file the record came from"),
    ("source_line", "long", "optional: its line (or row) number in that file, from 1"),
    ("source_kind", "string", "optional: 'bulk' for a record of a FHIR bulk export (matcher.intake.fhir.bulk)"),
    ("problem", "string", "optional: why the record could not be assembled (it becomes a problem row)"),
)

_DDL_NAMES = {"string": "STRING", "int": "INT", "long": "BIGINT", "date": "DATE"}


def ddl_type(column_type: ColumnType) -> str:
    """A column type in Spark's DDL."""
    if isinstance(column_type, str):
        return _DDL_NAMES[column_type]
    if column_type[0] == "array":
        return f"ARRAY<{ddl_type(column_type[1])}>"
    return "STRUCT<" + ", ".join(f"{name}: {ddl_type(inner)}" for name, inner in column_type[1]) + ">"


def ddl(columns: Sequence[tuple[str, ColumnType, str]]) -> str:
    return ", ".join(f"{name} {ddl_type(column_type)}" for name, column_type, _ in columns)


#: the result schema in Spark's DDL (for ``mapInArrow``, ``spark.read.schema``, ``CREATE TABLE``)
RESULT_DDL = ddl(RESULT_COLUMNS)
#: the input schema in Spark's DDL
INPUT_DDL = ddl(INPUT_COLUMNS)


def _arrow_type(column_type: ColumnType) -> pa.DataType:
    import pyarrow as pa

    if isinstance(column_type, str):
        return {"string": pa.string(), "int": pa.int32(), "long": pa.int64(), "date": pa.date32()}[column_type]
    if column_type[0] == "array":
        return pa.list_(_arrow_type(column_type[1]))
    return pa.struct([pa.field(name, _arrow_type(inner)) for name, inner in column_type[1]])


def result_schema() -> pa.Schema:
    """The result schema in pyarrow, with its version in the schema metadata."""
    import pyarrow as pa

    return pa.schema([pa.field(name, _arrow_type(column_type)) for name, column_type, _ in RESULT_COLUMNS],
                     metadata={"matcher.result_schema_version": str(SCHEMA_VERSION)})


# ------------------------------------------------------------------ rules as data
@dataclass(frozen=True)
class RuleFileText:
    """One rule file as data: the name results give it, its text and the SHA-256 of its bytes."""

    path: str
    text: str
    sha256: str


@dataclass(frozen=True)
class RulesData:
    """The rule files a run uses, in evaluation order: small, picklable, shipped to every partition."""

    files: tuple[RuleFileText, ...]

    def trials(self) -> list[Trial]:
        """Parse and check every file (a RuleFileError names the bad one)."""
        from matcher.intake.load import parse_yaml
        from matcher.rules.language import parse_trial

        trials = []
        for file in self.files:
            if hashlib.sha256(file.text.encode("utf-8")).hexdigest() != file.sha256:
                raise RuleFileError("the rule file's text does not match its SHA-256", file=file.path)
            trials.append(parse_trial(parse_yaml(file.text, file.path, RuleFileError), file.sha256))
        return trials


def rules_data_from_texts(texts: Iterable[tuple[str, str]]) -> RulesData:
    """Rules from (name, text) pairs, e.g. files read from object storage (name ``NCT…yaml``)."""
    return RulesData(tuple(RuleFileText(name, text, hashlib.sha256(text.encode("utf-8")).hexdigest())
                           for name, text in texts))


def load_rules_data(directory: str | Path | None = None, trial_ids: Sequence[str] | None = None) -> RulesData:
    """The rule files of ``directory`` (default ``$MATCHER_RULES`` or this checkout's ``rules/``) as data, read
    and checked once, on the driver, as ``matcher screen`` loads them."""
    from matcher import api

    files = []
    for trial in api.load_trials(directory, trial_ids):
        content = Path(trial.path).read_bytes()
        if hashlib.sha256(content).hexdigest() != trial.content_hash:
            raise RuleFileError("the rule file changed while it was being read", file=trial.path)
        files.append(RuleFileText(trial.path, content.decode("utf-8"), trial.content_hash))
    return RulesData(tuple(files))


# ------------------------------------------------------------------ the function
def screen_arrow(batches: Iterable[pa.RecordBatch], *, rules: RulesData, run_id: str,
                 as_of: dt.date | None = None, explanations: bool = False) -> Iterator[pa.RecordBatch]:
    """Screen every record of ``batches`` against ``rules``: one result batch (:func:`result_schema`) per
    input batch, in input order. One engine is built for the call and closed when the batches are exhausted
    (or the consumer stops). Bad records become problem rows; only bad arguments (a bad rule file, a batch
    without a ``profile`` column) raise."""
    from matcher import api
    from matcher.engine.adapter import engine_version
    from matcher.results.render import matcher_version
    from matcher.screening.screen import _WorkerState, screen_batch

    schema = result_schema()
    trials = rules.trials()
    labels = {trial.id: {c.id: c.label for c in trial.criteria} for trial in trials}
    stamp = _RunStamp(run_id, matcher_version(), engine_version(), explanations, labels)
    state = _WorkerState(api.Matcher(trials), as_of, explanations)
    try:
        position = 0
        for batch in batches:
            records, claimed = _records(batch, position)
            position += batch.num_rows
            screened = screen_batch(records, state)
            rows = [row for record, patient_id in zip(screened, claimed, strict=True)
                    for row in _result_rows(_checked(record, patient_id), stamp)]
            yield _to_batch(rows, schema)
    finally:
        state.matcher.close()


@dataclass(frozen=True)
class _RunStamp:
    run_id: str
    matcher_version: str
    engine: str
    explanations: bool
    #: trial id -> criterion id -> label (None where the rule file gives none)
    labels: dict[str, dict[str, str | None]]


def _records(batch: pa.RecordBatch, position: int) -> tuple[list[object], list[str | None]]:
    """The batch's rows as the records ``matcher screen`` reads from a .jsonl, and the ids they claim."""
    from matcher.intake.sources import RawRecord, RecordKind

    names = set(batch.schema.names)
    if "profile" not in names:
        raise MatcherError(f"an input batch needs a 'profile' column (JSON of a profile or a FHIR Bundle); "
                           f"it has {', '.join(batch.schema.names) or 'no columns'}", field="profile")
    columns = {name: batch.column(name).to_pylist() for name in names & {c[0] for c in INPUT_COLUMNS}}
    size = batch.num_rows
    profiles = columns["profile"]
    files = columns.get("source_file", [None] * size)
    lines = columns.get("source_line", [None] * size)
    claimed = [None if value is None else str(value) for value in columns.get("patient_id", [None] * size)]
    kinds = columns.get("source_kind", [None] * size)
    problems = columns.get("problem", [None] * size)
    records: list[object] = []
    for index in range(size):
        line = lines[index] if lines[index] is not None else position + index + 1
        if problems[index] is not None:  # a record that could not be assembled (a bulk export's orphan lines)
            records.append(RawRecord("bulk", files[index] or "<input>", int(line), {"__error__": problems[index]}))
            continue
        text = profiles[index]
        payload = b"" if text is None else (text if isinstance(text, bytes) else str(text).encode("utf-8"))
        kind: RecordKind = "bulk" if kinds[index] == "bulk" else "jsonl"
        if kind == "jsonl" and not payload.endswith(b"\n"):
            payload += b"\n"  # as the line was in its file: a problem is placed where matcher screen places it
        records.append(RawRecord(kind, files[index] or "<input>", int(line), payload))
    return records, claimed


def _checked(record: ScreenedRecord, claimed: str | None) -> ScreenedRecord:
    """``record``, or a problem row when the input's patient_id contradicts the profile's id."""
    from dataclasses import replace

    if claimed is None or record.problem is not None or record.patient == claimed:
        return record
    return replace(record, rows=(), as_of=None, as_of_source=None, problem_kind="input",
                   problem=f"{record.location}: patient_id column {claimed!r} does not match the profile's id "
                           f"{record.patient!r}")


def _result_rows(record: ScreenedRecord, stamp: _RunStamp) -> list[dict[str, Any]]:
    common = {"schema_version": SCHEMA_VERSION, "run_id": stamp.run_id, "patient_id": record.patient,
              "location": record.location, "matcher_version": stamp.matcher_version, "engine": stamp.engine,
              "as_of": dt.date.fromisoformat(record.as_of) if record.as_of else None,
              "as_of_source": record.as_of_source, "fhir_unused": record.fhir_unused,
              "fhir_unknown": record.fhir_unknown}
    if record.problem is not None:
        return [{**common, "problem_kind": record.problem_kind, "problem": record.problem}]
    return [{**common, "trial": row.trial, "verdict": row.verdict, "rules_file": row.rules_file,
             "rules_sha256": row.rules_sha256,
             "criteria": [{"id": cid, "kind": kind, "outcome": outcome,
                           "label": stamp.labels.get(row.trial, {}).get(cid)} for cid, kind, outcome in row.criteria],
             "criteria_not_met": list(row.not_met), "criteria_unknown": list(row.unknown),
             "data_to_collect": list(row.to_collect), "clinician_to_confirm": list(row.manual),
             "explanation": row.json if stamp.explanations else None}
            for row in record.rows]


def _to_batch(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.RecordBatch:
    import pyarrow as pa

    return pa.RecordBatch.from_pylist(rows, schema=schema)

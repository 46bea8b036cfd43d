"""Writing a screening's results: JSON Lines, CSV or the HTML report, chosen by the file's extension.

Every output is written to a temporary file beside the target and renamed
over it only when the run has finished, so an interrupted or failed run never
leaves a truncated file that looks complete (the temporary file is removed).
A run killed outright (SIGKILL, a power cut) cannot remove its temporary file;
the file's name holds the writing process's id, and the next run writing the
same target removes those whose process is gone.
"""

from __future__ import annotations

import contextlib
import csv
import glob
import json
import os
import tempfile
from pathlib import Path
from typing import IO, Any, Protocol

from matcher.errors import MatcherError
from matcher.screening.collect_items import patient_item
from matcher.screening.screen import ScreenedRecord, TrialRow

OUTPUT_SUFFIXES = (".jsonl", ".csv", ".html")

#: the CSV output's columns (README, "matcher screen")
CSV_COLUMNS = ("patient", "trial", "verdict", "criteria_not_met", "criteria_unknown", "data_to_collect",
               "clinician_to_confirm", "as_of", "rules_sha256", "location", "problem", "fhir_import",
               "clinician_to_decide", "clinician_decided", "near_miss")


class Output(Protocol):
    path: Path
    #: whether it writes each result's JSON (TrialRow.json)
    needs_json: bool

    def add(self, record: ScreenedRecord) -> None: ...

    def commit(self) -> None: ...

    def discard(self) -> None: ...


class AtomicFile:
    """A text file written under a temporary name and renamed into place by :meth:`commit`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        directory = self.path.parent
        if not directory.is_dir():
            raise MatcherError("the directory to write into does not exist", file=str(self.path), field="--out")
        remove_stale_partials(self.path)
        try:
            descriptor, temporary = tempfile.mkstemp(prefix=f".{self.path.name}.{os.getpid()}.", suffix=".partial",
                                                     dir=directory)
        except OSError as exc:
            raise MatcherError(f"cannot write here: {exc.strerror}", file=str(self.path), field="--out") from None
        self.temporary = Path(temporary)
        self.handle: IO[str] = os.fdopen(descriptor, "w", encoding="utf-8", newline="")

    def commit(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        self.publish()

    def publish(self) -> None:
        """Rename the finished temporary file into place (for a writer that wrote and closed it itself)."""
        with contextlib.suppress(OSError):  # mkstemp makes the file private; give it the usual permissions
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self.temporary, 0o666 & ~umask)
        os.replace(self.temporary, self.path)

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.handle.close()
        with contextlib.suppress(FileNotFoundError):
            self.temporary.unlink()


def remove_stale_partials(target: Path) -> list[Path]:
    """Remove the temporary files of ``target`` left by a process that no longer runs; the removed files."""
    removed = []
    for partial in target.parent.glob(f".{glob.escape(target.name)}.*.partial"):
        pid = partial.name[len(target.name) + 2:].split(".", 1)[0]
        if not pid.isdigit() or _process_alive(int(pid)):
            continue
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
            removed.append(partial)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


#: the forms of the JSON Lines output (``matcher screen --jsonl``)
JSONL_FORMS = ("full", "compact")


class JsonlOutput:
    """One line per patient and trial, and one line per unreadable record with ``location`` and ``problem``.

    ``full`` (the default): the object of ``matcher check --format json`` for that trial, plus ``patient``,
    ``location``, ``as_of`` and ``as_of_source``. ``compact``: what decides, without the explanation's text
    (:func:`compact_line`), about a twentieth of the size."""

    def __init__(self, path: str | Path, form: str = "full") -> None:
        if form not in JSONL_FORMS:
            raise MatcherError(f"unknown JSON Lines form {form!r}: use {' or '.join(JSONL_FORMS)}", field="--jsonl")
        self.file = AtomicFile(path)
        self.path = self.file.path
        self.compact = form == "compact"
        #: the compact form is written from the rows themselves: no explanation is rendered for it
        self.needs_json = not self.compact

    def add(self, record: ScreenedRecord) -> None:
        write = self.file.handle.write
        if record.problem is not None:
            write(json.dumps({"patient": record.patient, "location": record.location, "problem": record.problem,
                              "problem_kind": record.problem_kind}, ensure_ascii=False) + "\n")
            return
        for row in record.rows:
            if self.compact:
                write(compact_line(record, row))
            elif row.json is None:
                raise ValueError("screen_records was run without render_json")
            else:
                write(row.json)
            write("\n")

    def commit(self) -> None:
        self.file.commit()

    def discard(self) -> None:
        self.file.discard()


def compact_line(record: ScreenedRecord, row: TrialRow) -> str:
    """One result of the compact JSON Lines form: the verdict, each criterion's outcome (``{"inc-1": "met"}``;
    for an exclusion, ``met`` means it applies), the deciding criteria, the data to collect, the clinician's
    part and the rule file with its SHA-256; the keys are those of the full form, which has the same values.
    A FHIR bundle that left resources unused or fields unknown adds ``fhir_import``: their counts, as in the CSV."""
    document: dict[str, Any] = {
        "patient": record.patient, "location": record.location, "as_of": record.as_of,
        "as_of_source": record.as_of_source, "trial": row.trial, "verdict": row.verdict,
        "deciding": list(row.deciding), "to_collect": list(row.to_collect),
        "pending_manual": list(row.manual), "to_decide": list(row.to_decide),
        "clinical_pending": list(row.clinical_pending), "routine_pending": list(row.routine_pending),
        "decided": list(row.decided), "decisions_not_used": list(row.decisions_not_used),
        "rules": {"file": row.rules_file, "sha256": row.rules_sha256},
        "criteria": {criterion: outcome for criterion, _, outcome in row.criteria},
        "near_miss": row.near_miss.to_json(with_text=False) if row.near_miss else None,
    }
    if record.fhir_unused or record.fhir_unknown:
        document["fhir_import"] = {"unused": record.fhir_unused, "unknown": record.fhir_unknown}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


#: trial id -> criterion id -> its label from the rule file (``meta["trials"][i]["labels"]``)
Labels = dict[str, dict[str, str]]


def trial_labels(meta: dict[str, Any]) -> Labels:
    """The criterion labels of the run's trials, from the outputs' ``meta``."""
    return {trial["id"]: dict(trial.get("labels") or {}) for trial in meta.get("trials") or ()}


def named(labels: Labels, trial: str, criterion: str) -> str:
    """``criterion`` with its label, as a person reads it: ``inc-2 (lupus nephritis, proteinuria ≥ 1 g/24h)``."""
    label = labels.get(trial, {}).get(criterion)
    return f"{criterion} ({label})" if label else criterion


def plain_collect_items(items: tuple[str, ...]) -> list[str]:
    """Data to collect in a coordinator's words (collect_items.patient_item), each once, in the given order."""
    return list(dict.fromkeys(patient_item(item) for item in items))


class CsvOutput:
    """One row per patient and trial (:data:`CSV_COLUMNS`; lists joined with ``; ``), and one row per
    unreadable record with its ``problem``. Criteria are named with their labels (``inc-2 (lupus nephritis,
    proteinuria ≥ 1 g/24h)``) and data to collect in a coordinator's words (collect_items.plain_item); the
    .jsonl output keeps the bare ids and the explanation's wording."""

    needs_json = False

    def __init__(self, path: str | Path, labels: Labels | None = None) -> None:
        self.labels = labels or {}
        self.file = AtomicFile(path)
        self.path = self.file.path
        self.writer = csv.writer(self.file.handle, lineterminator="\n")
        self.writer.writerow(CSV_COLUMNS)

    def add(self, record: ScreenedRecord) -> None:
        if record.problem is not None:
            self.writer.writerow([record.patient or "", "", "not screened", "", "", "", "", "", "",
                                  record.location, record.problem, "", "", "", ""])
            return
        fhir = ""
        if record.fhir_unused or record.fhir_unknown:
            fhir = (f"{record.fhir_unused} resources or codes not used; {record.fhir_unknown} fields left unknown "
                    "(listed in matcher check or the .jsonl output)")
        for row in record.rows:
            def names(criteria: tuple[str, ...], trial: str = row.trial) -> str:
                return "; ".join(named(self.labels, trial, criterion) for criterion in criteria)

            self.writer.writerow([record.patient, row.trial, row.verdict, names(row.not_met), names(row.unknown),
                                  "; ".join(plain_collect_items(row.to_collect)), names(row.manual),
                                  record.as_of, row.rules_sha256, record.location, "", fhir,
                                  " | ".join(row.to_decide), " | ".join(row.decided),
                                  row.near_miss.text if row.near_miss else ""])

    def commit(self) -> None:
        self.file.commit()

    def discard(self) -> None:
        self.file.discard()


class HtmlOutput:
    """The report page (matcher.screening.report): a patient x trial matrix, explanations, charts, records not read."""

    needs_json = True

    def __init__(self, path: str | Path, meta: dict[str, Any]) -> None:
        import datetime as dt

        from matcher.screening.report import HtmlReport

        self.file = AtomicFile(path)
        self.path = self.file.path
        self.file.handle.close()  # the report writes the temporary file itself
        shown = {"source": meta["source"], "as_of": meta["as_of"] or "each patient's screening date (else the day "
                 "of the run)", "matcher_version": meta["matcher_version"], "engine": meta["engine"],
                 "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        self.report = HtmlReport(self.file.temporary, meta["trials"], shown)

    def add(self, record: ScreenedRecord) -> None:
        if record.problem is not None:
            self.report.add_error(record.location, record.problem)
            return
        self.report.add(record.patient or "", [json.loads(row.json or "null") for row in record.rows])

    def commit(self) -> None:
        self.report.close()
        self.file.publish()

    def discard(self) -> None:
        self.report.abandon()
        self.file.discard()


def open_output(path: str | Path, meta: dict[str, Any], jsonl_form: str = "full") -> Output:
    """The output for ``path``'s extension (.jsonl, .csv or .html); a .jsonl in ``jsonl_form`` (JSONL_FORMS)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".jsonl":
        return JsonlOutput(path, jsonl_form)
    if suffix == ".csv":
        return CsvOutput(path, trial_labels(meta))
    if suffix == ".html":
        return HtmlOutput(path, meta)
    raise MatcherError(f"unsupported output type {suffix or '(none)'!r}: use {', '.join(OUTPUT_SUFFIXES)}",
                       file=str(path), field="--out")

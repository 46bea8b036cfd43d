"""A self-contained HTML screening report for a cohort, written while the cohort is screened.

One file, no network: inline CSS and JavaScript, the data in ``<script type="application/json">``
elements that the page's script reads after load. Written as a stream, so memory stays bounded
however many patients are screened::

    report = HtmlReport(tmp_path, trials=[{"id": "NCT00698191", "title": "..."}], meta={"as_of": "..."})
    for patient_id, results in screened:        # results: render.trial_json dicts, one per trial
        report.add(patient_id, results)
    report.add_error("cohort.jsonl:17", "birth date is after the as-of date")
    report.close()

What is kept in memory: counters for the totals and charts, each trial's constant text, and one
block of at most ``block_size`` patients (their explanations) until it is written.

Layout of the file, in order:

* the page head, the page skeleton and ``#report-meta`` (the metadata, the declared trials and the
  verdicts with their letters: the page draws its legend, columns, filters and sort order from
  this list, so a new verdict needs no change to the page's script);
* ``script.trial-definition`` once per trial, when the trial is first seen: the text that is the
  same for every patient (title, notes, rule file, and per criterion its kind, verbatim text and
  notes), so a patient's explanation refers to criteria by id instead of repeating it;
* per block of patients, ``script.patients`` (ids, one verdict letter per declared trial, and per
  patient and trial the data to collect as indexes into the block's ``items``: plain JSON, read at
  load to draw, sort, filter and export the matrix) and ``#details-N`` (the block's explanations,
  gzip-compressed and base64-encoded, inflated by the page only when a cell is opened);
* ``script.unreadable`` blocks: records that could not be read (location, message);
* at :meth:`HtmlReport.close`: ``#report-summary`` (totals and chart counts) and the page's script.

The explanations of a block are stored column-wise (per trial, per criterion, one entry per
patient) before compression: similar sentences then sit side by side, which makes deflate's
32 KiB window find them and the file several times smaller than patient-by-patient storage.
The page needs a browser with ``DecompressionStream`` (Chromium 80, Firefox 113, Safari 16.4)
to show explanations; the matrix, filters and charts work without it.

The page's style and script are the package files ``report.css`` and ``report.js`` beside this
module, read once and inlined. The script runs once the whole file is parsed (it is the last
element of the body). It puts data into the page only with ``textContent`` and DOM properties,
never as markup, so anything in a patient record is shown as text. It makes no network request;
the page's Content-Security-Policy forbids them anyway.
"""

from __future__ import annotations

import base64
import gzip
import html
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any, TextIO

from matcher.results.render import status_of
from matcher.screening.collect_items import patient_item, plain_item

#: patients per block: the explanations of one block are held in memory until it is written
BLOCK_SIZE = 128
#: unreadable records per written block
ERROR_BLOCK_SIZE = 256
#: chart rows per trial (the commonest excluding criteria, the commonest missing data items)
CHART_ROWS = 10
#: distinct missing-data items counted per trial; further ones are counted together, keeping memory bounded
MAX_MISSING_ITEMS = 1000
VERDICT_LETTERS = {"eligible": "E", "review": "R", "ineligible": "I", "undetermined": "U"}
#: the per-trial lists of the clinician's part (render.trial_json), kept as columns of each block
CLINICIAN_LISTS = ("to_decide", "clinical_pending", "routine_pending", "decided", "decisions_not_used")
#: what a verdict asks of the reader, shown beside it in the page's legend (only for verdicts in VERDICT_LETTERS)
VERDICT_HINTS = {"undetermined": "data to collect", "review": "a clinician to decide"}
#: the letter of a declared trial for which a patient has no result
NOT_SCREENED = "-"


def _page_file(name: str) -> str:
    """A file of the page (style or script) shipped as package data beside this module."""
    return files("matcher.screening").joinpath(name).read_text(encoding="utf-8")


#: the page's style and script, inlined in every report
PAGE_STYLE = _page_file("report.css")
PAGE_SCRIPT = _page_file("report.js")

#: gzip level: 6 gives nearly the size of 9 on this text at about half the time
_GZIP_LEVEL = 6

META_LABELS = {
    "as_of": "As-of date",
    "matcher_version": "Matcher version",
    "engine": "Engine",
    "source": "Source",
    "generated": "Generated",
}


def script_json(data: Any) -> str:
    """JSON that is safe inside a ``<script>`` element: no ``<``, ``>`` or ``&`` can end it or start a comment."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def trial_definition(result: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a trial result that is the same for every patient screened with the same rule file."""
    return {
        "trial": result["trial"],
        "title": result["title"],
        "notes": list(result["notes"]),
        "rules": dict(result["rules"]),
        "criteria": [{"id": c["id"], "kind": c["kind"], "text": c["text"], "notes": list(c["notes"]),
                      "routine": c["routine"], "label": c.get("label")} for c in result["criteria"]],
    }


def criterion_entry(criterion: Mapping[str, Any]) -> list[Any]:
    """The patient-specific part of a criterion result: ``[status, outcome, reason, details, values, missing]``,
    followed by ``question, decision, decision_ignored`` only when one of them is set.

    ``reason`` is null when it is the details joined by "; " (about half the criteria); each value
    is ``[field, label, value, source, date, derivation]``.
    """
    details = list(criterion["details"])
    reason = None if criterion["reason"] == "; ".join(details) else criterion["reason"]
    values = [[v["field"], v["label"], v["value"], v["source"], v["date"], v["derivation"]]
              for v in criterion["values"]]
    entry = [status_of(criterion["kind"], criterion["outcome"]), criterion["outcome"], reason, details, values,
             list(criterion["missing"])]
    clinician = [criterion["question"], criterion["decision"], criterion["decision_ignored"]]
    return entry + clinician if any(clinician) else entry


@dataclass
class TrialCounts:
    """What the totals and the charts of one trial need."""

    verdicts: Counter[str] = field(default_factory=Counter)
    not_screened: int = 0
    #: criterion id -> ineligible patients for whom it is FAIL
    excluding: Counter[str] = field(default_factory=Counter)
    #: to_collect item, in a coordinator's words (collect_items.plain_item) -> undetermined patients who lack it
    missing: Counter[str] = field(default_factory=Counter)
    #: undetermined patients' items beyond MAX_MISSING_ITEMS distinct ones
    missing_other: int = 0

    def count(self, result: Mapping[str, Any]) -> None:
        verdict = result["verdict"]
        self.verdicts[verdict] += 1
        if verdict == "ineligible":
            failed = {c["id"] for c in result["criteria"] if status_of(c["kind"], c["outcome"]) == "FAIL"}
            for criterion_id in failed:
                self.excluding[criterion_id] += 1
        elif verdict == "undetermined":
            for item in dict.fromkeys(plain_item(item).name for item in result["to_collect"]):
                if item in self.missing or len(self.missing) < MAX_MISSING_ITEMS:
                    self.missing[item] += 1
                else:
                    self.missing_other += 1

    def summary(self) -> dict[str, Any]:
        return {
            "verdicts": {verdict: self.verdicts[verdict] for verdict in VERDICT_LETTERS},
            "not_screened": self.not_screened,
            "excluding": _commonest(self.excluding),
            "excluding_distinct": len(self.excluding),
            "missing": _commonest(self.missing),
            "missing_distinct": len(self.missing),
            "missing_other": self.missing_other,
        }


def _commonest(counts: Counter[str]) -> list[list[Any]]:
    """The CHART_ROWS largest counts as ``[key, count]``, ties in key order (the same in every run)."""
    return [[key, n] for key, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:CHART_ROWS]]


@dataclass
class _TrialEntry:
    """The patient-specific part of one trial result, waiting in a block."""

    summary: str
    deciding: list[str]
    to_collect: list[str]
    pending_manual: list[str]
    #: None: the trial's written definition applies
    own_definition: dict[str, Any] | None
    criteria: dict[str, list[Any]]  # criterion id -> criterion_entry
    #: the clinician's part: questions of a review, what is left, decisions used and not used
    clinician: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class _PendingPatient:
    patient_id: str
    verdicts: str
    trials: dict[str, _TrialEntry]
    #: the trials a single criterion makes the patient ineligible for
    near: set[str] = field(default_factory=set)


class HtmlReport:
    """Writes the report to ``path`` as patients are added; :meth:`close` finishes the file.

    ``trials`` are the screened trials in column order (``id`` and ``title``); ``meta`` is shown
    at the top as given (``as_of``, ``matcher_version``, ``engine``, ``source``, ``generated``
    get readable labels; other keys are shown by name).
    """

    def __init__(self, path: str | Path, trials: Sequence[Mapping[str, str]], meta: Mapping[str, Any],
                 *, block_size: int = BLOCK_SIZE) -> None:
        self.trial_ids = [str(trial["id"]) for trial in trials]
        if len(set(self.trial_ids)) != len(self.trial_ids):
            raise ValueError(f"a trial is declared twice: {self.trial_ids}")
        if block_size < 1:
            raise ValueError("block_size must be at least 1")
        self.block_size = block_size
        self.counts = {trial_id: TrialCounts() for trial_id in self.trial_ids}
        self.patients = 0
        self.errors = 0
        self._definitions: dict[str, dict[str, Any]] = {}
        self._pending: list[_PendingPatient] = []
        self._pending_errors: list[list[str]] = []
        self._blocks = 0
        self._closed = False
        self._out: TextIO = open(path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115 (closed by close())
        self._write_head(trials, meta)

    # ------------------------------------------------------------------ adding
    def add(self, patient_id: str, results: Sequence[Mapping[str, Any]]) -> None:
        """One screened patient: ``results`` are ``render.trial_json`` dicts, at most one per declared trial."""
        self._check_open()
        by_trial: dict[str, Mapping[str, Any]] = {}
        for result in results:
            trial_id = result["trial"]
            if trial_id not in self.counts:
                raise ValueError(f"patient {patient_id!r}: trial {trial_id!r} was not declared to the report")
            if trial_id in by_trial:
                raise ValueError(f"patient {patient_id!r}: two results for trial {trial_id!r}")
            if result["verdict"] not in VERDICT_LETTERS:
                raise ValueError(f"patient {patient_id!r}, trial {trial_id!r}: unknown verdict {result['verdict']!r}")
            by_trial[trial_id] = result
        pending = _PendingPatient(str(patient_id), "", {})
        letters = []
        for trial_id in self.trial_ids:
            if trial_id not in by_trial:
                letters.append(NOT_SCREENED)
                self.counts[trial_id].not_screened += 1
                continue
            result = by_trial[trial_id]
            letters.append(VERDICT_LETTERS[result["verdict"]])
            self.counts[trial_id].count(result)
            miss = result.get("near_miss")
            if miss:  # a single criterion makes the patient ineligible (matcher.results.near_miss)
                pending.near.add(trial_id)
            summary = result["summary"] + (f"; near miss: {miss['text']}" if miss else "")
            pending.trials[trial_id] = _TrialEntry(
                summary, list(result["deciding"]), list(result["to_collect"]),
                list(result["pending_manual"]), self._own_definition(result),
                {c["id"]: criterion_entry(c) for c in result["criteria"]},
                {key: list(result[key]) for key in CLINICIAN_LISTS},
            )
        pending.verdicts = "".join(letters)
        self._pending.append(pending)
        self.patients += 1
        if len(self._pending) >= self.block_size:
            self._write_block()

    def add_error(self, location: str, message: str) -> None:
        """A patient record that could not be read: where it is (file, line) and why."""
        self._check_open()
        self._pending_errors.append([str(location), str(message)])
        self.errors += 1
        if len(self._pending_errors) >= ERROR_BLOCK_SIZE:
            self._write_errors()

    def close(self) -> None:
        """Write what is pending, the totals and the page's script, and close the file (again: nothing)."""
        if self._closed:
            return
        self._write_block()
        self._write_errors()
        summary = {
            "patients": self.patients,
            "unreadable": self.errors,
            "trials": {trial_id: counts.summary() for trial_id, counts in self.counts.items()},
        }
        self._out.write(f'<script type="application/json" id="report-summary">{script_json(summary)}</script>\n')
        self._out.write(f"<script>\n{PAGE_SCRIPT}</script>\n</body>\n</html>\n")
        self._out.close()
        self._closed = True

    def __enter__(self) -> HtmlReport:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abandon()

    def abandon(self) -> None:
        """Close the file unfinished (the caller removes its temporary file)."""
        self._out.close()
        self._closed = True

    # ------------------------------------------------------------------ writing
    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("the report is closed")

    def _own_definition(self, result: Mapping[str, Any]) -> dict[str, Any] | None:
        """None when the trial's constant text is the one already written; else this result's own.

        The first result of a trial writes its definition. Every patient screened with the same rule
        file has the same one; a different one (rule file changed mid-run) is kept with the patient.
        """
        definition = trial_definition(result)
        known = self._definitions.get(result["trial"])
        if known is None:
            self._definitions[result["trial"]] = definition
            self._out.write(f'<script type="application/json" class="trial-definition">'
                            f"{script_json(definition)}</script>\n")
            return None
        return None if definition == known else definition

    def _write_head(self, trials: Sequence[Mapping[str, str]], meta: Mapping[str, Any]) -> None:
        labelled = [[META_LABELS.get(key, key), "" if value is None else str(value)] for key, value in meta.items()]
        head = {"trials": [{"id": str(t["id"]), "title": str(t.get("title", ""))} for t in trials], "meta": labelled,
                "verdicts": [[letter, verdict, VERDICT_HINTS.get(verdict, "")]
                             for verdict, letter in VERDICT_LETTERS.items()],
                "source": "" if meta.get("source") is None else str(meta["source"]),
                "as_of": "" if meta.get("as_of") is None else str(meta["as_of"])}
        heading = "Trial eligibility screening"
        title = f"{heading}: {meta['source']}" if meta.get("source") else heading
        self._out.write(_HEAD.format(title=html.escape(title), heading=heading, style=PAGE_STYLE))
        self._out.write(f'<script type="application/json" id="report-meta">{script_json(head)}</script>\n')

    def _write_block(self) -> None:
        if not self._pending:
            return
        items: dict[str, int] = {}  # in a coordinator's words, one name whichever entry lacks it (the filter's)
        missing = [[[items.setdefault(item, len(items))
                     for item in dict.fromkeys(plain_item(item).name for item in p.trials[t].to_collect)]
                    if t in p.trials else [] for t in self.trial_ids] for p in self._pending]
        index = {"ids": [p.patient_id for p in self._pending], "verdicts": [p.verdicts for p in self._pending],
                 "items": list(items), "missing": missing,
                 "near": ["".join("1" if t in p.near else "0" for t in self.trial_ids) for p in self._pending]}
        # base64 needs no escaping inside <script>, so the compressed JSON is written plainly
        details_json = json.dumps(self._block_details(), ensure_ascii=False, separators=(",", ":"))
        details = gzip.compress(details_json.encode(), _GZIP_LEVEL, mtime=0)
        self._out.write(f'<script type="application/json" class="patients">{script_json(index)}</script>\n'
                        f'<script type="application/gzip-base64" id="details-{self._blocks}">'
                        f"{base64.b64encode(details).decode('ascii')}</script>\n")
        self._out.flush()  # a block is complete in the file once written (cheap: once per block)
        self._blocks += 1
        self._pending.clear()

    def _block_details(self) -> dict[str, Any]:
        """The pending patients' explanations, column-wise: per trial, each field a list aligned with ``rows``.

        ``rows`` are the positions in the block of the patients with a result for the trial;
        ``criteria`` maps a criterion id to one entry per row (null if that result lacks it).
        """
        trials: dict[str, Any] = {}
        for trial_id in self.trial_ids:
            positions = [position for position, p in enumerate(self._pending) if trial_id in p.trials]
            if not positions:
                continue
            entries = [self._pending[position].trials[trial_id] for position in positions]
            criterion_ids = dict.fromkeys(cid for entry in entries for cid in entry.criteria)
            trials[trial_id] = {
                "rows": positions,
                "summary": [entry.summary for entry in entries],
                "deciding": [entry.deciding for entry in entries],
                "to_collect": [list(dict.fromkeys(map(patient_item, entry.to_collect))) for entry in entries],
                "pending_manual": [entry.pending_manual for entry in entries],
                "definition": [entry.own_definition for entry in entries],
                **{key: [entry.clinician[key] for entry in entries] for key in CLINICIAN_LISTS},
                "criteria": {cid: [entry.criteria.get(cid) for entry in entries] for cid in criterion_ids},
            }
        return {"trials": trials}

    def _write_errors(self) -> None:
        if self._pending_errors:
            self._out.write(f'<script type="application/json" class="unreadable">'
                            f"{script_json(self._pending_errors)}</script>\n")
            self._pending_errors.clear()


_HEAD = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; \
style-src 'unsafe-inline'">
<title>{title}</title>
<style>
{style}</style>
</head>
<body>
<header>
<h1>{heading}</h1>
<p id="subtitle"></p>
<dl id="meta"></dl>
<noscript><p>This report draws its tables with JavaScript; please allow scripts for this file.</p></noscript>
</header>
<main>
<section aria-labelledby="trials-heading">
<h2 id="trials-heading">Verdicts per trial</h2>
<div class="scroll"><table id="trials-table">
<caption class="visually-hidden">Trials screened and how many patients got each verdict</caption>
<thead></thead><tbody></tbody>
</table></div>
</section>
<section aria-labelledby="matrix-heading">
<h2 id="matrix-heading">Patients &times; trials</h2>
<p class="legend" id="legend"></p>
<form id="filters" role="search" aria-label="Filter patients">
<label>Show <select id="view"><option value="">all patients</option></select></label>
<label>Patient id contains <input type="search" id="search" autocomplete="off"></label>
<label>Data to collect <select id="missing-filter"><option value="">any (no filter)</option></select></label>
<label><input type="checkbox" id="near-miss-filter"> Near misses only (ineligible on a single criterion)</label>
<span id="verdict-filters"></span>
<label>Rows per page <select id="page-size"><option>25</option><option selected>100</option>\
<option>500</option></select></label>
<button type="button" id="export-csv">Download these patients (CSV)</button>
</form>
<nav class="pager" aria-label="Pages of patients">
<button type="button" id="previous-page">Previous</button>
<span id="page-status" role="status" aria-live="polite"></span>
<button type="button" id="next-page">Next</button>
</nav>
<div class="matrix-scroll" id="matrix-scroll" tabindex="0" aria-label="Matrix of verdicts (scrolls)">\
<table id="matrix">
<caption class="visually-hidden">Verdict of each patient for each trial; a column heading sorts by it</caption>
<thead></thead><tbody></tbody>
</table></div>
</section>
<section aria-labelledby="charts-heading">
<h2 id="charts-heading">Why patients are not eligible</h2>
<div id="charts"></div>
</section>
<section aria-labelledby="unreadable-heading">
<h2 id="unreadable-heading">Records that could not be read</h2>
<div id="unreadable"></div>
</section>
</main>
<footer>
<details id="rule-files">
<summary>Rule files and their versions (SHA-256)</summary>
<table id="rule-files-table">
<caption class="visually-hidden">The rule file of each trial and its SHA-256 digest</caption>
<thead><tr><th scope="col">Trial</th><th scope="col">Rule file</th><th scope="col">SHA-256</th></tr></thead>
<tbody></tbody>
</table>
</details>
</footer>
<dialog id="explanation" aria-labelledby="explanation-title">
<div class="dialog-bar"><h2 id="explanation-title">Explanation</h2>
<button type="button" id="close-explanation">Close</button></div>
<div id="explanation-body"></div>
</dialog>
"""

"""Stage 6: render results as text (for a terminal) or JSON (for programs).

JSON schema (``schema_version`` 1; fields are only ever added)::

    {
      "schema_version": 1,
      "matcher_version": "0.1.0",
      "engine": "durable-rules 2.0.28",
      "patient": "example-eligible",
      "as_of": "2026-11-02",
      "as_of_source": "screening_date in the patient file",
      "results": [
        {
          "trial": "NCT00698191", "title": "...",
          "verdict": "eligible" | "ineligible" | "undetermined" | "review",
          "summary": "one line",
          "deciding": ["inc-2"],          # criteria that make it ineligible / undetermined / review
          "to_collect": ["24-hour urine protein"],
          "pending_manual": ["inc-4"],    # left to the clinician
          "to_decide": ["exc-3, ALT: ...: whether ..."],  # review: the clinician's questions, with evidence
          "clinical_pending": ["exc-2a"], # clinical questions with nothing recorded against them
          "routine_pending": ["inc-4"],   # routine confirmations (consent, willingness)
          "decided": ["exc-3: decided by ... on ...: not met (...)"],  # recorded decisions used
          "decisions_not_used": ["..."],  # recorded decisions naming no criterion of the trial
          "rules": {"file": "rules/NCT00698191.yaml", "sha256": "..."},
          "notes": ["..."],
          "criteria": [
            {"id": "inc-1", "kind": "inclusion" | "exclusion", "text": "verbatim registry text",
             "outcome": "met" | "not_met" | "unknown" | "manual",
             "reason": "one line", "details": ["one line per comparison"],
             "values": [{"field", "label", "value", "source", "date", "derivation"}],
             "missing": ["data to collect"], "notes": ["how the registry text was read"],
             "question": "..." | null, "routine": false,
             "decision": "decided by ... on ..." | null, "decision_ignored": "why not used" | null,
             "label": "short name from the rule file" | null}
          ]
        }
      ]
    }

For an exclusion, ``met`` means the exclusion applies (the patient is excluded).
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from collections.abc import Sequence
from typing import Any

from matcher.engine.adapter import engine_version
from matcher.results.explain import CriterionResult, TrialResult

SCHEMA_VERSION = 1


def matcher_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("trial-matcher")
    except PackageNotFoundError:  # running from a checkout that is not installed
        return "0+unknown"


def to_json(results: Sequence[TrialResult], patient: str, as_of: dt.date, as_of_source: str,
            fhir_import: dict[str, Any] | None = None) -> str:
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "matcher_version": matcher_version(),
        "engine": engine_version(),
        "patient": patient,
        "as_of": as_of.isoformat(),
        "as_of_source": as_of_source,
        "results": [trial_json(result) for result in results],
    }
    if fhir_import is not None:  # the patient was read from a FHIR bundle: what it did not give
        document["fhir_import"] = fhir_import
    return json.dumps(document, indent=2, ensure_ascii=False)


def trial_json(result: TrialResult) -> dict[str, Any]:
    return {
        "trial": result.trial,
        "title": result.title,
        "verdict": result.verdict,
        "summary": result.summary,
        "deciding": list(result.deciding),
        "to_collect": list(result.to_collect),
        "pending_manual": list(result.pending_manual),
        "to_decide": list(result.to_decide),
        "clinical_pending": list(result.clinical_pending),
        "routine_pending": list(result.routine_pending),
        "decided": list(result.decided),
        "decisions_not_used": list(result.decisions_not_used),
        "rules": {"file": result.rules_file, "sha256": result.rules_sha256},
        "notes": list(result.trial_notes),
        "criteria": [_criterion_json(c) for c in result.criteria],
    }


def _criterion_json(result: CriterionResult) -> dict[str, Any]:
    """Every field of the result, in declaration order: what ``dataclasses.asdict`` gives (tests/test_render.py
    holds the two equal), written out because asdict's deep copies were a third of the evaluation time.
    ``text_details`` is left out: it is the text output's shortened form of ``details``, which keeps every
    list entry."""
    return {
        "id": result.id,
        "kind": result.kind,
        "text": result.text,
        "outcome": result.outcome,
        "reason": result.reason,
        "details": list(result.details),
        "values": [
            {"field": value.field, "label": value.label, "value": value.value, "source": value.source,
             "date": value.date.isoformat() if value.date else None, "derivation": value.derivation}
            for value in result.values
        ],
        "missing": list(result.missing),
        "notes": list(result.notes),
        "question": result.question,
        "routine": result.routine,
        "decision": result.decision,
        "decision_ignored": result.decision_ignored,
        "label": result.label,
    }


# ------------------------------------------------------------------ text
_COLOURS = {"pass": "32", "FAIL": "31", "unknown": "33", "clinician": "36", "bold": "1", "dim": "2"}
_VERDICT_COLOUR = {"eligible": "pass", "ineligible": "FAIL", "undetermined": "unknown", "review": "clinician"}


def status(result: CriterionResult) -> str:
    """What an outcome means for eligibility: pass, FAIL, unknown or clinician."""
    return status_of(result.kind, result.outcome)


def status_of(kind: str, outcome: str) -> str:
    """:func:`status` from a criterion's kind and outcome (as in the JSON), for callers without the object."""
    if outcome == "manual":
        return "clinician"
    if outcome == "unknown":
        return "unknown"
    excluded = kind == "exclusion" and outcome == "met"
    failed = kind == "inclusion" and outcome == "not_met"
    return "FAIL" if excluded or failed else "pass"


class TextRenderer:
    def __init__(self, colour: bool, width: int = 100) -> None:
        self.colour = colour
        self.width = max(60, width)

    def paint(self, text: str, style: str) -> str:
        return f"\033[{_COLOURS[style]}m{text}\033[0m" if self.colour else text

    def header(self, patient: str, as_of: dt.date, as_of_source: str) -> str:
        return f"Patient {patient}, screened as of {as_of} ({as_of_source})"

    def brief(self, result: TrialResult) -> str:
        verdict = self.paint(result.verdict.upper(), _VERDICT_COLOUR[result.verdict])
        detail = result.summary.removeprefix(result.verdict).lstrip(": ")
        return f"{result.trial}  {verdict}  {detail}".rstrip()

    def full(self, result: TrialResult) -> str:
        lines = [
            "",
            self.paint(f"{result.trial}: {result.verdict.upper()}", _VERDICT_COLOUR[result.verdict]),
            f"  {result.title}",
            f"  {result.summary}",
            self.paint(f"  rules: {result.rules_file} (sha256 {result.rules_sha256[:12]})", "dim"),
        ]
        for note in result.trial_notes:
            lines += self._wrap(f"note: {note}", "  ")
        for kind in ("inclusion", "exclusion"):
            lines.append("")
            lines.append(self.paint(f"  {kind.capitalize()} criteria", "bold"))
            for criterion in result.criteria:
                if criterion.kind == kind:
                    lines += self._criterion(criterion)
        if result.to_collect:
            lines.append("")
            lines.append(self.paint("  Data to collect", "bold"))
            lines += [f"    - {item}" for item in result.to_collect]
        for heading, items in (("Clinician to decide (the record points against eligibility)", result.to_decide),
                               ("Decided by the clinician", result.decided),
                               ("Recorded decisions not used", result.decisions_not_used),
                               ("Clinical questions (nothing recorded against)",
                                tuple(map(result.named, result.clinical_pending))),
                               ("Routine confirmations", tuple(map(result.named, result.routine_pending)))):
            if items:
                lines.append("")
                lines.append(self.paint(f"  {heading}", "bold"))
                for item in items:
                    lines += self._wrap(f"- {item}", "    ", "      ")
        return "\n".join(lines)

    def _criterion(self, result: CriterionResult) -> list[str]:
        tag = status(result)
        outcome = result.outcome.replace("_", " ")
        head = f"    [{self.paint(tag, tag)}] {result.named}: {outcome}"
        lines = [head]
        lines += self._wrap('"' + " ".join(result.text.split()) + '"', "        ")
        if result.outcome == "manual":
            lines += self._wrap(result.reason, "        ")
        if result.question:
            lines += self._wrap(f"clinician to decide: {result.question}", "        ")
        if result.decision:
            lines += self._wrap(result.decision, "        ")
        if result.decision_ignored:
            lines += self._wrap(f"recorded decision not used: {result.decision_ignored}", "        ")
        for detail in result.text_details or result.details:
            lines += self._wrap(f"- {detail}", "        ", "          ")
        for value in result.values:
            if "[" in value.field:  # list entries are described in their detail line; JSON has the rest
                continue
            if value.derivation and value.derivation not in ("most recent result on or before the as-of date",
                                                             "most recent score on or before the as-of date"):
                lines += self._wrap(self.paint(f"({value.label}: {value.derivation})", "dim"), "          ")
        if result.missing:
            lines += self._wrap("missing: " + "; ".join(result.missing), "        ")
        for note in result.notes:
            lines += self._wrap(self.paint(f"reading: {note}", "dim"), "        ", "          ")
        return lines

    def _wrap(self, text: str, indent: str, subsequent: str | None = None) -> list[str]:
        return textwrap.wrap(text, self.width, initial_indent=indent, subsequent_indent=subsequent or indent,
                             break_long_words=False, break_on_hyphens=False) or [indent]

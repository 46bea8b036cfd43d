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
from dataclasses import dataclass, field
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


# ------------------------------------------------------------------ compact JSON, fixed text encoded once
#: ``json.dumps(document, ensure_ascii=False, separators=(",", ":"))``, the encoder built once
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
#: stands in for a fixed value while the rest of a document is encoded: a string no result holds
_STAND_IN = "\x00"
_STAND_IN_JSON = _COMPACT.encode(_STAND_IN)
#: the keys of a per-trial document (:func:`trial_json`) and of a criterion in it whose values come from the rule
#: file alone (verbatim texts, notes, labels, the rules file and its digest): encoded once per trial
_TRIAL_FIXED = ("title", "rules", "notes")
_CRITERION_FIXED = ("text", "notes", "label")
#: a fixed value whose JSON is shorter costs more to splice in than to encode
_SHORTEST_FIXED = 24
#: trials (rule-file versions) whose fixed parts are kept; past this the store starts afresh
_MAX_TRIALS_KEPT = 256


@dataclass(frozen=True, slots=True)
class _CriterionFixed:
    keys: tuple[str, ...]
    #: (key, value, its JSON) of the fixed values, in key order
    slots: tuple[tuple[str, Any, str], ...]
    #: whole criteria seen before, by their reason: (the criterion, its JSON, its keys holding a bool); only
    #: criteria using no patient value and holding no number, so that equal means encoded alike (1 == 1.0 == True)
    whole: dict[str, tuple[dict[str, Any], str, tuple[str, ...]]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _TrialFixed:
    top: dict[str, tuple[Any, str]]
    criteria: tuple[_CriterionFixed | None, ...]


_FIXED: dict[tuple[str, str], _TrialFixed] = {}
#: whole criteria kept per criterion of a trial (a criterion left to the clinician is the same for every patient)
_MAX_WHOLE_KEPT = 8


def compact_json(document: dict[str, Any]) -> str:
    """``json.dumps(document, ensure_ascii=False, separators=(",", ":"))``, byte for byte, for the per-trial
    document of ``matcher screen`` (the keys of :func:`trial_json` plus any others), with what depends on the
    rule file alone (verbatim criterion texts, the notes on how the registry text was read, labels, the title, the
    rules file and digest) encoded once per trial and rules digest instead of once per evaluation; so is a whole
    criterion that uses no value of the patient (one left to the clinician, one with no data) and was seen before
    with the same reason. What is kept is per process and bounded (:data:`_MAX_TRIALS_KEPT`,
    :data:`_MAX_WHOLE_KEPT`).

    Why it is exact: a kept value's JSON is used only where the document holds an equal value of the same type
    (checked every time, mostly an identity test), at a key of the same position in a dict with the same keys
    in the same order; a whole criterion is kept only if it holds no number, so that equal means encoded alike.
    Each such value is replaced by a one-character stand-in, the document is encoded by the C encoder, and the
    stand-ins' JSON is replaced by the kept JSON; should a string of the document itself be the stand-in, the
    count of stand-ins tells, and the document is encoded whole. A document without a trial id and rules digest
    is encoded whole."""
    fixed = _fixed_parts(document)
    if fixed is None:
        return _COMPACT.encode(document)
    fragments: list[str] = []
    standing_in = dict(document)
    top = fixed.top
    for key, value in document.items():
        if key == "criteria" and type(value) is list:
            standing_in[key] = _criteria_standing_in(value, fixed.criteria, fragments)
            continue
        kept = top.get(key)
        if kept is not None and _same(value, kept[0]):
            standing_in[key] = _STAND_IN
            fragments.append(kept[1])
    if not fragments:
        return _COMPACT.encode(document)
    pieces = _COMPACT.encode(standing_in).split(_STAND_IN_JSON)
    if len(pieces) != len(fragments) + 1:  # a string of the document itself is the stand-in
        return _COMPACT.encode(document)
    joined: list[str] = [""] * (2 * len(fragments) + 1)
    joined[::2] = pieces
    joined[1::2] = fragments
    return "".join(joined)


def _criteria_standing_in(criteria: list[Any], kept: tuple[_CriterionFixed | None, ...],
                          fragments: list[str]) -> list[Any]:
    standing_in: list[Any] = []
    for index, criterion in enumerate(criteria):
        fixed = kept[index] if index < len(kept) else None
        if fixed is None or type(criterion) is not dict or tuple(criterion) != fixed.keys:
            standing_in.append(criterion)
            continue
        reason = criterion.get("reason")
        if type(reason) is str:
            whole = fixed.whole.get(reason)
            if whole is None and len(fixed.whole) < _MAX_WHOLE_KEPT and not criterion.get("values"):
                whole = _whole_kept(criterion)
                if whole is not None:
                    fixed.whole[reason] = whole
            if whole is not None and whole[0] == criterion and all(type(criterion[key]) is bool
                                                                   for key in whole[2]):
                standing_in.append(_STAND_IN)
                fragments.append(whole[1])
                continue
        copy = dict(criterion)
        for key, value, encoded in fixed.slots:
            if _same(criterion[key], value):
                copy[key] = _STAND_IN
                fragments.append(encoded)
        standing_in.append(copy)
    return standing_in


def _whole_kept(criterion: dict[str, Any]) -> tuple[dict[str, Any], str, tuple[str, ...]] | None:
    """(a copy of the criterion, its JSON, its keys holding a bool) if it holds no number, no bool below its
    own keys, and nothing but JSON's types: then any dict equal to it with a bool at those keys encodes alike."""
    if not all(_numberless(value) for value in criterion.values()):
        return None
    encoded = _COMPACT.encode(criterion)
    return json.loads(encoded), encoded, tuple(key for key, value in criterion.items() if type(value) is bool)


def _numberless(value: Any, top: bool = True) -> bool:
    if value is None or type(value) is str or (top and type(value) is bool):
        return True
    if type(value) is list:
        return all(_numberless(item, False) for item in value)
    if type(value) is dict:
        return all(type(key) is str and _numberless(item, False) for key, item in value.items())
    return False


def _same(value: Any, kept: Any) -> bool:
    """Whether ``value`` encodes as ``kept`` does (``kept`` is a string, or a list or dict of strings)."""
    return value is kept or (type(value) is type(kept) and value == kept)


def _fixed_parts(document: dict[str, Any]) -> _TrialFixed | None:
    """The kept fixed parts of the document's trial and rules digest, learnt from this document the first time."""
    rules = document.get("rules")
    trial = document.get("trial")
    if type(rules) is not dict or type(trial) is not str or type(rules.get("sha256")) is not str:
        return None
    key = (trial, rules["sha256"])
    fixed = _FIXED.get(key)
    if fixed is None:
        if len(_FIXED) >= _MAX_TRIALS_KEPT:
            _FIXED.clear()
        criteria = document.get("criteria")
        fixed = _FIXED[key] = _TrialFixed(
            {name: kept for name in _TRIAL_FIXED if (kept := _kept(document, name)) is not None},
            tuple(_criterion_fixed(c) for c in criteria) if type(criteria) is list else ())
    return fixed


def _criterion_fixed(criterion: Any) -> _CriterionFixed | None:
    if type(criterion) is not dict:
        return None
    slots = tuple((name, *kept) for name in criterion if name in _CRITERION_FIXED
                  and (kept := _kept(criterion, name)) is not None)
    return _CriterionFixed(tuple(criterion), slots) if slots else None


def _kept(container: dict[str, Any], key: str) -> tuple[Any, str] | None:
    """(value, its JSON) if the value at ``key`` is worth keeping: text, a list or dict of texts, long enough."""
    value = container.get(key)
    texts = (value.values() if type(value) is dict else value if type(value) is list
             else [value] if type(value) is str else None)
    if texts is None or any(type(text) is not str for text in texts):
        return None
    encoded = _COMPACT.encode(value)
    if len(encoded) < _SHORTEST_FIXED:
        return None
    copy = dict(value) if type(value) is dict else list(value) if type(value) is list else value
    return copy, encoded


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

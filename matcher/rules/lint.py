"""``matcher lint``: check rule files beyond loading them, and report their coverage.

Loading already rejects malformed files, unknown fields, operators, queries and
values, and wrong units (:mod:`matcher.rules.language`). Lint adds:

* **verbatim text**: every criterion's ``text`` appears word for word in the trial's
  registry copy (``rules/registry/<trial>.txt``, one registry bullet per line);
* **coverage**: every registry bullet is encoded by the texts of the criteria
  (a bullet may be split across several criteria); lines ending with ``:`` are
  headings and need not be;
* **contradictions it can detect**: a conjunction of comparisons on one field
  that no value can satisfy (``age >= 70`` and ``age <= 15``, ``eq`` two values);
* **impossible thresholds**: a number outside the field's possible range (the
  ranges patient values are checked against, :mod:`matcher.model.profile`; no
  number field is negative), which makes a comparison always true or always
  false (``age_years gte -15``);
* **inverted operators** (a warning): an operator whose direction contradicts
  the words before its number in the criterion's text ("less than 30" encoded
  ``gte: 30``);
* **currency windows**: every dated value a criterion compares (lab, activity
  score, pregnancy test, imaging) has a window the rule file states (``windows:``,
  a criterion's or a comparison's ``within``), not only the project default; no
  window is longer than is sane for its kind (``SANE_WINDOW_DAYS``); ``windows:``
  names no kind that no criterion compares;
* a **coverage summary** per trial: criteria computable, partly manual, manual,
  disputed boundaries, and every interpretation note.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from matcher.errors import MatcherError, RuleFileError
from matcher.model.currency import FIELD_KINDS, KIND_LABELS, SANE_WINDOW_DAYS
from matcher.model.fields import PATIENT_FIELDS
from matcher.rules.language import (
    LABEL_MAX_CHARS,
    AllOf,
    AnyOf,
    Comparison,
    Criterion,
    ManualPart,
    Node,
    Not,
    Trial,
    children,
    load_trial,
    walk,
)

_STOPWORDS = {"and", "or", "of", "the", "a", "an", "to", "in", "for", "with", "at", "as", "by", "on", "is", "are"}


@dataclass
class TrialReport:
    path: str
    trial: Trial | None = None
    errors: list[str] = field(default_factory=list)
    bullets: int = 0
    uncovered: list[str] = field(default_factory=list)
    registry_copy: str | None = None
    #: doubts that do not fail lint (an operator whose direction the text seems to contradict)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def normalise(text: str) -> str:
    """Text compared for verbatim-ness: bullets, escapes and spacing do not count."""
    text = text.replace("\\", "").replace("•", " ")
    return " ".join(text.split())


def registry_copy_path(rule_file: Path, trial_id: str) -> Path:
    return rule_file.parent / "registry" / f"{trial_id}.txt"


def registry_lines(path: Path) -> list[str]:
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            lines.append(normalise(line))
    return lines


def lint_file(path: Path) -> TrialReport:
    report = TrialReport(str(path))
    try:
        trial = load_trial(path)
    except MatcherError as exc:
        report.errors.append(str(exc))
        return report
    report.trial = trial
    for criterion in trial.criteria:
        if criterion.condition is not None:
            for problem in _contradictions(criterion.condition):
                report.errors.append(_at(criterion, problem))
            report.errors += [_at_comparison(criterion, c, problem) for c, problem in
                              _impossible_thresholds(criterion.condition)]
            report.warnings += [_at_comparison(criterion, c, problem) for c, problem in
                                _inverted_operators(criterion.condition, criterion.text)]
        routine_problem = _routine_problem(criterion)
        if routine_problem:
            report.errors.append(_at(criterion, routine_problem))
        label_problem = _label_problem(criterion)
        if label_problem:
            report.errors.append(_at(criterion, label_problem))
    for query in trial.queries.values():
        for part in walk(query.where):
            if isinstance(part, Comparison) and (impossible := _impossible_threshold(part)):
                report.errors.append(str(RuleFileError(impossible, file=part.where.file, line=part.where.line,
                                                       column=part.where.column, field=f"query {query.name}")))
    report.errors += _window_problems(trial)
    copy = registry_copy_path(Path(path), trial.id)
    if not copy.exists():
        report.errors.append(f"{path}: no registry copy at {copy}: verbatim texts and coverage cannot be checked")
        return report
    report.registry_copy = str(copy)
    _check_registry(report, trial, registry_lines(copy))
    return report


#: words of a registry text that may make a left-to-the-clinician criterion a routine confirmation
_ROUTINE_WORDS = re.compile(r"\b(consent|willing|contracepti)", re.IGNORECASE)


def _routine_problem(criterion: Criterion) -> str | None:
    """``routine: true`` only where something is left to the clinician; consent-like criteria say which they are.

    A routine criterion never makes a verdict ``review``, so marking routine a criterion the record can
    argue against would hide a clinical question; a consent or willingness criterion left unmarked would
    list a question asked of every patient among the clinical ones. Texts that merely mention consent
    (capacity to consent) are clinical: the rule file says so with ``routine: false``.
    """
    manual_parts = criterion.manual is not None or (
        criterion.condition is not None and any(isinstance(n, ManualPart) for n in walk(criterion.condition)))
    if criterion.routine and not manual_parts:
        return "routine: true on a criterion with nothing left to the clinician (no manual reason or part)"
    if manual_parts and criterion.routine is None and _ROUTINE_WORDS.search(criterion.text):
        return ("the text speaks of consent, willingness or contraception: say whether what is left to the "
                "clinician is a routine confirmation asked of every patient (routine: true) or a clinical "
                "question (routine: false)")
    return None


def _label_problem(criterion: Criterion) -> str | None:
    """Every criterion carries a short label, shown beside its id in every output a person reads."""
    if criterion.label is None:
        return ("no label: write a short plain name of what the criterion asks (label: age over 18 and under 70), "
                "shown beside the id in every output")
    if len(criterion.label) > LABEL_MAX_CHARS:
        return (f"label is {len(criterion.label)} characters long: keep it to {LABEL_MAX_CHARS} or fewer (it sits "
                "beside the id in lists and table headers; the registry text says the rest)")
    if criterion.label.strip().lower() == criterion.id.lower():
        return "label repeats the id: say what the criterion asks"
    return None


def _at(criterion: Criterion, problem: str) -> str:
    where = criterion.location
    return str(RuleFileError(problem, file=where.file, line=where.line, column=where.column,
                             criterion=criterion.id))


def _at_comparison(criterion: Criterion, comparison: Comparison, problem: str) -> str:
    where = comparison.where
    return str(RuleFileError(problem, file=where.file, line=where.line, column=where.column,
                             criterion=criterion.id))


# ------------------------------------------------------------------ thresholds
def possible_range(field_name: str) -> tuple[float, float]:
    """The values a number field can take: the range its catalogue row gives (the ranges a patient file is checked
    against: labs, scores, age, weight, height); every other number field (doses, durations, counts, ratios to
    the ULN) is at least zero."""
    spec = PATIENT_FIELDS.get(field_name)
    if spec is not None and spec.possible is not None:
        return spec.possible
    return 0, math.inf


def _impossible_threshold(comparison: Comparison) -> str | None:
    if comparison.op not in ("gt", "gte", "lt", "lte", "eq"):
        return None
    for reading in comparison.readings:
        value = reading.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        low, high = possible_range(comparison.field)
        if not low <= value <= high:
            shown_high = "" if math.isinf(high) else f"-{high:g}"
            possible = f"{low:g}{shown_high}" if shown_high else f"at least {low:g}"
            return (f"threshold {reading.written} of {comparison.field} is outside the possible range ({possible}): "
                    f"{comparison.field} {reading.op} {reading.written} is always true or always false")
    return None


def _impossible_thresholds(node: Node) -> list[tuple[Comparison, str]]:
    return [(part, problem) for part in walk(node)
            if isinstance(part, Comparison) and (problem := _impossible_threshold(part))]


#: words before a number in a registry text that bound it from above or below (longest first where one
#: contains another: "no more than" is an upper bound)
_UPPER_WORDS = ("no more than", "not more than", "not exceeding", "not greater than", "not above", "no greater than",
                "less than", "lower than", "fewer than", "at most", "up to", "below", "under", "<=", "≤", "<")
_LOWER_WORDS = ("no less than", "not less than", "not below", "no fewer than", "more than", "greater than",
                "higher than", "at least", "exceeding", "above", "over", ">=", "≥", ">")


def text_direction(text: str, number: str) -> str | None:
    """``upper`` or ``lower`` when the words just before ``number`` in ``text`` bound it from above or below
    (the first place it appears); None when they say neither, or it does not appear."""
    found = re.search(r"(?<![\d.])" + re.escape(number) + r"(?![\d])", text)
    if found is None:
        return None
    before = " ".join(text[max(0, found.start() - 40):found.start()].lower().split()).rstrip(" :(")
    before = before.removesuffix(" or equal to").removesuffix(" or equal")
    matches = [(len(words), direction) for words, direction in
               [(w, "upper") for w in _UPPER_WORDS] + [(w, "lower") for w in _LOWER_WORDS]
               if before.endswith(words) and (not words[0].isalpha() or before[:-len(words)][-1:] in ("", " "))]
    return max(matches)[1] if matches else None


def _inverted_operators(node: Node, text: str, negated: bool = False) -> list[tuple[Comparison, str]]:
    found: list[tuple[Comparison, str]] = []
    if isinstance(node, Comparison) and node.op in ("gt", "gte", "lt", "lte"):
        number = re.match(r"\s*([-+]?\d+(?:\.\d+)?)", node.written)
        said = text_direction(text, number.group(1)) if number else None
        encoded = "lower" if node.op in ("gt", "gte") else "upper"
        if negated:
            encoded = "upper" if encoded == "lower" else "lower"
        if said is not None and said != encoded:
            wording = "bounds it from above" if said == "upper" else "bounds it from below"
            found.append((node, f"{node.field} {node.op} {node.written}: the criterion's text {wording} "
                                f"(an inverted operator?)"))
        return found
    for child in children(node):
        found += _inverted_operators(child, text, negated ^ isinstance(node, Not))
    return found


def _check_registry(report: TrialReport, trial: Trial, lines: list[str]) -> None:
    whole = " ".join(lines)
    covered = [False] * len(whole)
    for criterion in trial.criteria:
        text = normalise(criterion.text)
        start = whole.find(text)
        if start < 0:
            report.errors.append(_at(criterion, f"text is not verbatim in the registry copy {report.registry_copy}"))
            continue
        while start >= 0:
            for i in range(start, start + len(text)):
                covered[i] = True
            start = whole.find(text, start + 1)
    offset = 0
    for line in lines:
        span = range(offset, offset + len(line))
        offset += len(line) + 1
        if line.endswith(":"):
            continue
        report.bullets += 1
        left = "".join(whole[i] if not covered[i] else " " for i in span)
        words = [w for w in re.findall(r"[A-Za-z0-9]+", left) if w.lower() not in _STOPWORDS]
        if words:
            fragment = " ".join(left.split())
            report.uncovered.append(fragment)
            report.errors.append(f"{report.path}: registry text not encoded by any criterion: {fragment!r}")


def _window_problems(trial: Trial) -> list[str]:
    """Dated values compared under the project default only, windows too long for their kind, unused windows."""
    problems: list[str] = []
    used: set[str] = set()
    for criterion in trial.criteria:
        for node in walk(criterion.condition) if criterion.condition else ():
            if not isinstance(node, Comparison) or node.within is None:
                continue
            kind = FIELD_KINDS[node.field]
            used.add(kind)
            where = RuleFileError("", file=node.where.file, line=node.where.line, column=node.where.column,
                                  criterion=criterion.id)
            if node.within.is_project_default:
                problems.append(f"{where}{node.field} is a dated value ({KIND_LABELS[kind]}) compared with no "
                                f"window stated: the {node.within.describe()} applies unsaid; state it in windows: "
                                f"({kind}: N days, with a note), in the criterion or in the comparison (within:)")
            elif node.within.days > SANE_WINDOW_DAYS[kind]:
                problems.append(f"{where}the {node.within.describe()} for {node.field} is longer than "
                                f"{SANE_WINDOW_DAYS[kind]} days, the longest that still describes the patient now "
                                f"for {KIND_LABELS[kind]}")
    for stated in trial.windows:
        if stated not in used:
            problems.append(f"{trial.path}: windows: states a window for {stated}, but no criterion compares "
                            "such a value")
    return problems


def _contradictions(node: Node) -> list[str]:
    problems: list[str] = []
    for part in walk(node):
        if isinstance(part, AllOf):
            problems += _unsatisfiable(_conjuncts(part))
    return problems


def _conjuncts(node: AllOf) -> list[Comparison]:
    found: list[Comparison] = []
    for child in node.children:
        if isinstance(child, AllOf):
            found += _conjuncts(child)
        elif isinstance(child, Comparison) and child.alternative is None:
            found.append(child)
    return found


def _unsatisfiable(comparisons: list[Comparison]) -> list[str]:
    by_field: dict[str, list[Comparison]] = {}
    for comparison in comparisons:
        by_field.setdefault(comparison.field, []).append(comparison)
    return [
        "no value can satisfy " + " and ".join(f"{c.field} {c.op} {c.written}" for c in group)
        for group in by_field.values()
        if _empty(group)
    ]


def _empty(group: list[Comparison]) -> bool:
    """Is the conjunction of these comparisons on one field satisfied by no value at all?"""
    low, low_strict, high, high_strict = -math.inf, False, math.inf, False
    equal: set[object] = set()
    allowed: set[object] | None = None
    for c in group:
        if c.op == "eq":
            equal.add(c.value)
        elif c.op == "in":
            allowed = set(c.value) if allowed is None else allowed & set(c.value)
        elif c.op in ("gt", "gte") and (c.value > low or (c.value == low and c.op == "gt")):
            low, low_strict = c.value, c.op == "gt"
        elif c.op in ("lt", "lte") and (c.value < high or (c.value == high and c.op == "lt")):
            high, high_strict = c.value, c.op == "lt"
    if len(equal) > 1:
        return True
    if allowed is not None and (not allowed or (equal and not equal <= allowed)):
        return True
    if low > high or (low == high and (low_strict or high_strict)):
        return True
    value = next(iter(equal), None)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        above = value > low or (value == low and not low_strict)
        below = value < high or (value == high and not high_strict)
        return not (above and below)
    return False


# ------------------------------------------------------------------ coverage
@dataclass(frozen=True)
class Coverage:
    inclusion: int
    exclusion: int
    computable: int
    partly_manual: int
    manual: int
    disputed_boundaries: int
    notes: int
    registry_errors: int


def coverage(trial: Trial) -> Coverage:
    computable = partly = manual = disputed = 0
    for criterion in trial.criteria:
        if criterion.condition is None:
            manual += 1
            continue
        nodes = list(walk(criterion.condition))
        if any(isinstance(n, ManualPart) for n in nodes):
            partly += 1
        else:
            computable += 1
        disputed += sum(1 for n in nodes if isinstance(n, Comparison) and n.alternative is not None)
    for query in trial.queries.values():
        disputed += sum(1 for n in walk(query.where) if isinstance(n, Comparison) and n.alternative is not None)
    notes = list(all_notes(trial))
    return Coverage(
        inclusion=sum(1 for c in trial.criteria if c.kind == "inclusion"),
        exclusion=sum(1 for c in trial.criteria if c.kind == "exclusion"),
        computable=computable, partly_manual=partly, manual=manual, disputed_boundaries=disputed,
        notes=len(notes), registry_errors=sum(1 for _, note in notes if "REGISTRY ERROR" in note),
    )


def all_notes(trial: Trial) -> list[tuple[str, str]]:
    """(where, note) for every interpretation note of the trial, its queries and criteria."""
    found = [("trial", note) for note in trial.notes]
    found += [(f"query {q.name}", note) for q in trial.queries.values() for note in q.notes]
    for criterion in trial.criteria:
        found += [(criterion.id, note) for note in criterion.notes]
        if criterion.manual:
            found.append((criterion.id, f"manual: {criterion.manual}"))
        if criterion.condition is not None:
            found += [(criterion.id, f"manual part: {n.reason}") for n in walk(criterion.condition)
                      if isinstance(n, ManualPart)]
    return found


__all__ = ["Coverage", "TrialReport", "all_notes", "coverage", "lint_file", "normalise"]
_ = (AnyOf, Not)  # node types lint walks through without special handling

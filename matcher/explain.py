"""Stage 5: turn an engine evaluation into explained, typed results.

Everything a result says comes from our own criterion objects and the
readings the facts were built from; the engine only supplies which nodes were
true, false or unknown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from .compile import CompiledNode
from .evaluate import Evaluation, ItemEvaluation, QueryEvaluation, Truth
from .fields import LISTS, PATIENT_FIELDS, Absence, FieldSpec, Observation
from .fields import Reading as FieldReading
from .rules import OPERATORS, Comparison, Criterion, ManualPart, Not, QueryRef, Reading, walk

Outcome = Literal["met", "not_met", "unknown", "manual"]
Verdict = Literal["eligible", "ineligible", "undetermined"]


@dataclass(frozen=True)
class ValueUsed:
    """One patient value an outcome rests on."""

    field: str
    label: str
    value: str
    source: str
    date: dt.date | None = None
    derivation: str | None = None


@dataclass(frozen=True)
class CriterionResult:
    id: str
    kind: Literal["inclusion", "exclusion"]
    text: str
    outcome: Outcome
    #: one line: the deciding values, thresholds and verdict of this criterion
    reason: str
    #: one line per comparison or query, in rule order
    details: tuple[str, ...]
    values: tuple[ValueUsed, ...]
    #: data to collect (only when the outcome is unknown)
    missing: tuple[str, ...]
    #: how the registry text was read (from the rule file)
    notes: tuple[str, ...]


@dataclass(frozen=True)
class TrialResult:
    trial: str
    title: str
    verdict: Verdict
    as_of: dt.date
    as_of_source: str
    patient: str
    criteria: tuple[CriterionResult, ...]
    #: ids of the criteria that decide an ineligible verdict, or leave it undetermined
    deciding: tuple[str, ...]
    #: data items to collect to settle the unknown criteria
    to_collect: tuple[str, ...]
    #: criteria left to the clinician
    pending_manual: tuple[str, ...]
    rules_file: str
    rules_sha256: str
    trial_notes: tuple[str, ...] = field(default=())

    @property
    def summary(self) -> str:
        if self.verdict == "ineligible":
            reasons = {c.id: c.reason for c in self.criteria}
            return "ineligible: " + "; ".join(f"{cid} ({reasons[cid]})" for cid in self.deciding)
        if self.verdict == "undetermined":
            return "undetermined: collect " + "; ".join(self.to_collect)
        pending = f" (clinician to confirm {', '.join(self.pending_manual)})" if self.pending_manual else ""
        return "eligible" + pending


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def _threshold_text(node: Reading, spec: FieldSpec) -> str:
    op = OPERATORS[node.op]
    if node.op == "in":
        return f"in {{{', '.join(str(v) for v in node.value)}}}"
    if isinstance(node.value, bool):
        return f"{op.symbol} {'yes' if node.value else 'no'}"
    written = node.written
    if spec.measure is not None:
        canonical = f"{_fmt(node.value)} {spec.unit_display}"
        if written.replace(" ", "") != canonical.replace(" ", ""):
            written = f"{written} (= {canonical})"
    elif spec.suffix:
        written = f"{written} {spec.suffix}"
    return f"{op.symbol} {written}"


def _truth_word(truth: Truth) -> str:
    return {True: "true", False: "false", None: "unknown"}[truth]


class _Explainer:
    """Builds explanation lines from the engine's node values and the readings facts were built from.

    Patient-level nodes read ``evaluation.truths`` and ``evaluation.readings``; the nodes of a
    query read the same from each list entry (``ItemEvaluation``).
    """

    def __init__(self, evaluation: Evaluation) -> None:
        self.ev = evaluation
        self.nodes = evaluation.compiled.nodes

    # -------------------------------------------------------------- comparisons
    def comparison_line(self, index: int, truths: dict[int, Truth], reading: FieldReading, spec: FieldSpec) -> str:
        compiled = self.nodes[index]
        node = compiled.node
        assert isinstance(node, Comparison)
        truth = truths[index]
        per_reading = [truths[child] for child in compiled.children]  # the two readings of a disputed boundary
        label = node.label or spec.label
        thresholds = [_threshold_text(r, spec) for r in node.readings]
        threshold = thresholds[0] if len(thresholds) == 1 else f"{thresholds[0]}, or as read otherwise {thresholds[1]}"
        if isinstance(reading, Absence):
            return f"{label}: unknown, {reading.reason} (needs {threshold})"
        when = ""
        if reading.date and reading.source.startswith(("labs", "disease", "pregnancy.tests")):
            days = (self.ev.as_of - reading.date).days
            when = f" on {reading.date} ({days} day{'s' if days != 1 else ''} before the as-of date)"
        if len(per_reading) == 2 and per_reading[0] != per_reading[1]:
            return (f"{label}: {reading.display}{when} (disputed boundary: {thresholds[0]}: "
                    f"{_truth_word(per_reading[0])}, but as read otherwise {thresholds[1]}: "
                    f"{_truth_word(per_reading[1])}; the clinician decides)")
        return f"{label}: {reading.display}{when} ({threshold}: {_truth_word(truth)})"

    def deciding(self, index: int, truths: dict[int, Truth]) -> list[int]:
        """The leaves (comparisons, queries, manual parts) that decide node ``index``'s value."""
        compiled = self.nodes[index]
        if not compiled.children or isinstance(compiled.node, Comparison):
            return [index]
        if isinstance(compiled.node, Not):
            return self.deciding(compiled.children[0], truths)
        # all/any are decided by the children that share their value (Kleene logic)
        chosen = [c for c in compiled.children if truths[c] == truths[index]]
        result: list[int] = []
        for child in chosen or list(compiled.children):
            result.extend(self.deciding(child, truths))
        return result

    # -------------------------------------------------------------- list entries
    def _entry_leaves(self, query: QueryEvaluation, item: ItemEvaluation) -> list[int]:
        return self.deciding(self.ev.compiled.query_roots[query.name], item.truths)

    def _entry_line(self, query: QueryEvaluation, item: ItemEvaluation) -> str:
        over = self.ev.compiled.trial.queries[query.name].over
        fields = LISTS[over].fields
        parts = []
        for leaf in self._entry_leaves(query, item):
            node = self.nodes[leaf].node
            assert isinstance(node, Comparison)
            parts.append(self.comparison_line(leaf, item.truths, item.readings[node.field], fields[node.field]))
        return f"{over}[{item.index}] {item.description}: " + "; ".join(parts)

    def query_line(self, query: QueryEvaluation, brief: bool = False) -> str:
        """The query's answer with every entry that decided it (``brief``: the answer and the entries named)."""
        spec = self.ev.compiled.trial.queries[query.name]
        listed = LISTS[spec.over]
        root = self.ev.compiled.query_roots[query.name]
        if query.items is None:
            return f"{spec.label}: unknown ({listed.label} not recorded)"
        if query.truth is False and not query.items:
            return f"{spec.label}: no ({listed.label} recorded as empty)"
        word = {True: "yes", False: "no", None: "unknown"}[query.truth]
        shown = [item for item in query.items if item.truths[root] == query.truth]
        if brief and query.truth is False:
            return f"{spec.label}: no (none of the {len(shown)} entries of the {listed.label} matches)"
        if brief and query.truth is True:
            return f"{spec.label}: yes, " + "; ".join(f"{spec.over}[{i.index}] {i.description}" for i in shown)
        return f"{spec.label}: {word}, " + " | ".join(self._entry_line(query, item) for item in shown)

    def _query_values(self, query: QueryEvaluation, values: dict[str, ValueUsed], missing: list[str]) -> None:
        """The entries' values that decided the query, and (when unknown) what would settle it."""
        spec = self.ev.compiled.trial.queries[query.name]
        listed = LISTS[spec.over]
        root = self.ev.compiled.query_roots[query.name]
        if query.items is None:
            if listed.collect not in missing:
                missing.append(listed.collect)
            return
        for item in query.items:
            if item.truths[root] != query.truth:
                continue
            for leaf in self._entry_leaves(query, item):
                node = self.nodes[leaf].node
                assert isinstance(node, Comparison)
                reading = item.readings[node.field]
                key = f"{spec.over}[{item.index}].{node.field}"
                if isinstance(reading, Observation):
                    values[key] = ValueUsed(key, listed.fields[node.field].label, reading.display, reading.source,
                                            reading.date, reading.derivation)
                elif reading.collect not in missing:
                    missing.append(reading.collect)

    # -------------------------------------------------------------- criteria
    def lines(self, index: int, out: list[str], values: dict[str, ValueUsed], missing: list[str]) -> None:
        """Detail lines for the comparisons, queries and manual parts under node ``index``."""
        compiled = self.nodes[index]
        node = compiled.node
        if isinstance(node, (Comparison, QueryRef, ManualPart)):
            out.append(self.leaf_line(index))
        if isinstance(node, Comparison):
            reading = self.ev.readings[node.field]
            if isinstance(reading, Observation):
                values[node.field] = ValueUsed(node.field, PATIENT_FIELDS[node.field].label, reading.display,
                                               reading.source, reading.date, reading.derivation)
            elif reading.collect not in missing:
                missing.append(reading.collect)
            return
        if isinstance(node, QueryRef):
            self._query_values(self.ev.queries[node.query], values, missing)
            return
        if isinstance(node, ManualPart):
            return
        for child in compiled.children:
            self.lines(child, out, values, missing)

    def leaf_line(self, index: int, brief: bool = False) -> str:
        node = self.nodes[index].node
        if isinstance(node, Comparison):
            return self.comparison_line(index, self.ev.truths, self.ev.readings[node.field],
                                        PATIENT_FIELDS[node.field])
        if isinstance(node, ManualPart):
            return f"left to the clinician: {node.reason}"
        assert isinstance(node, QueryRef)
        return self.query_line(self.ev.queries[node.query], brief)

    def needs_data(self, index: int) -> bool:
        """Is unknown leaf ``index`` unknown for want of data (rather than left to the clinician)?"""
        node = self.nodes[index].node
        if isinstance(node, Comparison):
            return isinstance(self.ev.readings[node.field], Absence)
        if isinstance(node, QueryRef):
            query = self.ev.queries[node.query]
            if query.items is None:
                return True
            root = self.ev.compiled.query_roots[node.query]
            for item in query.items:
                if item.truths[root] is None:
                    for leaf in self._entry_leaves(query, item):
                        leaf_node = self.nodes[leaf].node
                        assert isinstance(leaf_node, Comparison)
                        if isinstance(item.readings[leaf_node.field], Absence):
                            return True
        return False


_OUTCOMES: dict[Truth, Outcome] = {True: "met", False: "not_met", None: "unknown"}


def _outcome(truth: Truth) -> Outcome:
    return _OUTCOMES[truth]


def _readings(evaluation: Evaluation, criterion: Criterion) -> tuple[str, ...]:
    """The criterion's notes, then those of the queries it uses (each once): every reading behind it."""
    notes = list(criterion.notes)
    if criterion.condition is not None:
        queries = evaluation.compiled.trial.queries
        used = dict.fromkeys(n.query for n in walk(criterion.condition) if isinstance(n, QueryRef))
        for name in used:
            notes += [f"({queries[name].label}) {note}" for note in queries[name].notes if note not in notes]
    return tuple(notes)


def explain_criterion(evaluation: Evaluation, criterion: Criterion) -> CriterionResult:
    if criterion.condition is None:
        assert criterion.manual is not None
        return CriterionResult(criterion.id, criterion.kind, criterion.text, "manual",
                               f"left to the clinician: {criterion.manual}", (), (), (), criterion.notes)
    explainer = _Explainer(evaluation)
    root: CompiledNode = explainer.nodes[evaluation.compiled.criterion_roots[criterion.id]]
    truth = evaluation.truths[root.index]
    details: list[str] = []
    values: dict[str, ValueUsed] = {}
    explainer.lines(root.index, details, values, [])
    leaves = explainer.deciding(root.index, evaluation.truths)
    reason = "; ".join(explainer.leaf_line(i, brief=True) for i in leaves)
    outcome = _outcome(truth)
    missing: list[str] = []
    if truth is None:
        if any(explainer.needs_data(leaf) for leaf in leaves):
            settle: dict[str, ValueUsed] = {}
            for leaf in leaves:  # only what is needed to settle the unknown parts
                explainer.lines(leaf, [], settle, missing)
        else:  # decided up to parts the registry leaves to clinical judgement
            outcome = "manual"
    return CriterionResult(criterion.id, criterion.kind, criterion.text, outcome, reason, tuple(details),
                           tuple(values.values()), tuple(missing), _readings(evaluation, criterion))


def verdict_of(results: tuple[CriterionResult, ...]) -> tuple[Verdict, tuple[str, ...], tuple[str, ...]]:
    """The trial verdict, the criteria that decide it, and the data to collect."""
    failing = [r.id for r in results if (r.kind == "inclusion" and r.outcome == "not_met")
               or (r.kind == "exclusion" and r.outcome == "met")]
    unknown = [r for r in results if r.outcome == "unknown"]
    to_collect: list[str] = []
    for result in unknown:
        for item in result.missing:
            if item not in to_collect:
                to_collect.append(item)
    if failing:
        return "ineligible", tuple(failing), tuple(to_collect)
    if unknown:
        return "undetermined", tuple(r.id for r in unknown), tuple(to_collect)
    return "eligible", (), ()


def explain(evaluation: Evaluation, as_of_source: str) -> TrialResult:
    trial = evaluation.compiled.trial
    results = tuple(explain_criterion(evaluation, criterion) for criterion in trial.criteria)
    verdict, deciding, to_collect = verdict_of(results)
    return TrialResult(
        trial=trial.id,
        title=trial.title,
        verdict=verdict,
        as_of=evaluation.as_of,
        as_of_source=as_of_source,
        patient=evaluation.profile.id,
        criteria=results,
        deciding=deciding,
        to_collect=to_collect,
        pending_manual=tuple(r.id for r in results if r.outcome == "manual"),
        rules_file=trial.path,
        rules_sha256=trial.content_hash,
        trial_notes=trial.notes,
    )

"""Stage 5: turn an engine evaluation into explained, typed results.

Over 500 lines: the result types, the explainer of each criterion (with the clinician's question
when the record points against eligibility) and the verdict read one evaluation's node values
together; recorded decisions are settled apart, in :mod:`matcher.results.decisions`.

Everything a result says comes from our own criterion objects and the
readings the facts were built from; the engine only supplies which nodes were
true, false or unknown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Literal, NamedTuple, TypeVar

from matcher.engine.evaluate import Evaluation, ItemEvaluation, QueryEvaluation, Truth
from matcher.model.fields import LISTS, PATIENT_FIELDS, Absence, FieldSpec, ListSpec, Observation
from matcher.model.fields import Reading as FieldReading
from matcher.model.profile import ClinicianDecision
from matcher.results.decisions import settle
from matcher.rules.compile import PATIENT_KIND, CompiledTrial
from matcher.rules.language import (
    OPERATORS,
    AllOf,
    Comparison,
    Criterion,
    Equivalent,
    ManualPart,
    Not,
    Query,
    QueryRef,
    Reading,
    Trial,
    walk,
)

Outcome = Literal["met", "not_met", "unknown", "manual"]
Verdict = Literal["eligible", "ineligible", "undetermined", "review"]


@dataclass(frozen=True)
class ValueUsed:
    """One patient value an outcome rests on."""

    field: str
    label: str
    value: str
    source: str
    date: dt.date | None = None
    derivation: str | None = None


class _Named:
    """A criterion's id and label, shown together."""

    id: str
    label: str | None

    @property
    def named(self) -> str:
        """The id with its label, as a person reads it: ``inc-age (age over 18 and under 70)``."""
        return f"{self.id} ({self.label})" if self.label else self.id


@dataclass(frozen=True)
class CriterionOutcome(_Named):
    """A criterion's outcome without its explanation: what the CSV, the screening log and
    :meth:`matcher.api.Matcher.outcomes` read. Each field is the field of the same name of
    :class:`CriterionResult`, worked out in the same place."""

    id: str
    kind: Literal["inclusion", "exclusion"]
    outcome: Outcome
    #: data to collect (only when the outcome is unknown)
    missing: tuple[str, ...]
    #: left to the clinician and the record already points against eligibility: the question to decide
    question: str | None = None
    routine: bool = False
    decision: str | None = None
    decision_ignored: str | None = None
    label: str | None = None


@dataclass(frozen=True)
class CriterionResult(_Named):
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
    #: left to the clinician and the record already points against eligibility: the question to decide,
    #: with the recorded values behind it (None otherwise)
    question: str | None = None
    #: a routine confirmation asked of every patient (consent, willingness), from the rule file
    routine: bool = False
    #: "decided by <who> on <date>: <outcome>" when a recorded clinician decision settled a manual outcome
    decision: str | None = None
    #: why a recorded decision on this criterion was not used (None when there is none or it was used)
    decision_ignored: str | None = None
    #: the criterion's short label from the rule file, shown beside its id (None if the file gives none)
    label: str | None = None
    #: ``details`` as the text output shows them, where they differ: a query no entry matched shows the
    #: entries that nearly matched (failing one condition) and one line for the rest; ``details`` (the JSON,
    #: the audit record) keeps every entry. Empty when the text shows ``details`` as they are.
    text_details: tuple[str, ...] = ()


#: a criterion as the verdict rule and recorded decisions read it: its outcome view or its full result
_View = TypeVar("_View", CriterionOutcome, CriterionResult)


@dataclass(frozen=True)
class TrialOutcome:
    """A trial's outcomes for one patient without their explanation lines (:func:`outcomes`): what the CSV, the
    screening log and :meth:`matcher.api.Matcher.outcomes` read. The full result (:class:`TrialResult`) is
    this with each criterion explained."""

    trial: str
    title: str
    verdict: Verdict
    as_of: dt.date
    as_of_source: str
    patient: str
    criteria: tuple[CriterionOutcome, ...] | tuple[CriterionResult, ...]
    #: ids of the criteria that decide an ineligible verdict, or leave it undetermined
    deciding: tuple[str, ...]
    #: data items to collect to settle the unknown criteria
    to_collect: tuple[str, ...]
    #: criteria left to the clinician
    pending_manual: tuple[str, ...]
    rules_file: str
    rules_sha256: str
    trial_notes: tuple[str, ...] = field(default=())
    #: recorded decisions for this trial that name none of its criteria
    decisions_not_used: tuple[str, ...] = field(default=())

    def named(self, criterion_id: str) -> str:
        """Criterion ``criterion_id`` with its label (``exc-2a (clinical heart failure)``)."""
        for criterion in self.criteria:
            if criterion.id == criterion_id:
                return criterion.named
        return criterion_id

    @property
    def to_decide(self) -> tuple[str, ...]:
        """The clinical questions the record argues against: one line each (what makes the verdict review)."""
        return tuple(c.question for c in self.criteria if c.outcome == "manual" and c.question)

    @property
    def clinical_pending(self) -> tuple[str, ...]:
        """Manual criteria that are clinical questions with nothing recorded against them."""
        return tuple(c.id for c in self.criteria if c.outcome == "manual" and not c.question and not c.routine)

    @property
    def routine_pending(self) -> tuple[str, ...]:
        """Routine confirmations (consent, willingness) still to be obtained."""
        return tuple(c.id for c in self.criteria if c.outcome == "manual" and c.routine)

    @property
    def decided(self) -> tuple[str, ...]:
        """"<id>: decided by <who> on <date>: ..." for every criterion a recorded decision settled."""
        return tuple(f"{c.named}: {c.decision}" for c in self.criteria if c.decision)


@dataclass(frozen=True)
class TrialResult(TrialOutcome):
    """A trial's result for one patient, each criterion explained (:func:`explain`); its fields are those of
    :class:`TrialOutcome`, in the same order."""

    criteria: tuple[CriterionResult, ...]

    @property
    def summary(self) -> str:
        """One line, each criterion named with its label."""
        if self.verdict == "ineligible":
            reasons = {c.id: c.reason for c in self.criteria}
            return "ineligible: " + " | ".join(f"{self.named(cid)}: {reasons[cid]}" for cid in self.deciding)
        if self.verdict == "undetermined":
            return "undetermined: collect " + "; ".join(self.to_collect)
        if self.verdict == "review":
            return "review: clinician to decide: " + " | ".join(self.to_decide)
        pending = []
        if self.clinical_pending:
            pending.append(f"clinician to confirm {', '.join(map(self.named, self.clinical_pending))}")
        if self.routine_pending:
            pending.append(f"routine: {', '.join(map(self.named, self.routine_pending))}")
        if self.decided:
            pending.append("decided: " + ", ".join(c.named for c in self.criteria if c.decision))
        return "eligible" + (f" ({'; '.join(pending)})" if pending else "")


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


_TRUTH_WORDS: dict[Truth, str] = {True: "true", False: "false", None: "unknown"}
_ANSWER_WORDS: dict[Truth, str] = {True: "yes", False: "no", None: "unknown"}


def _truth_word(truth: Truth) -> str:
    return _TRUTH_WORDS[truth]


# ------------------------------------------------------------------ what depends on the rule file only
_LEAF, _NOT, _BRANCH = 0, 1, 2


class _NodePlan(NamedTuple):
    """A compiled node as explanations need it, worked out once per trial."""

    #: _LEAF (comparison, query, manual part), _NOT, or _BRANCH (all/any)
    shape: int
    children: tuple[int, ...]
    #: comparisons, queries and manual parts under the node, in rule order (itself for a leaf)
    leaves: tuple[int, ...]
    #: comparisons: the field read, its spec (patient or list entry), the label and threshold texts
    field: str = ""
    spec: FieldSpec | None = None
    label: str = ""
    thresholds: tuple[str, ...] = ()
    threshold: str = ""
    #: queries: the query's name; manual parts: the line that says so
    query: str = ""
    manual_line: str = ""
    #: an ``equivalent`` node: measures of one quantity, which may disagree
    equivalent: bool = False


class _QueryPlan(NamedTuple):
    spec: Query
    listed: ListSpec
    root: int


class _Plan(NamedTuple):
    nodes: tuple[_NodePlan, ...]
    queries: dict[str, _QueryPlan]
    #: criterion id -> the criterion's notes and those of the queries it uses (see _readings)
    notes: dict[str, tuple[str, ...]]
    #: criterion id -> its ``equivalent`` nodes (measures of one quantity, which may disagree)
    equivalents: dict[str, tuple[int, ...]]
    #: (criterion id, outcome) -> its view when there is nothing to collect and no question (filled on use)
    plain: dict[tuple[str, Outcome], CriterionOutcome]


def _plan(compiled: CompiledTrial) -> _Plan:
    """Everything explanations need that depends only on the rule file, built on first use and kept."""
    cached = compiled.derived.get("explain")
    if isinstance(cached, _Plan):
        return cached
    nodes: list[_NodePlan] = []
    for compiled_node in compiled.nodes:
        node = compiled_node.node
        if isinstance(node, Comparison):
            scope = compiled_node.scope
            spec = PATIENT_FIELDS[node.field] if scope == PATIENT_KIND else LISTS[scope].fields[node.field]
            thresholds = tuple(_threshold_text(r, spec) for r in node.readings)
            threshold = thresholds[0] if len(thresholds) == 1 else \
                f"{thresholds[0]}, or as read otherwise {thresholds[1]}"
            plan = _NodePlan(_LEAF, compiled_node.children, (compiled_node.index,), node.field, spec,
                             node.label or spec.label, thresholds, threshold)
        elif isinstance(node, QueryRef):
            plan = _NodePlan(_LEAF, (), (compiled_node.index,), query=node.query)
        elif isinstance(node, ManualPart):
            plan = _NodePlan(_LEAF, (), (compiled_node.index,), manual_line=f"left to the clinician: {node.reason}")
        else:
            leaves = tuple(leaf for child in compiled_node.children for leaf in nodes[child].leaves)
            plan = _NodePlan(_NOT if isinstance(node, Not) else _BRANCH, compiled_node.children, leaves,
                             equivalent=isinstance(node, Equivalent))
        nodes.append(plan)  # children come before their parent (compile.py numbers them so)
    trial = compiled.trial
    queries = {name: _QueryPlan(query, LISTS[query.over], compiled.query_roots[name])
               for name, query in trial.queries.items()}
    notes = {criterion.id: _readings(trial, criterion) for criterion in trial.criteria}
    equivalents: dict[str, tuple[int, ...]] = {}
    for compiled_node in compiled.nodes:
        if nodes[compiled_node.index].equivalent:
            equivalents[compiled_node.owner] = (*equivalents.get(compiled_node.owner, ()), compiled_node.index)
    built = _Plan(tuple(nodes), queries, notes, equivalents, {})
    compiled.derived["explain"] = built
    return built


def _readings(trial: Trial, criterion: Criterion) -> tuple[str, ...]:
    """The criterion's notes, then those of the queries it uses (each once): every reading behind it."""
    notes = list(criterion.notes)
    if criterion.condition is not None:
        queries = trial.queries
        used = dict.fromkeys(n.query for n in walk(criterion.condition) if isinstance(n, QueryRef))
        for name in used:
            notes += [f"({queries[name].label}) {note}" for note in queries[name].notes if note not in notes]
    return tuple(notes)


# ------------------------------------------------------------------ what depends on the patient
def _unknown_only_as_partial(query: QueryEvaluation, root: int) -> bool:
    """No recorded entry matches, and the query is unknown only because the list is marked partial."""
    return (query.partial and query.truth is None and query.items is not None
            and all(item.truths[root] is False for item in query.items))


class _RestsOn(NamedTuple):
    """What a leaf's outcome rests on (:meth:`_Explainer._rests_on`)."""

    #: (key, label, reading) of each value read, in order
    readings: tuple[tuple[str, str, FieldReading], ...]
    #: a query whose list is not recorded, or only as possibly incomplete: what would settle it (else None)
    collect: tuple[str, ...] | None


class _Explainer:
    """Builds explanation lines from the engine's node values and the readings facts were built from.

    Patient-level nodes read ``evaluation.truths`` and ``evaluation.readings``; the nodes of a
    query read the same from each list entry (``ItemEvaluation``). One explainer serves every
    criterion of an evaluation, so a line or a query's entries are worked out once even where
    several criteria (or a criterion's details and its reason) show them.
    """

    def __init__(self, evaluation: Evaluation) -> None:
        self.ev = evaluation
        self.plan = _plan(evaluation.compiled)
        self.nodes = self.plan.nodes
        self._lines: dict[int, str] = {}
        self._query_lines: dict[tuple[str, int], str] = {}
        self._readings: dict[int, _RestsOn] = {}
        self._decided: dict[str, _Decided] = {}
        self._entry_leaf_memo: dict[tuple[str, int], list[int]] = {}

    # -------------------------------------------------------------- comparisons
    def comparison_line(self, index: int, truths: dict[int, Truth], reading: FieldReading) -> str:
        plan = self.nodes[index]
        if isinstance(reading, Absence):
            return f"{plan.label}: unknown, {reading.reason} (needs {plan.threshold})"
        when = ""
        if reading.date and reading.source.startswith(("labs", "disease", "bilag_2004", "pregnancy.tests")):
            days = (self.ev.as_of - reading.date).days
            window = self.ev.compiled.windows.get(plan.field)
            within = f", within the {window.days}-day window" if window is not None else ""
            when = f" on {reading.date} ({days} day{'s' if days != 1 else ''} before the as-of date){within}"
        if plan.children:  # the two readings of a disputed boundary
            first, second = truths[plan.children[0]], truths[plan.children[1]]
            if first != second:
                return (f"{plan.label}: {reading.display}{when} (disputed boundary: {plan.thresholds[0]}: "
                        f"{_TRUTH_WORDS[first]}, but as read otherwise {plan.thresholds[1]}: "
                        f"{_TRUTH_WORDS[second]}; the clinician decides)")
        return f"{plan.label}: {reading.display}{when} ({plan.threshold}: {_TRUTH_WORDS[truths[index]]})"

    def deciding(self, index: int, truths: dict[int, Truth]) -> list[int]:
        """The leaves (comparisons, queries, manual parts) that decide node ``index``'s value."""
        plan = self.nodes[index]
        if plan.shape == _LEAF:
            return [index]
        if plan.shape == _NOT:
            return self.deciding(plan.children[0], truths)
        # all/any are decided by the children that share their value (Kleene logic)
        value = truths[index]
        chosen = [c for c in plan.children if truths[c] == value]
        result: list[int] = []
        for child in chosen or plan.children:
            result.extend(self.deciding(child, truths))
        return result

    # -------------------------------------------------------------- list entries
    def _entry_leaves(self, query: QueryEvaluation, item: ItemEvaluation) -> list[int]:
        key = (query.name, item.index)
        found = self._entry_leaf_memo.get(key)
        if found is None:
            found = self._entry_leaf_memo[key] = self.deciding(self.plan.queries[query.name].root, item.truths)
        return found

    def _entry_line(self, query: QueryEvaluation, item: ItemEvaluation) -> str:
        over = self.plan.queries[query.name].spec.over
        parts = [self.comparison_line(leaf, item.truths, item.readings[self.nodes[leaf].field])
                 for leaf in self._entry_leaves(query, item)]
        return f"{over}[{item.index}] {item.description}: " + "; ".join(parts)

    def query_line(self, query: QueryEvaluation, brief: bool = False) -> str:
        """The query's answer with every entry that decided it (``brief``: the answer and the entries named),
        and how many entries dated after the as-of date were left out."""
        line = self._query_answer(query, brief)
        if query.left_out:
            plural = "entries" if query.left_out > 1 else "entry"
            line += f" ({query.left_out} {plural} dated after the as-of date left out)"
        return line

    def compact_query_line(self, query: QueryEvaluation) -> str | None:
        """A query no entry matched, as the text output shows it: every entry that failed only one part of the
        query in full, then one line for the others counting the first part each fails (``7 other
        medications: drug ≠ cyclophosphamide: 6; route ≠ iv: 1``). None when the full line is as short
        (the query matched, is unknown, or has no entry to summarise)."""
        if query.truth is not False or not query.items:
            return None
        plan = self.plan.queries[query.name]
        root, listed = plan.root, plan.listed
        near: list[ItemEvaluation] = []
        others: dict[str, int] = {}
        for item in query.items:
            failed = self._failed_parts(root, item.truths)
            if failed is None:
                near.append(item)
            else:
                others[failed] = others.get(failed, 0) + 1
        if not others:
            return None
        parts = [self._entry_line(query, item) for item in near]
        count = sum(others.values())
        other = "other " if near else ""
        noun = "entries" if count > 1 else "entry"
        parts.append(f"{count} {other}{noun} of the {listed.label}, by the first condition failed: "
                     + "; ".join(f"{reason}: {n}" for reason, n in others.items()))
        nearly = "nearly matched: " if near else ""
        line = f"{plan.spec.label}: no, {nearly}" + " | ".join(parts)
        if query.left_out:
            plural = "entries" if query.left_out > 1 else "entry"
            line += f" ({query.left_out} {plural} dated after the as-of date left out)"
        return line

    def _failed_parts(self, root: int, truths: dict[int, Truth]) -> str | None:
        """None when the entry nearly matched; else the first part it fails, in plain words (``drug ≠
        cyclophosphamide``). Nearly matched: a query of several parts (an ``all``) whose parts are all true but
        one false, that one not the first: the first part says which entries the query is about (the drug, the
        kind of infection), so an entry failing it (mycophenolate against azathioprine) is another thing, not a
        near miss."""
        plan = self.nodes[root]
        is_all = plan.shape == _BRANCH and isinstance(self.ev.compiled.nodes[root].node, AllOf)
        parts = plan.children if is_all else (root,)
        failed = [part for part in parts if truths[part] is False]
        if (is_all and len(failed) == 1 and failed[0] != parts[0]
                and all(truths[part] is True for part in parts if part != failed[0])):
            return None
        first = failed[0] if failed else root
        return " and ".join(dict.fromkeys(self._failure(leaf, truths) for leaf in self.deciding(first, truths)))

    def _failure(self, leaf: int, truths: dict[int, Truth]) -> str:
        """What a deciding leaf of a failed entry says: its comparison negated where it is false."""
        plan = self.nodes[leaf]
        node = self.ev.compiled.nodes[leaf].node
        if plan.spec is None or not isinstance(node, Comparison):
            return plan.manual_line or plan.query
        if truths[leaf] is not False:  # true under a ``not``
            return f"{plan.label} {plan.thresholds[0]}"
        reading = node.readings[0]
        if plan.spec.type == "bool":
            shown = reading.value if reading.op == "ne" else not reading.value
            return f"{plan.label} {_threshold_text(Reading('eq', shown, reading.written), plan.spec)}"
        if reading.op == "in":
            return f"{plan.label} not in {{{', '.join(str(v) for v in reading.value)}}}"
        negation = OPERATORS[reading.op].negation
        return f"{plan.label} {_threshold_text(Reading(negation, reading.value, reading.written), plan.spec)}"

    def _query_answer(self, query: QueryEvaluation, brief: bool) -> str:
        plan = self.plan.queries[query.name]
        spec, listed, root = plan.spec, plan.listed, plan.root
        if query.items is None:
            return f"{spec.label}: unknown ({listed.label} not recorded)"
        if query.truth is False and not query.items:
            return f"{spec.label}: no ({listed.label} recorded as empty)"
        if _unknown_only_as_partial(query, root):
            return (f"{spec.label}: unknown (none of the {len(query.items)} recorded entries of the {listed.label} "
                    "matches, but the list is recorded as possibly incomplete)")
        shown = [item for item in query.items if item.truths[root] == query.truth]
        if brief and query.truth is False:
            return f"{spec.label}: no (none of the {len(shown)} entries of the {listed.label} matches)"
        if brief and query.truth is True:
            return f"{spec.label}: yes, " + "; ".join(f"{spec.over}[{i.index}] {i.description}" for i in shown)
        return f"{spec.label}: {_ANSWER_WORDS[query.truth]}, " + \
            " | ".join(self._entry_line(query, item) for item in shown)

    def _rests_on(self, leaf: int) -> _RestsOn:
        """The readings leaf ``leaf`` rests on: (key, label, reading) of its field, or of each deciding leaf of
        each entry that shares its query's answer, in order; and, for a query whose list is not recorded (or
        only as possibly incomplete), what would settle it."""
        found = self._readings.get(leaf)
        if found is not None:
            return found
        plan = self.nodes[leaf]
        found = _RestsOn((), None)
        if plan.spec is not None:
            found = _RestsOn(((plan.field, PATIENT_FIELDS[plan.field].label, self.ev.readings[plan.field]),), None)
        elif plan.query:
            query = self.ev.queries[plan.query]
            planned = self.plan.queries[plan.query]
            if query.items is None:
                found = _RestsOn((), (planned.listed.collect,))
            elif _unknown_only_as_partial(query, planned.root):
                found = _RestsOn((), (f"{planned.listed.collect}: the recorded list may be incomplete",))
            else:
                over, fields, shown = planned.spec.over, planned.listed.fields, []
                for item in query.items:
                    if item.truths[planned.root] != query.truth:
                        continue
                    for entry_leaf in self._entry_leaves(query, item):
                        name = self.nodes[entry_leaf].field
                        shown.append((f"{over}[{item.index}].{name}", fields[name].label, item.readings[name]))
                found = _RestsOn(tuple(shown), None)
        self._readings[leaf] = found
        return found

    # -------------------------------------------------------------- criteria
    def values_of(self, leaf: int) -> tuple[tuple[str, ValueUsed], ...]:
        """The patient values leaf ``leaf`` rests on (key -> value used), in order."""
        return tuple((key, ValueUsed(key, label, reading.display, reading.source, reading.date, reading.derivation))
                     for key, label, reading in self._rests_on(leaf).readings if isinstance(reading, Observation))

    def missing_of(self, leaf: int) -> tuple[str, ...]:
        """The data to collect that leaf ``leaf`` lacks, in order."""
        rests_on = self._rests_on(leaf)
        if rests_on.collect is not None:
            return rests_on.collect
        return tuple(reading.collect for _, _, reading in rests_on.readings if isinstance(reading, Absence))

    def collect_missing(self, leaves: tuple[int, ...] | list[int], missing: list[str]) -> None:
        """Add the data to collect of ``leaves``, in order, each item once."""
        for leaf in leaves:
            for item in self.missing_of(leaf):
                if item not in missing:
                    missing.append(item)

    def leaf_line(self, index: int, brief: bool | int = False) -> str:
        """The leaf's line: full (every entry of a query), ``True`` (brief: the answer and the entries named) or
        :data:`_COMPACT` (a query no entry matched: its near misses and one line for the rest)."""
        plan = self.nodes[index]
        if plan.query:  # several criteria may use one query: its lines are worked out once
            key = (plan.query, int(brief))
            line = self._query_lines.get(key)
            if line is None:
                query = self.ev.queries[plan.query]
                if brief == _COMPACT:  # the full line where it is as short (computed once for both)
                    line = self.compact_query_line(query) or self.leaf_line(index)
                else:
                    line = self.query_line(query, bool(brief))
                self._query_lines[key] = line
            return line
        line = self._lines.get(index)  # a comparison's line serves as detail and as reason
        if line is None:
            line = self._lines[index] = plan.manual_line if plan.spec is None else \
                self.comparison_line(index, self.ev.truths, self.ev.readings[plan.field])
        return line

    def needs_data(self, index: int) -> bool:
        """Is unknown leaf ``index`` unknown for want of data (rather than left to the clinician)?"""
        plan = self.nodes[index]
        if plan.spec is not None:
            return isinstance(self.ev.readings[plan.field], Absence)
        if plan.query:
            query = self.ev.queries[plan.query]
            if query.items is None or (query.partial and query.truth is None):
                return True
            root = self.plan.queries[plan.query].root
            for item in query.items:
                if item.truths[root] is None:
                    for leaf in self._entry_leaves(query, item):
                        if isinstance(item.readings[self.nodes[leaf].field], Absence):
                            return True
        return False

    def evidence_against(self, index: int, against: bool, found: list[int], reasons: list[str],
                         context: list[int]) -> None:
        """Collect the decided leaves that push unknown node ``index`` towards ``against``, and the manual parts.

        A node left unknown by a manual part points against eligibility when a decided part already
        goes the way that would exclude: a true part of an ``all`` the exclusion needs true (ALT above
        2 x ULN beside "not related to disease activity"), a false part of an ``any`` the inclusion
        needs (no glucocorticoid course beside the NSAID left to the clinician). An ``any`` whose
        other parts are merely false leaves the manual part alone, and points nowhere. ``context``
        gets the decided-true parts beside each judgement (what the clinician is asked about).
        """
        plan = self.nodes[index]
        truths = self.ev.truths
        if plan.shape == _LEAF:
            if plan.manual_line:
                reasons.append(plan.manual_line.removeprefix("left to the clinician: "))
            return
        if plan.shape == _NOT:
            self.evidence_against(plan.children[0], not against, found, reasons, context)
            return
        is_all = isinstance(self.ev.compiled.nodes[index].node, AllOf)
        for child in plan.children:
            truth = truths[child]
            if truth is None:
                self.evidence_against(child, against, found, reasons, context)
                continue
            if truth is against and is_all == against:  # all(..) needing true, any(..) needing false
                found.extend(self.deciding(child, truths))
            if truth is True and is_all:
                context.extend(self.deciding(child, truths))

    def _question(self, criterion: Criterion, root: int) -> str | None:
        """The clinician's question when the record already points against eligibility (else None)."""
        if criterion.routine:
            return None
        found: list[int] = []
        reasons: list[str] = []
        context: list[int] = []
        self.evidence_against(root, criterion.kind == "exclusion", found, reasons, context)
        if not found or not reasons:
            return None
        evidence = "; ".join(dict.fromkeys(self.leaf_line(leaf, True) for leaf in context or found))
        return f"{criterion.named}, {evidence}: {' / '.join(dict.fromkeys(reasons))}"

    def records_disagree(self, owner: str) -> bool:
        """Is some ``equivalent`` node of criterion ``owner`` unknown because its measures disagree (current
        ones, or one older than its window that is within its window before a newer one)?"""
        truths = self.ev.truths
        peers = self.ev.compiled.peers
        return any(truths[index] is None
                   and {truths[peer] for peer in peers.get(index, self.nodes[index].children)} >= {True, False}
                   for index in self.plan.equivalents.get(owner, ()))

    def superseding_lines(self, owner: str) -> list[str]:
        """Each value older than its window that still counts in an unknown ``equivalent`` node of criterion
        ``owner`` and disagrees with the current measures: which record, how old, and which newer one it is
        within its window of."""
        evaluation = self.ev
        truths, compiled = evaluation.truths, evaluation.compiled
        lines: list[str] = []
        for index in self.plan.equivalents.get(owner, ()):
            node = compiled.nodes[index]
            if truths[index] is not None:
                continue
            peers = compiled.peers.get(node.index, ())
            labels = {self.nodes[child].field: self.nodes[child].label for child in node.children}
            current = {truths[child] for child in node.children} - {None}
            for peer in peers:
                key = compiled.nodes[peer].key
                found = evaluation.superseding.get(key) if key else None
                if found is None or truths[peer] is None or not current - {truths[peer]}:
                    continue
                observation = found.observation
                assert observation.date is not None
                age = (evaluation.as_of - observation.date).days
                lines.append(f"{labels[found.field]} {observation.display} of {observation.date}, {age} days old, "
                             f"is within {found.window.days} days of the {labels[found.newer_field]} of "
                             f"{found.newer_date} and disagrees")
        return lines

    def decide(self, criterion: Criterion) -> _Decided:
        """The criterion's outcome, data to collect and clinician's question (before recorded decisions): the
        one place they are worked out, for the outcome view and the full explanation alike."""
        found = self._decided.get(criterion.id)
        if found is None:
            found = self._decided[criterion.id] = self._decide(criterion)
        return found

    def _decide(self, criterion: Criterion) -> _Decided:
        if criterion.condition is None:
            return _Decided(self._plain(criterion, "manual"), None, None)
        evaluation = self.ev
        root = evaluation.compiled.criterion_roots[criterion.id]
        truth = evaluation.truths[root]
        if truth is not None:
            return _Decided(self._plain(criterion, _OUTCOMES[truth]), None, None)
        leaves = self.deciding(root, evaluation.truths)
        disagree = self.records_disagree(criterion.id)
        if not disagree and not any(self.needs_data(leaf) for leaf in leaves):
            # decided up to parts the registry leaves to clinical judgement
            question = self._question(criterion, root)
            view = self._plain(criterion, "manual") if question is None else CriterionOutcome(
                criterion.id, criterion.kind, "manual", (), question, bool(criterion.routine), label=criterion.label)
            return _Decided(view, leaves, None)
        missing: list[str] = []
        older = None
        self.collect_missing(leaves, missing)  # only what is needed to settle the unknown parts
        if disagree:  # never decided by either record: unknown until the clinician has read both
            older = self.superseding_lines(criterion.id)
            if older:  # a value just past its window, taken within its window of a newer one, disagrees
                missing.append(f"the clinician's reading of {criterion.id}: records of one quantity taken "
                               "within their window of each other disagree (shown side by side), or a "
                               "current measure of each")
            else:
                missing.append(f"the clinician's reading of {criterion.id}: current records of one quantity "
                               "disagree (shown side by side)")
        return _Decided(CriterionOutcome(criterion.id, criterion.kind, "unknown", tuple(missing), None,
                                         bool(criterion.routine), label=criterion.label), leaves, older)

    def _plain(self, criterion: Criterion, outcome: Outcome) -> CriterionOutcome:
        """The view of a criterion with nothing to collect and no question: one frozen object per outcome of
        each criterion of the trial, shared by its evaluations."""
        shared: dict[tuple[str, Outcome], CriterionOutcome] = self.plan.plain
        found = shared.get((criterion.id, outcome))
        if found is None:
            found = shared[criterion.id, outcome] = CriterionOutcome(
                criterion.id, criterion.kind, outcome, (), None, bool(criterion.routine), label=criterion.label)
        return found

    def criterion(self, criterion: Criterion, settled: CriterionOutcome | None = None) -> CriterionResult:
        """The criterion explained: its outcome view (``settled``: as recorded decisions left it; default: as
        :meth:`decide` found it) with the reason, details and values behind it."""
        decided = self.decide(criterion)
        view = settled or decided.view
        if criterion.condition is None:
            assert criterion.manual is not None
            return CriterionResult(criterion.id, criterion.kind, criterion.text, view.outcome,
                                   f"left to the clinician: {criterion.manual}", (), (), view.missing, criterion.notes,
                                   view.question, view.routine, view.decision, view.decision_ignored, view.label)
        every_leaf = self.nodes[self.ev.compiled.criterion_roots[criterion.id]].leaves
        leaf_line = self.leaf_line
        details = tuple([leaf_line(leaf) for leaf in every_leaf])
        text_details = tuple([leaf_line(leaf, _COMPACT) for leaf in every_leaf])
        values: dict[str, ValueUsed] = {}
        for leaf in every_leaf:
            values.update(self.values_of(leaf))
        leaves = decided.leaves if decided.leaves is not None else self.deciding(
            self.ev.compiled.criterion_roots[criterion.id], self.ev.truths)
        reason = "; ".join(dict.fromkeys([leaf_line(i, True) for i in leaves]))  # a YAML alias repeats a subtree
        if decided.older is not None:  # records of one quantity disagree
            if decided.older:
                reason = f"{'; '.join(decided.older)}: records disagree (the clinician decides): {reason}"
            else:
                reason = f"records disagree (the clinician decides): {reason}"
        return CriterionResult(criterion.id, criterion.kind, criterion.text, view.outcome, reason, details,
                               tuple(values.values()), view.missing, self.plan.notes[criterion.id],
                               view.question, view.routine, view.decision, view.decision_ignored, view.label,
                               text_details=() if text_details == details else text_details)

    def trial_outcome(self, as_of_source: str, explained: bool = False) -> TrialOutcome:
        """The trial's outcome view: each criterion decided, the recorded decisions applied, the verdict; with
        ``explained``, the full result (a :class:`TrialResult`): the same, each criterion explained."""
        evaluation = self.ev
        trial = evaluation.compiled.trial
        views = tuple([self.decide(criterion).view for criterion in trial.criteria])
        unattached: tuple[str, ...] = ()
        if evaluation.profile.decisions:
            views, unattached = apply_decisions(views, evaluation.profile.decisions, trial.id, trial.content_hash,
                                                evaluation.as_of)
        verdict, deciding, to_collect = verdict_of(views)
        kind: type[TrialOutcome] = TrialResult if explained else TrialOutcome
        return kind(
            trial=trial.id,
            title=trial.title,
            verdict=verdict,
            as_of=evaluation.as_of,
            as_of_source=as_of_source,
            patient=evaluation.profile.id,
            criteria=tuple([self.criterion(criterion, view) for criterion, view in
                            zip(trial.criteria, views, strict=True)]) if explained else views,
            deciding=deciding,
            to_collect=to_collect,
            pending_manual=tuple(r.id for r in views if r.outcome == "manual"),
            rules_file=trial.path,
            rules_sha256=trial.content_hash,
            trial_notes=trial.notes,
            decisions_not_used=unattached,
        )


class _Decided(NamedTuple):
    """What :meth:`_Explainer.decide` finds for one criterion."""

    #: the outcome view, before recorded decisions
    view: CriterionOutcome
    #: the leaves that decide the criterion's root (what its reason shows), when it had to find them
    leaves: list[int] | None
    #: None unless records of one quantity disagree; then the lines of the older values that still count
    older: list[str] | None


_OUTCOMES: dict[Truth, Outcome] = {True: "met", False: "not_met", None: "unknown"}
#: the mode of :meth:`_Explainer.leaf_line` that compacts a query no entry matched (text output)
_COMPACT = 2


def explain_criterion(evaluation: Evaluation, criterion: Criterion) -> CriterionResult:
    return _Explainer(evaluation).criterion(criterion)


def excludes(criterion: CriterionOutcome | CriterionResult) -> bool:
    """Whether this criterion's outcome makes the patient ineligible (an inclusion not met, an exclusion met)."""
    return (criterion.kind == "inclusion" and criterion.outcome == "not_met") or (
        criterion.kind == "exclusion" and criterion.outcome == "met")


def verdict_of(results: tuple[CriterionOutcome | CriterionResult, ...]
               ) -> tuple[Verdict, tuple[str, ...], tuple[str, ...]]:
    """The trial verdict, the criteria that decide it, and the data to collect (from outcome views or full
    results alike)."""
    failing = [r.id for r in results if excludes(r)]
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
    review = [r.id for r in results if r.outcome == "manual" and r.question]
    if review:
        return "review", tuple(review), ()
    return "eligible", (), ()


def apply_decisions(results: tuple[_View, ...], decisions: list[ClinicianDecision], trial: str,
                    sha256: str, as_of: dt.date) -> tuple[tuple[_View, ...], tuple[str, ...]]:
    """The results (outcome views or full results) with the recorded decisions that settle them (see
    :func:`matcher.results.decisions.settle`)."""
    settlements, unattached = settle([(r.id, r.outcome) for r in results], decisions, trial, sha256, as_of)
    settled = []
    for result in results:
        found = settlements.get(result.id)
        settled.append(result if found is None else replace(
            result, outcome=found.outcome or result.outcome, decision=found.decision, decision_ignored=found.ignored))
    return tuple(settled), unattached


def outcomes(evaluation: Evaluation, as_of_source: str) -> TrialOutcome:
    """The outcome view of one evaluation: what :func:`explain` gives without its explanation lines."""
    return _Explainer(evaluation).trial_outcome(as_of_source)


def explain(evaluation: Evaluation, as_of_source: str) -> TrialResult:
    """The full explanation of one evaluation: its outcome view (:func:`outcomes`), each criterion explained."""
    result = _Explainer(evaluation).trial_outcome(as_of_source, explained=True)
    assert isinstance(result, TrialResult)
    return result

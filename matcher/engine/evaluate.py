"""Stage 4: evaluate one patient against compiled trials, in the engine.

For each trial: the entries of every list a query ranges over are asserted as
facts of their own and the engine decides each query node for each entry;
a query is then true if some entry matches, false if the list is recorded (and
not marked partial) and every entry fails (an empty list included), unknown
otherwise. The query results join the patient's field values in one patient
fact, and the engine decides every criterion node.

The measures of an ``equivalent`` group are also put in the fact under the
group's own keys where they *count* (compile.py): a measure counts where it is
current, or where its most recent record is within its own window before the
group's newest record (a value that just left its window still speaks against
a newer measure that disagrees with it, so waiting never turns "records
disagree" into "met"); one more than a window older than the newest record is
superseded. Only the group's comparisons read these keys.

The engine's answer is checked against itself before it is used: no node may
be both true and false, and every all/any/not node must agree with its
children under Kleene logic. A disagreement is an EvaluationError, never a
silent answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from matcher.engine.adapter import HoldsEngineHandles, Ruleset
from matcher.engine.cache import ENTRY_FACTS, PATIENT_FACTS, CacheStats, DecisionCache, FactClasses, NotCacheable
from matcher.errors import EvaluationError
from matcher.model.currency import Window, current
from matcher.model.fields import LISTS, PATIENT_FIELDS, Absence, Observation, Reading, fact_key
from matcher.model.profile import PatientProfile
from matcher.rules.compile import PATIENT_KIND, CompiledTrial, peer_key, presence_key, query_key
from matcher.rules.language import AllOf, AnyOf, Comparison, Equivalent, Not

Truth = bool | None


@dataclass(frozen=True)
class ItemEvaluation:
    index: int
    description: str
    truths: dict[int, Truth]
    readings: dict[str, Reading]


@dataclass(frozen=True)
class QueryEvaluation:
    name: str
    #: None when the list itself is not recorded
    items: tuple[ItemEvaluation, ...] | None
    truth: Truth
    #: the list is recorded as possibly incomplete (``partial_lists``): no match is "unknown", not "no"
    partial: bool = False
    #: entries dated after the as-of date (not yet happened on it), left out
    left_out: int = 0


@dataclass(frozen=True)
class Superseding:
    """A value older than its window that still counts in an ``equivalent`` group: its most recent record is
    within its window before the group's newest record (``newer_field`` of ``newer_date``)."""

    field: str
    observation: Observation
    window: Window
    newer_field: str
    newer_date: dt.date


@dataclass(frozen=True)
class Evaluation:
    compiled: CompiledTrial
    profile: PatientProfile
    as_of: dt.date
    truths: dict[int, Truth]
    readings: dict[str, Reading]
    queries: dict[str, QueryEvaluation]
    #: peer key (compile.peer_key) -> a value older than its window that counts in its ``equivalent`` group
    superseding: dict[str, Superseding] = field(default_factory=dict)


def kleene(kind: type, truths: list[Truth]) -> Truth:
    """A node's value from its children's: all/any/not, or the agreement of two readings."""
    if kind is Comparison:  # two readings of a disputed boundary: decided only where they agree
        return truths[0] if truths[0] == truths[1] else None
    if kind is AllOf:
        return False if False in truths else (None if None in truths else True)
    if kind is AnyOf:
        return True if True in truths else (None if None in truths else False)
    if kind is Not:
        return None if truths[0] is None else not truths[0]
    if kind is Equivalent:
        # measures of one quantity: the current ones, then the same compared where they count in the group
        # (current, or within their window before the group's newest record): decided where every one that
        # counts agrees and a current one says so
        half = len(truths) // 2
        counted = {truth for truth in truths[half:] if truth is not None}
        return next(iter(counted)) if len(counted) == 1 and counted <= set(truths[:half]) else None
    raise TypeError(kind)  # pragma: no cover


class _Scope(NamedTuple):
    """The nodes decided on one kind of fact (the patient, or an entry of one list), worked out once per trial."""

    #: every node of the scope, unknown until a rule says otherwise
    unknown: dict[int, Truth]
    #: rule name -> (node index, truth) for the rules of this scope
    meaning: dict[str, tuple[int, bool]]
    #: (node index, kind, children) of the nodes that have parts, to check against Kleene logic
    composite: tuple[tuple[int, type, tuple[int, ...]], ...]


class _Reads(NamedTuple):
    """What one trial reads from a patient, with the engine's keys, worked out once per trial."""

    #: (field name, extractor, fact key, window, label) of the patient fields the criteria compare
    patient: tuple[tuple[str, Any, str, Window | None, str], ...]
    #: list name -> (field name, extractor, fact key) of the entry fields its queries compare
    items: dict[str, tuple[tuple[str, Any, str], ...]]
    #: list name -> the names of those fields
    item_names: dict[str, frozenset[str]]
    #: list name -> (query name, root node index) of the queries over it
    queries: dict[str, tuple[tuple[str, int], ...]]
    #: query name -> the patient fact's key for its result
    query_keys: dict[str, str]
    #: per ``equivalent`` group: (field name, window, its peer key, that key's presence key) of each measure
    groups: tuple[tuple[tuple[str, Window | None, str, str], ...], ...]


def _reads(compiled: CompiledTrial) -> _Reads:
    return _Reads(
        tuple((name, PATIENT_FIELDS[name].extract, fact_key(name), compiled.windows.get(name),
               PATIENT_FIELDS[name].collect) for name in compiled.patient_fields),
        {over: tuple((name, LISTS[over].fields[name].extract, fact_key(name)) for name in names)
         for over, names in compiled.item_fields.items()},
        {over: frozenset(names) for over, names in compiled.item_fields.items()},
        {over: tuple((name, compiled.query_roots[name]) for name, query in compiled.trial.queries.items()
                     if query.over == over)
         for over in compiled.item_fields},
        {name: query_key(name) for name in compiled.trial.queries},
        tuple(tuple((name, compiled.windows.get(name), peer_key(group, name), presence_key(peer_key(group, name)))
                    for name in group) for group in compiled.groups),
    )


def _scopes(compiled: CompiledTrial) -> dict[str, _Scope]:
    found: dict[str, _Scope] = {}
    for scope in dict.fromkeys(node.scope for node in compiled.nodes):
        nodes = [node for node in compiled.nodes if node.scope == scope]
        found[scope] = _Scope(
            {node.index: None for node in nodes},
            {rule: meaning for rule, meaning in compiled.rule_meaning.items()
             if compiled.nodes[meaning[0]].scope == scope},
            tuple((node.index, type(node.node), node.children + compiled.peers.get(node.index, ()))
                  for node in nodes if node.children),
        )
    return found


class PatientReads:
    """The field values read from one patient on one date, kept for the evaluations of every trial.

    Several trials compare the same fields (age, labs, each medication course's dose): with one of these passed
    to :meth:`Evaluator.evaluate` for each trial of a patient, each field is read once. What each trial does with
    a value (its currency window, which keys its facts carry) is still its own.
    """

    __slots__ = ("as_of", "entries", "fields", "labels", "profile", "visible")

    def __init__(self, profile: PatientProfile, as_of: dt.date) -> None:
        self.profile = profile
        self.as_of = as_of
        #: patient field -> its reading, before any trial's window applies
        self.fields: dict[str, Reading] = {}
        #: (list, entry index) -> (field -> its reading, field -> its value where it is an Observation)
        self.entries: dict[tuple[str, int], tuple[dict[str, Reading], dict[str, Any]]] = {}
        #: list -> whether each entry has happened on the as-of date
        self.visible: dict[str, list[bool]] = {}
        #: list -> each entry's label (its description in the results)
        self.labels: dict[str, list[str]] = {}


class _Asker:
    """Asks about the facts of one scope (the patient, or an entry of one list) of one trial: the decision cache
    first when it is on, else the engine. Everything the question needs is looked up once, here."""

    __slots__ = ("cache", "classes", "compiled", "plan", "ruleset", "scope")

    def __init__(self, compiled: CompiledTrial, ruleset: Ruleset, scope: str, plan: _Scope | None,
                 classes: FactClasses | None, cache: DecisionCache | None) -> None:
        self.compiled = compiled
        self.ruleset = ruleset
        self.scope = scope
        #: no node of this scope: any rule fired is out of place
        self.plan = plan if plan is not None else _Scope({}, {}, ())
        self.classes = classes
        self.cache = cache

    def answer(self, fact: dict[str, Any]) -> dict[int, Truth]:
        """The truth of every node of the scope for ``fact``: the engine's answer for a fact of its class, asked
        now if no fact of the class has been asked about (or if the cache is off). The Kleene self-check runs on
        every answer the engine gives (:meth:`decide`), before it is kept; a kept answer is the checked one."""
        cache = self.cache
        if cache is None or self.classes is None:
            return self.decide(self.ruleset.fire(fact))
        key = self.classes.key(fact)
        answer = cache.get(key)
        if answer is not None:
            return dict(zip(self.plan.unknown, answer, strict=True))
        truths = self.decide(self.ruleset.fire(fact))
        cache.put(key, tuple(truths.values()))
        return truths

    def decide(self, fired: list[str]) -> dict[int, Truth]:
        """The truth of every node from the rules the engine fired, checked against Kleene logic."""
        compiled, scope, plan = self.compiled, self.scope, self.plan
        truths = dict(plan.unknown)
        meaning = plan.meaning
        decided = set(map(meaning.get, fired))
        if None not in decided and len({index for index, _ in decided}) == len(decided):  # type: ignore[misc]
            # every rule is of this scope and no node was said both true and false (else the loop below says
            # which): the answer is the rules' (node, truth) pairs
            truths.update(decided)  # type: ignore[arg-type]
            fired = []
        for rule in fired:
            found = meaning.get(rule)
            if found is None:
                if rule not in compiled.rule_meaning:
                    raise EvaluationError(f"the engine fired an unknown rule {rule!r}")
                index = compiled.rule_meaning[rule][0]
                raise EvaluationError(f"rule {rule} fired on a {scope} fact but belongs to "
                                      f"{compiled.nodes[index].scope}")
            index, truth = found
            if truths[index] is not None and truths[index] != truth:
                node = compiled.nodes[index]
                raise EvaluationError(f"node {index} of {node.owner} is both true and false: compiler bug",
                                      criterion=node.owner)
            truths[index] = truth
        for index, kind, parts in plan.composite:
            found_truth = truths[index]
            expected = kleene(kind, list(map(truths.__getitem__, parts)))
            if found_truth != expected:
                node = compiled.nodes[index]
                raise EvaluationError(
                    f"the engine says node {index} of {node.owner} is {found_truth} but its parts give "
                    f"{expected}: refusing to answer", criterion=node.owner)
        return truths


class _TrialCache(NamedTuple):
    """One trial's decision caches (matcher/engine/cache.py): how its facts are classed, one cache per scope."""

    classes: FactClasses
    scopes: dict[str, DecisionCache]


class Evaluator(HoldsEngineHandles):
    """Compiled trials loaded into the engine, ready to evaluate patients.

    With ``cache`` (the default) each fact's answer is kept under the fact's class (matcher/engine/cache.py)
    and reused for a fact of the same class, so the engine decides each distinct case once; ``cache=False``
    asks the engine about every fact (for audits). Either way the evaluations are the same.
    """

    def __init__(self, compiled: Iterable[CompiledTrial], cache: bool = True, patient_facts: int = PATIENT_FACTS,
                 entry_facts: int = ENTRY_FACTS) -> None:
        self.compiled = {trial.trial.id: trial for trial in compiled}
        self._scopes = {trial_id: _scopes(trial) for trial_id, trial in self.compiled.items()}
        self._reads = {trial_id: _reads(trial) for trial_id, trial in self.compiled.items()}
        self._bounds = (patient_facts, entry_facts)
        self._caches: dict[str, _TrialCache] = {}
        if cache:
            for trial_id, trial in self.compiled.items():
                try:
                    self._caches[trial_id] = _TrialCache(FactClasses(trial.rules), {})
                except NotCacheable:  # pragma: no cover - the compiler writes no such rule
                    continue
        self._rulesets: dict[str, Ruleset] = {}
        #: (trial, scope) -> its asker (:meth:`_asker`)
        self._askers: dict[tuple[str, str], _Asker] = {}
        try:
            for trial_id, trial in self.compiled.items():
                self._rulesets[trial_id] = Ruleset(trial_id, trial.rules)
        except BaseException:
            self.close()
            raise

    def cache_stats(self) -> CacheStats:
        """Facts answered from the decision caches, facts the engine was asked about, answers held now."""
        caches = [cache for trial in self._caches.values() for cache in trial.scopes.values()]
        return CacheStats(sum(c.hits for c in caches), sum(c.misses for c in caches), sum(len(c) for c in caches))

    def close(self) -> None:
        for ruleset in self._rulesets.values():
            ruleset.close()
        self._rulesets.clear()
        self._askers.clear()

    def __enter__(self) -> Evaluator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def evaluate(self, profile: PatientProfile, as_of: dt.date, trial_id: str,
                 supposed: dict[str, Any] | None = None, read: PatientReads | None = None) -> Evaluation:
        """Evaluate ``profile`` on ``as_of`` against one trial. ``read``: the values already read from this
        patient on this date for other trials (:class:`PatientReads`), to read each field once. ``supposed``:
        values the record lacks, supposed to ask what they would decide (matcher.results.collect_next): patient
        field -> value, or ``query:NAME`` -> the query's truth. Never used for a verdict."""
        if read is None:
            read = PatientReads(profile, as_of)
        elif read.profile is not profile or read.as_of != as_of:
            raise ValueError("these reads are of another patient or date")
        compiled = self.compiled[trial_id]
        reads = self._reads[trial_id]
        queries: dict[str, QueryEvaluation] = {}
        for over, fields in reads.items.items():
            queries.update(self._run_queries(self._asker(trial_id, over), read, over, fields, reads.item_names[over],
                                             reads.queries[over]))
        readings: dict[str, Reading] = {}
        recorded: dict[str, Reading] = {}
        fact: dict[str, Any] = {"kind": PATIENT_KIND}
        if supposed:
            queries.update({name: replace(query, truth=supposed[f"query:{name}"])
                            for name, query in queries.items() if f"query:{name}" in supposed})
        known = read.fields
        reading: Reading
        for name, extract, key, window, label in reads.patient:
            if supposed and name in supposed:
                reading = readings[name] = recorded[name] = Observation(
                    supposed[name], f"{supposed[name]} (supposed)", "supposed")
            else:
                value = known.get(name)
                if value is None:
                    value = known[name] = extract(profile, as_of)
                recorded[name] = value
                reading = readings[name] = value if window is None else current(value, window, as_of, label)
            if isinstance(reading, Observation):
                fact[key] = reading.value
        superseding: dict[str, Superseding] = {}
        for group in reads.groups:
            _admit(group, readings, recorded, fact, superseding)
        query_keys = reads.query_keys
        for name, query in queries.items():
            if query.truth is not None:
                fact[query_keys[name]] = query.truth
        truths = self._asker(trial_id, PATIENT_KIND).answer(fact)
        return Evaluation(compiled, profile, as_of, truths, readings, queries, superseding)

    def _asker(self, trial_id: str, scope: str) -> _Asker:
        """The asker of one trial's facts of one scope, made on first use."""
        asker = self._askers.get((trial_id, scope))
        if asker is None:
            compiled = self.compiled[trial_id]
            trial_cache = self._caches.get(trial_id)
            cache = None
            if trial_cache is not None:
                cache = trial_cache.scopes.get(scope)
                if cache is None:
                    cache = trial_cache.scopes[scope] = DecisionCache(self._bounds[scope != PATIENT_KIND])
            asker = self._askers[trial_id, scope] = _Asker(
                compiled, self._rulesets[trial_id], scope, self._scopes[trial_id].get(scope),
                trial_cache.classes if trial_cache is not None else None, cache)
        return asker

    def _run_queries(self, asker: _Asker, read: PatientReads, over: str, fields: tuple[tuple[str, Any, str], ...],
                     names: frozenset[str], roots: tuple[tuple[str, int], ...]) -> dict[str, QueryEvaluation]:
        spec = LISTS[over]
        profile, as_of = read.profile, read.as_of
        items = spec.items(profile)
        evaluated: tuple[ItemEvaluation, ...] | None = None
        left_out = 0
        if items is not None:
            visible = read.visible.get(over)
            if visible is None:
                visible = read.visible[over] = [spec.visible(item, as_of) for item in items]
                read.labels[over] = [spec.item_label(item) if shown else ""
                                     for item, shown in zip(items, visible, strict=True)]
            labels = read.labels[over]
            known = read.entries
            entries = []
            for index, item in enumerate(items):
                if not visible[index]:
                    left_out += 1
                    continue
                entry = known.get((over, index))
                if entry is None:
                    entry = known[over, index] = ({}, {})
                found, values = entry
                if not found.keys() >= names:  # a field no trial before this one read
                    for name, extract, _ in fields:
                        if name not in found:
                            reading = found[name] = extract(item, index, profile, as_of)
                            if isinstance(reading, Observation):
                                values[name] = reading.value
                readings = {name: found[name] for name, _, _ in fields}
                fact: dict[str, Any] = {"kind": over, "item": index}
                fact.update({key: values[name] for name, _, key in fields if name in values})
                entries.append(ItemEvaluation(index, labels[index], asker.answer(fact), readings))
            evaluated = tuple(entries)
        partial = over in (profile.partial_lists or ())
        results = {}
        for name, root in roots:
            if evaluated is None:
                truth: Truth = None
            else:
                outcomes = [item.truths[root] for item in evaluated]
                truth = True if True in outcomes else (None if None in outcomes or partial else False)
            results[name] = QueryEvaluation(name, evaluated, truth, partial, left_out)
        return results


def _admit(group: tuple[tuple[str, Window | None, str, str], ...], readings: dict[str, Reading],
           recorded: dict[str, Reading], fact: dict[str, Any], superseding: dict[str, Superseding]) -> None:
    """Put the measures of one ``equivalent`` group that count in it under the group's keys: the current ones,
    and those whose most recent record is within their window before the group's newest record. Only relative
    dates matter, so moving every record by the same number of days never changes which count (whether one is
    current, which the group also needs, is the engine's ordinary key)."""
    dated = {name: found.date for name, window, _, _ in group
             if window is not None and isinstance(found := recorded[name], Observation) and found.date is not None}
    # with no current measure the group decides nothing, and an old value is not brought in
    newest = max(dated.items(), key=lambda item: item[1], default=None) \
        if any(isinstance(readings[name], Observation) for name, _, _, _ in group) else None
    for name, window, key, present in group:
        reading = readings[name]
        counts = isinstance(reading, Observation)
        if not counts and newest is not None and name in dated and window is not None:
            found = recorded[name]
            assert isinstance(found, Observation)
            counts = (newest[1] - dated[name]).days <= window.days
            if counts:
                superseding[key] = Superseding(name, found, window, newest[0], newest[1])
                reading = found
        if counts:
            assert isinstance(reading, Observation)
            fact[key] = reading.value
        fact[present] = counts


def missing_of(readings: dict[str, Reading]) -> list[Absence]:
    return [reading for reading in readings.values() if isinstance(reading, Absence)]

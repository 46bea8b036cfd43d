"""Stage 3: compile a trial's criterion trees into a durable-rules ruleset.

Every node of every condition tree (criteria and queries) becomes two rules:
one that matches when the node is true and one that matches when it is false,
with negation pushed down to the comparisons (De Morgan; ``<`` becomes ``>=``,
``all`` and ``any`` swap, ``in`` becomes a conjunction of ``!=``). A comparison
on a field the fact does not carry matches neither way, so a node whose two
rules both stay silent is *unknown*: three-valued (Kleene) logic, decided by
the engine. Both rules firing is a compiler bug, and evaluation refuses it.

Pitfalls of durable-rules this avoids by construction (tests/test_engine_pitfalls.py pins each):

* every rule is guarded by a positive ``kind`` test, so no rule is
  negation-only (those fire forever on the engine's own state fact);
* no field is compared with another field (matches when one side is missing);
* no list quantifier (``anyItem``/``allItems``) is used at all: list entries are
  asserted as facts of their own (``kind`` = the list's name), so an OR inside
  an entry's condition is an ordinary OR;
* facts carry no nulls: an unknown value is an absent key.

A manual part compiles to a condition no fact can match (its key is never in a
fact), so it is unknown in both directions and its parents decide around it
by Kleene logic. A comparison with an alternative reading is true only where
both readings are true and false only where both are false.

An ``equivalent`` node (measures of one quantity) is true where every measure
recorded is true and at least one is, false likewise; the patient fact says
which of its fields are recorded (``present__<field>``, always true or false),
so the condition stays positive. Measures that disagree leave it unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from matcher.errors import RuleFileError
from matcher.model.currency import Window
from matcher.model.fields import LISTS, PATIENT_FIELDS, fact_key
from matcher.rules.language import (
    OPERATORS,
    AllOf,
    AnyOf,
    Comparison,
    Equivalent,
    ManualPart,
    Node,
    Not,
    QueryRef,
    Reading,
    Trial,
    children,
    walk,
)

PATIENT_KIND = "patient"
#: a key no fact ever carries: the condition of a manual part can never match
NEVER_KEY = "manual__never"


def query_key(name: str) -> str:
    """The patient fact's key for a query's result."""
    return f"query__{name}"


def presence_key(name: str) -> str:
    """The patient fact's key saying whether a field of an ``equivalent`` node is recorded (and current)."""
    return f"present__{fact_key(name)}"


@dataclass(frozen=True)
class CompiledNode:
    index: int
    node: Node
    children: tuple[int, ...]
    #: the criterion id, or the query name for nodes of a query
    owner: str
    #: ``patient`` or the list the node's facts come from
    scope: str


@dataclass(frozen=True)
class CompiledTrial:
    trial: Trial
    rules: dict[str, Any]
    nodes: tuple[CompiledNode, ...]
    #: criterion id -> index of its root node
    criterion_roots: dict[str, int]
    #: query name -> index of its root node
    query_roots: dict[str, int]
    #: rule name -> (node index, which truth value the rule detects)
    rule_meaning: dict[str, tuple[int, bool]]
    patient_fields: tuple[str, ...]
    #: list name -> item fields its queries use
    item_fields: dict[str, tuple[str, ...]]
    #: what later stages work out from this trial alone, kept so it is worked out once (explain.py's texts)
    derived: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    #: patient field -> the window its value must be within (dated fields only)
    windows: dict[str, Window] = field(default_factory=dict)
    #: patient fields whose presence the fact carries (those of ``equivalent`` nodes)
    presence_fields: tuple[str, ...] = ()


def compile_trial(trial: Trial) -> CompiledTrial:
    nodes: list[CompiledNode] = []
    rules: dict[str, Any] = {}
    meaning: dict[str, tuple[int, bool]] = {}

    def add(node: Node, owner: str, scope: str) -> int:
        parts = children(node)
        if isinstance(node, Comparison) and node.alternative is not None:
            # each reading of a disputed boundary is a node of its own, so the engine says which holds
            parts = tuple(replace(node, op=r.op, value=r.value, written=r.written, alternative=None)
                          for r in node.readings)
        child_indexes = tuple(add(child, owner, scope) for child in parts)
        index = len(nodes)
        nodes.append(CompiledNode(index, node, child_indexes, owner, scope))
        for truth in (True, False):
            name = f"n{index}{'t' if truth else 'f'}"
            rules[name] = {"all": [{"m": {"$and": [{"kind": scope}, condition(node, truth)]}}]}
            meaning[name] = (index, truth)
        return index

    query_roots = {name: add(query.where, name, query.over) for name, query in trial.queries.items()}
    criterion_roots = {
        criterion.id: add(criterion.condition, criterion.id, PATIENT_KIND)
        for criterion in trial.criteria
        if criterion.condition is not None
    }
    patient_fields = sorted({
        node.field
        for c in trial.criteria if c.condition
        for node in walk(c.condition) if isinstance(node, Comparison)
    })
    item_fields: dict[str, set[str]] = {}
    for query in trial.queries.values():
        item_fields.setdefault(query.over, set()).update(
            node.field for node in walk(query.where) if isinstance(node, Comparison))
    for name in patient_fields:
        assert name in PATIENT_FIELDS, name
    for over, names in item_fields.items():
        assert names <= set(LISTS[over].fields), (over, names)
    comparisons = [node for c in trial.criteria if c.condition for node in walk(c.condition)
                   if isinstance(node, Comparison)]
    windows = {node.field: node.within for node in comparisons if node.within is not None}
    presence = sorted({part.field for c in trial.criteria if c.condition for node in walk(c.condition)
                       if isinstance(node, Equivalent) for part in node.children})
    return CompiledTrial(trial, rules, tuple(nodes), criterion_roots, query_roots, meaning,
                         tuple(patient_fields), {k: tuple(sorted(v)) for k, v in item_fields.items()},
                         windows=windows, presence_fields=tuple(presence))


def condition(node: Node, truth: bool) -> dict[str, Any]:
    """The engine condition that matches when ``node`` evaluates to ``truth``."""
    if isinstance(node, Comparison):
        return _comparison(node, truth)
    if isinstance(node, QueryRef):
        return {query_key(node.query): truth}
    if isinstance(node, ManualPart):
        return {NEVER_KEY: True}
    if isinstance(node, Not):
        return condition(node.child, not truth)
    if isinstance(node, Equivalent):
        # every measure recorded agrees (or is not recorded), and at least one is recorded
        each = [_join("$or", [condition(part, truth), {presence_key(part.field): False}]) for part in node.children]
        some = _join("$or", [condition(part, truth) for part in node.children])
        return _join("$and", [*each, some])
    if isinstance(node, (AllOf, AnyOf)):
        conjunctive = isinstance(node, AllOf) == truth
        parts = [condition(child, truth) for child in node.children]
        return _join("$and" if conjunctive else "$or", parts)
    raise TypeError(node)  # pragma: no cover


def _join(op: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    return parts[0] if len(parts) == 1 else {op: parts}


def _comparison(node: Comparison, truth: bool) -> dict[str, Any]:
    return _join("$and", [_reading(node, reading, truth) for reading in node.readings])


def _reading(node: Comparison, reading: Reading, truth: bool) -> dict[str, Any]:
    key = fact_key(node.field)
    op = OPERATORS[reading.op]
    name = op.name if truth else op.negation
    if name == "in":
        return _join("$or", [{key: option} for option in reading.value])
    if name == "not_in":
        return _join("$and", [{"$neq": {key: option}} for option in reading.value])
    engine_op = OPERATORS[name].engine
    _check_threshold(node, reading)
    return {key: reading.value} if engine_op is None else {engine_op: {key: reading.value}}


def _check_threshold(node: Comparison, reading: Reading) -> None:
    value = reading.value
    if isinstance(value, float) and not (abs(value) < 1e15 and (value == 0 or abs(value) >= 1e-9)):
        raise RuleFileError(f"threshold {reading.written!r} is out of the range the engine can compare",
                            file=node.where.file, line=node.where.line, column=node.where.column, field=node.field)

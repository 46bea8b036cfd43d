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
that *counts* is true and at least one *current* measure is, false likewise.
A measure counts where its most recent record is within its own window before
the group's newest record (so a measure that just left its window, but was
taken within a window of a newer one, still speaks against agreement); one
more than a window older than the group's newest record is superseded. The
counting values are put in the fact under keys of their own, one per group and
field (``peer__<field>__among__<fields>``), with a key saying whether it counts
(``present__peer__...``, always true or false), so the condition stays
positive; each measure is also compiled as a comparison on its group key (a
*peer* node, outside the tree: ``CompiledTrial.peers``) so the answer can be
checked. The same field used elsewhere keeps its ordinary key and window, so a
value older than its window stays stale there. Measures that disagree leave the
node unknown.
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


def group_of(node: Equivalent) -> tuple[str, ...]:
    """The fields of an ``equivalent`` node, which name its group (nodes on the same fields share one)."""
    return tuple(sorted({part.field for part in node.children}))


def peer_key(group: tuple[str, ...], name: str) -> str:
    """The patient fact's key for field ``name`` as the ``equivalent`` group ``group`` compares it: its value
    where it counts in the group (current, or within its window before the group's newest record)."""
    return f"peer__{fact_key(name)}__among__{'__'.join(fact_key(f) for f in group)}"


def presence_key(key: str) -> str:
    """The patient fact's key saying whether the value under ``key`` (a :func:`peer_key`) counts."""
    return f"present__{key}"


@dataclass(frozen=True)
class CompiledNode:
    index: int
    node: Node
    children: tuple[int, ...]
    #: the criterion id, or the query name for nodes of a query
    owner: str
    #: ``patient`` or the list the node's facts come from
    scope: str
    #: a comparison compiled on another fact key than its field's (a peer node of an ``equivalent`` group)
    key: str | None = None


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
    #: the fields of each distinct ``equivalent`` group (they name its fact keys, :func:`peer_key`)
    groups: tuple[tuple[str, ...], ...] = ()
    #: ``equivalent`` node index -> per measure, the index of its peer node (the measure compared on the
    #: group's key, outside the criterion tree)
    peers: dict[int, tuple[int, ...]] = field(default_factory=dict)


def compile_trial(trial: Trial) -> CompiledTrial:
    nodes: list[CompiledNode] = []
    rules: dict[str, Any] = {}
    meaning: dict[str, tuple[int, bool]] = {}

    groups: dict[tuple[str, ...], None] = {}
    peers: dict[int, tuple[int, ...]] = {}

    def add_rules(index: int, node: Node, scope: str, key: str | None = None) -> None:
        for truth in (True, False):
            name = f"n{index}{'t' if truth else 'f'}"
            rules[name] = {"all": [{"m": {"$and": [{"kind": scope}, condition(node, truth, key)]}}]}
            meaning[name] = (index, truth)

    def add(node: Node, owner: str, scope: str) -> int:
        parts = children(node)
        if isinstance(node, Comparison) and node.alternative is not None:
            # each reading of a disputed boundary is a node of its own, so the engine says which holds
            parts = tuple(replace(node, op=r.op, value=r.value, written=r.written, alternative=None)
                          for r in node.readings)
        child_indexes = tuple(add(child, owner, scope) for child in parts)
        index = len(nodes)
        nodes.append(CompiledNode(index, node, child_indexes, owner, scope))
        if isinstance(node, Equivalent):
            group = group_of(node)
            groups[group] = None
            peer_indexes = []
            for part in node.children:
                peer = len(nodes)
                key = peer_key(group, part.field)
                nodes.append(CompiledNode(peer, part, (), owner, scope, key=key))
                add_rules(peer, part, scope, key)
                peer_indexes.append(peer)
            peers[index] = tuple(peer_indexes)
        add_rules(index, node, scope)
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
    return CompiledTrial(trial, rules, tuple(nodes), criterion_roots, query_roots, meaning,
                         tuple(patient_fields), {k: tuple(sorted(v)) for k, v in item_fields.items()},
                         windows=windows, groups=tuple(groups), peers=peers)


def condition(node: Node, truth: bool, key: str | None = None) -> dict[str, Any]:
    """The engine condition that matches when ``node`` evaluates to ``truth`` (a comparison on fact key
    ``key`` where given, else on its field's)."""
    if isinstance(node, Comparison):
        return _comparison(node, truth, key)
    if isinstance(node, QueryRef):
        return {query_key(node.query): truth}
    if isinstance(node, ManualPart):
        return {NEVER_KEY: True}
    if isinstance(node, Not):
        return condition(node.child, not truth)
    if isinstance(node, Equivalent):
        # every measure that counts in the group agrees (or does not count), and at least one current one does
        group = group_of(node)
        keys = [peer_key(group, part.field) for part in node.children]
        each = [_join("$or", [condition(part, truth, key), {presence_key(key): False}])
                for part, key in zip(node.children, keys, strict=True)]
        some = _join("$or", [condition(part, truth) for part in node.children])
        return _join("$and", [*each, some])
    if isinstance(node, (AllOf, AnyOf)):
        conjunctive = isinstance(node, AllOf) == truth
        parts = [condition(child, truth) for child in node.children]
        return _join("$and" if conjunctive else "$or", parts)
    raise TypeError(node)  # pragma: no cover


def _join(op: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    return parts[0] if len(parts) == 1 else {op: parts}


def _comparison(node: Comparison, truth: bool, key: str | None) -> dict[str, Any]:
    return _join("$and", [_reading(node, reading, truth, key or fact_key(node.field)) for reading in node.readings])


def _reading(node: Comparison, reading: Reading, truth: bool, key: str) -> dict[str, Any]:
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

"""A plain-Python three-valued evaluator of the same rule trees: the test oracle.

It reads the same readings the engine facts are built from and applies Kleene
logic directly, so a disagreement with the engine points at the compiler or an
engine pitfall. It is never used by the matcher itself.
"""

from __future__ import annotations

import datetime as dt

from matcher.engine.adapter import engine_number
from matcher.model.fields import LISTS, PATIENT_FIELDS, Observation
from matcher.model.profile import PatientProfile
from matcher.rules.compile import CompiledTrial
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
)

Truth = bool | None


def as_compared(value: object) -> object:
    """A value as the matcher compares it: numbers at the engine's fixed-point precision (10 decimal places,
    docs/engine.md), so float noise from a unit conversion never moves a value across a threshold."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return tuple(as_compared(item) for item in value) if isinstance(value, tuple) else value
    return float(engine_number(value))


def _compare(node: Comparison, reading: object) -> Truth:
    """Each reading of the comparison; a disputed boundary is decided only where its readings agree."""
    if not isinstance(reading, Observation):
        return None
    value = as_compared(reading.value)
    results = {bool(OPERATORS[r.op].test(value, as_compared(r.value))) for r in node.readings}
    return results.pop() if len(results) == 1 else None


def _within_window(reading: object, compiled: CompiledTrial, name: str, as_of: dt.date) -> object:
    """A dated value older than the field's window (or undated) is not used: None stands for absent."""
    window = compiled.windows.get(name)
    if window is None or not isinstance(reading, Observation):
        return reading
    if reading.date is None or (as_of - reading.date).days > window.days:
        return None
    return reading


def _counting(node: Equivalent, read: dict[str, object], recorded: dict[str, object],
              windows: dict[str, int]) -> dict[str, object]:
    """The measures of an ``equivalent`` node that count: the current ones, and (where one is current) those
    whose most recent record is within their own window before the group's newest dated record."""
    fields = [part.field for part in node.children]
    if not any(isinstance(read[name], Observation) for name in fields):
        return {}
    dates = {name: found.date for name in fields if name in windows
             and isinstance(found := recorded[name], Observation) and found.date is not None}
    newest = max(dates.values(), default=None)
    counting: dict[str, object] = {}
    for name in fields:
        if isinstance(read[name], Observation):
            counting[name] = read[name]
        elif newest is not None and name in dates and (newest - dates[name]).days <= windows[name]:
            counting[name] = recorded[name]
    return counting


def evaluate_node(node: Node, read: dict[str, object], queries: dict[str, Truth],
                  recorded: dict[str, object] | None = None, windows: dict[str, int] | None = None) -> Truth:
    """``recorded`` (the values before their windows apply) and ``windows`` (days) serve ``equivalent`` nodes."""
    if isinstance(node, Comparison):
        return _compare(node, read[node.field])
    if isinstance(node, QueryRef):
        return queries[node.query]
    if isinstance(node, ManualPart):
        return None
    if isinstance(node, Not):
        inner = evaluate_node(node.child, read, queries, recorded, windows)
        return None if inner is None else not inner
    if isinstance(node, Equivalent):
        # every measure that counts must agree, and a current one must say so
        current = {_compare(part, read[part.field]) for part in node.children} - {None}
        counting = _counting(node, read, recorded or read, windows or {})
        said = {_compare(part, counting[part.field]) for part in node.children if part.field in counting}
        return next(iter(said)) if len(said) == 1 and said <= current else None
    values = [evaluate_node(child, read, queries, recorded, windows) for child in node.children]
    if isinstance(node, AllOf):
        return False if False in values else (None if None in values else True)
    assert isinstance(node, AnyOf)
    return True if True in values else (None if None in values else False)


def oracle(compiled: CompiledTrial, profile: PatientProfile, as_of: dt.date) -> dict[str, Truth]:
    """criterion id -> truth of its condition (manual criteria are left out)."""
    trial = compiled.trial
    queries: dict[str, Truth] = {}
    for name, query in trial.queries.items():
        listed = LISTS[query.over]
        items = listed.items(profile)
        if items is None:
            queries[name] = None
            continue
        outcomes = []
        for index, item in enumerate(items):
            if not listed.visible(item, as_of):
                continue
            read = {field: spec.extract(item, index, profile, as_of) for field, spec in listed.fields.items()}
            outcomes.append(evaluate_node(query.where, read, {}))
        partial = query.over in (profile.partial_lists or ())
        queries[name] = True if True in outcomes else (None if None in outcomes or partial else False)
    recorded = {name: PATIENT_FIELDS[name].extract(profile, as_of) for name in compiled.patient_fields}
    read = {name: _within_window(value, compiled, name, as_of) for name, value in recorded.items()}
    windows = {name: window.days for name, window in compiled.windows.items()}
    return {c.id: evaluate_node(c.condition, read, queries, recorded, windows)
            for c in trial.criteria if c.condition is not None}

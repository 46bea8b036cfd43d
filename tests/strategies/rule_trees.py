"""Random rule files (as data): queries over every list and criteria over every patient field, in trees of
all/any/not with comparisons, alternative readings, query references and manual parts.
"""
from __future__ import annotations

import datetime as dt
import json
import math
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

from matcher.model.fields import LISTS, PATIENT_FIELDS, FieldSpec

from .quantities import Draw, decimal_text, plain_number, quantity
from .registry import WRITERS
from .trials import PATIENT, rule_thresholds
from .writers import Ctx


# ================================================================== random rule trees
def _threshold_text(draw: Draw, spec: FieldSpec, value: Fraction) -> Any:
    if spec.measure is not None and spec.measure.titre:  # a titre is written 1:N, N a whole number
        return f"1:{max(1, math.ceil(value))}"
    if spec.measure is not None:
        return quantity(draw, value, spec.measure.display)
    return plain_number(value)


def _comparison(draw: Draw, scope: str, fields: dict[str, FieldSpec], name: str | None = None,
                alternative: bool = True) -> dict[str, Any]:
    writable = sorted(n for n in fields if (scope, n) in WRITERS)
    if name is None:
        name = draw(st.sampled_from(writable)) if writable and draw(st.integers(0, 4)) else \
            draw(st.sampled_from(sorted(fields)))
    spec = fields[name]
    writer = WRITERS.get((scope, name))
    node: dict[str, Any] = {"field": name}
    ops = {"bool": ["eq", "ne"], "enum": ["eq", "ne", "in"], "number": ["eq", "ne", "lt", "lte", "gt", "gte"]}

    def threshold(op: str) -> Any:
        if spec.type == "bool":
            return draw(st.booleans())
        if spec.type == "enum":
            if op == "in":
                return draw(st.lists(st.sampled_from(spec.choices), min_size=1, max_size=3, unique=True))
            return draw(st.sampled_from(spec.choices))
        known = rule_thresholds().get((scope, name), ())
        if known and draw(st.booleans()):
            return _threshold_text(draw, spec, draw(st.sampled_from(known)))
        if writer is not None and writer.numeric:
            ctx = Ctx(draw, dt.date(2026, 1, 1))
            value = writer.random(ctx).value
            value = Fraction(decimal_text(value)[:12]) if value.denominator > 10**6 else value
        else:
            value = Fraction(draw(st.decimals(0, 100, places=1)))
        return _threshold_text(draw, spec, value)

    op = draw(st.sampled_from(ops[spec.type]))
    node[op] = threshold(op)
    if alternative and spec.type == "number" and draw(st.integers(0, 5)) == 0:
        other = draw(st.sampled_from([o for o in ops[spec.type] if o != op]))  # never the same reading twice
        node["alternative"] = {other: threshold(other)}
    return node


def _equivalent(draw: Draw, fields: dict[str, FieldSpec]) -> dict[str, Any]:
    """Measures of one quantity, mostly dated results (labs, scores, pregnancy tests, imaging: windows of their
    kinds), so their records' dates relative to each other and to the as-of date matter."""
    dated = sorted(n for n, spec in fields.items() if spec.window and (PATIENT, n) in WRITERS)
    names = draw(st.lists(st.sampled_from(dated if draw(st.integers(0, 4)) else sorted(fields)),
                          min_size=2, max_size=3, unique=True))
    return {"equivalent": [_comparison(draw, PATIENT, fields, name, alternative=False) for name in names]}


def _tree(draw: Draw, scope: str, fields: dict[str, FieldSpec], depth: int, queries: list[str]) -> dict[str, Any]:
    leaf = depth == 0 or draw(st.integers(0, 2)) == 0
    if leaf:
        choice = draw(st.integers(0, 9))
        if queries and choice < 3:
            return {"query": draw(st.sampled_from(queries))}
        if scope == PATIENT and choice == 3:
            return {"manual": "left to the clinician"}
        return _comparison(draw, scope, fields)
    kind = draw(st.sampled_from(["all", "any", "any", "all", "not"]))
    if kind == "not":
        return {"not": _tree(draw, scope, fields, depth - 1, queries)}
    return {kind: [_tree(draw, scope, fields, depth - 1, queries) for _ in range(draw(st.integers(1, 3)))]}


@st.composite
def rule_documents(draw: Draw) -> dict[str, Any]:
    """A random rule file (as data): queries over every list, criteria over every patient field, trees of
    all/any/not with comparisons (sometimes with an alternative reading), equivalent measures, query references and
    manual parts."""
    queries: dict[str, Any] = {}
    for index in range(draw(st.integers(0, 3))):
        over = draw(st.sampled_from(sorted(LISTS)))
        queries[f"q{index}"] = {"over": over, "label": f"generated query {index}",
                                "where": _tree(draw, over, LISTS[over].fields, 2, [])}
    criteria: list[dict[str, Any]] = []
    for index in range(draw(st.integers(1, 5))):
        criteria.append({"id": f"c-{index}", "kind": draw(st.sampled_from(["inclusion", "exclusion"])),
                         "text": "generated", "condition": _tree(draw, PATIENT, PATIENT_FIELDS, 3, list(queries))})
    used = json.dumps(criteria)
    for name in queries:
        if f'"query": "{name}"' not in used:
            criteria.append({"id": f"use-{name}", "kind": "exclusion", "text": "generated",
                             "condition": {"query": name}})
    if draw(st.booleans()):  # kept small: the group compiles to three comparisons per measure, and durable-rules
        # refuses a rule of more than 31 expressions (error code 113)
        group = _equivalent(draw, PATIENT_FIELDS)
        shape = draw(st.sampled_from(["alone", "not", "any"]))
        condition = group if shape == "alone" else {"not": group} if shape == "not" else \
            {"any": [group, _comparison(draw, PATIENT, PATIENT_FIELDS, alternative=False)]}
        criteria.append({"id": "equivalent-1", "kind": draw(st.sampled_from(["inclusion", "exclusion"])),
                         "text": "generated", "condition": condition})
    if draw(st.booleans()):
        criteria.append({"id": "manual-1", "kind": "inclusion", "text": "generated", "manual": "clinician"})
    document: dict[str, Any] = {"trial": "NCT-GENERATED", "title": "generated", "condition": "generated",
                                "source": {"registry": "generated", "last_updated": dt.date(2020, 1, 1)},
                                "criteria": criteria}
    if queries:
        document["queries"] = queries
    return document

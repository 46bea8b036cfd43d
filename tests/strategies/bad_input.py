"""Bad patient files: arbitrary text and documents, and valid patients with a wrong type, an impossible
value, an unknown key or a missing required key.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

from hypothesis import strategies as st

from .counterexamples import dump
from .profiles import patients
from .quantities import Draw

# ================================================================== bad input

#: mapping keys, any printable or not (a newline or "[" in a key once broke the one-line error)
_KEYS = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12)
_TEXT = st.text(alphabet=st.characters(exclude_categories=("Cc", "Cs")), max_size=200)


_JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(10**30), 10**30),
                          st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20))


def json_values() -> st.SearchStrategy[Any]:
    return st.recursive(_JSON_SCALARS, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(_KEYS, inner, max_size=4)), max_leaves=20)


def junk() -> st.SearchStrategy[Any]:
    """Wrong types and impossible values for any place in a patient file."""
    quantities = st.builds(lambda n, u: f"{n} {u}", st.sampled_from(["-1", "0", "1e300", "nan", "inf", "1,5", "2.4",
                                                                      "1e-300", "99999999"]),
                           st.sampled_from(["mg", "g/24h", "U/L", "zz", "", "mg/kg", "%", "mL/6 min", "x10^9/L",
                                            "mg/m2", "kg", "1/L"]))
    return st.one_of(_JSON_SCALARS, quantities, st.sampled_from(
        ["yes", "no", "8", "2026-02-30", "1:40", float("nan"), float("inf"), -1, 106, 10**20, [], {}, [None],
         dt.date(1800, 1, 1), dt.date(2999, 12, 31), "", " ", "male", "female", "uncontrolled"]), json_values())


def _mutated(draw: Draw, data: dict[str, Any]) -> Any:
    """``data`` with one place replaced by junk, an unknown key added, or a required key removed."""
    places: list[tuple[Any, ...]] = []

    def visit(node: Any, at: tuple[Any, ...]) -> None:
        places.append(at)
        if isinstance(node, dict):
            for key, value in node.items():
                visit(value, (*at, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                visit(value, (*at, index))

    visit(data, ())
    changed = copy.deepcopy(data)
    at = draw(st.sampled_from(places))
    action = draw(st.sampled_from(["replace", "replace", "add", "drop"]))
    parent: Any = changed
    for part in at[:-1]:
        parent = parent[part]
    if not at:
        return draw(junk())
    if action == "replace" or not isinstance(parent, dict):
        parent[at[-1]] = draw(junk())
    elif action == "add":
        target = parent[at[-1]] if isinstance(parent[at[-1]], dict) else parent
        target[draw(_KEYS.filter(bool))] = draw(junk())
    else:
        del parent[at[-1]]
    return changed


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


@st.composite
def bad_documents(draw: Draw) -> tuple[str, str]:
    """(file text, suffix): arbitrary text, arbitrary YAML/JSON documents, and patient files with a wrong
    type, an impossible value, an unknown key or a missing required key. Some happen to be valid."""
    kind = draw(st.sampled_from(["text", "document", "mutated", "mutated", "mutated"]))
    suffix = draw(st.sampled_from([".yaml", ".json"]))
    if kind == "text":
        return draw(_TEXT), suffix
    value = draw(json_values()) if kind == "document" else _mutated(draw, draw(patients())[0])
    if suffix == ".json":
        return json.dumps(_jsonable(value) if kind == "mutated" else value, allow_nan=True, default=str), suffix
    return dump(value), suffix

"""The same patient written otherwise: quantities in other units, every date shifted, keys and entries
in another order.
"""
from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from hypothesis import strategies as st

from matcher.model.measurements import LAB_TESTS

from .quantities import Draw, quantity_text, read_quantity, spellings


# ================================================================== rewriting a profile
def rewrite_units(draw: Draw, data: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` with every quantity written in another accepted unit (same amount)."""
    changed = copy.deepcopy(data)

    def other(text: str, display: str) -> str:
        amount = read_quantity(text, display)
        spelling, factor = draw(st.sampled_from(spellings(display)))
        return quantity_text(amount, spelling, factor)

    for lab in changed.get("labs") or []:
        measure = LAB_TESTS[lab["test"]].measure
        display = measure.display
        if measure.titre:  # 1:N has no unit: written with or without spaces around the colon
            dilution = lab["value"].split(":")[1].strip()
            lab["value"] = draw(st.sampled_from([f"1:{dilution}", f"1 : {dilution}"]))
            continue
        for key in ("value", "uln"):
            if key in lab:
                lab[key] = other(lab[key], display)
    for course in changed.get("medications") or []:
        if "dose" in course:
            unit = course["dose"].split(" ", 1)[1]
            display = next(d for d in ("mg", "mg/m2", "mg/kg") if unit in dict(spellings(d)))
            course["dose"] = other(course["dose"], display)
    demo = changed.get("demographics") or {}
    for key, display in (("weight", "kg"), ("height", "cm")):
        if key in demo:
            demo[key] = other(demo[key], display)
    return changed


def shift_dates(data: Any, shift: Callable[[dt.date], dt.date]) -> Any:
    """``data`` with every date replaced by ``shift(date)``."""
    if isinstance(data, dt.date):
        return shift(data)
    if isinstance(data, dict):
        return {k: shift_dates(v, shift) for k, v in data.items()}
    if isinstance(data, list):
        return [shift_dates(v, shift) for v in data]
    return data


def all_dates(data: Any) -> Iterator[dt.date]:
    if isinstance(data, dt.date):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from all_dates(value)
    elif isinstance(data, list):
        for value in data:
            yield from all_dates(value)


def shuffled(draw: Draw, data: Any) -> Any:
    """``data`` with the keys of every mapping and the entries of every list in a random order."""
    if isinstance(data, dict):
        keys = draw(st.permutations(list(data)))
        return {k: shuffled(draw, data[k]) for k in keys}
    if isinstance(data, list):
        return [shuffled(draw, v) for v in draw(st.permutations(data))]
    return data

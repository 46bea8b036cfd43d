"""The builders of the trial tests: small functions (patches) that change one thing in a test patient.

A patch takes the patient as plain data (a copy of an example file, see ``helpers.example``) and
changes it in place. Every trial's tests (tests/test_nct*.py) build their cases from these; a
trial's own module adds only what belongs to that trial (its courses by name, its dates).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .helpers import lab

Patch = Callable[[dict[str, Any]], None]


def put(path: str, value: Any) -> Patch:
    """Set the value at a dotted path, creating the mappings on the way."""
    def patch(d: dict[str, Any]) -> None:
        node = d
        *parents, last = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return patch


def drop(path: str) -> Patch:
    """Remove the value at a dotted path."""
    def patch(d: dict[str, Any]) -> None:
        node = d
        *parents, last = path.split(".")
        for part in parents:
            node = node[part]
        del node[last]
    return patch


def both(*patches: Patch) -> Patch:
    def patch(d: dict[str, Any]) -> None:
        for p in patches:
            p(d)
    return patch


def birth(day: str) -> Patch:
    return put("demographics.birth_date", day)


def stated_age(years: int) -> Patch:
    return both(drop("demographics.birth_date"), put("demographics.age", years))


def set_lab(test: str, value: str, uln: str | None = "keep") -> Patch:
    """Change the value of a lab result; ``uln=None`` removes its upper limit of normal."""
    def patch(d: dict[str, Any]) -> None:
        entry = lab(d, test)
        entry["value"] = value
        if uln is None:
            entry.pop("uln", None)
        elif uln != "keep":
            entry["uln"] = uln
    return patch


def add_lab(test: str, value: str, day: str) -> Patch:
    """Add a result of ``test`` on ``day`` to the patient's labs (the others stay)."""
    def patch(d: dict[str, Any]) -> None:
        d["labs"].append({"test": test, "value": value, "date": day})
    return patch


def remove_lab(*tests: str) -> Patch:
    def patch(d: dict[str, Any]) -> None:
        d["labs"] = [entry for entry in d["labs"] if entry["test"] not in tests]
    return patch


# ---------------------------------------------------------------- disease activity
def scores(*entries: tuple[str, float, str]) -> Patch:
    """Replace the activity scores by ``(index, score, date)`` entries."""
    return put("disease_activity", [{"index": index, "score": score, "date": day} for index, score, day in entries])


# ---------------------------------------------------------------- medication courses
def course(index: int, **changes: Any) -> Patch:
    """Change medication course ``index`` of the example; a value of None removes that key."""
    def patch(d: dict[str, Any]) -> None:
        for key, value in changes.items():
            if value is None:
                d["medications"][index].pop(key, None)
            else:
                d["medications"][index][key] = value
    return patch


def replace_course(index: int, **entry: Any) -> Patch:
    """Medication course ``index`` replaced by ``entry``."""
    def patch(d: dict[str, Any]) -> None:
        d["medications"][index] = dict(entry)
    return patch


def add_course(**entry: Any) -> Patch:
    def patch(d: dict[str, Any]) -> None:
        d["medications"].append(dict(entry))
    return patch


def drop_course(index: int) -> Patch:
    def patch(d: dict[str, Any]) -> None:
        del d["medications"][index]
    return patch


# ---------------------------------------------------------------- history
def infection(**entry: Any) -> Patch:
    """The patient's only infection: ``entry`` (named "infection" unless it says otherwise)."""
    return put("infections", [{"name": "infection", **entry}])


def malignancy(**entry: Any) -> Patch:
    """The patient's only malignancy: ``entry`` (of type "tumour" unless it says otherwise)."""
    return put("malignancies", [{"type": "tumour", **entry}])


def pregnancy_tests(*entries: dict[str, Any]) -> Patch:
    return put("pregnancy.tests", list(entries))

"""Patches: small functions that change one thing in a test patient (plain data), shared by the trial tests."""

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


def remove_lab(*tests: str) -> Patch:
    def patch(d: dict[str, Any]) -> None:
        d["labs"] = [entry for entry in d["labs"] if entry["test"] not in tests]
    return patch

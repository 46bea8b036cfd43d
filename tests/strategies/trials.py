"""The encoded trials as the property tests see them: every comparison of every rule file (:class:`Site`)
and every numeric threshold, read from the files (never listed by hand).

:func:`encoded_trials` loads rules/ once: the property tests and the conftest ``evaluator`` fixture find a
rule's nodes by identity, so every caller must use these very objects.
"""
from __future__ import annotations

import functools
import typing
from dataclasses import dataclass, field
from fractions import Fraction

from matcher.model.fields import LISTS, PATIENT_FIELDS, FieldSpec
from matcher.rules.language import Comparison, Trial, load_trials, walk

from ..helpers import RULES
from .quantities import exact

#: the scope of a criterion condition (a list name is the scope of a query over that list)
PATIENT = "patient"


# ================================================================== the rule files
@functools.cache
def encoded_trials() -> tuple[Trial, ...]:
    """Every trial in rules/, loaded once."""
    return tuple(load_trials(RULES))


@dataclass(frozen=True)
class Site:
    """One comparison of a rule file: the trial, the criterion id or query name that owns it, and its scope."""

    trial: Trial
    owner: str
    #: ``patient`` for criterion conditions, else the list the query ranges over
    scope: str
    node: Comparison = field(compare=False)

    @property
    def ident(self) -> str:
        return f"{self.trial.id}:{self.owner}:{self.node.field}:{self.node.where.line}"

    def __str__(self) -> str:
        readings = " / ".join(f"{r.op} {r.written}" for r in self.node.readings)
        return f"{self.node.where}: {self.trial.id} {self.owner}: {{field: {self.node.field}, {readings}}}"


def sites(trials: typing.Iterable[Trial]) -> list[Site]:
    """Every comparison in every criterion condition and query of ``trials``."""
    found: list[Site] = []
    for trial in trials:
        for name, query in trial.queries.items():
            found += [Site(trial, name, query.over, n) for n in walk(query.where) if isinstance(n, Comparison)]
        for criterion in trial.criteria:
            if criterion.condition is not None:
                found += [Site(trial, criterion.id, PATIENT, n) for n in walk(criterion.condition)
                          if isinstance(n, Comparison)]
    return found


def field_spec(scope: str, name: str) -> FieldSpec:
    return PATIENT_FIELDS[name] if scope == PATIENT else LISTS[scope].fields[name]


Thresholds = dict[tuple[str, str], tuple[Fraction, ...]]


def thresholds_of(trials: typing.Iterable[Trial]) -> Thresholds:
    """(scope, field) -> every numeric threshold the trials compare it with (all readings), exactly."""
    found: dict[tuple[str, str], set[Fraction]] = {}
    for site in sites(trials):
        if field_spec(site.scope, site.node.field).type != "number":
            continue
        for reading in site.node.readings:
            found.setdefault((site.scope, site.node.field), set()).add(exact(reading.value))
    return {key: tuple(sorted(values)) for key, values in found.items()}


@functools.cache
def rule_thresholds() -> Thresholds:
    return thresholds_of(encoded_trials())

"""What a field writer is: how to make a patient (or one list entry) read a chosen value.

A :class:`Writer` knows the field's possible values and which of them lie just below, at and just above
a threshold (:meth:`Writer.around`); :class:`Ctx` carries hypothesis' draw and the as-of date. Also the
helpers several writer families share: patient sections, the sex, and dated entries
(:func:`dated`: the one that counts, with decoys and history around it).
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

from .quantities import Draw, days, decimal_text
from .trials import Thresholds


# ================================================================== writers
@dataclass(frozen=True)
class Token:
    """A value a writer puts into a patient: ``value`` exactly (a Fraction, bool or enum value);
    ``payload`` is writer-specific detail (dates for a duration)."""

    value: Any
    payload: Any = None

    def __str__(self) -> str:
        shown = decimal_text(self.value) if isinstance(self.value, Fraction) else repr(self.value)
        return shown if self.payload is None else f"{shown} ({self.payload})"


@dataclass
class Ctx:
    """What a writer needs besides the value: hypothesis' draw, the as-of date and options."""

    draw: Draw
    as_of: dt.date
    #: a value the field must NOT read: dated writers put it the day before and the day after the as-of date
    decoy: Token | None = None
    #: add older and future entries around the one that counts (random profiles)
    history: bool = False


Write = Callable[[Ctx, dict[str, Any], Token], None]


@dataclass(frozen=True)
class Writer:
    """How to make one field read a chosen value, in the patient (scope ``patient``) or in one list entry."""

    field: str
    scope: str
    write: Write
    #: every value of a bool/enum field; empty for numbers
    choices: tuple[Any, ...] = ()
    low: Fraction | None = None
    high: Fraction | None = None
    #: the low end itself is not a possible value (doses above zero)
    low_open: bool = False
    #: values are whole multiples of this (1 for counts and ages, 1/7 for weeks of whole days)
    grid: Fraction | None = None
    #: the only values the field takes (days between administrations)
    levels: tuple[Fraction, ...] = ()
    #: writers whose values depend on dates: (ctx, threshold) -> tokens just below, at and just above
    custom_around: Callable[[Ctx, Fraction], list[Token]] | None = None
    custom_random: Callable[[Ctx], Token] | None = None
    places: int = 2

    @property
    def numeric(self) -> bool:
        return not self.choices

    def possible(self, value: Fraction) -> bool:
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        return self.high is None or value <= self.high

    def around(self, ctx: Ctx, threshold: Fraction) -> list[Token]:
        """The values of this field just below, at and just above ``threshold`` that a patient can have."""
        if self.custom_around is not None:
            return self.custom_around(ctx, threshold)
        candidates: list[Fraction | None]
        if self.levels:
            candidates = [max((v for v in self.levels if v < threshold), default=None),
                          threshold if threshold in self.levels else None,
                          min((v for v in self.levels if v > threshold), default=None)]
        elif self.grid is not None:
            steps = threshold / self.grid
            candidates = [(math.ceil(steps) - 1) * self.grid, threshold if steps.denominator == 1 else None,
                          (math.floor(steps) + 1) * self.grid]
        else:
            delta = max(abs(threshold), Fraction(1)) / 10**5
            candidates = [threshold - delta, threshold, threshold + delta]
        return [Token(v) for v in candidates if v is not None and self.possible(v)]

    def random(self, ctx: Ctx) -> Token:
        draw = ctx.draw
        if self.choices:
            return Token(draw(st.sampled_from(self.choices)))
        if self.custom_random is not None:
            return self.custom_random(ctx)
        if self.levels:
            return Token(draw(st.sampled_from(self.levels)))
        assert self.low is not None and self.high is not None, self.field
        if self.grid is not None:
            low, high = math.ceil(self.low / self.grid), math.floor(self.high / self.grid)
            value = draw(st.integers(low, high)) * self.grid
        else:
            value = Fraction(draw(st.decimals(Decimal(decimal_text(self.low)), Decimal(decimal_text(self.high)),
                                              places=self.places, allow_nan=False, allow_infinity=False)))
        if not self.possible(value):
            value = self.high
        return Token(value)

    def token(self, ctx: Ctx, thresholds: Thresholds) -> Token:
        """A random value, often just below, at or just above one of the field's thresholds."""
        near = thresholds.get((self.scope, self.field), ())
        if self.numeric and near and ctx.draw(st.integers(0, 3)) > 0:
            tokens = self.around(ctx, ctx.draw(st.sampled_from(near)))
            if tokens:
                return ctx.draw(st.sampled_from(tokens))
        return self.random(ctx)

def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    node = data
    parts = path.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value

def demographics_of(data: dict[str, Any]) -> dict[str, Any]:
    demo: dict[str, Any] = data.setdefault("demographics", {})
    return demo


# ------------------------------------------------------------------ dated entries (labs, scores, tests)
def dated(ctx: Ctx, entries: list[dict[str, Any]], make: Callable[[Token, dt.date], dict[str, Any]],
           token: Token, other: Callable[[], Token]) -> list[dict[str, Any]]:
    """``entries`` plus one for ``token`` that is the most recent on or before the as-of date.

    With a decoy, the decoy is dated the day before and the day after the as-of date (a reading
    that looks one day too far either way reads it). With history, older entries and entries after
    the as-of date (not yet happened) are added with other values. Dates are distinct.
    """
    as_of = ctx.as_of
    if ctx.decoy is not None:
        return [*entries, make(ctx.decoy, as_of - days(1)), make(token, as_of), make(ctx.decoy, as_of + days(1))]
    if not ctx.history:
        return [*entries, make(token, as_of)]
    latest = as_of - days(ctx.draw(st.integers(0, 45)))
    older = sorted(set(ctx.draw(st.lists(st.integers(1, 700), max_size=2))))
    later = sorted(set(ctx.draw(st.lists(st.integers(1, 60), max_size=1))))
    made = [make(other(), latest - days(n)) for n in older] + [make(other(), as_of + days(n)) for n in later]
    made.append(make(token, latest))
    return [*entries, *ctx.draw(st.permutations(made))]

def set_sex(data: dict[str, Any], sex: str) -> None:
    """Record the sex; a man recorded as pregnant or breastfeeding is refused, so those become false."""
    demographics_of(data)["sex"] = sex
    if sex == "male":
        pregnancy = data.get("pregnancy") or {}
        for name in ("pregnant", "breastfeeding", "childbearing_potential"):
            if pregnancy.get(name):
                pregnancy[name] = False

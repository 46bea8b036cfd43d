"""The random source of one synthetic patient (:class:`Draw`), the cohort's fixed shares and shared vocabulary."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, TypeVar

#: the as-of date of a cohort when none is given (fixed, so a default cohort never changes)
DEFAULT_AS_OF = dt.date(2026, 9, 14)
#: share of patients with an (almost) complete work-up
THOROUGH_SHARE = 0.35
#: probability that an item is recorded for a thoroughly worked-up patient
THOROUGH_RECORDED = 0.97
#: the furthest dates from the as-of date a patient may carry (planned procedures; birth dates)
FUTURE_DAYS, PAST_DAYS = 120, 32_000

T = TypeVar("T")

Record = dict[str, Any]

LUPUS_NEPHRITIS, SLE, SJOGREN, UNDIAGNOSED = "lupus_nephritis", "sle", "sjogren", "undiagnosed"


@lru_cache(maxsize=8)
def _iso_days(as_of: dt.date) -> tuple[str, ...]:
    """ISO text of every day from FUTURE_DAYS after ``as_of`` back to PAST_DAYS before it (looked up, not formatted,
    for speed): day ``offset`` before ``as_of`` is entry ``FUTURE_DAYS + offset``."""
    first = as_of + dt.timedelta(days=FUTURE_DAYS)
    return tuple((first - dt.timedelta(days=step)).isoformat() for step in range(FUTURE_DAYS + PAST_DAYS + 1))


class Draw:
    """The random source of one patient, with the questions every item asks. Dates are whole days before the
    as-of date (negative: after it) until written out with :meth:`iso`."""

    __slots__ = ("_days", "_key", "_uniform", "random", "thorough")

    def __init__(self, seed: int, index: int, as_of: dt.date) -> None:
        self._key = f"{seed}:{index}"
        self.random = random.Random(self._key)
        self._uniform = self.random.random
        self._days = _iso_days(as_of)
        self.thorough = self._uniform() < THOROUGH_SHARE

    def branch(self, name: str) -> Draw:
        """A random source of the same patient for the items ``name`` (same work-up, same dates) drawn apart
        from the main one: items added later do not change what the main source draws for the rest."""
        branch = Draw.__new__(Draw)
        branch._key = f"{self._key}:{name}"
        branch.random = random.Random(branch._key)
        branch._uniform = branch.random.random
        branch._days = self._days
        branch.thorough = self.thorough
        return branch

    def chance(self, probability: float) -> bool:
        return self._uniform() < probability

    def recorded(self, probability: float) -> bool:
        """Whether an item is recorded: ``probability`` usually, almost always for a thorough work-up."""
        return self._uniform() < (THOROUGH_RECORDED if self.thorough else probability)

    def integer(self, low: int, high: int) -> int:
        """A whole number from low to high inclusive (random.randint, faster)."""
        return low + int(self._uniform() * (high - low + 1))

    def pick(self, options: Sequence[T]) -> T:
        return options[int(self._uniform() * len(options))]

    def list_size(self, absent: float, empty: float, most: int = 4) -> int | None:
        """None (not assessed), 0 (assessed: none) or 1..most entries."""
        roll = self._uniform()
        if roll < (absent * 0.1 if self.thorough else absent):
            return None
        if roll < absent + empty:
            return 0
        return self.integer(1, most)

    def iso(self, days_before: int) -> str:
        """The date ``days_before`` the as-of date, as YYYY-MM-DD."""
        return self._days[FUTURE_DAYS + days_before]


def written_number(value: float, places: int) -> str:
    """A value as a lab writes it: rounded, without trailing zeros."""
    text = f"{value:.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


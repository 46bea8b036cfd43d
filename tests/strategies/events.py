"""Field writers for dated events other than courses: infections (active, weeks since active), and
procedures and immunizations (weeks since done).
"""
from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

from .quantities import days
from .writers import Ctx, Token, Writer


def infection_writers() -> list[Writer]:
    statuses = ("uncontrolled", "controlled", "resolved")

    def set_end(entry: dict[str, Any], end: dt.date | None) -> None:
        if end is None:
            entry.pop("end", None)
        else:
            entry["end"] = end
            if entry.get("start") and entry["start"] > end:
                entry["start"] = end

    def active(ctx: Ctx, entry: dict[str, Any], token: Token) -> None:
        """Active on the as-of date: not ended by then, and not recorded as resolved without an end."""
        later = ctx.as_of + days(ctx.draw(st.integers(1, 60)))
        if token.value:
            entry["status"] = ctx.draw(st.sampled_from(statuses))
            set_end(entry, later if entry["status"] == "resolved" or ctx.draw(st.booleans()) else None)
        elif ctx.draw(st.booleans()):
            entry["status"] = ctx.draw(st.sampled_from(statuses))
            set_end(entry, ctx.as_of - days(ctx.draw(st.sampled_from([0, 1, 30, 400]))))
        else:
            entry["status"] = "resolved"
            set_end(entry, None)

    def weeks_since_active(ctx: Ctx, entry: dict[str, Any], token: Token) -> None:
        """Weeks from the end of the infection to the as-of date; 0 while it is active."""
        count = int(token.value * 7)
        entry["status"] = ctx.draw(st.sampled_from(statuses))
        if count == 0 and ctx.draw(st.booleans()):
            if entry["status"] == "resolved" or ctx.draw(st.booleans()):
                set_end(entry, ctx.as_of + days(ctx.draw(st.integers(1, 60))))
            else:
                set_end(entry, None)
        else:
            set_end(entry, ctx.as_of - days(count))

    return [Writer("active", "infections", active, choices=(True, False)),
            Writer("weeks_since_active", "infections", weeks_since_active, low=Fraction(0), high=Fraction(400),
                   grid=Fraction(1, 7))]


def done_weeks_writer(scope: str) -> Writer:
    """Weeks since a procedure or vaccination was done (not planned), from its date."""

    def write(ctx: Ctx, entry: dict[str, Any], token: Token) -> None:
        entry["date"] = ctx.as_of - days(int(token.value * 7))
        if entry.get("planned") or ctx.draw(st.booleans()):
            entry["planned"] = False

    return Writer("weeks_since", scope, write, low=Fraction(0), high=Fraction(400), grid=Fraction(1, 7))

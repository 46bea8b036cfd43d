"""Field writers for lab results (value, multiple of the upper limit of normal), disease-activity scores and the
highest grade of a BILAG-2004 assessment.
"""
from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

from matcher.model.measurements import ACTIVITY_INDICES, BILAG_GRADES, LAB_TESTS

from .quantities import exact, plain_number, quantity
from .trials import PATIENT
from .writers import Ctx, Token, Writer, dated


def lab_writer(test: str) -> Writer:
    spec = LAB_TESTS[test]
    display = spec.measure.display
    titre = spec.measure.titre  # written 1:N, N a whole number

    def written(ctx: Ctx, amount: Fraction) -> str:
        return f"1:{amount}" if titre else quantity(ctx.draw, amount, display)

    def make_uln(ctx: Ctx) -> str | None:
        if not spec.needs_uln or not ctx.draw(st.booleans()):
            return None
        uln = Fraction(ctx.draw(st.sampled_from([40, 35, 50, 56, 1])))
        return quantity(ctx.draw, uln, display) if spec.low <= uln <= spec.high else None

    def write(ctx: Ctx, data: dict[str, Any], token: Token) -> None:
        def make(tok: Token, day: dt.date) -> dict[str, Any]:
            entry: dict[str, Any] = {"test": test, "value": written(ctx, tok.value), "date": day}
            uln = make_uln(ctx)
            if uln is not None:
                entry["uln"] = uln
            return entry

        kept = [e for e in data.get("labs") or [] if e["test"] != test]
        data["labs"] = dated(ctx, kept, make, token, lambda: writer.random(ctx))

    writer = Writer(test, PATIENT, write, low=exact(spec.low), high=exact(spec.high),
                    grid=Fraction(1) if titre else None, places=0 if titre else 2)
    return writer


def uln_multiple_writer(test: str) -> Writer:
    """``<test>_x_uln``: the value divided by the reporting lab's ULN."""
    spec = LAB_TESTS[test]
    display = spec.measure.display
    low, high = exact(spec.low), exact(spec.high)

    def write(ctx: Ctx, data: dict[str, Any], token: Token) -> None:
        def make(tok: Token, day: dt.date) -> dict[str, Any]:
            multiple = tok.value
            # a ULN that keeps the value possible, with few digits so that value = multiple x ULN is exact
            top = high if multiple == 0 else min(high, high / multiple)
            bottom = max(low, Fraction(1, 100)) if multiple == 0 else max(low / multiple, Fraction(1, 100), low)
            choices = [u for u in (Fraction(40), Fraction(1), Fraction(1, 2), bottom, top) if bottom <= u <= top]
            uln = ctx.draw(st.sampled_from(choices))
            return {"test": test, "value": quantity(ctx.draw, multiple * uln, display),
                    "uln": quantity(ctx.draw, uln, display), "date": day}

        kept = [e for e in data.get("labs") or [] if e["test"] != test]
        data["labs"] = dated(ctx, kept, make, token, lambda: writer.random(ctx))

    # the matcher rounds the multiple to 6 decimals: values are whole multiples of 1e-6
    writer = Writer(f"{test}_x_uln", PATIENT, write, low=low / high, high=Fraction(50), grid=Fraction(1, 10**6),
                    places=3)
    return writer


def bilag_writer() -> Writer:
    """``bilag_2004_highest_grade``: the most recent BILAG-2004 assessment, with older ones and ones after the
    as-of date of other grades (and decoys a day either side) when the context asks for history."""

    def write(ctx: Ctx, data: dict[str, Any], token: Token) -> None:
        def make(tok: Token, day: dt.date) -> dict[str, Any]:
            return {"date": day, "highest_grade": tok.value}

        data["bilag_2004"] = dated(ctx, [], make, token, lambda: Token(ctx.draw(st.sampled_from(BILAG_GRADES))))

    return Writer("bilag_2004_highest_grade", PATIENT, write, choices=BILAG_GRADES)


def activity_writer(index: str) -> Writer:
    low, high = ACTIVITY_INDICES[index]

    def write(ctx: Ctx, data: dict[str, Any], token: Token) -> None:
        def make(tok: Token, day: dt.date) -> dict[str, Any]:
            return {"index": index, "score": plain_number(tok.value), "date": day}

        kept = [e for e in data.get("disease_activity") or [] if e["index"] != index]
        data["disease_activity"] = dated(ctx, kept, make, token, lambda: writer.random(ctx))

    # scores are sums of whole item weights
    writer = Writer(index.lower().replace("-", "_"), PATIENT, write, low=exact(low), high=exact(high),
                    grid=Fraction(1))
    return writer

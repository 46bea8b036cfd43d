"""Field writers for pregnancy: recorded or derived from tests, the most recent test of each specimen and
its age, and the facts known false for a man (breastfeeding, childbearing potential).
"""
from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

from matcher.model.fields.pregnancy import NEGATIVE_TEST_DAYS

from .quantities import days
from .trials import PATIENT
from .writers import Ctx, Token, Writer, dated, demographics_of, set_sex

#: pregnancy facts known false for a man (matcher.model.fields.patient.female_only)
FEMALE_ONLY = ("breastfeeding", "childbearing_potential")

#: a negative pregnancy test at most this many days old rules pregnancy out (matcher.model.fields)

def _pregnancy_test(ctx: Ctx, specimen: str | None, day: dt.date, result: str) -> dict[str, Any]:
    """A test of ``specimen``; of either, or with no specimen recorded, when ``specimen`` is None."""
    made: dict[str, Any] = {"date": day, "result": result}
    chosen = specimen or ctx.draw(st.sampled_from(["urine", "serum", None]))
    return {**made, "specimen": chosen} if chosen else made


def _tests_of_other_specimens(data: dict[str, Any], specimen: str | None) -> tuple[dict[str, Any], list[Any]]:
    """The pregnancy section, and its tests that cannot be the most recent of ``specimen`` (none if None)."""
    pregnancy = data.setdefault("pregnancy", {})
    return pregnancy, [e for e in pregnancy.get("tests") or [] if specimen and e.get("specimen") != specimen]


def _no_positive_serum_before(tests: list[dict[str, Any]], as_of: dt.date) -> None:
    """Make the positive serum tests of the week before the most recent test urine tests: a negative urine
    test does not overrule them (matcher.model.fields.pregnancy._pregnancy_evidence), so they would make the records
    disagree instead of leaving the most recent test to decide."""
    done = [t["date"] for t in tests if t["date"] <= as_of]
    if not done:
        return
    last = max(done)
    for test in tests:
        if test["result"] == "positive" and test.get("specimen") == "serum" \
                and 0 < (last - test["date"]).days <= NEGATIVE_TEST_DAYS:
            test["specimen"] = "urine"


def pregnancy_test_writer(specimen: str | None) -> Writer:
    """The most recent pregnancy test of one specimen, or of either (``None``)."""

    def write(ctx: Ctx, data: dict[str, Any], token: Token) -> None:
        pregnancy, kept = _tests_of_other_specimens(data, specimen)
        pregnancy["tests"] = dated(ctx, kept, lambda tok, day: _pregnancy_test(ctx, specimen, day, tok.value),
                                    token, lambda: writer.random(ctx))
        if specimen is None and token.value == "negative":
            _no_positive_serum_before(pregnancy["tests"], ctx.as_of)

    name = f"{specimen}_pregnancy_test" if specimen else "pregnancy_test"
    writer = Writer(name, PATIENT, write, choices=("positive", "negative"))
    return writer


def pregnancy_test_age_writer(specimen: str | None) -> Writer:
    """Days from the most recent pregnancy test of one specimen (or of either) to the as-of date."""

    def write(ctx: Ctx, data: dict[str, Any], token: Token) -> None:
        pregnancy, kept = _tests_of_other_specimens(data, specimen)
        day = ctx.as_of - days(int(token.value))
        made = _pregnancy_test(ctx, specimen, day, ctx.draw(st.sampled_from(["positive", "negative"])))
        later = ctx.draw(st.lists(st.integers(1, 60), max_size=1))  # not yet done on the as-of date
        older = ctx.draw(st.lists(st.integers(1, 700), max_size=1))
        extra = [{**made, "date": ctx.as_of + days(n)} for n in later]
        extra += [{**made, "date": day - days(n)} for n in older]
        pregnancy["tests"] = [*kept, made, *extra]

    name = f"{specimen}_pregnancy_test_days_ago" if specimen else "pregnancy_test_days_ago"
    return Writer(name, PATIENT, write, low=Fraction(0), high=Fraction(3000), grid=Fraction(1))

def female_only_writer(name: str) -> Writer:
    def write(ctx: Ctx, data: dict[str, Any], token: Token) -> None:
        demo = demographics_of(data)
        if token.value:
            demo["sex"] = "female"
            data.setdefault("pregnancy", {})[name] = True
        elif ctx.draw(st.booleans()):  # not applicable: a man
            set_sex(data, "male")
            (data.get("pregnancy") or {}).pop(name, None)
        else:
            pregnancy = data.setdefault("pregnancy", {})
            pregnancy[name] = False
            if name == "childbearing_potential":  # pregnant, or a positive test, would contradict it
                if pregnancy.get("pregnant"):
                    pregnancy["pregnant"] = False
                pregnancy["tests"] = [{**t, "result": "negative"} for t in pregnancy.get("tests") or []]
                if not pregnancy["tests"]:
                    del pregnancy["tests"]

    return Writer(name, PATIENT, write, choices=(True, False))

def pregnant_writer() -> Writer:
    """Pregnancy as recorded, else derived: not for a man or a woman not of childbearing potential; yes
    after a positive test; no after a negative test at most NEGATIVE_TEST_DAYS days old."""

    def write(ctx: Ctx, data: dict[str, Any], token: Token) -> None:
        demo = demographics_of(data)
        pregnancy = data.setdefault("pregnancy", {})
        tests = pregnancy.get("tests") or []
        how = ctx.draw(st.sampled_from(["recorded", "test"] if token.value else
                                       ["recorded", "male", "not of childbearing potential", "test"]))
        if how == "male":
            pregnancy.pop("pregnant", None)
            set_sex(data, "male")
            return
        demo["sex"] = "female"
        if how == "recorded":
            pregnancy["pregnant"] = token.value
            if not token.value:  # a more recent positive test would contradict it
                pregnancy["tests"] = [{**t, "result": "negative"} for t in tests]
            elif pregnancy.get("childbearing_potential") is False:  # refused: pregnant means of childbearing potential
                del pregnancy["childbearing_potential"]
            return
        pregnancy.pop("pregnant", None)
        if how == "not of childbearing potential":
            pregnancy["childbearing_potential"] = False
            if tests:  # a positive test would make the records disagree
                pregnancy["tests"] = [{**t, "result": "negative"} for t in tests]
            return
        if pregnancy.get("childbearing_potential") is False:
            del pregnancy["childbearing_potential"]
        age = ctx.draw(st.sampled_from([0, NEGATIVE_TEST_DAYS]) | st.integers(0, NEGATIVE_TEST_DAYS)) \
            if not token.value else ctx.draw(st.integers(0, 300))
        day = ctx.as_of - days(age)
        kept = [t for t in tests if not day <= t["date"] <= ctx.as_of]
        if not token.value:  # an earlier positive serum test of the same week would make the records disagree
            kept = [{**t, "result": "negative"} for t in kept]
        pregnancy["tests"] = [*kept, {"date": day, "result": "positive" if token.value else "negative",
                                      "specimen": ctx.draw(st.sampled_from(["urine", "serum"]))}]

    return Writer("pregnant", PATIENT, write, choices=(True, False))

"""Field writers for diagnoses: SLE and primary Sjogren's status, antinuclear antibodies and the count of
ACR 1997 criteria, each keeping the record from contradicting itself (the SLICC 2012 classification, a plain
attribute, is written by :func:`.attributes.attribute_writer`).
"""
from __future__ import annotations

from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

from matcher.model import profile as profile_module

from .trials import PATIENT
from .writers import Ctx, Token, Writer


def acr_count_writer() -> Writer:
    criteria = tuple(getattr(profile_module, "ACR1997_CRITERIA", ()))

    def write(ctx: Ctx, data: dict[str, Any], token: Token) -> None:
        sle = data.setdefault("diagnoses", {}).setdefault("sle", {})
        count = int(token.value)
        sle.pop("acr1997_criteria", None)
        sle["acr1997_criteria_met"] = count
        if criteria and ctx.draw(st.booleans()):
            sle["acr1997_criteria"] = list(ctx.draw(st.permutations(criteria))[:count])
            if ctx.draw(st.booleans()):
                del sle["acr1997_criteria_met"]

    return Writer("sle.acr1997_criteria_met", PATIENT, write, low=Fraction(0), high=Fraction(11), grid=Fraction(1))

def _diagnosis(data: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = data.setdefault("diagnoses", {}).setdefault(name, {})
    return found


def ana_writer() -> Writer:
    """Antinuclear antibodies as recorded; recorded negative, antinuclear antibody leaves the ACR criteria
    listed (the records would disagree); not recorded and listed reads positive (derived)."""

    def write(ctx: Ctx, data: dict[str, Any], token: Token) -> None:
        sle = _diagnosis(data, "sle")
        sle["ana_positive"] = token.value
        listed = sle.get("acr1997_criteria")
        if token.value is False and listed and "antinuclear_antibody" in listed:
            sle["acr1997_criteria"] = [c for c in listed if c != "antinuclear_antibody"]
            if "acr1997_criteria_met" in sle:
                sle["acr1997_criteria_met"] = len(sle["acr1997_criteria"])

    return Writer("sle.ana_positive", PATIENT, write, choices=(True, False))


def acr_count(sle: dict[str, Any]) -> int | None:
    listed = sle.get("acr1997_criteria")
    count: int | None = len(listed) if listed is not None else sle.get("acr1997_criteria_met")
    return count


def diagnosis_status_writer(name: str) -> Writer:
    """``<name>.status``: ``present`` recorded true, ``absent`` recorded false (the evidence that would
    contradict the absence taken away), ``not_recorded`` without ``present``."""

    def write(ctx: Ctx, data: dict[str, Any], token: Token) -> None:
        diagnosis = _diagnosis(data, name)
        if token.value == "not_recorded":
            diagnosis.pop("present", None)
            return
        diagnosis["present"] = token.value == "present"
        if token.value == "absent" and name == "sle" and (acr_count(diagnosis) or 0) >= 4:
            diagnosis.pop("acr1997_criteria", None)
            diagnosis.pop("acr1997_criteria_met", None)
        if token.value == "absent" and name == "sle" and diagnosis.get("slicc2012_fulfilled"):
            diagnosis["slicc2012_fulfilled"] = False
        if token.value == "absent" and name == "primary_sjogren" and diagnosis.get("aecg2002_fulfilled"):
            diagnosis["aecg2002_fulfilled"] = False

    return Writer(f"{name}.status", PATIENT, write, choices=("present", "absent", "not_recorded"))

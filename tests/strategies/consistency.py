"""Taking information away: records made to agree with themselves (:func:`consistent`), the keys whose
removal only takes information away (:func:`removable`), and patients with some of it removed
(:func:`less_informed`), for the property that filling in missing data never changes a decided outcome.
"""
from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from hypothesis import strategies as st
from pydantic import BaseModel

from matcher.intake.pydantic_errors import _inner_model
from matcher.model.measurements import LAB_TESTS
from matcher.model.profile import PatientProfile
from matcher.model.units import convert

from .demographics import ckd_epi_2021
from .diagnoses import acr_count
from .quantities import Draw, completed_years


# ================================================================== taking information away
def consistent(data: dict[str, Any], as_of: dt.date) -> None:
    """Make a generated record agree with itself where the matcher resolves a contradiction by precedence
    (which cannot be monotone: remove the winning side and the losing side decides): SLE or primary
    Sjogren's recorded absent against the criteria that classify it (ACR 1997 or SLICC 2012, AECG 2002),
    ANA recorded negative though listed among the ACR criteria, SLE with primary Sjogren's (secondary by
    AECG 2002), pregnancy recorded true against a negative test or a man or a woman not of childbearing
    potential, and a positive pregnancy test for a man or a woman not of childbearing potential. Tests then
    agree with the record, and so do a 24-hour protein and a protein/creatinine ratio recorded together, and a
    reported eGFR and a serum creatinine of one day."""
    diagnoses = data.get("diagnoses") or {}
    sle, sjogren = diagnoses.get("sle") or {}, diagnoses.get("primary_sjogren") or {}
    if sle.get("present") is False and ((acr_count(sle) or 0) >= 4  # 4 ACR criteria classify SLE
                                        or sle.get("slicc2012_fulfilled")):  # and so does SLICC 2012
        sle["present"] = True
    if sle.get("ana_positive") is False and "antinuclear_antibody" in (sle.get("acr1997_criteria") or []):
        sle["ana_positive"] = True
    if sjogren.get("present") is False and sjogren.get("aecg2002_fulfilled"):
        sjogren["present"] = True
    if sle.get("present") and (sjogren.get("present") or sjogren.get("aecg2002_fulfilled")):
        sle["present"] = False  # Sjogren's with SLE is secondary (AECG 2002): not *primary* Sjogren's
        if (acr_count(sle) or 0) >= 4 or sle.get("slicc2012_fulfilled"):
            sle.pop("present")
    _proteinuria_measures_agree(data, as_of)
    _kidney_function_measures_agree(data, as_of)
    pregnancy = data.get("pregnancy")
    if not pregnancy:
        return
    male = (data.get("demographics") or {}).get("sex") == "male"
    if pregnancy.get("pregnant") is True:
        pregnancy["childbearing_potential"] = True
        result = "positive"
    elif male or pregnancy.get("childbearing_potential") is False or pregnancy.get("pregnant") is False:
        result = "negative"
    else:
        return
    pregnancy["tests"] = [{**test, "result": result} for test in pregnancy.get("tests") or []]


def _proteinuria_measures_agree(data: dict[str, Any], as_of: dt.date) -> None:
    """The 24-hour protein and the protein/creatinine ratio measure one quantity (a rule's ``equivalent``), and
    two that disagree on a threshold go to the clinician: where both are recorded, every ratio reads what the
    latest 24-hour protein reads (1 g/g is about 1 g/day), so the record does not contradict itself.
    Contradicting measures have their own property (tests/test_currency_properties.py)."""
    labs = data.get("labs") or []
    daily = [lab for lab in labs if lab.get("test") == "urine_protein_24h"
             and dt.date.fromisoformat(str(lab.get("date"))) <= as_of]
    if not daily:
        return
    latest = max(daily, key=lambda lab: str(lab["date"]))
    grams = convert(latest["value"], LAB_TESTS["urine_protein_24h"].measure)
    for lab in labs:
        if lab.get("test") == "urine_protein_creatinine_ratio":
            lab["value"] = f"{grams!r} g/g"


def _kidney_function_measures_agree(data: dict[str, Any], as_of: dt.date) -> None:
    """A reported eGFR and a serum creatinine of the same (most recent) day are two readings of one kidney
    function (a rule's ``equivalent``), and two that disagree on a threshold go to the clinician: where both
    are recorded that day, for an adult of recorded sex, the eGFR reads the CKD-EPI 2021 estimate (published
    formula) of the creatinine. Contradicting readings have their own tests (tests/test_egfr_same_day.py)."""
    demographics = data.get("demographics") or {}
    sex, born, years = demographics.get("sex"), demographics.get("birth_date"), demographics.get("age")
    if born is not None:
        years = completed_years(dt.date.fromisoformat(str(born)), as_of)
    if sex not in ("female", "male") or years is None or int(years) < 18:
        return
    labs = [lab for lab in data.get("labs") or [] if lab.get("test") in KIDNEY_FUNCTION
            and dt.date.fromisoformat(str(lab.get("date"))) <= as_of]
    latest = {test: max((str(lab["date"]) for lab in labs if lab["test"] == test), default=None)
              for test in KIDNEY_FUNCTION}
    if latest["egfr"] is None or latest["egfr"] != latest["serum_creatinine"]:
        return
    creatinine = next(lab for lab in labs if lab["test"] == "serum_creatinine" and str(lab["date"]) == latest["egfr"])
    amount = convert(creatinine["value"], LAB_TESTS["serum_creatinine"].measure)
    estimate = round(ckd_epi_2021(float(amount), int(years), sex), 1)
    for lab in labs:
        if lab["test"] == "egfr" and str(lab["date"]) == latest["egfr"]:
            lab["value"] = f"{estimate!r} mL/min/1.73m2"


#: list entries whose date says whether they have happened by the as-of date (matcher.model.fields LISTS ``visible``)
VISIBILITY_DATES = {"medications": "start", "infections": "start", "malignancies": "diagnosed",
                    "procedures": "date", "immunizations": "date"}


#: lab tests that are successive evidence of one quantity, of which the matcher reads the most recent: the eGFR
#: is the lab's reported eGFR unless a serum creatinine is newer (then CKD-EPI 2021 from it), and on the same
#: day the lab's own (matcher.model.fields, egfr_reported_or_ckd_epi_2021)
KIDNEY_FUNCTION = ("egfr", "serum_creatinine")


def _deciding_kidney_function_test(data: dict[str, Any], as_of: dt.date) -> str | None:
    """Which of the reported eGFR and the serum creatinine gives the eGFR the matcher reads, when both have a
    result on or before the as-of date; None when only one (or neither) has."""
    latest: dict[str, dt.date] = {}
    for lab in data.get("labs") or []:
        day = dt.date.fromisoformat(str(lab.get("date")))
        if lab.get("test") in KIDNEY_FUNCTION and day <= as_of:
            latest[lab["test"]] = max(day, latest.get(lab["test"], day))
    if len(latest) < len(KIDNEY_FUNCTION):
        return None
    return "serum_creatinine" if latest["serum_creatinine"] > latest["egfr"] else "egfr"


def removable(data: dict[str, Any], as_of: dt.date) -> list[tuple[Any, ...]]:
    """Paths whose removal only takes information away: optional keys (at any depth), and every lab
    result of one test or every score of one index at once (removing only the latest one would bring
    back an older value, which is a different value, not a missing one).

    For the same reason, of the two sources of the eGFR (:data:`KIDNEY_FUNCTION`), the one the matcher reads
    is removed only together with the other: removing the newer one alone (a creatinine newer than the
    reported eGFR, or a reported eGFR as new as the creatinine) would bring back the other, an older or
    another reading of the same quantity, not a missing one. The other one may go alone.

    Not listed, because the matcher reads their absence as a value (a documented default), so removing
    them would not make anything unknown: ``planned: true`` (an entry without ``planned`` is taken as
    done), a date that puts a list entry after the as-of date (an undated entry is taken as having
    happened), and an infection's ``end`` (without one, its status says whether it is still active). Nor
    is a pregnancy test's ``specimen``: like a lab's test name, it says which test a result belongs to,
    and removing it brings back an older test of that specimen.
    """
    found: list[tuple[Any, ...]] = []

    def visit(node: dict[str, Any], model: type[BaseModel], at: tuple[Any, ...]) -> None:
        for key, value in node.items():
            info = model.model_fields[key]
            if not info.is_required() and not (key == "planned" and value is True) \
                    and not (at[:1] == ("infections",) and key == "end") \
                    and not (at[:2] == ("pregnancy", "tests") and key == "specimen"):
                scope = at[0] if at else None
                if not (scope in VISIBILITY_DATES and len(at) == 2 and key == VISIBILITY_DATES[scope]
                        and isinstance(value, dt.date) and value > as_of):
                    found.append((*at, key))
            inner = _inner_model(info.annotation)
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                if isinstance(value, dict):
                    visit(value, inner, (*at, key))
                elif isinstance(value, list):
                    for index, item in enumerate(value):
                        if isinstance(item, dict) and key not in ("labs", "disease_activity"):
                            visit(item, inner, (*at, key, index))

    visit(data, PatientProfile, ())
    deciding = _deciding_kidney_function_test(data, as_of)
    for key, group in (("labs", "test"), ("disease_activity", "index")):
        for value in sorted({e[group] for e in data.get(key) or []}):
            if key != "labs" or value != deciding:
                found.append((key, f"{group}={value}"))
    if deciding is not None:
        found.append(("labs", "test=" + "|".join(KIDNEY_FUNCTION)))
    return [path for path in found if path not in (("id",), ("screening_date",))]


def remove(data: dict[str, Any], path: tuple[Any, ...]) -> None:
    """Remove ``path`` (from :func:`removable`) from ``data`` in place."""
    if len(path) == 2 and isinstance(path[1], str) and "=" in path[1]:
        group, values = path[1].split("=", 1)  # one value, or several separated by "|"
        data[path[0]] = [e for e in data.get(path[0]) or [] if e[group] not in values.split("|")]
        return
    node: Any = data
    for part in path[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return
    if isinstance(node, dict):
        node.pop(path[-1], None)


@st.composite
def less_informed(draw: Draw, data: dict[str, Any], as_of: dt.date) -> tuple[dict[str, Any], list[Any]]:
    """A copy of ``data`` with some information taken away, and what was removed."""
    paths = removable(data, as_of)
    chosen = draw(st.lists(st.sampled_from(paths), min_size=1, max_size=8, unique=True)) if paths else []
    partial = copy.deepcopy(data)
    for path in sorted(chosen, key=len, reverse=True):  # deepest first: indexes stay valid
        remove(partial, path)
    return partial, chosen

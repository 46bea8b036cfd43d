"""Patient fields whose reading is bespoke, and the extractor kinds of patient fields that many rows share.

The rows of ``fields.yaml`` name what they use: ``function age_years`` is :data:`FUNCTIONS` ``age_years``;
``attribute diagnoses.sle.present``, ``lab serum_creatinine`` and the other kinds are the factories in
:data:`KINDS`, given the row's parameter and the row itself (its label and what it reads).
Pregnancy fields are in :mod:`matcher.model.fields.pregnancy`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from matcher.model.dates import completed_years, months_between
from matcher.model.fields.readings import (
    Absence,
    Observation,
    PatientExtract,
    Reading,
    fmt,
    later_count,
    latest,
    left_out,
)
from matcher.model.measurements import LAB_TESTS, LabResult
from matcher.model.profile import PatientProfile
from matcher.model.units import Measure, convert

if TYPE_CHECKING:
    from matcher.model.fields.rows import FieldRow

WEIGHT = Measure("kg", "kg")
HEIGHT = Measure("cm", "cm")


def _age(profile: PatientProfile, as_of: dt.date) -> Reading:
    demo = profile.demographics
    if demo and demo.birth_date:
        years = completed_years(demo.birth_date, as_of)
        if years < 0:
            return Absence(f"birth date {demo.birth_date} is after the as-of date {as_of}", "date of birth")
        return Observation(years, f"{years} years", "demographics.birth_date", as_of,
                           f"completed years from birth date {demo.birth_date} to {as_of}")
    if demo and demo.age is not None:
        return Observation(demo.age, f"{demo.age} years", "demographics.age", None,
                           "age as recorded (no birth date; not recomputed for the as-of date)")
    return Absence("no birth date or age recorded", "date of birth (or age)")


def _sex(profile: PatientProfile, as_of: dt.date) -> Reading:
    if profile.demographics and profile.demographics.sex:
        return Observation(profile.demographics.sex, profile.demographics.sex, "demographics.sex")
    return Absence("sex not recorded", "sex")


def _acr1997_count(profile: PatientProfile, as_of: dt.date) -> Reading:
    sle = profile.diagnoses.sle if profile.diagnoses else None
    if sle is not None and sle.acr1997_criteria is not None:
        listed = sle.acr1997_criteria
        return Observation(len(listed), str(len(listed)), "diagnoses.sle.acr1997_criteria", None,
                           f"counted from the criteria listed: {', '.join(c.replace('_', ' ') for c in listed)}")
    if sle is not None and sle.acr1997_criteria_met is not None:
        return Observation(sle.acr1997_criteria_met, str(sle.acr1997_criteria_met),
                           "diagnoses.sle.acr1997_criteria_met")
    return Absence("ACR 1997 criteria not recorded (diagnoses.sle.acr1997_criteria_met or acr1997_criteria)",
                   "number of ACR 1997 SLE classification criteria met (or which ones)")


def _ana_positive(profile: PatientProfile, as_of: dt.date) -> Reading:
    """As recorded; else derived from the ACR 1997 criteria listed (antinuclear antibody is one of them).
    Recorded negative while the criteria list it: the records disagree."""
    sle = profile.diagnoses.sle if profile.diagnoses else None
    listed = sle is not None and "antinuclear_antibody" in (sle.acr1997_criteria or [])
    if sle is not None and sle.ana_positive is not None:
        if sle.ana_positive is False and listed:
            return Absence("records disagree: diagnoses.sle.ana_positive is false, but diagnoses.sle.acr1997_criteria "
                           "lists antinuclear antibody", "ANA result (records disagree)")
        return Observation(sle.ana_positive, "yes" if sle.ana_positive else "no", "diagnoses.sle.ana_positive")
    if listed:
        return Observation(True, "yes", "diagnoses.sle.acr1997_criteria", None,
                           "derived: antinuclear antibody is among the ACR 1997 criteria recorded as met")
    return Absence("antinuclear antibodies positive not recorded (diagnoses.sle.ana_positive)", "ANA result")


def _biopsy_months_ago(profile: PatientProfile, as_of: dt.date) -> Reading:
    """Calendar months from the renal biopsy to the as-of date. A biopsy dated after the as-of date had not been
    done on it: unknown, never a recent biopsy."""
    nephritis = profile.diagnoses.lupus_nephritis if profile.diagnoses else None
    day = nephritis.biopsy_date if nephritis is not None else None
    if day is None:
        return Absence("date of the renal biopsy not recorded (diagnoses.lupus_nephritis.biopsy_date)",
                       "date of the renal biopsy")
    if day > as_of:
        return Absence(f"the renal biopsy is dated {day}, after the as-of date {as_of}",
                       f"a renal biopsy on or before {as_of}")
    months = round(months_between(day, as_of), 4)
    return Observation(months, f"{fmt(months)} months", "diagnoses.lupus_nephritis.biopsy_date", day,
                       f"calendar months from the biopsy on {day} to the as-of date {as_of}")


def _bilag_highest_grade(profile: PatientProfile, as_of: dt.date) -> Reading:
    """The highest organ-domain grade of the most recent BILAG-2004 assessment on or before the as-of date
    (its currency window is that of activity scores)."""
    found = latest(profile.bilag_2004, as_of, lambda assessment: True)
    later = left_out(later_count(profile.bilag_2004, as_of, lambda assessment: True), "assessment")
    if found is None:
        return Absence(f"no BILAG-2004 assessment on or before {as_of}{later} (bilag_2004)",
                       "BILAG-2004 assessment (highest organ grade, with its date)"
                       + (f" on or before {as_of}" if later else ""))
    position, assessment = found
    return Observation(assessment.highest_grade, assessment.highest_grade, f"bilag_2004[{position}]",
                       assessment.date, f"most recent assessment on or before the as-of date{later}")


def _sle_contradiction(sle: Any) -> str | None:
    count = len(sle.acr1997_criteria) if sle.acr1997_criteria is not None else sle.acr1997_criteria_met
    if count is not None and count >= 4:
        return f"{count} ACR 1997 criteria are recorded as met (4 or more classify SLE)"
    if sle.slicc2012_fulfilled:
        return "diagnoses.sle.slicc2012_fulfilled is true"
    return None


def _sjogren_contradiction(sjogren: Any) -> str | None:
    if sjogren.aecg2002_fulfilled:
        return "diagnoses.primary_sjogren.aecg2002_fulfilled is true"
    return None


def _latest_lab(profile: PatientProfile, test: str, as_of: dt.date) -> tuple[int, LabResult] | None:
    return latest(profile.labs, as_of, lambda result: result.test == test)


def _lab_display(result: LabResult) -> str:
    spec = LAB_TESTS[result.test]
    written = str(result.value)
    canonical = f"{fmt(result.amount)} {spec.measure.display}"
    return written if written.replace(" ", "") == canonical.replace(" ", "") else f"{written} (= {canonical})"


def _body(profile: PatientProfile, what: str, measure: Measure) -> Observation | Absence:
    written = getattr(profile.demographics, what, None) if profile.demographics else None
    if written is None:
        return Absence(f"{what} not recorded (demographics.{what})", what)
    amount = convert(written, measure)
    return Observation(amount, str(written), f"demographics.{what}")


def weight_reading(profile: PatientProfile, as_of: dt.date) -> Reading:
    return _body(profile, "weight", WEIGHT)


def height_reading(profile: PatientProfile, as_of: dt.date) -> Reading:
    return _body(profile, "height", HEIGHT)


def body_surface_area(profile: PatientProfile, as_of: dt.date) -> Reading:
    """Mosteller: sqrt(height cm x weight kg / 3600), from the recorded (current) height and weight."""
    weight, height = weight_reading(profile, as_of), height_reading(profile, as_of)
    for reading in (weight, height):
        if isinstance(reading, Absence):
            return Absence(f"body-surface area needs height and weight: {reading.reason}", "height and weight")
    assert isinstance(weight, Observation) and isinstance(height, Observation)
    bsa = round(math.sqrt(float(height.value) * float(weight.value) / 3600), 4)
    return Observation(bsa, f"{fmt(bsa)} m2", "demographics", None,
                       f"Mosteller: sqrt({fmt(float(height.value))} cm x {fmt(float(weight.value))} kg / 3600)"
                       f" = {fmt(bsa)} m2")


def _renal_inputs(profile: PatientProfile, as_of: dt.date) -> tuple[Any, ...] | Absence:
    """(age, sex, creatinine reading, creatinine result) for an eGFR or clearance formula."""
    age = _age(profile, as_of)
    if isinstance(age, Absence):
        return Absence(f"needs age: {age.reason}", age.collect)
    sex = profile.demographics.sex if profile.demographics else None
    if sex is None:
        return Absence("needs sex: not recorded", "sex")
    found = _latest_lab(profile, "serum_creatinine", as_of)
    if found is None:
        return Absence(f"needs a serum creatinine on or before {as_of}", "serum creatinine")
    return age, sex, found[0], found[1]


def egfr_ckd_epi_2021(profile: PatientProfile, as_of: dt.date) -> Reading:
    """142 x min(Scr/k,1)^a x max(Scr/k,1)^-1.200 x 0.9938^age x 1.012 (female); race-free; adults only."""
    inputs = _renal_inputs(profile, as_of)
    if isinstance(inputs, Absence):
        return Absence(f"CKD-EPI eGFR {inputs.reason}", inputs.collect)
    age, sex, position, result = inputs
    years = int(age.value)
    if years < 18:
        return Absence(f"CKD-EPI 2021 is for adults; the patient is {years}", "a measured or reported eGFR")
    scr = result.amount
    kappa, alpha, factor = (0.7, -0.241, 1.012) if sex == "female" else (0.9, -0.302, 1.0)
    egfr = 142 * min(scr / kappa, 1) ** alpha * max(scr / kappa, 1) ** -1.200 * 0.9938**years * factor
    egfr = round(egfr, 1)
    return Observation(egfr, f"{fmt(egfr)} mL/min/1.73m2 (computed)", f"labs[{position}]", result.date,
                       f"CKD-EPI 2021 from creatinine {fmt(scr)} mg/dL on {result.date}, age {years}, {sex}: "
                       f"142 x min({fmt(scr)}/{kappa},1)^{alpha} x max({fmt(scr)}/{kappa},1)^-1.2 x "
                       f"0.9938^{years}{' x 1.012' if sex == 'female' else ''} = {fmt(egfr)}")


def creatinine_clearance(profile: PatientProfile, as_of: dt.date) -> Reading:
    """(140 - age) x weight kg / (72 x Scr mg/dL), x 0.85 if female."""
    inputs = _renal_inputs(profile, as_of)
    if isinstance(inputs, Absence):
        return Absence(f"creatinine clearance {inputs.reason}", inputs.collect)
    age, sex, position, result = inputs
    weight = weight_reading(profile, as_of)
    if isinstance(weight, Absence):
        return Absence(f"creatinine clearance needs the weight: {weight.reason}", "weight")
    years, kg, scr = int(age.value), float(weight.value), result.amount
    clearance = round((140 - years) * kg / (72 * scr) * (0.85 if sex == "female" else 1.0), 1)
    return Observation(clearance, f"{fmt(clearance)} mL/min (computed)", f"labs[{position}]", result.date,
                       f"Cockcroft-Gault: (140 - {years}) x {fmt(kg)} kg / (72 x {fmt(scr)} mg/dL)"
                       f"{' x 0.85' if sex == 'female' else ''} = {fmt(clearance)} mL/min "
                       f"(creatinine of {result.date}, weight as recorded)")


def _egfr_reported_or_computed(profile: PatientProfile, as_of: dt.date) -> Reading:
    """The most recent evidence of kidney function: the lab's eGFR, unless a serum creatinine is newer, in
    which case the CKD-EPI 2021 estimate from it (marked as computed, and saying what it superseded). On the
    same day the lab's own eGFR is used here, and rules check it against the CKD-EPI estimate of that day
    (``egfr_ckd_epi_2021_same_day_as_reported``, in an ``equivalent`` condition)."""
    reported = lab("egfr")(profile, as_of)
    computed = egfr_ckd_epi_2021(profile, as_of)
    if isinstance(reported, Observation):
        creatinine = _latest_lab(profile, "serum_creatinine", as_of)
        if creatinine is None or reported.date is None or creatinine[1].date <= reported.date:
            return reported
        if isinstance(computed, Absence):
            return Absence(f"the reported eGFR {reported.display} of {reported.date} is older than the serum "
                           f"creatinine of {creatinine[1].date}, and {computed.reason}",
                           "a measured or reported eGFR as recent as the last creatinine")
        return replace(computed, derivation=f"{computed.derivation}; used instead of the lab's eGFR "
                       f"{reported.display} of {reported.date}, because the creatinine is newer")
    if isinstance(computed, Absence):
        # ask only for what is missing: a teenager's creatinine, age and sex are recorded, but CKD-EPI is for adults
        inputs = _renal_inputs(profile, as_of)
        collect = (f"eGFR (or the {inputs.collect} to compute it)" if isinstance(inputs, Absence)
                   else "a measured or reported eGFR")
        return Absence(f"{reported.reason}, and {computed.reason}", collect)
    return computed


def _egfr_ckd_epi_2021_same_day_as_reported(profile: PatientProfile, as_of: dt.date) -> Reading:
    """CKD-EPI 2021 from the serum creatinine taken on the day of the lab's most recent eGFR: the second reading
    of that day's kidney function, beside ``egfr_reported_or_ckd_epi_2021`` (which uses the lab's) in a rule's
    ``equivalent`` condition, so that a same-day pair decides only where the engine finds both on one side of the
    threshold. Absent where there is no such pair: then the most recent evidence decides alone."""
    reported = lab("egfr")(profile, as_of)
    creatinine = _latest_lab(profile, "serum_creatinine", as_of)
    if not isinstance(reported, Observation) or creatinine is None or creatinine[1].date != reported.date:
        return Absence("no serum creatinine of the same day as the lab's most recent eGFR",
                       "a measured or reported eGFR")
    computed = egfr_ckd_epi_2021(profile, as_of)
    if isinstance(computed, Absence):
        return Absence(f"{computed.reason} (the creatinine of {creatinine[1].date}, the day of the lab's eGFR)",
                       "a measured or reported eGFR")
    return replace(computed, derivation=f"{computed.derivation}; the lab's eGFR {reported.display} is of the "
                   "same day")


# ------------------------------------------------------------------ kinds: one factory, many rows
def attribute(path: str, row: FieldRow) -> PatientExtract:
    """A plain attribute of the profile, e.g. ``diagnoses.sle.present``."""
    parts = path.split(".")

    def extract(profile: PatientProfile, as_of: dt.date) -> Reading:
        node: Any = profile
        for part in parts:
            node = getattr(node, part, None)
            if node is None:
                return Absence(f"{row.label} not recorded ({path})", row.reads)
        display = ("yes" if node else "no") if isinstance(node, bool) else str(node)
        return Observation(node, display, path)

    return extract


#: what contradicts a recorded absence of a diagnosis (``diagnosis_status`` rows)
CONTRADICTIONS: dict[str, Callable[[Any], str | None]] = {
    "sle": _sle_contradiction,
    "primary_sjogren": _sjogren_contradiction,
}


def diagnosis_status(name: str, row: FieldRow) -> PatientExtract:
    """``<name>.status``: a diagnosis as the record states it, always known: present, absent (recorded
    ``present: false``) or not recorded. A rule writes ``ne: absent`` so that a recorded absence makes an
    inclusion not met while a diagnosis not recorded leaves the other evidence to decide. A recorded
    absence contradicted by other recorded facts (:data:`CONTRADICTIONS` says which) is unknown."""
    contradiction = CONTRADICTIONS[name]

    def extract(profile: PatientProfile, as_of: dt.date) -> Reading:
        diagnosis = getattr(profile.diagnoses, name, None) if profile.diagnoses else None
        present = diagnosis.present if diagnosis is not None else None
        if present is None:
            return Observation("not_recorded", "not recorded", f"diagnoses.{name}.present", None,
                               f"diagnoses.{name}.present is not recorded")
        if present is False:
            clash = contradiction(diagnosis)
            if clash is not None:
                return Absence(f"records disagree: diagnoses.{name}.present is false, but {clash}",
                               f"{row.reads} (records disagree)")
        status = "present" if present else "absent"
        return Observation(status, status, f"diagnoses.{name}.present")

    return extract


def female_only(attr: str, row: FieldRow) -> PatientExtract:
    """Pregnancy-related facts (``pregnancy.<attr>``): recorded for women; known false for men (and said so)."""

    def extract(profile: PatientProfile, as_of: dt.date) -> Reading:
        value = getattr(profile.pregnancy, attr, None) if profile.pregnancy else None
        if value is not None:
            return Observation(value, "yes" if value else "no", f"pregnancy.{attr}")
        sex = profile.demographics.sex if profile.demographics else None
        if sex == "male":
            return Observation(False, "no", "demographics.sex", None, "not applicable: the patient is male")
        return Absence(f"{row.label} not recorded (pregnancy.{attr})", row.reads)

    return extract


def activity_score(index_name: str, row: FieldRow | None = None) -> PatientExtract:
    """The most recent score of one disease-activity index on or before the as-of date."""

    def extract(profile: PatientProfile, as_of: dt.date) -> Reading:
        found = latest(profile.disease_activity, as_of, lambda score: score.index == index_name)
        later = left_out(later_count(profile.disease_activity, as_of, lambda score: score.index == index_name),
                         "score")
        if found is None:
            return Absence(f"no {index_name} score on or before {as_of}{later}",
                           f"{index_name} score" + (f" on or before {as_of}" if later else ""))
        position, score = found
        return Observation(score.score, fmt(score.score), f"disease_activity[{position}]",
                           score.date, f"most recent score on or before the as-of date{later}")

    return extract


def lab(test: str, row: FieldRow | None = None) -> PatientExtract:
    """The most recent result of one lab test on or before the as-of date, in the test's canonical unit."""
    spec = LAB_TESTS[test]

    def extract(profile: PatientProfile, as_of: dt.date) -> Reading:
        found = _latest_lab(profile, test, as_of)
        later = left_out(later_count(profile.labs, as_of, lambda result: result.test == test), "result")
        if found is None:
            return Absence(f"no {spec.label} result on or before {as_of}{later}",
                           spec.label + (f" on or before {as_of}" if later else ""))
        position, result = found
        return Observation(result.amount, _lab_display(result), f"labs[{position}]", result.date,
                           f"most recent result on or before the as-of date{later}")

    return extract


def lab_x_uln(test: str, row: FieldRow | None = None) -> PatientExtract:
    """The most recent result of one lab test as a multiple of the reporting lab's upper limit of normal."""
    spec = LAB_TESTS[test]

    def extract(profile: PatientProfile, as_of: dt.date) -> Reading:
        found = _latest_lab(profile, test, as_of)
        if found is None:
            return Absence(f"no {spec.label} result on or before {as_of}", f"{spec.label} with the lab's ULN")
        position, result = found
        if result.uln_amount is None:
            return Absence(f"{spec.label} {result.value} on {result.date} has no upper limit of normal (uln)",
                           f"the reporting lab's upper limit of normal for {spec.label}")
        multiple = round(result.amount / result.uln_amount, 6)
        return Observation(multiple, f"{fmt(multiple)} x ULN ({result.value} / ULN {result.uln})",
                           f"labs[{position}]", result.date,
                           f"{spec.label} {result.value} / ULN {result.uln} = {fmt(multiple)}")

    return extract


#: extractor kinds a patient row may name (``derive: KIND PARAMETER``)
KINDS: dict[str, Callable[[str, FieldRow], PatientExtract]] = {
    "attribute": attribute,
    "diagnosis_status": diagnosis_status,
    "female_only": female_only,
    "activity_score": activity_score,
    "lab": lab,
    "lab_x_uln": lab_x_uln,
}

#: bespoke patient extractors a row names with ``derive: function NAME``
FUNCTIONS: dict[str, PatientExtract] = {
    "age_years": _age,
    "sex": _sex,
    "acr1997_count": _acr1997_count,
    "ana_positive": _ana_positive,
    "biopsy_months_ago": _biopsy_months_ago,
    "bilag_highest_grade": _bilag_highest_grade,
    "weight": weight_reading,
    "height": height_reading,
    "body_surface_area": body_surface_area,
    "egfr_ckd_epi_2021": egfr_ckd_epi_2021,
    "creatinine_clearance_cockcroft_gault": creatinine_clearance,
    "egfr_reported_or_ckd_epi_2021": _egfr_reported_or_computed,
    "egfr_ckd_epi_2021_same_day_as_reported": _egfr_ckd_epi_2021_same_day_as_reported,
}

"""The fields rules may test, and how each is read from a patient profile.

A rule never reads the profile directly: it names a field from this registry.
Extracting a field gives either an :class:`Observation` (the value the engine
sees, with where it came from, its date, its unit and how it was derived) or
an :class:`Absence` (why it is unknown, and what to collect). Nothing is
defaulted: a value the profile does not give stays absent.

Patient fields describe the patient; item fields describe one entry of a list
(a medication course, an infection, a malignancy) and are used by queries.
"""

from __future__ import annotations

import datetime as dt
import math
import typing
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from matcher.model import drugs
from matcher.model.dates import add_months, completed_years, months_between
from matcher.model.profile import (
    ACTIVITY_INDICES,
    FREQUENCY_INTERVAL_DAYS,
    LAB_TESTS,
    Immunization,
    Infection,
    InfectionAgent,
    LabResult,
    Malignancy,
    MalignancyCategory,
    MedicationExposure,
    PatientProfile,
    PregnancyTest,
    Procedure,
)
from matcher.model.units import Measure, convert

Scalar = float | bool | str
FieldType = Literal["number", "bool", "enum"]


@dataclass(frozen=True)
class Observation:
    """A known value: what the engine compares, and how to explain it."""

    value: Scalar
    display: str
    source: str
    date: dt.date | None = None
    derivation: str | None = None


@dataclass(frozen=True)
class Absence:
    """An unknown value: why, and what a coordinator should collect."""

    reason: str
    collect: str


Reading = Observation | Absence


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    type: FieldType
    extract: Callable[..., Reading]
    #: canonical unit (pint spelling) of a number field that is a measured quantity
    measure: Measure | None = None
    choices: tuple[str, ...] = ()
    collect: str = ""
    #: what a plain number of this field counts, shown after thresholds ("years", "x ULN")
    suffix: str = ""

    @property
    def unit_display(self) -> str:
        return self.measure.display if self.measure else self.suffix


def fact_key(name: str) -> str:
    """The engine's key for a field name (the engine reads dots as nesting)."""
    return name.replace(".", "__")


def _fmt(value: float) -> str:
    return f"{value:.6g}"


# ------------------------------------------------------------------ patient fields
PatientExtract = Callable[[PatientProfile, dt.date], Reading]
PATIENT_FIELDS: dict[str, FieldSpec] = {}


def _patient(name: str, label: str, type_: FieldType, collect: str, *, measure: Measure | None = None,
             choices: tuple[str, ...] = (), suffix: str = "") -> Callable[[PatientExtract], PatientExtract]:
    def register(extract: PatientExtract) -> PatientExtract:
        PATIENT_FIELDS[name] = FieldSpec(name, label, type_, extract, measure, choices, collect, suffix)
        return extract

    return register


@_patient("age_years", "age", "number", "date of birth (or age)", suffix="years")
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


@_patient("sex", "sex", "enum", "sex", choices=("female", "male"))
def _sex(profile: PatientProfile, as_of: dt.date) -> Reading:
    if profile.demographics and profile.demographics.sex:
        return Observation(profile.demographics.sex, profile.demographics.sex, "demographics.sex")
    return Absence("sex not recorded", "sex")


def _attribute(path: str, label: str, collect: str, type_: FieldType = "bool",
               choices: tuple[str, ...] = (), name: str | None = None, suffix: str = "") -> None:
    """Register a field that is a plain attribute of the profile, e.g. ``diagnoses.sle.present``."""
    parts = path.split(".")

    def extract(profile: PatientProfile, as_of: dt.date) -> Reading:
        node: Any = profile
        for part in parts:
            node = getattr(node, part, None)
            if node is None:
                return Absence(f"{label} not recorded ({path})", collect)
        display = ("yes" if node else "no") if isinstance(node, bool) else str(node)
        return Observation(node, display, path)

    name = name or path.removeprefix("diagnoses.")
    PATIENT_FIELDS[name] = FieldSpec(name, label, type_, extract, None, choices, collect, suffix)


_attribute("diagnoses.sle.present", "SLE diagnosis", "whether the patient has SLE")
@_patient("sle.acr1997_criteria_met", "ACR 1997 SLE classification criteria met", "number",
          "number of ACR 1997 SLE classification criteria met (or which ones)", suffix="of 11")
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


@_patient("sle.ana_positive", "antinuclear antibodies positive", "bool", "ANA result")
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


DiagnosisStatus = Literal["present", "absent", "not_recorded"]


def _diagnosis_status(name: str, label: str, contradiction: Callable[[Any], str | None]) -> None:
    """``<name>.status``: a diagnosis as the record states it, always known: present, absent (recorded
    ``present: false``) or not recorded. A rule writes ``ne: absent`` so that a recorded absence makes an
    inclusion not met while a diagnosis not recorded leaves the other evidence to decide. A recorded
    absence contradicted by other recorded facts (``contradiction`` says which) is unknown."""

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
                               f"whether the patient has {label} (records disagree)")
        status = "present" if present else "absent"
        return Observation(status, status, f"diagnoses.{name}.present")

    field = f"{name}.status"
    PATIENT_FIELDS[field] = FieldSpec(field, f"{label} as recorded (present, absent, not recorded)", "enum",
                                      extract, None, ("present", "absent", "not_recorded"),
                                      f"whether the patient has {label}")


def _sle_contradiction(sle: Any) -> str | None:
    count = len(sle.acr1997_criteria) if sle.acr1997_criteria is not None else sle.acr1997_criteria_met
    if count is not None and count >= 4:
        return f"{count} ACR 1997 criteria are recorded as met (4 or more classify SLE)"
    return None


def _sjogren_contradiction(sjogren: Any) -> str | None:
    if sjogren.aecg2002_fulfilled:
        return "diagnoses.primary_sjogren.aecg2002_fulfilled is true"
    return None


_diagnosis_status("sle", "SLE", _sle_contradiction)
_diagnosis_status("primary_sjogren", "primary Sjogren's syndrome", _sjogren_contradiction)
_attribute("diagnoses.lupus_nephritis.present", "lupus nephritis", "whether the patient has lupus nephritis")
_attribute("diagnoses.lupus_nephritis.biopsy_class", "lupus nephritis biopsy class (ISN/RPS)",
           "renal biopsy class", "enum", ("I", "II", "III", "IV", "V", "VI", "III+V", "IV+V"))
_attribute("diagnoses.primary_sjogren.present", "primary Sjogren's syndrome",
           "whether the patient has primary Sjogren's syndrome")
_attribute("diagnoses.primary_sjogren.aecg2002_fulfilled", "AECG 2002 criteria for primary SS fulfilled",
           "AECG 2002 classification of primary Sjogren's syndrome")
_attribute("renal.dialysis", "on dialysis", "whether the patient is on dialysis", name="dialysis")
_attribute("renal.kidney_transplant", "kidney transplant", "whether the patient has a kidney transplant",
           name="kidney_transplant")
_attribute("pregnancy.planning_pregnancy", "intends a pregnancy soon", "whether a pregnancy is intended",
           name="planning_pregnancy")
_attribute("consent.signed", "informed consent signed", "signed informed consent", name="consent_signed")
_attribute("administrative.in_other_trial", "enrolled in another study", "whether the patient is in another study",
           name="in_other_trial")
_attribute("administrative.social_security_affiliation", "affiliated to social security",
           "social security affiliation", name="social_security_affiliation")
_attribute("administrative.legal_protection", "under legal protection", "whether the patient is under legal "
           "protection", name="legal_protection")


def _female_only(attr: str, label: str, collect: str) -> None:
    """Pregnancy-related facts: recorded for women; known false for men (and said so)."""

    def extract(profile: PatientProfile, as_of: dt.date) -> Reading:
        value = getattr(profile.pregnancy, attr, None) if profile.pregnancy else None
        if value is not None:
            return Observation(value, "yes" if value else "no", f"pregnancy.{attr}")
        sex = profile.demographics.sex if profile.demographics else None
        if sex == "male":
            return Observation(False, "no", "demographics.sex", None, "not applicable: the patient is male")
        return Absence(f"{label} not recorded (pregnancy.{attr})", collect)

    PATIENT_FIELDS[attr] = FieldSpec(attr, label, "bool", extract, None, (), collect)


_female_only("breastfeeding", "breastfeeding", "breastfeeding status")


@_patient("childbearing_potential", "of childbearing potential", "bool", "childbearing potential")
def _childbearing_potential(profile: PatientProfile, as_of: dt.date) -> Reading:
    """As recorded; else derived, with its provenance: a man is not, a pregnant woman or one whose most
    recent pregnancy test is positive is. Recorded "not of childbearing potential" against a positive most
    recent test: the records disagree (a man recorded of childbearing potential is refused as bad input)."""
    pregnancy = profile.pregnancy
    recorded = pregnancy.childbearing_potential if pregnancy else None
    evidence = _pregnancy_evidence(pregnancy.tests if pregnancy else None, as_of, lambda test: True)
    positive = evidence if isinstance(evidence, tuple) and evidence[1].result == "positive" else None
    if recorded is not None:
        if recorded is False and isinstance(evidence, Absence):  # tests of one week that disagree, one positive
            return Absence(f"recorded as not of childbearing potential, and {evidence.reason}",
                           "childbearing potential (records disagree)")
        if recorded is False and positive is not None:
            return Absence(f"records disagree: recorded as not of childbearing potential, but the most recent "
                           f"test is a {_described(positive[1], as_of)}", "childbearing potential (records disagree)")
        return Observation(recorded, "yes" if recorded else "no", "pregnancy.childbearing_potential")
    sex = profile.demographics.sex if profile.demographics else None
    if sex == "male":
        return Observation(False, "no", "demographics.sex", None, "derived: not applicable, the patient is male")
    if pregnancy is not None and pregnancy.pregnant:
        return Observation(True, "yes", "pregnancy.pregnant", None, "derived: recorded as pregnant")
    if positive is not None:
        position, test = positive
        return Observation(True, "yes", f"pregnancy.tests[{position}]", test.date,
                           f"derived: the most recent pregnancy test is {_described(test, as_of)}")
    return Absence("of childbearing potential not recorded (pregnancy.childbearing_potential)",
                   "childbearing potential")


#: a negative pregnancy test this many days before the as-of date (or fewer) rules pregnancy out
NEGATIVE_TEST_DAYS = 7


@_patient("pregnant", "pregnant", "bool", "pregnancy status (or a pregnancy test)")
def _pregnant(profile: PatientProfile, as_of: dt.date) -> Reading:
    """Pregnancy status: as recorded, checked against the most recent tests; else derived from them.

    A recorded "not pregnant" contradicted by a more recent positive test, or tests that disagree (see
    :func:`_pregnancy_evidence`), are unknown: the records disagree, whatever
    their order in the file. Unrecorded: a man, or a woman not of childbearing potential, is not pregnant;
    a positive test means pregnant; a negative test at most NEGATIVE_TEST_DAYS days old means not pregnant.
    """
    pregnancy = profile.pregnancy
    evidence = _pregnancy_evidence(pregnancy.tests if pregnancy else None, as_of, lambda test: True)
    recorded = pregnancy.pregnant if pregnancy else None
    if recorded is False and isinstance(evidence, Absence):
        return Absence(f"recorded as not pregnant, and {evidence.reason}", evidence.collect)
    if recorded is False and isinstance(evidence, tuple) and evidence[1].result == "positive":
        return Absence(f"recorded as not pregnant, but the most recent test is a {_described(evidence[1], as_of)}",
                       "pregnancy status (the record and the test disagree)")
    if recorded is not None:
        return Observation(recorded, "yes" if recorded else "no", "pregnancy.pregnant")
    sex = profile.demographics.sex if profile.demographics else None
    if sex == "male":
        return Observation(False, "no", "demographics.sex", None, "not applicable: the patient is male")
    if isinstance(evidence, Absence):
        return evidence
    if pregnancy is not None and pregnancy.childbearing_potential is False:
        if evidence is not None and evidence[1].result == "positive":
            return Absence(f"records disagree: recorded as not of childbearing potential, but the most recent test "
                           f"is a {_described(evidence[1], as_of)}", "pregnancy status (records disagree)")
        return Observation(False, "no", "pregnancy.childbearing_potential", None,
                           "not of childbearing potential")
    if evidence is not None:
        position, test = evidence
        age = (as_of - test.date).days
        if test.result == "positive":
            return Observation(True, "yes", f"pregnancy.tests[{position}]", test.date, _described(test, as_of))
        if age <= NEGATIVE_TEST_DAYS:
            return Observation(False, "no", f"pregnancy.tests[{position}]", test.date, _described(test, as_of))
    why = "pregnancy status not recorded (pregnancy.pregnant)"
    if evidence is not None:
        why += f"; the most recent test is {(as_of - evidence[1].date).days} days old (more than {NEGATIVE_TEST_DAYS})"
    return Absence(why, "pregnancy status (or a pregnancy test)")


def _described(test: PregnancyTest, as_of: dt.date) -> str:
    specimen = f"{test.specimen} " if test.specimen else ""
    return f"{test.result} {specimen}pregnancy test on {test.date} ({(as_of - test.date).days} days before)"


def _pregnancy_evidence(tests: list[PregnancyTest] | None, as_of: dt.date,
                        keep: Callable[[PregnancyTest], bool]) -> tuple[int, PregnancyTest] | Absence | None:
    """The most recent pregnancy test on or before ``as_of`` (place in the list, test), whatever the order of
    the list; None if there is none. Tests that disagree are an :class:`Absence` saying so: a positive and a
    negative on the most recent day, or a positive serum test at most NEGATIVE_TEST_DAYS days before the most
    recent negative tests when none of those is a serum test (a urine test, less sensitive, does not overrule
    a positive serum test of the same week; a later negative serum test does overrule a positive urine test)."""
    found = [(i, test) for i, test in enumerate(tests or []) if keep(test) and test.date <= as_of]
    if not found:
        return None
    last_day = max(test.date for _, test in found)
    latest = [(i, test) for i, test in found if test.date == last_day]
    negatives = [(i, test) for i, test in latest if test.result == "negative"]
    serum_negative = any(test.specimen == "serum" for _, test in negatives)
    positives = [(i, test) for i, test in found if test.result == "positive" and (
        test.date == last_day
        or (test.specimen == "serum" and not serum_negative and (last_day - test.date).days <= NEGATIVE_TEST_DAYS))]
    if positives and negatives:
        position, positive = max(positives, key=lambda pair: (pair[1].date, pair[1].specimen or "", -pair[0]))
        negative = min(negatives, key=lambda pair: (pair[1].specimen or "", pair[0]))[1]
        return Absence(f"records disagree: a {_described(positive, as_of)} (pregnancy.tests[{position}]) and a "
                       f"{_described(negative, as_of)}", "pregnancy status (records disagree: repeat the test or "
                       "let the clinician decide)")
    # tests of one day that agree: the same one whatever the order (serum before urine, then unnamed)
    return min(latest, key=lambda pair: (pair[1].specimen != "serum", pair[1].specimen is None, pair[0]))


def _later_count(results: list[Any] | None, as_of: dt.date, keep: Callable[[Any], bool]) -> int:
    """How many entries ``keep`` selects are dated after ``as_of`` (not yet done on it: left out)."""
    return sum(1 for entry in results or [] if keep(entry) and entry.date > as_of)


def _left_out(count: int, noun: str) -> str:
    if count == 0:
        return ""
    return f" ({count} {noun}{'s' if count > 1 else ''} dated after the as-of date left out)"


def _latest(results: list[Any] | None, as_of: dt.date, keep: Callable[[Any], bool]) -> tuple[int, Any] | None:
    """The most recent entry on or before ``as_of`` (index in the list, entry). Entries of one day (the profile
    refuses two different values of one thing on one day) are told apart by what they record, never by
    their order in the list: a lab's ULN or the spelling of a value is then the same whatever the order."""
    best: tuple[int, Any] | None = None
    for index, entry in enumerate(results or []):
        if keep(entry) and entry.date <= as_of and (
                best is None or entry.date > best[1].date
                or (entry.date == best[1].date and repr(entry) < repr(best[1]))):
            best = (index, entry)
    return best


def _activity_field(index_name: str) -> None:
    name = index_name.lower().replace("-", "_")

    def extract(profile: PatientProfile, as_of: dt.date) -> Reading:
        found = _latest(profile.disease_activity, as_of, lambda score: score.index == index_name)
        later = _left_out(_later_count(profile.disease_activity, as_of, lambda score: score.index == index_name),
                          "score")
        if found is None:
            return Absence(f"no {index_name} score on or before {as_of}{later}",
                           f"{index_name} score" + (f" on or before {as_of}" if later else ""))
        position, score = found
        return Observation(score.score, _fmt(score.score), f"disease_activity[{position}]",
                           score.date, f"most recent score on or before the as-of date{later}")

    PATIENT_FIELDS[name] = FieldSpec(name, index_name, "number", extract, None, (), f"{index_name} score",
                                     "")


for _index in ACTIVITY_INDICES:
    _activity_field(_index)


def _latest_lab(profile: PatientProfile, test: str, as_of: dt.date) -> tuple[int, LabResult] | None:
    return _latest(profile.labs, as_of, lambda result: result.test == test)


def _lab_display(result: LabResult) -> str:
    spec = LAB_TESTS[result.test]
    written = str(result.value)
    canonical = f"{_fmt(result.amount)} {spec.measure.display}"
    return written if written.replace(" ", "") == canonical.replace(" ", "") else f"{written} (= {canonical})"


def _lab_field(test: str) -> None:
    spec = LAB_TESTS[test]

    def extract(profile: PatientProfile, as_of: dt.date) -> Reading:
        found = _latest_lab(profile, test, as_of)
        later = _left_out(_later_count(profile.labs, as_of, lambda result: result.test == test), "result")
        if found is None:
            return Absence(f"no {spec.label} result on or before {as_of}{later}",
                           spec.label + (f" on or before {as_of}" if later else ""))
        position, result = found
        return Observation(result.amount, _lab_display(result), f"labs[{position}]", result.date,
                           f"most recent result on or before the as-of date{later}")

    PATIENT_FIELDS[test] = FieldSpec(test, spec.label, "number", extract, spec.measure, (), spec.label)


def _uln_multiple_field(test: str) -> None:
    spec = LAB_TESTS[test]
    name = f"{test}_x_uln"

    def extract(profile: PatientProfile, as_of: dt.date) -> Reading:
        found = _latest_lab(profile, test, as_of)
        if found is None:
            return Absence(f"no {spec.label} result on or before {as_of}", f"{spec.label} with the lab's ULN")
        position, result = found
        if result.uln_amount is None:
            return Absence(f"{spec.label} {result.value} on {result.date} has no upper limit of normal (uln)",
                           f"the reporting lab's upper limit of normal for {spec.label}")
        multiple = round(result.amount / result.uln_amount, 6)
        return Observation(multiple, f"{_fmt(multiple)} x ULN ({result.value} / ULN {result.uln})",
                           f"labs[{position}]", result.date,
                           f"{spec.label} {result.value} / ULN {result.uln} = {_fmt(multiple)}")

    PATIENT_FIELDS[name] = FieldSpec(name, spec.label, "number", extract, None, (),
                                     f"{spec.label} with the lab's ULN", "x ULN")


for _test in LAB_TESTS:
    _lab_field(_test)
    if LAB_TESTS[_test].needs_uln:
        _uln_multiple_field(_test)


_uln_multiple_field("serum_creatinine")


def _body(profile: PatientProfile, what: str, measure: Measure) -> Observation | Absence:
    written = getattr(profile.demographics, what, None) if profile.demographics else None
    if written is None:
        return Absence(f"{what} not recorded (demographics.{what})", what)
    amount = convert(written, measure)
    return Observation(amount, str(written), f"demographics.{what}")


WEIGHT = Measure("kg", "kg")
HEIGHT = Measure("cm", "cm")


@_patient("weight", "weight", "number", "weight", measure=WEIGHT)
def _weight(profile: PatientProfile, as_of: dt.date) -> Reading:
    return _body(profile, "weight", WEIGHT)


@_patient("height", "height", "number", "height", measure=HEIGHT)
def _height(profile: PatientProfile, as_of: dt.date) -> Reading:
    return _body(profile, "height", HEIGHT)


@_patient("body_surface_area", "body-surface area (Mosteller)", "number", "height and weight",
          measure=Measure("m**2", "m2"))
def body_surface_area(profile: PatientProfile, as_of: dt.date) -> Reading:
    """Mosteller: sqrt(height cm x weight kg / 3600), from the recorded (current) height and weight."""
    weight, height = _weight(profile, as_of), _height(profile, as_of)
    for reading in (weight, height):
        if isinstance(reading, Absence):
            return Absence(f"body-surface area needs height and weight: {reading.reason}", "height and weight")
    assert isinstance(weight, Observation) and isinstance(height, Observation)
    bsa = round(math.sqrt(float(height.value) * float(weight.value) / 3600), 4)
    return Observation(bsa, f"{_fmt(bsa)} m2", "demographics", None,
                       f"Mosteller: sqrt({_fmt(float(height.value))} cm x {_fmt(float(weight.value))} kg / 3600)"
                       f" = {_fmt(bsa)} m2")


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


@_patient("egfr_ckd_epi_2021", "eGFR (CKD-EPI 2021, computed from creatinine)", "number",
          "serum creatinine, age and sex", measure=Measure("mL/min", "mL/min/1.73 m2", per_bsa=True))
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
    return Observation(egfr, f"{_fmt(egfr)} mL/min/1.73m2 (computed)", f"labs[{position}]", result.date,
                       f"CKD-EPI 2021 from creatinine {_fmt(scr)} mg/dL on {result.date}, age {years}, {sex}: "
                       f"142 x min({_fmt(scr)}/{kappa},1)^{alpha} x max({_fmt(scr)}/{kappa},1)^-1.2 x "
                       f"0.9938^{years}{' x 1.012' if sex == 'female' else ''} = {_fmt(egfr)}")


@_patient("creatinine_clearance_cockcroft_gault", "creatinine clearance (Cockcroft-Gault, computed)", "number",
          "serum creatinine, age, sex and weight", measure=Measure("mL/min", "mL/min"))
def creatinine_clearance(profile: PatientProfile, as_of: dt.date) -> Reading:
    """(140 - age) x weight kg / (72 x Scr mg/dL), x 0.85 if female."""
    inputs = _renal_inputs(profile, as_of)
    if isinstance(inputs, Absence):
        return Absence(f"creatinine clearance {inputs.reason}", inputs.collect)
    age, sex, position, result = inputs
    weight = _weight(profile, as_of)
    if isinstance(weight, Absence):
        return Absence(f"creatinine clearance needs the weight: {weight.reason}", "weight")
    years, kg, scr = int(age.value), float(weight.value), result.amount
    clearance = round((140 - years) * kg / (72 * scr) * (0.85 if sex == "female" else 1.0), 1)
    return Observation(clearance, f"{_fmt(clearance)} mL/min (computed)", f"labs[{position}]", result.date,
                       f"Cockcroft-Gault: (140 - {years}) x {_fmt(kg)} kg / (72 x {_fmt(scr)} mg/dL)"
                       f"{' x 0.85' if sex == 'female' else ''} = {_fmt(clearance)} mL/min "
                       f"(creatinine of {result.date}, weight as recorded)")


@_patient("egfr_reported_or_ckd_epi_2021", "eGFR (the most recent: reported by the lab, or CKD-EPI 2021 from a "
          "newer creatinine)", "number", "eGFR or serum creatinine",
          measure=Measure("mL/min", "mL/min/1.73 m2", per_bsa=True))
def _egfr_reported_or_computed(profile: PatientProfile, as_of: dt.date) -> Reading:
    """The most recent evidence of kidney function: the lab's eGFR, unless a serum creatinine is newer, in
    which case the CKD-EPI 2021 estimate from it (marked as computed, and saying what it superseded). On the
    same day the lab's own eGFR is used."""
    reported = PATIENT_FIELDS["egfr"].extract(profile, as_of)
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


def _pregnancy_test_field(specimen: str | None) -> None:
    """The most recent pregnancy test of one specimen (urine, serum), or of either (``None``), and its age."""
    name = f"{specimen}_pregnancy_test" if specimen else "pregnancy_test"
    what = f"{specimen} pregnancy test" if specimen else "pregnancy test (urine or serum)"

    def latest(profile: PatientProfile, as_of: dt.date) -> tuple[int, PregnancyTest] | Absence:
        tests = profile.pregnancy.tests if profile.pregnancy else None
        found = _pregnancy_evidence(tests, as_of, lambda test: specimen is None or test.specimen == specimen)
        if found is None:
            later = _later_count(tests, as_of, lambda test: specimen is None or test.specimen == specimen)
            return Absence(f"no {what} on or before {as_of}{_left_out(later, 'test')}", what)
        return found

    def extract(profile: PatientProfile, as_of: dt.date) -> Reading:
        found = latest(profile, as_of)
        if isinstance(found, Absence):
            return found
        position, test = found
        return Observation(test.result, test.result, f"pregnancy.tests[{position}]", test.date,
                           "most recent test on or before the as-of date")

    def days_ago(profile: PatientProfile, as_of: dt.date) -> Reading:
        found = latest(profile, as_of)
        if isinstance(found, Absence):
            return found
        position, test = found
        elapsed = (as_of - test.date).days
        return Observation(elapsed, f"{elapsed} days", f"pregnancy.tests[{position}]", test.date,
                           f"from the most recent test, {test.date}, to the as-of date {as_of}")

    PATIENT_FIELDS[name] = FieldSpec(name, f"{what} (most recent)", "enum", extract, None,
                                     ("positive", "negative"), what)
    PATIENT_FIELDS[f"{name}_days_ago"] = FieldSpec(f"{name}_days_ago", f"days since the {what} (most recent)",
                                                   "number", days_ago, None, (), what, "days")


_pregnancy_test_field("urine")
_pregnancy_test_field("serum")
_pregnancy_test_field(None)


# ------------------------------------------------------------------ item fields
ItemExtract = Callable[[Any, int, PatientProfile, dt.date], Reading]


@dataclass(frozen=True)
class ListSpec:
    """A list in the profile that queries can range over."""

    name: str
    label: str
    item_label: Callable[[Any], str]
    fields: dict[str, FieldSpec]
    collect: str
    #: entries dated after the as-of date have not happened yet on that day and are left out
    visible: Callable[[Any, dt.date], bool]

    def items(self, profile: PatientProfile) -> list[Any] | None:
        entries: list[Any] | None = getattr(profile, self.name)
        return entries


def _describe_course(course: MedicationExposure) -> str:
    parts = [course.drug.replace("_", " ")]
    parts += [str(x).replace("_", " ") for x in (course.dose, course.frequency, course.route) if x]
    span = f"{course.start or '?'} to {'ongoing' if course.ongoing else (course.end or '?')}"
    text = " ".join(parts) + f", {span}"
    return text + (f", {course.response.replace('_', ' ')}" if course.response else "")


MEDICATION_FIELDS: dict[str, FieldSpec] = {}


def _med(name: str, label: str, type_: FieldType, collect: str, choices: tuple[str, ...] = (),
         measure: Measure | None = None, suffix: str = "") -> Callable[[ItemExtract], ItemExtract]:
    def register(extract: ItemExtract) -> ItemExtract:
        MEDICATION_FIELDS[name] = FieldSpec(name, label, type_, extract, measure, choices, collect, suffix)
        return extract

    return register


@_med("drug", "drug", "enum", "drug name", tuple(sorted(drugs.DRUGS)))
def _drug(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    return Observation(course.drug, course.drug, f"medications[{i}].drug")


def _class_field(drug_class: str) -> None:
    def extract(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
        member = drug_class in drugs.DRUGS[course.drug].classes
        return Observation(member, "yes" if member else "no", f"medications[{i}].drug", None,
                           f"{course.drug} is {'' if member else 'not '}classed as {drug_class.replace('_', ' ')} "
                           "(matcher/model/drugs.py)")

    name = f"is_{drug_class}"
    article = "an" if drug_class[0] in "aeiou" else "a"
    MEDICATION_FIELDS[name] = FieldSpec(name, f"drug is {article} {drug_class.replace('_', ' ')}", "bool", extract,
                                        None, (), "drug name")


for _class in drugs.CLASSES:
    _class_field(_class)


@_med("route", "route", "enum", "route of administration", ("oral", "iv", "sc", "im", "other"))
def _route(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    if course.route is None:
        return Absence(f"route of {course.drug} not recorded", f"route of {course.drug}")
    return Observation(course.route, course.route, f"medications[{i}].route")


@_med("response", "response to the course", "enum", "response to treatment",
      ("failed", "not_tolerated", "responded"))
def _response(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    if course.response is None:
        return Absence(f"response to {course.drug} not recorded", f"response to {course.drug} (failed, "
                       "not tolerated or responded)")
    return Observation(course.response, course.response.replace("_", " "), f"medications[{i}].response")


def _dose_field(kind: str, name: str, label: str, unit: str) -> None:
    def extract(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
        if course.dose_amount is None:
            return Absence(f"dose of {course.drug} not recorded", f"dose of {course.drug}")
        if course.dose_kind != kind:
            written_as = (course.dose_kind or "").replace("_", " ")
            return Absence(f"dose of {course.drug} is written {course.dose} ({written_as}), not {unit}; "
                           "converting needs body size (not done here)", f"dose of {course.drug}"
                           f" in {unit}")
        return Observation(course.dose_amount, f"{_fmt(course.dose_amount)} {unit}", f"medications[{i}].dose")

    MEDICATION_FIELDS[name] = FieldSpec(name, label, "number", extract, Measure(unit.replace("m2", "m**2"), unit),
                                        (), "dose")


_dose_field("mass", "dose", "dose per administration", "mg")
_dose_field("per_m2", "dose_per_m2", "dose per administration per m2 of body surface", "mg/m2")
_dose_field("per_kg", "dose_per_kg", "dose per administration per kg of body weight", "mg/kg")


@_med("interval_days", "days between administrations", "number", "frequency", suffix="days")
def _interval(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    if course.frequency is None:
        return Absence(f"frequency of {course.drug} not recorded", f"frequency of {course.drug}")
    days = FREQUENCY_INTERVAL_DAYS[course.frequency]
    if days is None:
        return Absence(f"{course.drug} was given once: no interval", f"frequency of {course.drug}")
    return Observation(days, f"every {_fmt(days)} days", f"medications[{i}].frequency", None,
                       f"{course.frequency.replace('_', ' ')} = every {_fmt(days)} days")


def _administrations_per_day(course: MedicationExposure) -> float | None:
    if course.frequency in ("daily", "twice_daily", "three_times_daily"):
        interval = FREQUENCY_INTERVAL_DAYS[course.frequency]
        return None if interval is None else round(1 / interval)
    return None


@_med("daily_dose", "daily dose", "number", "dose and frequency", measure=Measure("mg/day", "mg/day"))
def _daily_dose(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    per_day = _administrations_per_day(course)
    if course.dose_amount is None or course.dose_kind != "mass":
        return Absence(f"dose of {course.drug} in mg not recorded", f"dose of {course.drug}")
    if per_day is None:
        return Absence(f"{course.drug} is not given daily (frequency {course.frequency or 'not recorded'})",
                       f"frequency of {course.drug}")
    daily = course.dose_amount * per_day
    return Observation(daily, f"{_fmt(daily)} mg/day", f"medications[{i}]", None,
                       f"{course.dose} x {per_day} per day")


@_med("prednisone_equivalent_daily_dose", "prednisone-equivalent daily dose", "number",
      "glucocorticoid dose and frequency", measure=Measure("mg/day", "mg/day"))
def _prednisone_equivalent(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    drug = drugs.DRUGS[course.drug]
    if drug.mg_per_5mg_prednisone is None:
        return Absence(f"{course.drug} is not a glucocorticoid", "glucocorticoid dose")
    daily = _daily_dose(course, i, profile, as_of)
    if isinstance(daily, Absence):
        return daily
    assert isinstance(daily.value, float)
    equivalent = round(daily.value * 5 / drug.mg_per_5mg_prednisone, 6)
    how = (f"{daily.derivation} = {daily.display}" if course.drug == "prednisone" else
           f"{daily.derivation} = {daily.display} of {course.drug} x 5 / {drug.mg_per_5mg_prednisone:g} "
           f"(mg equal to 5 mg prednisone) = {_fmt(equivalent)} mg/day prednisone")
    return Observation(equivalent, f"{_fmt(equivalent)} mg/day prednisone-equivalent", f"medications[{i}]",
                       None, how)


@_med("duration_months", "duration of the course, first and last day counted", "number", "start and end dates",
      suffix="calendar months")
def _duration(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    period = _course_days(course, as_of)
    if isinstance(period, Absence):
        return period
    start, through, how = period
    months = round(months_between(start, through + dt.timedelta(days=1)), 4)
    return Observation(months, f"{_fmt(months)} months", f"medications[{i}]", None,
                       f"calendar months from {start} {how}")


def _course_days(course: MedicationExposure, as_of: dt.date) -> tuple[dt.date, dt.date, str] | Absence:
    """The first and the last day on the drug, both counted: a course from 1 January to 31 March lasted
    three months (90 days), not 89 days. A course still running is on the drug on the as-of date."""
    if course.start is None:
        return Absence(f"start date of {course.drug} not recorded", f"start date of {course.drug}")
    end = _course_end(course, as_of)
    if end is None:
        return Absence(f"end date of {course.drug} not recorded (and not marked ongoing)",
                       f"end date of {course.drug}")
    day = end[0]
    through = f"through the as-of date {day} (ongoing)" if day == as_of else f"through its last day {day}"
    return course.start, day, f"{through}, both days counted"


def _course_end(course: MedicationExposure, as_of: dt.date) -> tuple[dt.date, str] | None:
    """When the course ended as seen on the as-of date (the as-of date itself while it runs). A single dose
    (frequency ``once``, or one administration) with no end date ends on its start date."""
    end = course.end
    single = course.frequency == "once" or course.administrations == 1
    if end is None and not course.ongoing and single and course.start is not None and course.start <= as_of:
        return course.start, f"a single dose on {course.start}"
    if course.ongoing or (end is not None and end >= as_of):
        return as_of, "ongoing on the as-of date"
    if end is not None:
        return end, f"ended {end}"
    return None


def _unbroken_end(course: MedicationExposure, i: int, profile: PatientProfile,
                  as_of: dt.date) -> tuple[dt.date, str] | None:
    """:func:`_course_end`, but of the course together with entries that continue it at the same dose."""
    run = _treatment(course, i, profile, as_of, at_dose=False, same_dose=True)
    if isinstance(run, Absence) or len(run[2]) == 1:
        return _course_end(course, as_of)
    others = ", ".join(f"medications[{j}]" for j in run[2] if j != i)
    if run[1] == as_of:
        return as_of, f"ongoing on the as-of date (continued at the same dose by {others})"
    return run[1], f"ended {run[1]} (continued at the same dose by {others})"


def _since_end(unit: str) -> None:
    name = f"{unit}_since_end"

    def extract(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
        end = _unbroken_end(course, i, profile, as_of)
        if end is None:
            return Absence(f"end date of {course.drug} not recorded (and not marked ongoing)",
                           f"end date of {course.drug} (or ongoing: true)")
        day, how = end
        amount = _elapsed(day, as_of, unit)
        return Observation(amount, f"{_fmt(amount)} {unit}", f"medications[{i}]", None,
                           f"{how}: {_fmt(amount)} {unit} before the as-of date {as_of}")

    MEDICATION_FIELDS[name] = FieldSpec(name, f"{unit} since the last dose", "number", extract, None, (),
                                        "end date", f"{unit}")


def _elapsed(since: dt.date, until: dt.date, unit: str) -> float:
    """Days, weeks (7 days) or calendar months from ``since`` to ``until`` (see matcher.model.dates)."""
    if unit == "months":
        return round(months_between(since, until), 4)
    days = (until - since).days
    return days if unit == "days" else round(days / 7, 4)


for _unit in ("days", "weeks", "months"):
    _since_end(_unit)


@_med("days_since_start", "days since the course started", "number", "start date", suffix="days")
def _since_start(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    if course.start is None:
        return Absence(f"start date of {course.drug} not recorded", f"start date of {course.drug}")
    run = _treatment(course, i, profile, as_of, at_dose=False, same_dose=True)
    start, how = course.start, ""
    if not isinstance(run, Absence) and run[0] != course.start:
        start = run[0]
        how = f" (the same dose, continued without a break from medications[{run[2][0]}])"
    days = (as_of - start).days
    return Observation(days, f"{days} days", f"medications[{i}].start", None,
                       f"from {start} to the as-of date {as_of}{how}")


def _next_dose_due(course: MedicationExposure, last: dt.date) -> dt.date | None:
    """The day the dose after ``last`` would have been due: the end of the period the course covered."""
    if course.frequency == "monthly":
        return add_months(last, 1)
    interval = FREQUENCY_INTERVAL_DAYS.get(course.frequency or "")
    if interval is None:
        return None
    return last + dt.timedelta(days=max(1, round(interval)))


@_med("treated_months", "period covered by the course, to one dosing interval after the last dose", "number",
      "start and end dates and frequency", suffix="calendar months")
def _treated_months(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    """Pulses cover a period: three monthly boluses (6 Jan, 6 Feb, 6 Mar) treat for three months (to 6 Apr)."""
    if course.start is None:
        return Absence(f"start date of {course.drug} not recorded", f"start date of {course.drug}")
    end = _course_end(course, as_of)
    if end is None:
        return Absence(f"end date of {course.drug} not recorded (and not marked ongoing)",
                       f"end date of {course.drug}")
    if end[0] == as_of:
        covered, how = as_of, f"{course.start} to the as-of date (ongoing)"
    else:
        due = _next_dose_due(course, end[0])
        if due is None:
            return Absence(f"frequency of {course.drug} not recorded (or a single dose)", f"frequency of {course.drug}")
        covered, how = due, f"{course.start} to {due}, one dosing interval after the last dose on {end[0]}"
    months = round(months_between(course.start, covered), 4)
    return Observation(months, f"{_fmt(months)} months", f"medications[{i}]", None, f"calendar months from {how}")


@_med("duration_days", "duration of the course, first and last day counted", "number", "start and end dates",
      suffix="days")
def _duration_days(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    period = _course_days(course, as_of)
    if isinstance(period, Absence):
        return period
    start, through, how = period
    days = (through - start).days + 1
    return Observation(days, f"{days} days", f"medications[{i}]", None, f"from {start} {how}")


@_med("ongoing", "course ongoing on the as-of date", "bool", "end date or ongoing")
def _ongoing(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    end = _unbroken_end(course, i, profile, as_of)
    if end is None:
        return Absence(f"whether {course.drug} is ongoing is not recorded", f"end date of {course.drug} "
                       "(or ongoing: true)")
    running = end[0] == as_of
    return Observation(running, "yes" if running else "no", f"medications[{i}]", None, end[1])


@_med("administrations", "number of doses given", "number", "number of doses given", suffix="doses")
def _administrations(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    if course.administrations is None:
        return Absence(f"number of doses of {course.drug} not recorded", f"number of doses of {course.drug}")
    return Observation(course.administrations, str(course.administrations),
                       f"medications[{i}].administrations")


_PER_WEEK = {"daily": 7, "twice_daily": 14, "three_times_daily": 21, "weekly": 1}


@_med("weekly_dose", "weekly dose", "number", "dose and frequency", measure=Measure("mg/week", "mg/week"))
def _weekly_dose(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    if course.dose_amount is None or course.dose_kind != "mass":
        return Absence(f"dose of {course.drug} in mg not recorded", f"dose of {course.drug}")
    per_week = _PER_WEEK.get(course.frequency or "")
    if per_week is None:
        return Absence(f"{course.drug} is not given daily or weekly (frequency {course.frequency or 'not recorded'}"
                       ")", f"frequency of {course.drug}")
    weekly = course.dose_amount * per_week
    return Observation(weekly, f"{_fmt(weekly)} mg/week", f"medications[{i}]", None,
                       f"{course.dose} x {per_week} per week")


@_med("daily_dose_per_kg", "daily dose per kg of body weight", "number", "dose, frequency and weight",
      measure=Measure("mg/kg/day", "mg/kg/day"))
def _daily_dose_per_kg(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    per_day = _administrations_per_day(course)
    if course.dose_amount is None:
        return Absence(f"dose of {course.drug} not recorded", f"dose of {course.drug}")
    if per_day is None:
        return Absence(f"{course.drug} is not given daily (frequency {course.frequency or 'not recorded'})",
                       f"frequency of {course.drug}")
    if course.dose_kind == "per_kg":
        daily = round(course.dose_amount * per_day, 4)
        return Observation(daily, f"{_fmt(daily)} mg/kg/day", f"medications[{i}]", None,
                           f"{course.dose} x {per_day} per day")
    if course.dose_kind != "mass":
        return Absence(f"dose of {course.drug} is written per m2", f"dose of {course.drug} in mg or mg/kg")
    weight = _weight(profile, as_of)
    if isinstance(weight, Absence):
        return Absence(f"mg/kg of {course.drug} needs the weight: {weight.reason}", "weight")
    daily = round(course.dose_amount * per_day / float(weight.value), 4)
    return Observation(daily, f"{_fmt(daily)} mg/kg/day", f"medications[{i}]", None,
                       f"{course.dose} x {per_day} per day / {weight.display} (weight as recorded now)")


@_med("dose_absolute", "dose per administration, in mg (converted from mg/m2 or mg/kg with body size)", "number",
      "dose", measure=Measure("mg", "mg"))
def _dose_absolute(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    if course.dose_amount is None:
        return Absence(f"dose of {course.drug} not recorded", f"dose of {course.drug}")
    if course.dose_kind == "mass":
        return Observation(course.dose_amount, f"{_fmt(course.dose_amount)} mg", f"medications[{i}].dose")
    size = body_surface_area(profile, as_of) if course.dose_kind == "per_m2" else _weight(profile, as_of)
    if isinstance(size, Absence):
        return Absence(f"converting {course.dose} of {course.drug} to mg: {size.reason}", size.collect)
    amount = round(course.dose_amount * float(size.value), 1)
    return Observation(amount, f"{_fmt(amount)} mg", f"medications[{i}].dose", None,
                       f"{course.dose} x {size.display} (body size as recorded now) = {_fmt(amount)} mg")


# ------------------------------------------------------------------ treatments: courses read together
#: two courses of one drug (and route) separated by at most this many days without it are one treatment
TREATMENT_GAP_DAYS = 14


def _dose_rate(course: MedicationExposure) -> tuple[str, float] | None:
    """The course's dose per day in its own kind (mg, mg/kg, mg/m2), to compare courses of one drug."""
    interval = FREQUENCY_INTERVAL_DAYS.get(course.frequency or "")
    if course.dose_amount is None or course.dose_kind is None or interval is None:
        return None
    return course.dose_kind, course.dose_amount / interval


def _same_drug(course: MedicationExposure, other: MedicationExposure) -> bool:
    return other.drug == course.drug and other.route == course.route


def _treatment(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date,
               at_dose: bool, same_dose: bool = False) -> tuple[dt.date, dt.date, list[int]] | Absence:
    """The treatment course ``i`` belongs to: its first and last day and its courses (indices, by start).

    Courses of the same drug and route that overlap or follow each other with at most
    :data:`TREATMENT_GAP_DAYS` days between them are one treatment (a dose change, a taper, a short
    interruption); the days of a bridged gap count. ``at_dose``: only courses at course ``i``'s daily
    dose or above are joined, so the treatment is the time spent at least at that dose. A course whose
    dose cannot be compared is not joined; entries dated after the as-of date are left out. ``same_dose``:
    only entries at the same dose that continue each other without a day's break are joined (one
    course written as several entries, which a stable-dose reading must not take for a change).
    """
    own = _course_days(course, as_of)
    if isinstance(own, Absence):
        return own
    rate = _dose_rate(course)
    spans: list[tuple[dt.date, dt.date, int]] = []
    for j, other in enumerate(profile.medications or []):
        if j != i:
            if not _same_drug(course, other) or other.start is None or other.start > as_of:
                continue
            if at_dose or same_dose:
                other_rate = _dose_rate(other)
                if rate is None or other_rate is None or other_rate[0] != rate[0] or other_rate[1] < rate[1] - 1e-9:
                    continue
                if same_dose and other_rate[1] > rate[1] + 1e-9:
                    continue
            days = _course_days(other, as_of)
            if isinstance(days, Absence):
                continue
            spans.append((days[0], days[1], j))
        else:
            spans.append((own[0], own[1], i))
    spans.sort()
    first, last, members = spans[0][0], spans[0][1], [spans[0][2]]
    gap = 0 if same_dose else TREATMENT_GAP_DAYS
    for start, end, j in spans[1:]:
        if (start - last).days - 1 <= gap:
            last = max(last, end)
            members.append(j)
        elif i in members:
            break
        else:
            first, last, members = start, end, [j]
    return first, last, members


def _treatment_how(course: MedicationExposure, first: dt.date, last: dt.date, members: list[int],
                   as_of: dt.date) -> str:
    through = "the as-of date (ongoing)" if last == as_of else str(last)
    if len(members) == 1:
        return f"one course, {first} through {through}, both days counted"
    listed = ", ".join(f"medications[{j}]" for j in members)
    return (f"{len(members)} courses of {course.drug.replace('_', ' ')} ({listed}) at this dose or above read as "
            f"one treatment (dose changes, tapers, gaps of up to {TREATMENT_GAP_DAYS} days): {first} through "
            f"{through}, both days counted")


@_med("treatment_days", "duration of the treatment at this dose or above (courses of the drug merged)", "number",
      "start and end dates", suffix="days")
def _treatment_days(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    found = _treatment(course, i, profile, as_of, at_dose=True)
    if isinstance(found, Absence):
        return found
    first, last, members = found
    days = (last - first).days + 1
    return Observation(days, f"{days} days", f"medications[{i}]", None,
                       _treatment_how(course, first, last, members, as_of))


@_med("treatment_months", "duration of the treatment at this dose or above (courses of the drug merged)",
      "number", "start and end dates", suffix="calendar months")
def _treatment_months(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    found = _treatment(course, i, profile, as_of, at_dose=True)
    if isinstance(found, Absence):
        return found
    first, last, members = found
    months = round(months_between(first, last + dt.timedelta(days=1)), 4)
    return Observation(months, f"{_fmt(months)} months", f"medications[{i}]", None,
                       "calendar months: " + _treatment_how(course, first, last, members, as_of))


@_med("treatment_response", "response to the treatment (the latest recorded of its courses, at any dose)", "enum",
      "response to treatment", ("failed", "not_tolerated", "responded"))
def _treatment_response(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    found = _treatment(course, i, profile, as_of, at_dose=False)
    members = [i] if isinstance(found, Absence) else found[2]
    courses = profile.medications or []
    recorded = {j: _course_end(courses[j], as_of) for j in members if courses[j].response is not None}
    if not recorded:
        return _response(course, i, profile, as_of)
    last_day = max((end[0] for end in recorded.values() if end is not None), default=None)
    latest = sorted(j for j, end in recorded.items() if (end[0] if end is not None else None) == last_day)
    responses = {courses[j].response for j in latest}
    if len(responses) > 1:  # file order must not choose between them
        listed = ", ".join(f"medications[{j}] {courses[j].response}" for j in latest)
        return Absence(f"the latest courses of this {course.drug} treatment record different responses ({listed})",
                       f"response to {course.drug} (the courses ending together disagree)")
    response = courses[latest[0]].response
    assert response is not None
    how = None if latest == [i] else f"recorded on medications[{latest[0]}], the latest course of the same treatment"
    return Observation(response, response.replace("_", " "), f"medications[{latest[0]}].response", None, how)


@_med("adequate_trial", "an adequate therapeutic trial (dose and duration, matcher/model/drugs.py ADEQUATE_TRIALS)",
      "bool", "dose, frequency and dates")
def _adequate_trial(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    row = drugs.adequate_trial(course.drug)
    if row is None:
        return Observation(False, "no", f"medications[{i}].drug", None,
                           f"{course.drug.replace('_', ' ')} has no row in the adequacy table: the clinician judges")
    key, minimum = row
    dose = MEDICATION_FIELDS[minimum.dose_field].extract(course, i, profile, as_of)
    if isinstance(dose, Absence):
        return dose
    days = _treatment_days(course, i, profile, as_of)
    if isinstance(days, Absence):
        return days
    assert isinstance(dose.value, (int, float)) and isinstance(days.value, (int, float))
    enough = dose.value >= minimum.minimum and days.value >= minimum.days
    return Observation(enough, "yes" if enough else "no", f"medications[{i}]", None,
                       f"{dose.display} for {days.display} against the {key.replace('_', ' ')} minimum of "
                       f"{minimum.minimum:g} {minimum.unit} for {minimum.days} days")


def _item_attribute(table: dict[str, FieldSpec], listed: str, attr: str, label: str, type_: FieldType,
                    choices: tuple[str, ...] = ()) -> None:
    """Register an item field that is a plain attribute of the entry."""

    def extract(item: Any, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
        value = getattr(item, attr)
        if value is None:
            return Absence(f"{label} of {listed}[{i}] not recorded", f"{label} ({listed}[{i}].{attr})")
        display = ("yes" if value else "no") if isinstance(value, bool) else str(value).replace("_", " ")
        return Observation(value, display, f"{listed}[{i}].{attr}")

    table[attr] = FieldSpec(attr, label, type_, extract, None, choices, label)


def _weeks_since(table: dict[str, FieldSpec], listed: str, name: str,
                 when: Callable[[Any, dt.date], tuple[dt.date, str] | Absence]) -> None:
    def extract(item: Any, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
        found = when(item, as_of)
        if isinstance(found, Absence):
            return found
        day, how = found
        weeks = _elapsed(day, as_of, "weeks")
        return Observation(weeks, f"{_fmt(weeks)} weeks", f"{listed}[{i}]", None,
                           f"{how}: {(as_of - day).days} days = {_fmt(weeks)} weeks before the as-of date")

    table[name] = FieldSpec(name, "weeks before the as-of date", "number", extract, None, (), "date", "weeks")


def _choices(literal: Any) -> tuple[str, ...]:
    return tuple(typing.get_args(literal))


INFECTION_FIELDS: dict[str, FieldSpec] = {}
_item_attribute(INFECTION_FIELDS, "infections", "status", "infection status", "enum",
                ("uncontrolled", "controlled", "resolved"))
_item_attribute(INFECTION_FIELDS, "infections", "agent", "infectious agent", "enum", _choices(InfectionAgent))
for _attr, _label in (("severe", "severe"), ("recurrent", "recurrent"), ("hospitalized", "needed hospitalisation"),
                      ("iv_antibiotics", "needed intravenous antibiotics"), ("treated", "needed treatment")):
    _item_attribute(INFECTION_FIELDS, "infections", _attr, _label, "bool")


def _infection_active(item: Infection, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    """Active on the as-of date: not ended by then, and not recorded as resolved (without a later end)."""
    if item.end is not None and item.end <= as_of:
        return Observation(False, "no", f"infections[{i}].end", None, f"ended {item.end}")
    if item.status == "resolved" and item.end is None:
        return Observation(False, "no", f"infections[{i}].status", None, "recorded as resolved")
    how = f"ends {item.end}, after the as-of date" if item.end else f"recorded as {item.status}"
    return Observation(True, "yes", f"infections[{i}]", None, how)


INFECTION_FIELDS["active"] = FieldSpec("active", "infection active (not resolved)", "bool", _infection_active,
                                       None, (), "infection status")


def _infection_last_active(item: Infection, as_of: dt.date) -> tuple[dt.date, str] | Absence:
    if item.end is not None:
        return (as_of, "active on the as-of date") if item.end > as_of else (item.end, f"ended {item.end}")
    if item.status != "resolved":
        return as_of, "active on the as-of date"
    return Absence(f"{item.name} is resolved but its end date is not recorded", f"end date of {item.name}")


_weeks_since(INFECTION_FIELDS, "infections", "weeks_since_active", _infection_last_active)
INFECTION_FIELDS["weeks_since_active"] = replace(INFECTION_FIELDS["weeks_since_active"],
                                                 label="weeks since the infection was last active")

MALIGNANCY_FIELDS: dict[str, FieldSpec] = {}
_item_attribute(MALIGNANCY_FIELDS, "malignancies", "status", "malignancy status", "enum",
                ("active", "in_remission", "cured"))
_item_attribute(MALIGNANCY_FIELDS, "malignancies", "category", "malignancy category", "enum",
                _choices(MalignancyCategory))
_item_attribute(MALIGNANCY_FIELDS, "malignancies", "excised", "excised", "bool")

PROCEDURE_FIELDS: dict[str, FieldSpec] = {}
_item_attribute(PROCEDURE_FIELDS, "procedures", "type", "procedure", "enum",
                ("plasmapheresis", "immunoadsorption", "major_surgery", "other"))


def _planned(item: Procedure | Immunization, i: int, listed: str) -> Reading:
    return Observation(bool(item.planned), "yes" if item.planned else "no", f"{listed}[{i}].planned", None,
                       None if item.planned is not None else "not marked planned: taken as done")


def _done_on(item: Procedure | Immunization, as_of: dt.date) -> tuple[dt.date, str] | Absence:
    if item.planned:
        return Absence("a planned entry has not happened yet", "date")
    if item.date is None:
        return Absence(f"date of {getattr(item, 'type', getattr(item, 'vaccine', 'entry'))} not recorded", "date")
    return item.date, f"done {item.date}"


PROCEDURE_FIELDS["planned"] = FieldSpec("planned", "planned (not yet done)", "bool",
                                        lambda item, i, profile, as_of: _planned(item, i, "procedures"), None, (),
                                        "whether the procedure is planned")
_weeks_since(PROCEDURE_FIELDS, "procedures", "weeks_since", _done_on)

IMMUNIZATION_FIELDS: dict[str, FieldSpec] = {}
_item_attribute(IMMUNIZATION_FIELDS, "immunizations", "live", "live vaccine", "bool")
_item_attribute(IMMUNIZATION_FIELDS, "immunizations", "herpes_zoster", "herpes zoster vaccine", "bool")
IMMUNIZATION_FIELDS["planned"] = FieldSpec("planned", "planned (not yet given)", "bool",
                                           lambda item, i, profile, as_of: _planned(item, i, "immunizations"),
                                           None, (), "whether the vaccination is planned")
_weeks_since(IMMUNIZATION_FIELDS, "immunizations", "weeks_since", _done_on)


def _describe_infection(item: Infection) -> str:
    span = f", {item.start or '?'} to {item.end or 'now'}" if item.start or item.end else ""
    return f"{item.name} ({item.status}{span})"


def _describe_malignancy(item: Malignancy) -> str:
    return f"{item.type} ({item.status.replace('_', ' ')})"


def _describe_procedure(item: Procedure) -> str:
    return f"{item.type.replace('_', ' ')} ({'planned' if item.planned else item.date or 'date unknown'})"


def _describe_immunization(item: Immunization) -> str:
    return f"{item.vaccine} ({'live' if item.live else 'not live'}, " \
           f"{'planned' if item.planned else item.date or 'date unknown'})"


def _on_or_before(day: dt.date | None, as_of: dt.date) -> bool:
    return day is None or day <= as_of


LISTS: dict[str, ListSpec] = {
    "medications": ListSpec("medications", "medication history", _describe_course, MEDICATION_FIELDS,
                            "medication history (every course of the drugs the trial names)",
                            lambda item, as_of: _on_or_before(item.start, as_of)),
    "infections": ListSpec("infections", "infections", _describe_infection, INFECTION_FIELDS,
                           "current and recent infections (an empty list if none)",
                           lambda item, as_of: _on_or_before(item.start, as_of)),
    "malignancies": ListSpec("malignancies", "malignancy history", _describe_malignancy, MALIGNANCY_FIELDS,
                             "malignancy history (an empty list if none)",
                             lambda item, as_of: _on_or_before(item.diagnosed, as_of)),
    "procedures": ListSpec("procedures", "procedures", _describe_procedure, PROCEDURE_FIELDS,
                           "procedures such as plasmapheresis or major surgery, done or planned (an empty list if "
                           "none)", lambda item, as_of: bool(item.planned) or _on_or_before(item.date, as_of)),
    "immunizations": ListSpec("immunizations", "vaccinations", _describe_immunization, IMMUNIZATION_FIELDS,
                              "vaccinations, given or planned (an empty list if none)",
                              lambda item, as_of: bool(item.planned) or _on_or_before(item.date, as_of)),
}

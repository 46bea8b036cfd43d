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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from . import drugs
from .dates import completed_years, months_between
from .profile import (
    ACTIVITY_INDICES,
    FREQUENCY_INTERVAL_DAYS,
    LAB_TESTS,
    Infection,
    LabResult,
    Malignancy,
    MedicationExposure,
    PatientProfile,
)
from .units import Measure

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
_attribute("diagnoses.sle.acr1997_criteria_met", "ACR 1997 SLE classification criteria met",
           "number of ACR 1997 SLE classification criteria met", "number", suffix="of 11")
_attribute("diagnoses.sle.ana_positive", "antinuclear antibodies positive", "ANA result")
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


_female_only("pregnant", "pregnant", "pregnancy status")
_female_only("breastfeeding", "breastfeeding", "breastfeeding status")
_female_only("childbearing_potential", "of childbearing potential", "childbearing potential")


def _latest(results: list[Any] | None, as_of: dt.date, keep: Callable[[Any], bool]) -> tuple[int, Any] | None:
    """The most recent entry on or before ``as_of`` (index in the list, entry)."""
    best: tuple[int, Any] | None = None
    for index, entry in enumerate(results or []):
        if keep(entry) and entry.date <= as_of and (best is None or entry.date >= best[1].date):
            best = (index, entry)
    return best


def _activity_field(index_name: str) -> None:
    name = index_name.lower().replace("-", "_")

    def extract(profile: PatientProfile, as_of: dt.date) -> Reading:
        found = _latest(profile.disease_activity, as_of, lambda score: score.index == index_name)
        if found is None:
            return Absence(f"no {index_name} score on or before {as_of}", f"{index_name} score")
        position, score = found
        return Observation(score.score, _fmt(score.score), f"disease_activity[{position}]",
                           score.date, "most recent score on or before the as-of date")

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
        if found is None:
            return Absence(f"no {spec.label} result on or before {as_of}", spec.label)
        position, result = found
        return Observation(result.amount, _lab_display(result), f"labs[{position}]", result.date,
                           "most recent result on or before the as-of date")

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
                           f"{course.drug} is {'' if member else 'not '}a {drug_class.replace('_', ' ')} "
                           "(matcher/drugs.py)")

    name = f"is_{drug_class}"
    MEDICATION_FIELDS[name] = FieldSpec(name, f"drug is a {drug_class.replace('_', ' ')}", "bool", extract,
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


@_med("duration_months", "duration of the course", "number", "start and end dates",
      suffix="calendar months")
def _duration(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    if course.start is None:
        return Absence(f"start date of {course.drug} not recorded", f"start date of {course.drug}")
    if course.end is not None:
        end, how = course.end, f"{course.start} to {course.end}"
    elif course.ongoing:
        end, how = as_of, f"{course.start} to the as-of date {as_of} (ongoing)"
    else:
        return Absence(f"end date of {course.drug} not recorded (and not marked ongoing)",
                       f"end date of {course.drug}")
    if end < course.start:
        return Absence(f"{course.drug} starts after the as-of date", f"start date of {course.drug}")
    months = round(months_between(course.start, end), 4)
    return Observation(months, f"{_fmt(months)} months", f"medications[{i}]", None,
                       f"calendar months from {how}")


INFECTION_FIELDS: dict[str, FieldSpec] = {
    "status": FieldSpec(
        "status", "infection status", "enum",
        lambda item, i, profile, as_of: Observation(item.status, item.status, f"infections[{i}].status"),
        None, ("uncontrolled", "controlled", "resolved"), "infection status",
    ),
    "severe": FieldSpec(
        "severe", "severe infection", "bool",
        lambda item, i, profile, as_of: (
            Absence(f"severity of {item.name} not recorded", f"severity of {item.name}") if item.severe is None
            else Observation(item.severe, "yes" if item.severe else "no", f"infections[{i}].severe")),
        None, (), "infection severity",
    ),
}

MALIGNANCY_FIELDS: dict[str, FieldSpec] = {
    "status": FieldSpec(
        "status", "malignancy status", "enum",
        lambda item, i, profile, as_of: Observation(item.status, item.status, f"malignancies[{i}].status"),
        None, ("active", "in_remission", "cured"), "malignancy status",
    ),
}


def _describe_infection(item: Infection) -> str:
    return f"{item.name} ({item.status})"


def _describe_malignancy(item: Malignancy) -> str:
    return f"{item.type} ({item.status.replace('_', ' ')})"


LISTS: dict[str, ListSpec] = {
    "medications": ListSpec("medications", "medication history", _describe_course, MEDICATION_FIELDS,
                            "medication history (every course of the drugs the trial names)"),
    "infections": ListSpec("infections", "infections", _describe_infection, INFECTION_FIELDS,
                           "current and recent infections (an empty list if none)"),
    "malignancies": ListSpec("malignancies", "malignancy history", _describe_malignancy, MALIGNANCY_FIELDS,
                             "malignancy history (an empty list if none)"),
}

"""The patient profile: what the matcher knows about one patient (pydantic v2).

Conventions every field follows:

* A field that is absent is **unknown**. ``false``, a negative test or an empty
  list is **known**: ``infections: []`` says "assessed: none", leaving the key
  out says "not assessed".
* Unknown keys are errors (with a did-you-mean suggestion, added by
  :mod:`matcher.intake.validate`).
* Quantities are written with their unit (``"88 umol/L"``, ``"1.2 g/24h"``) and
  converted by :mod:`matcher.model.units`; a bare number for a quantity is an error.
* Values outside what is possible (a SLEDAI-2K above 105, a creatinine of
  5000 mg/dL) are errors, not outliers.
* Everything that changes over time carries its date.

The dated measurements (activity scores, lab results, pregnancy tests) and the tables they are
checked against (ACTIVITY_INDICES, LAB_TESTS) are in :mod:`matcher.model.measurements`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    PrivateAttr,
    StrictBool,
    field_validator,
    model_validator,
)

from matcher.errors import did_you_mean
from matcher.model import drugs
from matcher.model.dates import LAST_AS_OF
from matcher.model.measurements import (
    ActivityScore,
    BilagAssessment,
    Date,
    LabResult,
    PregnancyTest,
    Quantity,
    StrictCount,
    _Model,
    _private,
)
from matcher.model.units import Measure, UnitProblem, convert

#: the possible range of an age in years, and of weight (kg) and height (cm): what a patient file may give
#: (and what ``matcher lint`` holds thresholds to)
AGE_RANGE = (0, 120)
BODY_RANGES: dict[str, tuple[float, float]] = {"weight": (1, 400), "height": (30, 250)}



# ---------------------------------------------------------------- history
Frequency = Literal[
    "once", "daily", "twice_daily", "three_times_daily", "weekly", "every_2_weeks", "every_4_weeks", "monthly"
]
#: Days between administrations. A month is 30.4375 days (365.25 / 12) here only,
#: for an average interval; durations use calendar months (matcher.model.dates).
FREQUENCY_INTERVAL_DAYS: dict[str, float | None] = {
    "once": None,
    "daily": 1.0,
    "twice_daily": 0.5,
    "three_times_daily": 1 / 3,
    "weekly": 7.0,
    "every_2_weeks": 14.0,
    "every_4_weeks": 28.0,
    "monthly": 30.4375,
}

DOSE_MASS = Measure("mg", "mg")
DOSE_PER_M2 = Measure("mg/m**2", "mg/m2")
DOSE_PER_KG = Measure("mg/kg", "mg/kg", spellings=("mg/kg", "g/kg", "ug/kg", "mcg/kg"))
#: the largest single dose the matcher accepts of each kind: above is a typing error, not a dose
DOSE_LIMITS = {"mass": 20000.0, "per_m2": 5000.0, "per_kg": 100.0}


def classify_dose(written: str) -> tuple[str, Measure]:
    """Whether a dose is absolute, per m2 of body surface or per kg of body weight."""
    compact = written.replace(" ", "").lower()
    if "/kg" in compact:
        return "per_kg", DOSE_PER_KG
    if "/m2" in compact or "/m²" in compact or "/m^2" in compact or "/m**2" in compact:
        return "per_m2", DOSE_PER_M2
    return "mass", DOSE_MASS


class MedicationExposure(_Model):
    """One course of one drug at one dose. ``dose`` is per administration; ``end`` absent with ``ongoing: true``.

    A change of dose starts a new course (a new entry), so "stable dose for 30 days" is a course that
    started at least 30 days ago.
    """

    drug: str
    dose: Quantity | None = None
    frequency: Frequency | None = None
    administrations: Annotated[StrictCount, Field(ge=1, le=10000)] | None = Field(
        default=None, description="How many doses were given in this course (e.g. 4 rituximab infusions)"
    )
    route: Literal["oral", "iv", "sc", "im", "other"] | None = None
    start: Date | None = None
    end: Date | None = None
    ongoing: StrictBool | None = None
    response: Literal["failed", "not_tolerated", "responded"] | None = None
    note: str | None = None

    _dose_kind: str | None = PrivateAttr(default=None)
    _dose_amount: float | None = PrivateAttr(default=None)

    @field_validator("drug")
    @classmethod
    def _known_drug(cls, written: str) -> str:
        name = drugs.canonical_drug_name(written)
        if name is None:
            raise ValueError(
                f"unknown drug {written!r}{did_you_mean(written.lower(), drugs.known_drug_names())}; "
                "known drugs are listed in matcher/model/drugs.py"
            )
        return name

    @field_validator("dose")
    @classmethod
    def _dose_readable(cls, written: Quantity | None, info: Any) -> Quantity | None:
        if written is None:
            return None
        if not isinstance(written, str):
            raise ValueError(f"a unit is required: write e.g. '{written} mg', not a bare number")
        kind, measure = classify_dose(written)
        try:
            amount = convert(written, measure)
        except UnitProblem as exc:
            raise ValueError(str(exc)) from None
        limit = drugs.DOSE_LIMITS_OF_DRUG.get(info.data.get("drug") or "", DOSE_LIMITS).get(kind, DOSE_LIMITS[kind])
        if not 0.001 <= amount <= limit:
            raise ValueError(f"dose {written!r} is outside the possible range 0.001-{limit:g} "
                             f"{measure.display} per administration")
        return written

    @model_validator(mode="after")
    def _consistent(self) -> MedicationExposure:
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if self.end is not None and self.ongoing:
            raise ValueError("a course with an end date cannot also be ongoing")
        if isinstance(self.dose, str):
            kind, measure = classify_dose(self.dose)
            self._dose_kind = kind
            self._dose_amount = convert(self.dose, measure)
        return self

    @property
    def dose_kind(self) -> str | None:
        kind: str | None = _private(self, "_dose_kind")
        return kind

    @property
    def dose_amount(self) -> float | None:
        """The dose in mg, mg/m2 or mg/kg, as ``dose_kind`` says."""
        amount: float | None = _private(self, "_dose_amount")
        return amount


InfectionAgent = Literal[
    "bacterial", "viral", "fungal", "parasitic", "tuberculosis", "atypical_mycobacteria", "hepatitis_b",
    "hepatitis_c", "hiv", "htlv", "herpes_zoster", "onychomycosis", "other",
]


class Infection(_Model):
    """An infection; ``status`` resolved with an ``end`` date, or still uncontrolled / controlled."""

    name: str
    status: Literal["uncontrolled", "controlled", "resolved"]
    agent: InfectionAgent | None = None
    severe: StrictBool | None = None
    recurrent: StrictBool | None = None
    hospitalized: StrictBool | None = None
    iv_antibiotics: StrictBool | None = None
    treated: StrictBool | None = None
    start: Date | None = None
    end: Date | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Infection:
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


MalignancyCategory = Literal[
    "solid_tumour", "haematological", "myelodysplasia", "basal_cell_carcinoma", "cutaneous_squamous_cell_carcinoma",
    "cervical_carcinoma_in_situ", "other",
]


class Malignancy(_Model):
    type: str
    status: Literal["active", "in_remission", "cured"]
    category: MalignancyCategory | None = None
    excised: StrictBool | None = None
    diagnosed: Date | None = None


class Procedure(_Model):
    """A dated procedure (done, or ``planned: true``)."""

    type: Literal["plasmapheresis", "immunoadsorption", "major_surgery", "other"]
    date: Date | None = None
    planned: StrictBool | None = None
    note: str | None = None


class Immunization(_Model):
    vaccine: str
    live: StrictBool
    herpes_zoster: StrictBool | None = Field(default=None, description="Is it a herpes zoster vaccine")
    date: Date | None = None
    planned: StrictBool | None = None


# ---------------------------------------------------------------- groups
Sex = Literal["female", "male"]


class Demographics(_Model):
    birth_date: Date | None = None
    age: Annotated[StrictCount, Field(ge=AGE_RANGE[0], le=AGE_RANGE[1])] | None = Field(
        default=None, description="Age in completed years, when no birth date is recorded"
    )
    sex: Sex | None = None
    weight: Quantity | None = None
    height: Quantity | None = None

    @field_validator("weight")
    @classmethod
    def _weight(cls, written: Quantity | None) -> Quantity | None:
        return _checked_quantity(written, Measure("kg", "kg"), *BODY_RANGES["weight"], "weight")

    @field_validator("height")
    @classmethod
    def _height(cls, written: Quantity | None) -> Quantity | None:
        return _checked_quantity(written, Measure("cm", "cm"), *BODY_RANGES["height"], "height")

    @model_validator(mode="after")
    def _one_age(self) -> Demographics:
        if self.birth_date is not None and self.age is not None:
            raise ValueError("give birth_date or age, not both (age is computed from birth_date)")
        return self


def _checked_quantity(
    written: Quantity | None, measure: Measure, low: float, high: float, what: str
) -> Quantity | None:
    if written is None:
        return None
    try:
        amount = convert(written, measure)
    except UnitProblem as exc:
        raise ValueError(str(exc)) from None
    if not low <= amount <= high:
        raise ValueError(f"{what} {written} is outside the possible range {low:g}-{high:g} {measure.display}")
    return written


ACR1997_CRITERIA = (
    "malar_rash", "discoid_rash", "photosensitivity", "oral_ulcers", "arthritis", "serositis", "renal_disorder",
    "neurologic_disorder", "hematologic_disorder", "immunologic_disorder", "antinuclear_antibody",
)
Acr1997Criterion = Literal[
    "malar_rash", "discoid_rash", "photosensitivity", "oral_ulcers", "arthritis", "serositis", "renal_disorder",
    "neurologic_disorder", "hematologic_disorder", "immunologic_disorder", "antinuclear_antibody",
]


class SLEDiagnosis(_Model):
    present: StrictBool | None = None
    acr1997_criteria_met: Annotated[StrictCount, Field(ge=0, le=11)] | None = Field(
        default=None, description="How many of the 11 ACR 1997 classification criteria are met"
    )
    acr1997_criteria: list[Acr1997Criterion] | None = Field(
        default=None, description="Which ACR 1997 criteria are met (the count is derived from it)"
    )
    slicc2012_fulfilled: StrictBool | None = Field(
        default=None, description="Fulfils the 2012 SLICC classification criteria for SLE (at least 4 of the 17 "
        "with one clinical and one immunological, or biopsy-proven lupus nephritis with ANA or anti-dsDNA)"
    )
    ana_positive: StrictBool | None = None

    @model_validator(mode="after")
    def _count_agrees(self) -> SLEDiagnosis:
        if self.acr1997_criteria is not None:
            if len(set(self.acr1997_criteria)) != len(self.acr1997_criteria):
                raise ValueError("acr1997_criteria lists a criterion twice")
            if self.acr1997_criteria_met is not None and self.acr1997_criteria_met != len(self.acr1997_criteria):
                raise ValueError(f"acr1997_criteria_met is {self.acr1997_criteria_met} but acr1997_criteria "
                                 f"lists {len(self.acr1997_criteria)}")
        return self


class LupusNephritis(_Model):
    present: StrictBool | None = None
    biopsy_class: Literal["I", "II", "III", "IV", "V", "VI", "III+V", "IV+V"] | None = None
    biopsy_date: Date | None = None


class SjogrenDiagnosis(_Model):
    present: StrictBool | None = None
    aecg2002_fulfilled: StrictBool | None = Field(
        default=None, description="Fulfils the 2002 American-European Consensus Group criteria for primary SS"
    )


class Diagnoses(_Model):
    sle: SLEDiagnosis | None = None
    lupus_nephritis: LupusNephritis | None = None
    primary_sjogren: SjogrenDiagnosis | None = None


class Pregnancy(_Model):
    pregnant: StrictBool | None = None
    breastfeeding: StrictBool | None = None
    planning_pregnancy: StrictBool | None = Field(
        default=None, description="Intends a pregnancy (self or partner) soon"
    )
    childbearing_potential: StrictBool | None = None
    tests: list[PregnancyTest] | None = None


class Renal(_Model):
    dialysis: StrictBool | None = None
    kidney_transplant: StrictBool | None = None


class Consent(_Model):
    signed: StrictBool | None = None
    date: Date | None = None


class Administrative(_Model):
    in_other_trial: StrictBool | None = Field(default=None, description="Currently enrolled in another study")
    social_security_affiliation: StrictBool | None = None
    legal_protection: StrictBool | None = Field(default=None, description="Under guardianship or legal protection")


class ClinicianDecision(_Model):
    """A clinician's answer to a question the matcher leaves to the clinician, on one version of a rule file.

    It settles a criterion whose computed outcome is ``manual`` (a judgement, or a disputed boundary)
    and nothing else: a computed met, not met or unknown is never overridden. It is used only on the
    rule file it was made on (``rules_sha256``, shown by ``matcher check``) and while it is recent
    (``matcher.results.decisions.DECISION_WINDOW_DAYS`` before the screening date).
    """

    trial: Annotated[str, Field(pattern=r"^NCT\d{8}$", description="The trial's NCT id")]
    criterion: Annotated[str, Field(min_length=1, description="The criterion's id in the rule file (exc-3)")]
    outcome: Literal["met", "not_met"] = Field(description="As the criterion reads: an exclusion met excludes")
    by: Annotated[str, Field(min_length=1, description="Who decided (name and role)")]
    on: Date = Field(description="When it was decided (used for 90 days up to the screening date)")
    rules_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$",
                                       description="sha256 of the rule file the decision was made on")]
    note: str | None = Field(default=None, description="Why (shown with the decision)")


#: the lists of history a query can range over, which may be recorded as partial (``partial_lists``)
PartialList = Literal["medications", "infections", "malignancies", "procedures", "immunizations"]


class PatientProfile(_Model):
    """Everything known about one patient. See the module docstring for conventions."""

    id: str
    screening_date: Date | None = Field(
        default=None, description="Date the patient is screened on; --as-of overrides it, else today"
    )
    demographics: Demographics | None = None
    diagnoses: Diagnoses | None = None
    disease_activity: list[ActivityScore] | None = None
    bilag_2004: list[BilagAssessment] | None = Field(
        default=None, description="BILAG-2004 assessments, each its date and highest organ-domain grade")
    labs: list[LabResult] | None = None
    medications: list[MedicationExposure] | None = None
    pregnancy: Pregnancy | None = None
    infections: list[Infection] | None = None
    malignancies: list[Malignancy] | None = None
    procedures: list[Procedure] | None = None
    immunizations: list[Immunization] | None = None
    renal: Renal | None = None
    consent: Consent | None = None
    administrative: Administrative | None = None
    #: lists whose entries are recorded but which may not be complete (e.g. read from a record that does not
    #: say so): an entry that matches a question still answers "yes", but "none matches" is only "unknown"
    partial_lists: list[PartialList] | None = Field(
        default=None, description="Lists recorded with the entries known so far, not known to be complete")
    #: the clinician's recorded answers to criteria left to the clinician (docs/patient-files.md)
    decisions: list[ClinicianDecision] | None = None
    notes: str | None = None

    @field_validator("id")
    @classmethod
    def _id_not_empty(cls, value: str) -> str:
        if not value:
            raise ValueError("id must not be empty")
        return value

    @model_validator(mode="after")
    def _no_conflicts(self) -> PatientProfile:
        """Two different values of one thing on one day would be decided by file order: refuse them."""
        seen: dict[tuple[str, dt.date], float] = {}
        for score in self.disease_activity or []:
            key: tuple[str, dt.date] = (score.index, score.date)
            if key in seen and seen[key] != score.score:
                raise ValueError(f"disease_activity has two different {score.index} scores on {score.date} "
                                 f"({seen[key]:g} and {score.score:g}): keep the one that counts")
            seen[key] = score.score
        grades: dict[dt.date, str] = {}
        for assessment in self.bilag_2004 or []:
            if grades.setdefault(assessment.date, assessment.highest_grade) != assessment.highest_grade:
                raise ValueError(f"bilag_2004 has two different highest grades on {assessment.date} "
                                 f"({grades[assessment.date]} and {assessment.highest_grade}): keep the one that "
                                 "counts")
        for result in self.labs or []:
            key = (result.test, result.date)
            if key in seen and seen[key] != result.amount:
                raise ValueError(f"labs has two different {result.test} results on {result.date}: keep the one "
                                 "that counts")
            seen[key] = result.amount
        partial = self.partial_lists or []
        for name in partial:
            if getattr(self, name) is None:
                raise ValueError(f"partial_lists names {name}, but there is no {name} list: record the entries "
                                 f"known so far (an unrecorded list is unknown already)")
        if len(set(partial)) != len(partial):
            raise ValueError("partial_lists names a list twice")
        sex = self.demographics.sex if self.demographics else None
        if sex == "male" and self.pregnancy and (self.pregnancy.pregnant or self.pregnancy.breastfeeding):
            raise ValueError("pregnancy: a patient recorded as male is recorded as pregnant or breastfeeding")
        if sex == "male" and self.pregnancy and self.pregnancy.childbearing_potential:
            raise ValueError("records disagree: demographics.sex is male but pregnancy.childbearing_potential is "
                             "true: correct one of them")
        if self.pregnancy and self.pregnancy.pregnant and self.pregnancy.childbearing_potential is False:
            raise ValueError("records disagree: pregnancy.pregnant is true but pregnancy.childbearing_potential is "
                             "false: correct one of them")
        return self

    @field_validator("screening_date")
    @classmethod
    def _computable(cls, value: dt.date | None) -> dt.date | None:
        if value is not None and value > LAST_AS_OF:
            raise ValueError(f"{value} is too far in the future: the matcher screens on dates up to {LAST_AS_OF}")
        return value

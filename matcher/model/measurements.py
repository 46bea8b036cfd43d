"""The dated measurements of a patient profile: disease-activity scores, lab results and pregnancy tests,
the tables they are checked against (ACTIVITY_INDICES, LAB_TESTS), and the base every profile model shares.

LAB_TESTS and ACTIVITY_INDICES are the one place a lab test or an activity index is declared: a patient
file is validated against them, and the field catalogue (matcher/model/fields/fields.yaml) makes one
field of each entry (and ``<test>_x_uln`` for a test read against its upper limit of normal). Adding a
lab is one entry in LAB_TESTS.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    field_validator,
    model_validator,
)

from matcher.model.units import CREATININE_MOLAR_MASS, Measure, UnitProblem, convert


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _private(model: BaseModel, name: str) -> Any:
    """A private attribute, read from pydantic's store directly: through ``model._name`` pydantic's
    ``__getattr__`` takes about 50 times as long, and evaluation reads these for every fact."""
    private = model.__pydantic_private__
    assert private is not None
    return private[name]


#: Numbers are strict: ``true`` is not 1 and ``"8"`` is not 8 (the engine would coerce silently).
StrictNumber = Annotated[float, Strict()]
StrictCount = Annotated[int, Strict()]


def _date_not_number(value: Any) -> Any:
    """pydantic would read 0 or 20261102 as seconds since 1970: dates must be written YYYY-MM-DD."""
    if isinstance(value, (int, float)):
        raise ValueError(f"write dates as YYYY-MM-DD, not the number {value!r}")
    return value


Date = Annotated[dt.date, BeforeValidator(_date_not_number)]
# ---------------------------------------------------------------- scores
#: Each disease-activity index and its possible range. SLEDAI-2K and SELENA-SLEDAI
#: share items and weights (0-105); ESSDAI is 0-123; the SSDAI of Vitali et al.
#: (Arthritis Rheum 2007) is 0-21. An index is never converted into another.
ACTIVITY_INDICES: dict[str, tuple[float, float]] = {
    "SLEDAI-2K": (0, 105),
    "SELENA-SLEDAI": (0, 105),
    "SSDAI": (0, 21),
    "ESSDAI": (0, 123),
}
if TYPE_CHECKING:
    ActivityIndex = str
else:  # the names of ACTIVITY_INDICES, so that an index is declared once
    ActivityIndex = Literal[tuple(ACTIVITY_INDICES)]


class ActivityScore(_Model):
    index: ActivityIndex
    score: StrictNumber
    date: Date

    @model_validator(mode="after")
    def _in_range(self) -> ActivityScore:
        low, high = ACTIVITY_INDICES[self.index]
        if not low <= self.score <= high:
            raise ValueError(f"{self.index} score {self.score:g} is outside its possible range {low:g}-{high:g}")
        if not float(self.score).is_integer():
            raise ValueError(f"{self.index} score {self.score:g} is not a whole number (item weights are whole)")
        return self


#: BILAG-2004 grades, most active first: A severe activity, B moderate, C mild stable, D inactive now
#: (previously affected), E never affected.
BILAG_GRADES = ("A", "B", "C", "D", "E")
BilagGrade = Literal["A", "B", "C", "D", "E"]


class BilagAssessment(_Model):
    """A BILAG-2004 assessment: the highest (most active) grade over its nine organ domains, on one day.
    The index grades each domain A to E; it has no total, so it is not an activity score."""

    date: Date
    highest_grade: BilagGrade = Field(
        description="The most active grade over the nine organ domains (A severe, B moderate, C mild, "
                    "D inactive, E never affected)")


# ---------------------------------------------------------------- labs
class LabTest:
    """A laboratory or measured test: canonical unit, plausible range, label, whether it is read against the
    lab's upper limit of normal (a ``<test>_x_uln`` field), and the currency window kind of its results
    (``lab``, or ``imaging`` for an echo or a right-heart catheter: matcher.model.currency)."""

    def __init__(self, measure: Measure, low: float, high: float, label: str, needs_uln: bool = False,
                 window: Literal["lab", "imaging"] = "lab") -> None:
        self.measure = measure
        self.low = low
        self.high = high
        self.label = label
        self.needs_uln = needs_uln
        self.window = window


_RATIO_SPELLINGS = ("g/g", "mg/mg", "mg/g", "mg/mmol", "g/mol", "mg/umol")
#: Urine sediment counts per microscope field: read as written (a field of view is no unit pint knows).
_PER_HPF = Measure("/HPF", "/HPF", spellings=("1/hpf",), plain_count=True)
_PER_LPF = Measure("/LPF", "/LPF", spellings=("1/lpf",), plain_count=True)

LAB_TESTS: dict[str, LabTest] = {
    "urine_protein_24h": LabTest(Measure("g/day", "g/day"), 0, 60, "24-hour urine protein"),
    "urine_protein_creatinine_ratio": LabTest(
        Measure("g/g", "g/g", spellings=_RATIO_SPELLINGS, molar_mass=CREATININE_MOLAR_MASS),
        0, 60, "urine protein/creatinine ratio",
    ),
    "serum_creatinine": LabTest(
        Measure("mg/dL", "mg/dL", molar_mass=CREATININE_MOLAR_MASS), 0.05, 30, "serum creatinine"
    ),
    "egfr": LabTest(Measure("mL/min", "mL/min/1.73 m2", per_bsa=True), 0, 250, "eGFR (reported by the lab)"),
    "alt": LabTest(Measure("U/L", "U/L"), 0, 20000, "ALT", needs_uln=True),
    "ast": LabTest(Measure("U/L", "U/L"), 0, 20000, "AST", needs_uln=True),
    "wbc": LabTest(Measure("10**9/L", "x10^9/L"), 0, 500, "white blood cell count"),
    "neutrophils": LabTest(Measure("10**9/L", "x10^9/L"), 0, 100, "neutrophil count"),
    "lymphocytes": LabTest(Measure("10**9/L", "x10^9/L"), 0, 500, "lymphocyte count"),
    "platelets": LabTest(Measure("10**9/L", "x10^9/L"), 0, 3000, "platelet count"),
    "haemoglobin": LabTest(Measure("g/dL", "g/dL"), 1, 25, "haemoglobin"),
    "cd4": LabTest(Measure("10**6/L", "cells/uL"), 0, 10000, "CD4+ T-cell count"),
    "lvef": LabTest(Measure("percent", "%", spellings=("%", "percent")), 1, 95, "left ventricular ejection fraction",
                    window="imaging"),
    "mean_pap": LabTest(Measure("mmHg", "mmHg"), 0, 150, "mean pulmonary artery pressure",
                        window="imaging"),
    "pao2": LabTest(Measure("mmHg", "mmHg"), 10, 700, "PaO2 (arterial, on air)"),
    "paco2": LabTest(Measure("mmHg", "mmHg"), 5, 200, "PaCO2 (arterial)"),
    "stimulated_saliva_flow": LabTest(Measure("mL/min", "mL/min"), 0, 20, "stimulated whole saliva flow"),
    # anti-dsDNA assays report in units that differ between methods (WHO IU/mL, a kit's U/mL): a result is
    # read against the reporting lab's cut-off for positivity, written as its uln (anti_dsdna_x_uln).
    "anti_dsdna": LabTest(Measure("U/mL", "IU/mL", spellings=("u/ml",)), 0, 100000, "anti-dsDNA antibodies",
                          needs_uln=True),
    "ana_titre": LabTest(Measure("1:N", "reciprocal titre", titre=True), 1, 100000,
                         "antinuclear antibody titre (immunofluorescence)"),
    "urine_rbc_per_hpf": LabTest(_PER_HPF, 0, 1000, "urine red blood cells per high-power field"),
    "urine_wbc_per_hpf": LabTest(_PER_HPF, 0, 1000, "urine white blood cells per high-power field"),
    "urine_cellular_casts_per_lpf": LabTest(
        _PER_LPF, 0, 1000, "urine cellular casts (red cell, white cell, granular) per low-power field"
    ),
}
if TYPE_CHECKING:
    LabName = str
else:  # the names of LAB_TESTS, so that a test is declared once
    LabName = Literal[tuple(LAB_TESTS)]

Quantity = str | int | float


class LabResult(_Model):
    """One dated result as the lab reported it. ``uln`` is the reporting lab's upper limit of normal."""

    test: LabName
    value: Quantity
    date: Date
    uln: Quantity | None = None
    lab: str | None = None

    _amount: float = PrivateAttr()
    _uln_amount: float | None = PrivateAttr(default=None)

    @field_validator("value", "uln")
    @classmethod
    def _convertible(cls, written: Quantity | None, info: Any) -> Quantity | None:
        test = info.data.get("test")
        if written is None or test is None:
            return written
        spec = LAB_TESTS[test]
        try:
            amount = convert(written, spec.measure)
        except UnitProblem as exc:
            raise ValueError(str(exc)) from None
        if not spec.low <= amount <= spec.high:
            raise ValueError(
                f"{spec.label} of {written} ({amount:g} {spec.measure.display}) is outside the possible range "
                f"{spec.low:g}-{spec.high:g} {spec.measure.display}"
            )
        if info.field_name == "uln" and amount <= 0:
            raise ValueError(f"uln {written} must be above zero")
        return written

    @model_validator(mode="after")
    def _amounts(self) -> LabResult:
        spec = LAB_TESTS[self.test]
        self._amount = convert(self.value, spec.measure)
        if self.uln is not None:
            self._uln_amount = convert(self.uln, spec.measure)
            if self._uln_amount <= 0:
                raise ValueError(f"uln {self.uln} must be above zero")
        return self

    @property
    def amount(self) -> float:
        """The value in the test's canonical unit."""
        amount: float = _private(self, "_amount")
        return amount

    @property
    def uln_amount(self) -> float | None:
        amount: float | None = _private(self, "_uln_amount")
        return amount


class PregnancyTest(_Model):
    date: Date
    result: Literal["positive", "negative"]
    specimen: Literal["urine", "serum"] | None = None

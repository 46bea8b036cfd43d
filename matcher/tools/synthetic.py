"""A seeded synthetic cohort of lupus / Sjogren's clinic patients, for benchmarking only.

Nothing here is clinical data or a clinical estimate: the proportions below are
rough shapes chosen so that a cohort exercises every field of
:mod:`matcher.model.profile` and lands on both sides of the thresholds in ``rules/``.
Figures computed from a synthetic cohort (eligibility rates, verdict mixes)
describe this generator, not any population.

Determinism: patient ``index`` of cohort ``seed`` is drawn from its own
``random.Random(f"{seed}:{index}")``, so it is the same whatever else is
generated, and a cohort of any size streams in bounded memory.

What a patient looks like:

* **Condition**: 45% SLE without nephritis, 35% SLE with lupus nephritis, 15%
  primary Sjogren's syndrome, 5% referred without a recorded diagnosis.
* **Completeness**: 35% of patients are "thoroughly worked up" (almost every
  item recorded); for the others each item is recorded with its own
  probability (common labs ~80%, echocardiography ~40%, blood gases ~30%).
  Missing data is normal: a missing item is left out, never written as false.
* **Demographics**: 90% women (93% in Sjogren's); age mostly 15-70 (triangular,
  mode 32 for SLE, 52 for Sjogren's), 8% drawn from 10-85; birth date (80%),
  age only (12%) or neither; weight and height in kg/lb and cm/m.
* **Activity**: SLEDAI-2K 0-30 (mode 10 with nephritis, 6 without), SELENA-SLEDAI
  close to it; SSDAI 0-21 and ESSDAI 0-60 in Sjogren's. 1-3 dated scores.
* **Labs**: 24-hour proteinuria 0-6 g/24h with nephritis (mode 1.8), small
  otherwise; protein/creatinine ratio alike; creatinine around 0.8 mg/dL (to
  10 mg/dL on dialysis); eGFR from creatinine; transaminases raised in ~8%;
  cytopenias, low LVEF, raised PAP and abnormal blood gases in a few percent.
  Each test is written in one of its accepted spellings (g/24h, mg/24h, g/day;
  g/g, mg/mmol; mg/dL, umol/L; U/L, IU/L; x10^9/L, /nL; mmHg, kPa; mL/min,
  mL/6 min ...), with the lab's upper limit of normal for ALT, AST and creatinine
  in most results.
* **Medications**: 1-4 courses from regimens in common use (prednisone,
  methylprednisolone pulses, mycophenolate, Euro-Lupus and NIH cyclophosphamide,
  azathioprine, methotrexate, rituximab, belimumab, hydroxychloroquine,
  pilocarpine, ...), past courses ended with a response (failed 45%), current
  ones ongoing; every optional detail is occasionally unrecorded.
* **History lists** (infections, malignancies, procedures, immunizations,
  pregnancy tests): absent (not assessed), empty (assessed: none) or 1-4
  entries; a minority are current, uncontrolled or recent.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple, TypeVar, get_args

from matcher.model.profile import ACR1997_CRITERIA, PartialList

#: the as-of date of a cohort when none is given (fixed, so a default cohort never changes)
DEFAULT_AS_OF = dt.date(2026, 9, 14)
#: share of patients with an (almost) complete work-up
THOROUGH_SHARE = 0.35
#: probability that an item is recorded for a thoroughly worked-up patient
THOROUGH_RECORDED = 0.97
#: the furthest dates from the as-of date a patient may carry (planned procedures; birth dates)
FUTURE_DAYS, PAST_DAYS = 120, 32_000

T = TypeVar("T")

Record = dict[str, Any]

LUPUS_NEPHRITIS, SLE, SJOGREN, UNDIAGNOSED = "lupus_nephritis", "sle", "sjogren", "undiagnosed"
BIOPSY_CLASSES = ("I", "II", "III", "IV", "V", "VI", "III+V", "IV+V")


@lru_cache(maxsize=8)
def _iso_days(as_of: dt.date) -> tuple[str, ...]:
    """ISO text of every day from FUTURE_DAYS after ``as_of`` back to PAST_DAYS before it (looked up, not formatted,
    for speed): day ``offset`` before ``as_of`` is entry ``FUTURE_DAYS + offset``."""
    first = as_of + dt.timedelta(days=FUTURE_DAYS)
    return tuple((first - dt.timedelta(days=step)).isoformat() for step in range(FUTURE_DAYS + PAST_DAYS + 1))


class _Draw:
    """The random source of one patient, with the questions every item asks. Dates are whole days before the
    as-of date (negative: after it) until written out with :meth:`iso`."""

    __slots__ = ("_days", "_uniform", "random", "thorough")

    def __init__(self, seed: int, index: int, as_of: dt.date) -> None:
        self.random = random.Random(f"{seed}:{index}")
        self._uniform = self.random.random
        self._days = _iso_days(as_of)
        self.thorough = self._uniform() < THOROUGH_SHARE

    def chance(self, probability: float) -> bool:
        return self._uniform() < probability

    def recorded(self, probability: float) -> bool:
        """Whether an item is recorded: ``probability`` usually, almost always for a thorough work-up."""
        return self._uniform() < (THOROUGH_RECORDED if self.thorough else probability)

    def integer(self, low: int, high: int) -> int:
        """A whole number from low to high inclusive (random.randint, faster)."""
        return low + int(self._uniform() * (high - low + 1))

    def pick(self, options: Sequence[T]) -> T:
        return options[int(self._uniform() * len(options))]

    def list_size(self, absent: float, empty: float, most: int = 4) -> int | None:
        """None (not assessed), 0 (assessed: none) or 1..most entries."""
        roll = self._uniform()
        if roll < (absent * 0.1 if self.thorough else absent):
            return None
        if roll < absent + empty:
            return 0
        return self.integer(1, most)

    def iso(self, days_before: int) -> str:
        """The date ``days_before`` the as-of date, as YYYY-MM-DD."""
        return self._days[FUTURE_DAYS + days_before]


def _number(value: float, places: int) -> str:
    """A value as a lab writes it: rounded, without trailing zeros."""
    text = f"{value:.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# ------------------------------------------------------------------ demographics and diagnoses
def _condition(draw: _Draw) -> str:
    roll = draw.random.random()
    if roll < 0.35:
        return LUPUS_NEPHRITIS
    if roll < 0.80:
        return SLE
    return SJOGREN if roll < 0.95 else UNDIAGNOSED


def _age(draw: _Draw, condition: str) -> int:
    if draw.chance(0.08):
        return draw.integer(10, 85)
    if condition == SJOGREN:
        return int(draw.random.triangular(25, 78, 52))
    return int(draw.random.triangular(14, 72, 32))


def _demographics(draw: _Draw, sex: str | None, age: int) -> Record:
    demographics: Record = {}
    roll = draw.random.random()
    if roll < 0.80:
        demographics["birth_date"] = draw.iso(int(age * 365.25) + draw.integer(1, 364))
    elif roll < 0.92:
        demographics["age"] = age
    if sex is not None:
        demographics["sex"] = sex
    male = sex == "male"
    if draw.recorded(0.75):
        kilograms = max(35.0, draw.random.gauss(78 if male else 64, 13))
        demographics["weight"] = (f"{round(kilograms * 2.20462)} lb" if draw.chance(0.1)
                                  else f"{_number(kilograms, 1)} kg")
    if draw.recorded(0.65):
        centimetres = draw.random.gauss(176 if male else 163, 7)
        demographics["height"] = (f"{centimetres / 100:.2f} m" if draw.chance(0.15)
                                  else f"{round(centimetres)} cm")
    return demographics


def _sle_diagnosis(draw: _Draw) -> Record:
    sle: Record = {}
    if draw.recorded(0.95):
        sle["present"] = True
    met = draw.integer(4, 9) if draw.chance(0.9) else draw.integer(1, 3)
    roll = draw.random.random()
    if roll < 0.40:
        sle["acr1997_criteria"] = draw.random.sample(ACR1997_CRITERIA, met)
        if draw.chance(0.25):
            sle["acr1997_criteria_met"] = met
    elif roll < (0.97 if draw.thorough else 0.85):
        sle["acr1997_criteria_met"] = met
    if draw.recorded(0.9):
        sle["ana_positive"] = draw.chance(0.96)
    return sle


def _diagnoses(draw: _Draw, condition: str) -> Record:
    diagnoses: Record = {}
    if condition in (SLE, LUPUS_NEPHRITIS):
        diagnoses["sle"] = _sle_diagnosis(draw)
    elif draw.chance(0.4):
        diagnoses["sle"] = {"present": False}
    if condition == LUPUS_NEPHRITIS:
        nephritis: Record = {}
        if draw.recorded(0.97):
            nephritis["present"] = True
        if draw.recorded(0.8):
            nephritis["biopsy_class"] = draw.pick(BIOPSY_CLASSES)
            if draw.recorded(0.8):
                nephritis["biopsy_date"] = draw.iso(draw.integer(20, 3000))
        diagnoses["lupus_nephritis"] = nephritis
    elif condition == SLE and draw.chance(0.6):
        diagnoses["lupus_nephritis"] = {"present": False}
    if condition == SJOGREN:
        sjogren: Record = {}
        if draw.recorded(0.97):
            sjogren["present"] = True
        if draw.recorded(0.9):
            sjogren["aecg2002_fulfilled"] = draw.chance(0.88)
        diagnoses["primary_sjogren"] = sjogren
    elif draw.chance(0.4):
        diagnoses["primary_sjogren"] = {"present": False, "aecg2002_fulfilled": False} if draw.chance(0.5) else {
            "present": False}
    return diagnoses


def _disease_activity(draw: _Draw, condition: str) -> list[Record] | None:
    size = draw.list_size(absent=0.08, empty=0.04, most=3)
    if size is None:
        return None
    scores: list[Record] = []
    for visit in range(size):
        day = draw.iso(draw.integer(120 * visit, 120 * visit + 60))
        if condition == SJOGREN:
            if draw.recorded(0.8):
                scores.append({"index": "SSDAI", "score": int(draw.random.triangular(0, 21, 7)), "date": day})
            if draw.recorded(0.6):
                scores.append({"index": "ESSDAI", "score": int(draw.random.triangular(0, 60, 12)), "date": day})
            continue
        sledai = int(draw.random.triangular(0, 30, 10 if condition == LUPUS_NEPHRITIS else 6))
        if draw.recorded(0.85):
            scores.append({"index": "SLEDAI-2K", "score": sledai, "date": day})
        if draw.recorded(0.6):
            selena = min(105, max(0, sledai + draw.integer(-2, 2)))
            scores.append({"index": "SELENA-SLEDAI", "score": selena, "date": day})
    return scores


# ------------------------------------------------------------------ labs
def _lab(test: str, value: str, day: str, uln: str | None = None, lab: str | None = None) -> Record:
    result: Record = {"test": test, "value": value, "date": day}
    if uln is not None:
        result["uln"] = uln
    if lab is not None:
        result["lab"] = lab
    return result


def _protein_g_per_day(draw: _Draw, condition: str) -> float:
    if condition == LUPUS_NEPHRITIS:
        return draw.random.triangular(0.05, 6.0, 1.8)
    return min(3.0, draw.random.expovariate(1 / 0.3))


def _urine_protein_24h(draw: _Draw, grams: float) -> str:
    roll = draw.random.random()
    if roll < 0.5:
        return f"{_number(grams, 2)} g/24h"
    if roll < 0.7:
        return f"{round(grams * 1000)} mg/24h"
    return f"{_number(grams, 2)} g/day" if roll < 0.9 else f"{round(grams * 1000)} mg/day"


def _protein_creatinine_ratio(draw: _Draw, grams_per_gram: float) -> str:
    roll = draw.random.random()
    if roll < 0.4:
        return f"{_number(grams_per_gram, 2)} g/g"
    if roll < 0.7:
        return f"{_number(grams_per_gram * 113.12, 0)} mg/mmol"
    return f"{_number(grams_per_gram, 2)} mg/mg" if roll < 0.85 else f"{round(grams_per_gram * 1000)} mg/g"


def _creatinine_mg_dl(draw: _Draw, condition: str, dialysis: bool) -> float:
    if dialysis:
        return draw.random.uniform(4.0, 10.0)
    if condition == LUPUS_NEPHRITIS:
        return min(8.0, draw.random.lognormvariate(0.05, 0.45))
    return min(3.0, draw.random.lognormvariate(-0.25, 0.2))


def _egfr_from_creatinine(creatinine_mg_dl: float, age: int) -> int:
    """A rough eGFR (not CKD-EPI: the matcher computes that itself) for a reported value."""
    estimate = 100 / float(creatinine_mg_dl ** 1.15) * 0.993 ** max(0, age - 40)
    return max(3, min(140, round(estimate)))


def _count(draw: _Draw, per_nanolitre: float, places: int) -> str:
    roll = draw.random.random()
    if roll < 0.6:
        return f"{_number(per_nanolitre, places)} x10^9/L"
    if roll < 0.8:
        return f"{_number(per_nanolitre, places)} 10^9/L"
    return f"{_number(per_nanolitre, places)} /nL" if roll < 0.9 else f"{_number(per_nanolitre, places)} ×10^9/L"


def _enzyme(draw: _Draw, test: str, day: str, uln_units: int, raised: bool, lab: str | None) -> Record:
    activity = draw.random.uniform(2.1, 12) * uln_units if raised else draw.random.lognormvariate(3.0, 0.35)
    unit = "IU/L" if draw.chance(0.3) else "U/L"
    uln = f"{uln_units} {unit}" if draw.recorded(0.85) else None
    return _lab(test, f"{round(activity)} {unit}", day, uln, lab)


def _labs(draw: _Draw, condition: str, sex: str | None, age: int,
          dialysis: bool) -> list[Record] | None:
    roll = draw.random.random()
    if roll < (0.0 if draw.thorough else 0.05):
        return None
    if roll < 0.07:
        return []
    labs: list[Record] = []
    lab = draw.pick(("hospital laboratory", "local laboratory")) if draw.chance(0.3) else None
    recent = draw.iso(draw.integer(0, 45))
    nephritis = condition == LUPUS_NEPHRITIS
    male = sex == "male"

    if draw.recorded(0.75 if nephritis else 0.35 if condition == SLE else 0.1):
        grams = _protein_g_per_day(draw, condition)
        labs.append(_lab("urine_protein_24h", _urine_protein_24h(draw, grams), recent, lab=lab))
        if draw.chance(0.3):  # an older collection, usually higher before treatment
            older = draw.iso(draw.integer(90, 400))
            labs.append(_lab("urine_protein_24h", _urine_protein_24h(draw, min(20.0, grams * 1.5)), older))
    if draw.recorded(0.75 if nephritis else 0.35 if condition == SLE else 0.1):
        ratio = _protein_g_per_day(draw, condition) * draw.random.uniform(0.8, 1.1)
        labs.append(_lab("urine_protein_creatinine_ratio", _protein_creatinine_ratio(draw, ratio), recent, lab=lab))
    creatinine = _creatinine_mg_dl(draw, condition, dialysis)
    if draw.recorded(0.85):
        uln_mg_dl = 1.2 if male else 1.0
        if draw.chance(0.5):
            value, uln = f"{_number(creatinine, 2)} mg/dL", f"{uln_mg_dl} mg/dL"
        else:
            micro = "µmol/L" if draw.chance(0.2) else "umol/L"
            value, uln = f"{round(creatinine * 88.4)} {micro}", f"{round(uln_mg_dl * 88.4)} {micro}"
        labs.append(_lab("serum_creatinine", value, recent, uln if draw.recorded(0.8) else None, lab))
    if draw.recorded(0.6):
        spelling = "mL/min/1.73m2" if draw.chance(0.6) else "mL/min/1.73 m2"
        labs.append(_lab("egfr", f"{_egfr_from_creatinine(creatinine, age)} {spelling}", recent, lab=lab))
    hepatitis = draw.chance(0.08)
    if draw.recorded(0.8):
        labs.append(_enzyme(draw, "alt", recent, 45 if male else 35, hepatitis, lab))
    if draw.recorded(0.75):
        labs.append(_enzyme(draw, "ast", recent, 40 if male else 35, hepatitis and draw.chance(0.8), lab))
    labs += _blood_heart_lung_and_saliva(draw, condition, recent, lab)
    return labs


def _blood_heart_lung_and_saliva(draw: _Draw, condition: str, recent: str, lab: str | None) -> list[Record]:
    labs: list[Record] = []
    if draw.recorded(0.8):
        neutrophils = draw.random.uniform(0.1, 0.5) if draw.chance(0.04) else draw.random.uniform(1.2, 7.5)
        labs.append(_lab("neutrophils", _count(draw, neutrophils, 2), recent, lab=lab))
    if draw.recorded(0.7):
        labs.append(_lab("lymphocytes", _count(draw, draw.random.uniform(0.3, 3.2), 2), recent, lab=lab))
    if draw.recorded(0.8):
        platelets = draw.random.uniform(5, 30) if draw.chance(0.04) else draw.random.uniform(90, 420)
        labs.append(_lab("platelets", _count(draw, platelets, 0), recent, lab=lab))
    if draw.recorded(0.85):
        haemoglobin = draw.random.uniform(6.0, 8.0) if draw.chance(0.06) else draw.random.uniform(8.5, 15.5)
        value = f"{round(haemoglobin * 10)} g/L" if draw.chance(0.3) else f"{_number(haemoglobin, 1)} g/dL"
        labs.append(_lab("haemoglobin", value, recent, lab=lab))
    if draw.recorded(0.35):
        cd4 = draw.random.uniform(50, 200) if draw.chance(0.08) else draw.random.uniform(200, 1400)
        value = f"{round(cd4)} x10^6/L" if draw.chance(0.3) else f"{round(cd4)} cells/uL"
        labs.append(_lab("cd4", value, recent, lab=lab))
    # 90% of echoes within the 180-day imaging window (matcher/model/currency.py), the rest a year old: not
    # current (one draw, as before, so the rest of the cohort is unchanged)
    echo = draw.integer(0, 300)
    echo_day = draw.iso(echo * 170 // 270 if echo <= 270 else echo + 100)
    if draw.recorded(0.4):
        lvef = draw.random.uniform(25, 49) if draw.chance(0.08) else draw.random.uniform(50, 72)
        labs.append(_lab("lvef", f"{round(lvef)} {'percent' if draw.chance(0.1) else '%'}", echo_day))
    if draw.recorded(0.35):
        mean_pap = draw.random.uniform(51, 70) if draw.chance(0.05) else draw.random.uniform(10, 40)
        labs.append(_lab("mean_pap", f"{round(mean_pap)} mmHg", echo_day))
    if draw.recorded(0.3):
        kilopascals = draw.chance(0.3)
        pao2 = draw.random.uniform(50, 69) if draw.chance(0.06) else draw.random.uniform(72, 105)
        paco2 = draw.random.uniform(51, 60) if draw.chance(0.04) else draw.random.uniform(32, 46)
        for test, pressure in (("pao2", pao2), ("paco2", paco2)):
            value = f"{pressure / 7.50062:.1f} kPa" if kilopascals else f"{round(pressure)} mmHg"
            labs.append(_lab(test, value, recent, lab=lab))
    if draw.recorded(0.85 if condition == SJOGREN else 0.04):
        per_minute = draw.random.uniform(0.02, 0.5) if condition == SJOGREN else draw.random.uniform(0.4, 2.5)
        roll = draw.random.random()
        if roll < 0.5:
            value = f"{_number(per_minute * 6, 1)} mL/6 min"
        elif roll < 0.8:
            value = f"{_number(per_minute, 2)} mL/min"
        else:
            value = f"{_number(per_minute * 15, 1)} mL/15 min"
        labs.append(_lab("stimulated_saliva_flow", value, recent, lab=lab))
    return labs


# ------------------------------------------------------------------ medications
class Regimen(NamedTuple):
    """How a drug is commonly given: the names and doses a record may use, and for pulses how many."""

    drug_spellings: tuple[str, ...]
    doses: tuple[str, ...]
    frequency: str
    route: str
    #: doses in one course of pulses or infusions (0: taken continuously until stopped)
    administrations: int = 0


INDUCTION_GLUCOCORTICOIDS = (
    Regimen(("prednisone",), ("20 mg", "30 mg", "40 mg", "60 mg", "1 mg/kg"), "daily", "oral"),
    Regimen(("prednisone",), ("10 mg", "15 mg", "25 mg"), "daily", "oral"),
    Regimen(("prednisolone",), ("20 mg", "30 mg", "40 mg"), "daily", "oral"),
    Regimen(("methylprednisolone",), ("16 mg", "24 mg", "32 mg"), "daily", "oral"),
    Regimen(("methylprednisolone",), ("500 mg", "1 g", "250 mg"), "daily", "iv", 3),
    Regimen(("dexamethasone",), ("4 mg", "8 mg"), "daily", "oral"),
)
MAINTENANCE_GLUCOCORTICOIDS = (
    Regimen(("prednisone",), ("5 mg", "7.5 mg", "10 mg", "15 mg"), "daily", "oral"),
    Regimen(("prednisolone",), ("5 mg", "10 mg"), "daily", "oral"),
    Regimen(("hydrocortisone",), ("10 mg", "20 mg"), "twice_daily", "oral"),
    Regimen(("triamcinolone",), ("40 mg", "80 mg"), "once", "im", 1),
    Regimen(("triamcinolone",), ("20 mg", "40 mg"), "once", "other", 1),  # intra-articular
)
IMMUNOSUPPRESSANTS = (
    Regimen(("mycophenolate_mofetil", "MMF", "mycophenolate mofetil", "CellCept"),
            ("500 mg", "750 mg", "1000 mg", "1 g", "1500 mg", "1.5 g"), "twice_daily", "oral"),
    Regimen(("mycophenolate_sodium", "Myfortic"), ("360 mg", "540 mg", "720 mg"), "twice_daily", "oral"),
    Regimen(("cyclophosphamide", "CYC"), ("500 mg",), "every_2_weeks", "iv", 6),
    Regimen(("cyclophosphamide",), ("0.5 g/m2", "500 mg/m2", "400 mg/m2", "600 mg/m2", "700 mg/m2"),
            "every_2_weeks", "iv", 14),
    Regimen(("cyclophosphamide",), ("750 mg/m2", "1 g/m2", "0.5 g/m2"), "monthly", "iv", 6),
    Regimen(("cyclophosphamide",), ("50 mg", "100 mg"), "daily", "oral"),
    Regimen(("azathioprine", "AZA"), ("50 mg", "100 mg", "150 mg", "2 mg/kg", "2.5 mg/kg"), "daily", "oral"),
    Regimen(("methotrexate", "MTX"), ("10 mg", "15 mg", "20 mg", "25 mg"), "weekly", "oral"),
    Regimen(("methotrexate",), ("15 mg", "25 mg"), "weekly", "sc"),
    Regimen(("leflunomide",), ("10 mg", "20 mg"), "daily", "oral"),
    Regimen(("cyclosporine", "ciclosporin"), ("100 mg", "150 mg", "1.5 mg/kg", "2 mg/kg", "3 mg/kg"),
            "twice_daily", "oral"),
    Regimen(("tacrolimus",), ("1 mg", "2 mg", "3 mg"), "twice_daily", "oral"),
    Regimen(("voclosporin",), ("23.7 mg",), "twice_daily", "oral"),
    Regimen(("tripterygium_wilfordii",), ("20 mg",), "three_times_daily", "oral"),
    Regimen(("iguratimod",), ("25 mg",), "twice_daily", "oral"),
)
BIOLOGICS = (
    Regimen(("rituximab",), ("375 mg/m2",), "weekly", "iv", 4),
    Regimen(("rituximab",), ("1000 mg", "1 g", "500 mg"), "every_2_weeks", "iv", 2),
    Regimen(("obinutuzumab",), ("1000 mg",), "every_2_weeks", "iv", 2),
    Regimen(("belimumab",), ("10 mg/kg",), "every_4_weeks", "iv"),
    Regimen(("belimumab",), ("10 mg/kg",), "monthly", "iv"),
    Regimen(("belimumab",), ("200 mg",), "weekly", "sc"),
    Regimen(("anifrolumab",), ("300 mg",), "every_4_weeks", "iv"),
    Regimen(("tocilizumab",), ("8 mg/kg",), "every_4_weeks", "iv"),
    Regimen(("etanercept",), ("50 mg",), "weekly", "sc"),
    Regimen(("adalimumab",), ("40 mg",), "every_2_weeks", "sc"),
    Regimen(("infliximab",), ("5 mg/kg",), "every_4_weeks", "iv"),
    Regimen(("golimumab",), ("50 mg",), "monthly", "sc"),
    Regimen(("tofacitinib",), ("5 mg",), "twice_daily", "oral"),
    Regimen(("baricitinib",), ("2 mg", "4 mg"), "daily", "oral"),
    Regimen(("upadacitinib",), ("15 mg",), "daily", "oral"),
)
BACKGROUND = (
    Regimen(("hydroxychloroquine", "HCQ"), ("200 mg",), "twice_daily", "oral"),
    Regimen(("hydroxychloroquine",), ("400 mg", "300 mg"), "daily", "oral"),
    Regimen(("chloroquine",), ("250 mg",), "daily", "oral"),
    Regimen(("ibuprofen",), ("400 mg",), "three_times_daily", "oral"),
    Regimen(("naproxen",), ("500 mg",), "twice_daily", "oral"),
)
SECRETAGOGUES = (
    Regimen(("pilocarpine",), ("5 mg",), "three_times_daily", "oral"),
    Regimen(("cevimeline",), ("30 mg",), "three_times_daily", "oral"),
)
_INTERVAL_DAYS = {"once": 0, "daily": 1, "twice_daily": 1, "three_times_daily": 1, "weekly": 7,
                  "every_2_weeks": 14, "every_4_weeks": 28, "monthly": 30}
_PAST_RESPONSES = ("failed", "failed", "failed", "failed", "failed", "failed", "failed", "responded", "responded",
                   "responded", "not_tolerated", "not_tolerated")
_NOTES = {"not_tolerated": "stopped for side effects", "failed": "no renal or clinical response",
          "responded": "tapered after remission"}


def _course(draw: _Draw, regimen: Regimen, current: bool) -> Record:
    """One course of ``regimen``: current (ongoing) or past (ended, with a response)."""
    course: Record = {"drug": draw.pick(regimen.drug_spellings)}
    keep = THOROUGH_RECORDED if draw.thorough else 0.92
    chance = draw.random.random
    if chance() < keep:
        course["dose"] = draw.pick(regimen.doses)
    if chance() < keep:
        course["frequency"] = regimen.frequency
    if chance() < keep:
        course["route"] = regimen.route
    interval = _INTERVAL_DAYS[regimen.frequency]
    if regimen.administrations:
        given = regimen.administrations if chance() < 0.7 else draw.integer(1, regimen.administrations)
        length = (given - 1) * interval
    elif current:
        given, length = 0, draw.integer(3, 1500)
    else:
        given, length = 0, draw.integer(14, 500)
    if given and chance() < keep:
        course["administrations"] = given
    if current:
        start, end = length, (0 if regimen.administrations else None)
    else:
        end = draw.integer(1, 1800)
        start = end + length
    if chance() < keep:
        course["start"] = draw.iso(start)
    if end is None:
        if chance() < keep:
            course["ongoing"] = True
    elif chance() < keep:
        course["end"] = draw.iso(end)
        if chance() < 0.3:
            course["ongoing"] = False
    elif chance() < 0.5:
        course["ongoing"] = False
    response = (draw.pick(_PAST_RESPONSES) if not current
                else "responded" if chance() < 0.5 else "failed" if chance() < 0.2 else None)
    if response is not None and chance() < keep:
        course["response"] = response
        if chance() < 0.08:
            course["note"] = _NOTES[response]
    return course


def _medications(draw: _Draw, condition: str) -> list[Record] | None:
    size = draw.list_size(absent=0.08, empty=0.05)
    if size is None:
        return None
    if size and (draw.thorough or draw.chance(0.4)):  # a lupus clinic's histories are long
        size = max(size, 3)
    pick = draw.pick
    if condition == SJOGREN:
        plan = [(pick(SECRETAGOGUES), True), (BACKGROUND[0], True), (pick(MAINTENANCE_GLUCOCORTICOIDS[:2]), True),
                (pick((IMMUNOSUPPRESSANTS[7], BIOLOGICS[1], BACKGROUND[3])), draw.chance(0.4))]
    else:
        current = pick(MAINTENANCE_GLUCOCORTICOIDS + IMMUNOSUPPRESSANTS[:2] + IMMUNOSUPPRESSANTS[6:8]
                       if draw.chance(0.85) else BIOLOGICS)
        induction = pick(IMMUNOSUPPRESSANTS[:7] if draw.chance(0.7) else IMMUNOSUPPRESSANTS + BIOLOGICS[:2])
        plan = [(current, True), (induction, False),
                (pick(INDUCTION_GLUCOCORTICOIDS), False),
                (pick(BACKGROUND if draw.chance(0.8) else BIOLOGICS), draw.chance(0.6))]
    return [_course(draw, regimen, current) for regimen, current in plan[:size]]


# ------------------------------------------------------------------ pregnancy, history lists, the rest
def _pregnancy(draw: _Draw, sex: str | None, age: int) -> Record:
    pregnancy: Record = {}
    if sex == "male":
        if draw.chance(0.5):
            pregnancy["pregnant"] = False
        if draw.chance(0.5):
            pregnancy["breastfeeding"] = False
        if draw.recorded(0.6):
            pregnancy["planning_pregnancy"] = draw.chance(0.05)
        return pregnancy
    fertile = 12 <= age < 50 and draw.chance(0.92)
    pregnant = fertile and draw.chance(0.03)
    if draw.recorded(0.8):
        pregnancy["pregnant"] = pregnant
    if draw.recorded(0.75):
        pregnancy["breastfeeding"] = fertile and not pregnant and draw.chance(0.03)
    if draw.recorded(0.6):
        pregnancy["planning_pregnancy"] = fertile and draw.chance(0.06)
    if draw.recorded(0.7):
        pregnancy["childbearing_potential"] = fertile
    size = draw.list_size(absent=0.35, empty=0.15, most=2)
    if size is not None:
        result = "positive" if pregnant else "negative"
        day = draw.integer(0, 5) if draw.chance(0.8) else draw.integer(8, 60)
        tests = [{"date": draw.iso(day), "result": result, "specimen": specimen}
                 for specimen in ("urine", "serum")[:size]]
        if tests and draw.chance(0.1):
            del tests[0]["specimen"]
        pregnancy["tests"] = tests
    return pregnancy


INFECTIONS = (
    ("cystitis", "bacterial"), ("pneumonia", "bacterial"), ("cellulitis", "bacterial"), ("influenza", "viral"),
    ("herpes zoster", "herpes_zoster"), ("oral candidiasis", "fungal"), ("onychomycosis", "onychomycosis"),
    ("latent tuberculosis", "tuberculosis"), ("Mycobacterium avium infection", "atypical_mycobacteria"),
    ("chronic hepatitis B", "hepatitis_b"), ("hepatitis C", "hepatitis_c"), ("HIV-1 infection", "hiv"),
    ("HTLV-1 infection", "htlv"), ("strongyloidiasis", "parasitic"), ("infected leg ulcer", "other"),
)


def _infection(draw: _Draw) -> Record:
    name, agent = draw.pick(INFECTIONS)
    roll = draw.random.random()
    status = "resolved" if roll < 0.85 else "controlled" if roll < 0.94 else "uncontrolled"
    severe = draw.chance(0.15)
    infection: Record = {"name": name, "status": status}
    optional: Record = {
        "agent": agent, "severe": severe, "recurrent": draw.chance(0.1), "hospitalized": severe and draw.chance(0.8),
        "iv_antibiotics": severe and agent == "bacterial", "treated": agent != "onychomycosis" or draw.chance(0.5),
    }
    for key, value in optional.items():
        if draw.recorded(0.85):
            infection[key] = value
    start = draw.integer(2, 700)
    if draw.recorded(0.85):
        infection["start"] = draw.iso(start)
    if status == "resolved" and draw.recorded(0.8):
        infection["end"] = draw.iso(max(0, start - draw.integer(3, 40)))
    return infection


MALIGNANCIES = (
    ("breast carcinoma", "solid_tumour"), ("papillary thyroid carcinoma", "solid_tumour"),
    ("diffuse large B-cell lymphoma", "haematological"), ("MALT lymphoma", "haematological"),
    ("myelodysplastic syndrome", "myelodysplasia"), ("basal cell carcinoma", "basal_cell_carcinoma"),
    ("squamous cell carcinoma of the skin", "cutaneous_squamous_cell_carcinoma"),
    ("cervical carcinoma in situ", "cervical_carcinoma_in_situ"), ("melanoma", "other"),
)


def _malignancy(draw: _Draw) -> Record:
    kind, category = draw.pick(MALIGNANCIES)
    roll = draw.random.random()
    status = "cured" if roll < 0.45 else "in_remission" if roll < 0.75 else "active"
    malignancy: Record = {"type": kind, "status": status}
    if draw.recorded(0.85):
        malignancy["category"] = category
    if draw.recorded(0.6):
        malignancy["excised"] = category not in {"haematological", "myelodysplasia"} and status != "active"
    if draw.recorded(0.75):
        malignancy["diagnosed"] = draw.iso(draw.integer(30, 5000))
    return malignancy


PROCEDURES = (("plasmapheresis", None), ("immunoadsorption", None), ("major_surgery", "cholecystectomy"),
              ("major_surgery", "hip replacement"), ("other", "renal biopsy"), ("other", "dental extraction"))


def _procedure(draw: _Draw) -> Record:
    kind, note = draw.pick(PROCEDURES)
    procedure: Record = {"type": kind}
    planned = draw.chance(0.15)
    if planned:
        if draw.chance(0.5):
            procedure["date"] = draw.iso(-draw.integer(1, 90))
        procedure["planned"] = True
    else:
        if draw.recorded(0.85):
            procedure["date"] = draw.iso(draw.integer(1, 700))
        if draw.chance(0.3):
            procedure["planned"] = False
    if note is not None and draw.chance(0.5):
        procedure["note"] = note
    return procedure


VACCINES = (
    ("influenza (inactivated)", False, False), ("pneumococcal conjugate", False, False),
    ("COVID-19 mRNA", False, False), ("hepatitis B", False, False), ("recombinant zoster", False, True),
    ("live attenuated zoster", True, True), ("MMR", True, False), ("yellow fever", True, False),
    ("varicella", True, False),
)


def _immunization(draw: _Draw) -> Record:
    vaccine, live, zoster = draw.pick(VACCINES)
    immunization: Record = {"vaccine": vaccine, "live": live}
    if draw.recorded(0.8):
        immunization["herpes_zoster"] = zoster
    if draw.chance(0.1):
        immunization["planned"] = True
        if draw.chance(0.5):
            immunization["date"] = draw.iso(-draw.integer(1, 60))
    else:
        if draw.recorded(0.85):
            immunization["date"] = draw.iso(draw.integer(1, 900))
        if draw.chance(0.2):
            immunization["planned"] = False
    return immunization


def _entries(draw: _Draw, make: Any, absent: float, empty: float) -> list[Record] | None:
    size = draw.list_size(absent, empty)
    return None if size is None else [make(draw) for _ in range(size)]


def _flags(draw: _Draw, probabilities: dict[str, tuple[float, float]]) -> Record:
    """Booleans, each recorded with its own probability and true with another: {key: (recorded, true)}."""
    return {key: draw.chance(true) for key, (recorded, true) in probabilities.items() if draw.recorded(recorded)}


# ------------------------------------------------------------------ the patient
def synthetic_patient(seed: int, index: int, as_of: dt.date) -> dict[str, Any]:
    """Patient ``index`` of the synthetic cohort ``seed``, screened on ``as_of`` (a JSON-ready dict)."""
    draw = _Draw(seed, index, as_of)
    condition = _condition(draw)
    age = _age(draw, condition)
    sex: str | None = None
    if draw.recorded(0.97):
        sex = "female" if draw.chance(0.93 if condition == SJOGREN else 0.9) else "male"
    dialysis = condition == LUPUS_NEPHRITIS and draw.chance(0.06)

    patient: Record = {"id": f"synthetic-{seed}-{index:07d}", "screening_date": draw.iso(0)}
    if draw.recorded(0.95):
        patient["demographics"] = _demographics(draw, sex, age)
    if condition != UNDIAGNOSED or draw.chance(0.5):
        patient["diagnoses"] = _diagnoses(draw, condition)
    activity = _disease_activity(draw, condition)
    if activity is not None:
        patient["disease_activity"] = activity
    labs = _labs(draw, condition, sex, age, dialysis)
    if labs is not None:
        patient["labs"] = labs
    medications = _medications(draw, condition)
    if medications is not None:
        patient["medications"] = medications
    if draw.recorded(0.8):
        patient["pregnancy"] = _pregnancy(draw, sex, age)
    for key, make, absent, empty in (("infections", _infection, 0.25, 0.45),
                                     ("malignancies", _malignancy, 0.3, 0.6),
                                     ("procedures", _procedure, 0.4, 0.45),
                                     ("immunizations", _immunization, 0.35, 0.3)):
        entries = _entries(draw, make, absent, empty)
        if entries is not None:
            patient[key] = entries
    if draw.recorded(0.7):
        renal = _flags(draw, {"dialysis": (0.9, 0.0), "kidney_transplant": (0.6, 0.02)})
        if dialysis and "dialysis" in renal:
            renal["dialysis"] = True
        patient["renal"] = renal
    if draw.recorded(0.5):
        consent: Record = {"signed": draw.chance(0.85)} if draw.recorded(0.9) else {}
        if consent.get("signed") and draw.recorded(0.8):
            consent["date"] = draw.iso(draw.integer(0, 10))
        patient["consent"] = consent
    if draw.recorded(0.65):
        patient["administrative"] = _flags(draw, {"in_other_trial": (0.85, 0.06),
                                                  "social_security_affiliation": (0.8, 0.9),
                                                  "legal_protection": (0.75, 0.04)})
    recorded_lists = [name for name in get_args(PartialList) if name in patient]
    if recorded_lists and draw.chance(0.08):  # read from a record that does not say the lists are complete
        patient["partial_lists"] = [name for name in recorded_lists if draw.chance(0.5)] or recorded_lists[:1]
    if draw.chance(0.1):
        patient["notes"] = f"synthetic {condition.replace('_', ' ')} patient (benchmark data, not clinical)"
    return patient


def iter_cohort(n: int, seed: int = 0, as_of: dt.date = DEFAULT_AS_OF) -> Iterator[dict[str, Any]]:
    """Patients 0..n-1 of cohort ``seed``, one at a time."""
    for index in range(n):
        yield synthetic_patient(seed, index, as_of)


def write_jsonl(path: str | Path, n: int, seed: int = 0, as_of: dt.date = DEFAULT_AS_OF) -> None:
    """Write ``n`` patients of cohort ``seed`` to ``path``, one JSON object per line, streaming."""
    with Path(path).open("w", encoding="utf-8") as out:
        for patient in iter_cohort(n, seed, as_of):
            out.write(json.dumps(patient, ensure_ascii=False, separators=(",", ":")))
            out.write("\n")


def write_csv(path: str | Path, n: int, seed: int = 0, as_of: dt.date = DEFAULT_AS_OF) -> None:
    """Write ``n`` patients of cohort ``seed`` as a cohort CSV (README, "Cohort input formats"), streaming:
    a first pass finds the columns (every patient is regenerated from its seed, so nothing is kept)."""
    import csv

    from matcher.intake.sources import csv_cells

    columns: dict[str, None] = {}
    for patient in iter_cohort(n, seed, as_of):
        columns.update(dict.fromkeys(csv_cells(patient)))
    with Path(path).open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        for patient in iter_cohort(n, seed, as_of):
            writer.writerow(csv_cells(patient))

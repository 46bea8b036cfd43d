"""A synthetic patient's condition, age, demographics, diagnoses and disease activity scores."""

from __future__ import annotations

from matcher.model.measurements import BILAG_GRADES
from matcher.model.profile import ACR1997_CRITERIA
from matcher.tools.synthetic.draw import LUPUS_NEPHRITIS, SJOGREN, SLE, UNDIAGNOSED, Draw, Record, written_number

BIOPSY_CLASSES = ("I", "II", "III", "IV", "V", "VI", "III+V", "IV+V")


def draw_condition(draw: Draw) -> str:
    roll = draw.random.random()
    if roll < 0.35:
        return LUPUS_NEPHRITIS
    if roll < 0.80:
        return SLE
    return SJOGREN if roll < 0.95 else UNDIAGNOSED


def draw_age(draw: Draw, condition: str) -> int:
    if draw.chance(0.08):
        return draw.integer(10, 85)
    if condition == SJOGREN:
        return int(draw.random.triangular(25, 78, 52))
    return int(draw.random.triangular(14, 72, 32))


def draw_demographics(draw: Draw, sex: str | None, age: int) -> Record:
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
                                  else f"{written_number(kilograms, 1)} kg")
    if draw.recorded(0.65):
        centimetres = draw.random.gauss(176 if male else 163, 7)
        demographics["height"] = (f"{centimetres / 100:.2f} m" if draw.chance(0.15)
                                  else f"{round(centimetres)} cm")
    return demographics


def _sle_diagnosis(draw: Draw) -> Record:
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
    _slicc2012(draw.branch("slicc2012"), sle, met)
    return sle


def _slicc2012(draw: Draw, sle: Record, acr_met: int) -> None:
    """The SLICC 2012 classification, recorded less often than the ACR 1997 count (drawn on a branch, so the
    rest of the patient is as before). SLICC 2012 is the more sensitive: it classifies almost everyone with 4
    or more ACR 1997 criteria and many with fewer."""
    if draw.recorded(0.45):
        sle["slicc2012_fulfilled"] = draw.chance(0.97 if acr_met >= 4 else 0.6)


def draw_diagnoses(draw: Draw, condition: str) -> Record:
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
                # about 40% within the last year (a biopsy "within 12 months" is asked for), the rest up to
                # 8 years old (one draw, as before, so the rest of the cohort is unchanged)
                days = draw.integer(20, 3000)
                nephritis["biopsy_date"] = draw.iso(days * 345 // 1200 + 14 if days <= 1200 else days)
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


def draw_disease_activity(draw: Draw, condition: str) -> list[Record] | None:
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


def draw_bilag(draw: Draw, condition: str) -> list[Record] | None:
    """BILAG-2004 assessments of SLE patients (the highest organ grade, one to three visits), recorded less
    often than SLEDAI-2K: absent for most, occasionally an empty list. Drawn on its own branch."""
    if condition not in (SLE, LUPUS_NEPHRITIS):
        return None
    size = draw.list_size(absent=0.55, empty=0.03, most=3)
    if size is None:
        return None
    weights = (0.3, 0.35, 0.2, 0.1, 0.05) if condition == LUPUS_NEPHRITIS else (0.15, 0.3, 0.3, 0.15, 0.1)
    return [{"date": draw.iso(draw.integer(120 * visit, 120 * visit + 60)),
             "highest_grade": draw.random.choices(BILAG_GRADES, weights)[0]} for visit in range(size)]

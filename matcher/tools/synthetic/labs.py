"""A synthetic patient's lab results, each test in one of its accepted spellings."""

from __future__ import annotations

from matcher.tools.synthetic.draw import LUPUS_NEPHRITIS, SJOGREN, SLE, Draw, Record, written_number


def _lab(test: str, value: str, day: str, uln: str | None = None, lab: str | None = None) -> Record:
    result: Record = {"test": test, "value": value, "date": day}
    if uln is not None:
        result["uln"] = uln
    if lab is not None:
        result["lab"] = lab
    return result


def _protein_g_per_day(draw: Draw, condition: str) -> float:
    if condition == LUPUS_NEPHRITIS:
        return draw.random.triangular(0.05, 6.0, 1.8)
    return min(3.0, draw.random.expovariate(1 / 0.3))


def _urine_protein_24h(draw: Draw, grams: float) -> str:
    roll = draw.random.random()
    if roll < 0.5:
        return f"{written_number(grams, 2)} g/24h"
    if roll < 0.7:
        return f"{round(grams * 1000)} mg/24h"
    return f"{written_number(grams, 2)} g/day" if roll < 0.9 else f"{round(grams * 1000)} mg/day"


def _protein_creatinine_ratio(draw: Draw, grams_per_gram: float) -> str:
    roll = draw.random.random()
    if roll < 0.4:
        return f"{written_number(grams_per_gram, 2)} g/g"
    if roll < 0.7:
        return f"{written_number(grams_per_gram * 113.12, 0)} mg/mmol"
    return f"{written_number(grams_per_gram, 2)} mg/mg" if roll < 0.85 else f"{round(grams_per_gram * 1000)} mg/g"


def _creatinine_mg_dl(draw: Draw, condition: str, dialysis: bool) -> float:
    if dialysis:
        return draw.random.uniform(4.0, 10.0)
    if condition == LUPUS_NEPHRITIS:
        return min(8.0, draw.random.lognormvariate(0.05, 0.45))
    return min(3.0, draw.random.lognormvariate(-0.25, 0.2))


def _egfr_from_creatinine(creatinine_mg_dl: float, age: int) -> int:
    """A rough eGFR (not CKD-EPI: the matcher computes that itself) for a reported value."""
    estimate = 100 / float(creatinine_mg_dl ** 1.15) * 0.993 ** max(0, age - 40)
    return max(3, min(140, round(estimate)))


def _count(draw: Draw, per_nanolitre: float, places: int) -> str:
    roll = draw.random.random()
    if roll < 0.6:
        return f"{written_number(per_nanolitre, places)} x10^9/L"
    if roll < 0.8:
        return f"{written_number(per_nanolitre, places)} 10^9/L"
    number = written_number(per_nanolitre, places)
    return f"{number} /nL" if roll < 0.9 else f"{number} ×10^9/L"


def _enzyme(draw: Draw, test: str, day: str, uln_units: int, raised: bool, lab: str | None) -> Record:
    activity = draw.random.uniform(2.1, 12) * uln_units if raised else draw.random.lognormvariate(3.0, 0.35)
    unit = "IU/L" if draw.chance(0.3) else "U/L"
    uln = f"{uln_units} {unit}" if draw.recorded(0.85) else None
    return _lab(test, f"{round(activity)} {unit}", day, uln, lab)


def draw_labs(draw: Draw, condition: str, sex: str | None, age: int,
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
            value, uln = f"{written_number(creatinine, 2)} mg/dL", f"{uln_mg_dl} mg/dL"
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
    labs += _white_cells_serology_and_sediment(draw.branch("serology"), condition, recent, lab)
    return labs


def _blood_heart_lung_and_saliva(draw: Draw, condition: str, recent: str, lab: str | None) -> list[Record]:
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
        value = f"{round(haemoglobin * 10)} g/L" if draw.chance(0.3) else f"{written_number(haemoglobin, 1)} g/dL"
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
            value = f"{written_number(per_minute * 6, 1)} mL/6 min"
        elif roll < 0.8:
            value = f"{written_number(per_minute, 2)} mL/min"
        else:
            value = f"{written_number(per_minute * 15, 1)} mL/15 min"
        labs.append(_lab("stimulated_saliva_flow", value, recent, lab=lab))
    return labs



def _white_cells_serology_and_sediment(draw: Draw, condition: str, recent: str, lab: str | None) -> list[Record]:
    """White cell count, ANA titre, anti-dsDNA against the lab's cut-off, and the urinary sediment, from a
    branch of the patient's random source (so that the rest of a cohort is what it was before they were added)."""
    labs: list[Record] = []
    lupus = condition in (SLE, LUPUS_NEPHRITIS)
    if draw.recorded(0.75):
        wbc = draw.random.uniform(2.0, 3.4) if draw.chance(0.08) else draw.random.uniform(3.5, 11.0)
        labs.append(_lab("wbc", _count(draw, wbc, 1), recent, lab=lab))
    if draw.recorded(0.6 if lupus else 0.2):
        dilution = draw.pick((40, 80, 160, 320, 640, 1280)) if lupus else draw.pick((40, 80, 160))
        labs.append(_lab("ana_titre", f"1:{dilution}", recent, lab=lab))
    if draw.recorded(0.6 if lupus else 0.1):
        cut_off = draw.pick((10, 15, 30, 100))
        positive = lupus and draw.chance(0.7)
        level = cut_off * (draw.random.uniform(1.2, 8.0) if positive else draw.random.uniform(0.05, 0.9))
        unit = "IU/mL" if draw.chance(0.8) else "U/mL"
        uln = f"{cut_off} {unit}" if draw.recorded(0.9) else None
        labs.append(_lab("anti_dsdna", f"{round(level)} {unit}", recent, uln, lab))
    if draw.recorded(0.6 if condition == LUPUS_NEPHRITIS else 0.1):
        active = condition == LUPUS_NEPHRITIS and draw.chance(0.6)
        spelling = "/HPF" if draw.chance(0.8) else "cells/HPF"
        red = draw.integer(6, 40) if active and draw.chance(0.7) else draw.integer(0, 5)
        white = draw.integer(9, 40) if active and draw.chance(0.5) else draw.integer(0, 8)
        casts = draw.integer(1, 5) if active and draw.chance(0.3) else 0
        labs.append(_lab("urine_rbc_per_hpf", f"{red} {spelling}", recent, lab=lab))
        labs.append(_lab("urine_wbc_per_hpf", f"{white} {spelling}", recent, lab=lab))
        labs.append(_lab("urine_cellular_casts_per_lpf", f"{casts} /LPF", recent, lab=lab))
    return labs

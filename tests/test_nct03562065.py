"""Every NCT03562065 criterion, each threshold at, just below and just above its boundary.

Over 500 lines on purpose: most of it is one table of hand-worked cases, by criterion, for a trial of
29 criteria; split, a trial's cases would no longer be read in one place against its rule file.

Expected outcomes come from the registry text and the readings written in
rules/NCT03562065.yaml, worked out by hand. The base patient is
patients/NCT03562065-eligible-refractory-to-mmf.yaml (screened 2026-09-14; born 1994-05-20,
so 32; female, 60 kg, 165 cm); each case changes one thing. Its medications are
0 prednisone 20 mg/day (failed, 2025-01-06 to 2025-06-30), 1 MMF 1500 mg twice daily
(failed, 2025-01-06 to 2025-07-31), 2 prednisone 10 mg/day (ongoing since 2026-06-01,
response not recorded) and 3 hydroxychloroquine (ongoing since 2023-04-01).
Time windows are tested the day before, the day of and the day after their boundary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from matcher.rules.language import load_trial

from .helpers import PATIENTS, RULES, example, outcome, run
from .patches import (
    Patch,
    add_course,
    add_lab,
    birth,
    both,
    course,
    drop,
    drop_course,
    infection,
    malignancy,
    pregnancy_tests,
    put,
    remove_lab,
    replace_course,
    scores,
    set_lab,
    stated_age,
)

TRIAL = "NCT03562065"
BASE = PATIENTS / "NCT03562065-eligible-refractory-to-mmf.yaml"
SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "001_034f431c9105a181.txt"


def base() -> dict[str, Any]:
    """A fresh copy of this trial's eligible example, as plain data."""
    return example(BASE.name)


# ---------------------------------------------------------------- patches
def selena(score: int, day: str = "2026-09-08") -> Patch:
    return scores(("SELENA-SLEDAI", score, day))


def acr(*criteria: str) -> Patch:
    return put("diagnoses.sle.acr1997_criteria", list(criteria))


def regimen(**entry: Any) -> Patch:
    """Replace the failed MMF course (1) by another second-line course (failed, from 2025-01-06)."""
    return replace_course(1, **{"route": "oral", "response": "failed", "start": "2025-01-06", **entry})


def first_line(**changes: Any) -> Patch:
    """Change the failed prednisone course (0), with the ongoing prednisone (2) marked as responding so
    that only course 0 can meet inc-3a."""
    return both(course(2, response="responded"), course(0, **changes))


CYC = {"drug": "cyclophosphamide", "route": "iv", "frequency": "monthly", "end": "2025-04-06"}
MMF = {"drug": "mmf", "frequency": "daily", "end": "2025-04-05"}
AZA = {"drug": "azathioprine", "frequency": "daily", "end": "2025-04-05"}
MTX = {"drug": "methotrexate", "frequency": "weekly", "end": "2025-04-05"}
LEF = {"drug": "leflunomide", "frequency": "daily", "end": "2025-04-05"}
RTX_WEEKLY = {"drug": "rituximab", "route": "iv", "dose": "375 mg/m2", "frequency": "weekly", "administrations": 4,
              "end": "2025-01-27"}
RTX_1G = {"drug": "rituximab", "route": "iv", "dose": "1 g", "frequency": "every_2_weeks", "administrations": 2,
          "end": "2025-01-20"}
CSA = {"drug": "ciclosporin", "frequency": "daily", "end": "2025-04-05"}
BEL = {"drug": "belimumab", "route": "iv", "dose": "10 mg/kg", "frequency": "every_4_weeks", "end": "2025-04-06"}
MPS = {"drug": "mycophenolate sodium", "dose": "720 mg", "frequency": "twice_daily", "end": "2025-07-31"}


def rx(template: dict[str, Any], **changes: Any) -> Patch:
    return regimen(**{**template, **changes})


def belimumab(**entry: Any) -> Patch:
    return add_course(drug="belimumab", dose="10 mg/kg", frequency="every_4_weeks", route="iv", start="2025-10-01",
                      **entry)


def rituximab(**entry: Any) -> Patch:
    return add_course(drug="rituximab", dose="1 g", frequency="every_2_weeks", administrations=2, route="iv",
                      **entry)


CASES: list[tuple[str, str, Patch, str]] = [
    # inc-age: "> 18" and "< 70" (another copy) vs structured ages 18-70 inclusive: 18 and 70 are disputed
    ("age 17, 18 tomorrow", "inc-age", birth("2008-09-15"), "not_met"),
    ("age 18 on the as-of day", "inc-age", birth("2008-09-14"), "manual"),
    ("age 18, 19 tomorrow", "inc-age", birth("2007-09-15"), "manual"),
    ("age 19 on the as-of day", "inc-age", birth("2007-09-14"), "met"),
    ("age 69, 70 tomorrow", "inc-age", birth("1956-09-15"), "met"),
    ("age 70 on the as-of day", "inc-age", birth("1956-09-14"), "manual"),
    ("age 70, 71 tomorrow", "inc-age", birth("1955-09-15"), "manual"),
    ("age 71 on the as-of day", "inc-age", birth("1955-09-14"), "not_met"),
    ("stated age 17", "inc-age", stated_age(17), "not_met"),
    ("stated age 18", "inc-age", stated_age(18), "manual"),
    ("stated age 19", "inc-age", stated_age(19), "met"),
    ("stated age 69", "inc-age", stated_age(69), "met"),
    ("stated age 70", "inc-age", stated_age(70), "manual"),
    ("stated age 71", "inc-age", stated_age(71), "not_met"),
    ("no birth date or age", "inc-age", drop("demographics.birth_date"), "unknown"),
    # inc-1: ACR 1997 >= 4 of 11 and ANA positive
    ("ACR 3 of 11", "inc-1", acr("malar_rash", "arthritis", "antinuclear_antibody"), "not_met"),
    ("ACR 4 of 11", "inc-1", acr("malar_rash", "arthritis", "serositis", "antinuclear_antibody"), "met"),
    ("ACR 5 of 11 (base)", "inc-1", lambda d: None, "met"),
    ("ANA negative, ANA not among the ACR criteria listed", "inc-1",
     both(acr("malar_rash", "arthritis", "serositis", "oral_ulcers"), put("diagnoses.sle.ana_positive", False)),
     "not_met"),
    ("ANA negative, but antinuclear antibody among the ACR criteria listed: records disagree", "inc-1",
     put("diagnoses.sle.ana_positive", False), "unknown"),
    ("ANA not recorded, antinuclear antibody among the ACR criteria listed: derived positive", "inc-1",
     drop("diagnoses.sle.ana_positive"), "met"),
    ("ANA not recorded, nor among the ACR criteria listed", "inc-1",
     both(acr("malar_rash", "arthritis", "serositis", "oral_ulcers"), drop("diagnoses.sle.ana_positive")),
     "unknown"),
    ("ACR not recorded", "inc-1", drop("diagnoses.sle.acr1997_criteria"), "unknown"),
    ("ACR 3 of 11, ANA not recorded", "inc-1",
     both(acr("malar_rash", "arthritis", "serositis"), drop("diagnoses.sle.ana_positive")), "not_met"),
    # inc-2: SELENA-SLEDAI >= 6, most recent on or before the as-of date; no other index substitutes
    ("SELENA-SLEDAI 5", "inc-2", selena(5), "not_met"),
    ("SELENA-SLEDAI 6", "inc-2", selena(6), "met"),
    ("SELENA-SLEDAI 7", "inc-2", selena(7), "met"),
    ("only a SLEDAI-2K score", "inc-2", scores(("SLEDAI-2K", 14, "2026-09-08")), "unknown"),
    ("SLEDAI-2K 14 beside SELENA-SLEDAI 5", "inc-2",
     scores(("SLEDAI-2K", 14, "2026-09-08"), ("SELENA-SLEDAI", 5, "2026-09-08")), "not_met"),
    ("SELENA-SLEDAI the day before the as-of date", "inc-2", selena(10, "2026-09-13"), "met"),
    ("SELENA-SLEDAI on the as-of date", "inc-2", selena(10, "2026-09-14"), "met"),
    ("SELENA-SLEDAI only the day after", "inc-2", selena(10, "2026-09-15"), "unknown"),
    ("older 10, most recent 5", "inc-2",
     scores(("SELENA-SLEDAI", 10, "2026-06-01"), ("SELENA-SLEDAI", 5, "2026-09-01")), "not_met"),
    ("scores not recorded", "inc-2", drop("disease_activity"), "unknown"),
    # inc-3a: oral glucocorticoid >= 6 mg/day prednisone-equivalent for >= 28 days, failed or not tolerated
    ("prednisone 5.9 mg/day", "inc-3a", first_line(dose="5.9 mg"), "not_met"),
    ("prednisone 6 mg/day", "inc-3a", first_line(dose="6 mg"), "met"),
    ("prednisone 6.1 mg/day", "inc-3a", first_line(dose="6.1 mg"), "met"),
    ("prednisone 3 mg twice daily = 6 mg/day", "inc-3a", first_line(dose="3 mg", frequency="twice_daily"), "met"),
    ("methylprednisolone 4.8 mg = prednisone 6", "inc-3a", first_line(drug="methylprednisolone", dose="4.8 mg"),
     "met"),
    ("methylprednisolone 4.7 mg = prednisone 5.875", "inc-3a",
     first_line(drug="methylprednisolone", dose="4.7 mg"), "not_met"),
    ("prednisolone 6 mg", "inc-3a", first_line(drug="prednisolone", dose="6 mg"), "met"),
    # both the first and the last day count: 6 January through 2 February is 28 days
    ("27 days (last day 1 February)", "inc-3a", first_line(end="2025-02-01"), "not_met"),
    ("28 days (last day 2 February)", "inc-3a", first_line(end="2025-02-02"), "met"),
    ("29 days", "inc-3a", first_line(end="2025-02-03"), "met"),
    ("intravenous glucocorticoid", "inc-3a", first_line(route="iv"), "not_met"),
    ("not tolerated", "inc-3a", first_line(response="not_tolerated"), "met"),
    ("responded", "inc-3a", first_line(response="responded"), "not_met"),
    ("response not recorded", "inc-3a", first_line(response=None), "unknown"),
    ("dose not recorded", "inc-3a", first_line(dose=None), "unknown"),
    ("end date missing", "inc-3a", first_line(end=None), "unknown"),
    ("ongoing prednisone (response not recorded) is unknown", "inc-3a", course(0, response="responded"),
     "unknown"),
    ("medications not recorded", "inc-3a", drop("medications"), "unknown"),
    ("medications recorded empty", "inc-3a", put("medications", []), "not_met"),
    # inc-3b (i): iv cyclophosphamide boluses >= 500 mg at least monthly for >= 3 calendar months
    ("cyclophosphamide 500 mg monthly, 3 months", "inc-3b", rx(CYC, dose="500 mg"), "met"),
    ("cyclophosphamide 499 mg", "inc-3b", rx(CYC, dose="499 mg"), "not_met"),
    ("cyclophosphamide 501 mg", "inc-3b", rx(CYC, dose="501 mg"), "met"),
    ("cyclophosphamide 0.3 g/m2 = 497.5 mg", "inc-3b", rx(CYC, dose="0.3 g/m2"), "not_met"),
    ("cyclophosphamide 0.302 g/m2 = 500.8 mg", "inc-3b", rx(CYC, dose="0.302 g/m2"), "met"),
    ("cyclophosphamide per m2 without height", "inc-3b",
     both(rx(CYC, dose="0.5 g/m2"), drop("demographics.height")), "unknown"),
    # monthly boluses cover to one interval after the last: 6 Jan, 6 Feb, 6 Mar treat to 6 Apr = 3 months
    ("cyclophosphamide 3 monthly boluses, last 6 March", "inc-3b", rx(CYC, dose="500 mg", end="2025-03-06"), "met"),
    ("cyclophosphamide last bolus a day early", "inc-3b", rx(CYC, dose="500 mg", end="2025-03-05"), "not_met"),
    ("cyclophosphamide last bolus a day late", "inc-3b", rx(CYC, dose="500 mg", end="2025-03-07"), "met"),
    ("Euro-Lupus: 500 mg every 2 weeks x 6, last on 17 March", "inc-3b",
     rx(CYC, dose="500 mg", frequency="every_2_weeks", end="2025-03-17"), "manual"),
    ("Euro-Lupus cut short: 5 boluses, last on 3 March", "inc-3b",
     rx(CYC, dose="500 mg", frequency="every_2_weeks", end="2025-03-03"), "not_met"),
    ("cyclophosphamide every 2 weeks (Euro-Lupus)", "inc-3b", rx(CYC, dose="500 mg", frequency="every_2_weeks"),
     "met"),
    ("cyclophosphamide every 4 weeks", "inc-3b", rx(CYC, dose="500 mg", frequency="every_4_weeks"), "met"),
    ("cyclophosphamide oral", "inc-3b", rx(CYC, dose="500 mg", route="oral"), "not_met"),
    ("cyclophosphamide given once", "inc-3b", rx(CYC, dose="500 mg", frequency="once"), "unknown"),
    # inc-3b (ii): oral MMF > 2000 mg/day (strict) for >= 90 days
    ("MMF 1 g twice daily = 2000 mg/day: disputed", "inc-3b", rx(MMF, dose="1 g", frequency="twice_daily"), "manual"),
    ("MMF 1999 mg/day", "inc-3b", rx(MMF, dose="1999 mg"), "not_met"),
    ("MMF 2001 mg/day", "inc-3b", rx(MMF, dose="2001 mg"), "met"),
    ("MMF 89 days", "inc-3b", rx(MMF, dose="2500 mg", end="2025-04-04"), "not_met"),
    ("MMF 90 days", "inc-3b", rx(MMF, dose="2500 mg"), "met"),
    ("MMF 91 days", "inc-3b", rx(MMF, dose="2500 mg", end="2025-04-07"), "met"),
    ("MMF intravenous", "inc-3b", rx(MMF, dose="2500 mg", route="iv"), "not_met"),
    ("MMF not tolerated", "inc-3b", rx(MMF, dose="2500 mg", response="not_tolerated"), "met"),
    ("MMF responded", "inc-3b", rx(MMF, dose="2500 mg", response="responded"), "not_met"),
    ("MMF response not recorded", "inc-3b", rx(MMF, dose="2500 mg", response=None), "unknown"),
    ("MMF route not recorded", "inc-3b", rx(MMF, dose="2500 mg", route=None), "unknown"),
    # inc-3b (iii): oral azathioprine > 2 mg/kg/day (weight 60 kg) for >= 90 days
    ("azathioprine 119 mg/day = 1.98 mg/kg", "inc-3b", rx(AZA, dose="119 mg"), "not_met"),
    ("azathioprine 120 mg/day = 2 mg/kg: disputed", "inc-3b", rx(AZA, dose="120 mg"), "manual"),
    ("azathioprine 121 mg/day = 2.02 mg/kg", "inc-3b", rx(AZA, dose="121 mg"), "met"),
    ("azathioprine 2 mg/kg: disputed", "inc-3b", rx(AZA, dose="2 mg/kg"), "manual"),
    ("azathioprine 2.1 mg/kg", "inc-3b", rx(AZA, dose="2.1 mg/kg"), "met"),
    ("azathioprine in mg, weight not recorded", "inc-3b", both(rx(AZA, dose="150 mg"), drop("demographics.weight")),
     "unknown"),
    ("azathioprine 89 days", "inc-3b", rx(AZA, dose="150 mg", end="2025-04-04"), "not_met"),
    # inc-3b (iv): oral or parenteral methotrexate > 20 mg/week for >= 90 days
    ("methotrexate 19 mg/week", "inc-3b", rx(MTX, dose="19 mg"), "not_met"),
    ("methotrexate 20 mg/week: disputed", "inc-3b", rx(MTX, dose="20 mg"), "manual"),
    ("methotrexate 21 mg/week", "inc-3b", rx(MTX, dose="21 mg"), "met"),
    ("methotrexate 25 mg/week subcutaneous", "inc-3b", rx(MTX, dose="25 mg", route="sc"), "met"),
    ("methotrexate route other", "inc-3b", rx(MTX, dose="25 mg", route="other"), "not_met"),
    ("methotrexate 91 days", "inc-3b", rx(MTX, dose="25 mg", end="2025-04-07"), "met"),
    # inc-3b (v): oral leflunomide > 10 mg/day for >= 90 days
    ("leflunomide 9 mg/day", "inc-3b", rx(LEF, dose="9 mg"), "not_met"),
    ("leflunomide 10 mg/day: disputed", "inc-3b", rx(LEF, dose="10 mg"), "manual"),
    ("leflunomide 11 mg/day", "inc-3b", rx(LEF, dose="11 mg"), "met"),
    ("leflunomide 20 mg/day, 89 days", "inc-3b", rx(LEF, dose="20 mg", end="2025-04-04"), "not_met"),
    # inc-3b (vi): rituximab 375 mg/m2 weekly x 4, or 1 g x 2 two weeks apart, intravenous
    ("rituximab 375 mg/m2 weekly x 4", "inc-3b", rx(RTX_WEEKLY), "met"),
    ("rituximab 375 mg/m2 weekly x 3", "inc-3b", rx(RTX_WEEKLY, administrations=3), "not_met"),
    ("rituximab 374 mg/m2 weekly x 4", "inc-3b", rx(RTX_WEEKLY, dose="374 mg/m2"), "not_met"),
    ("rituximab 376 mg/m2 weekly x 4", "inc-3b", rx(RTX_WEEKLY, dose="376 mg/m2"), "met"),
    ("rituximab weekly, number of infusions not recorded", "inc-3b", rx(RTX_WEEKLY, administrations=None),
     "unknown"),
    ("rituximab 700 mg weekly x 4 (not per m2)", "inc-3b", rx(RTX_WEEKLY, dose="700 mg"), "unknown"),
    ("rituximab 1 g x 2 two weeks apart", "inc-3b", rx(RTX_1G), "met"),
    ("rituximab 1 g x 1", "inc-3b", rx(RTX_1G, administrations=1), "not_met"),
    ("rituximab 999 mg x 2", "inc-3b", rx(RTX_1G, dose="999 mg"), "not_met"),
    ("rituximab 1001 mg x 2", "inc-3b", rx(RTX_1G, dose="1001 mg"), "met"),
    ("rituximab 1 g x 2 subcutaneous", "inc-3b", rx(RTX_1G, route="sc"), "not_met"),
    # inc-3b (vii): oral ciclosporin 2.5-5 mg/kg/day inclusive for >= 90 days (weight 60 kg)
    ("ciclosporin 149 mg/day = 2.48 mg/kg", "inc-3b", rx(CSA, dose="149 mg"), "not_met"),
    ("ciclosporin 150 mg/day = 2.5 mg/kg", "inc-3b", rx(CSA, dose="150 mg"), "met"),
    ("ciclosporin 151 mg/day = 2.52 mg/kg", "inc-3b", rx(CSA, dose="151 mg"), "met"),
    ("ciclosporin 299 mg/day = 4.98 mg/kg", "inc-3b", rx(CSA, dose="299 mg"), "met"),
    ("ciclosporin 300 mg/day = 5 mg/kg", "inc-3b", rx(CSA, dose="300 mg"), "met"),
    ("ciclosporin 301 mg/day = 5.02 mg/kg", "inc-3b", rx(CSA, dose="301 mg"), "not_met"),
    ("ciclosporin 1.25 mg/kg twice daily", "inc-3b", rx(CSA, dose="1.25 mg/kg", frequency="twice_daily"), "met"),
    ("ciclosporin 2.55 mg/kg twice daily", "inc-3b", rx(CSA, dose="2.55 mg/kg", frequency="twice_daily"),
     "not_met"),
    ("ciclosporin 89 days", "inc-3b", rx(CSA, dose="200 mg", end="2025-04-04"), "not_met"),
    # inc-3b (viii): iv belimumab >= 10 mg/kg every 4 weeks or monthly, >= 3 calendar months
    ("belimumab 10 mg/kg every 4 weeks, 3 months", "inc-3b", rx(BEL), "met"),
    ("belimumab 9.9 mg/kg", "inc-3b", rx(BEL, dose="9.9 mg/kg"), "not_met"),
    ("belimumab monthly", "inc-3b", rx(BEL, frequency="monthly"), "met"),
    ("belimumab every 2 weeks", "inc-3b", rx(BEL, frequency="every_2_weeks"), "not_met"),
    ("belimumab monthly x 3, last 6 March (treats to 6 April)", "inc-3b",
     rx(BEL, frequency="monthly", end="2025-03-06"), "met"),
    ("belimumab monthly, last infusion a day early", "inc-3b", rx(BEL, frequency="monthly", end="2025-03-05"),
     "not_met"),
    ("belimumab every 4 weeks x 3 (treats 12 weeks)", "inc-3b", rx(BEL, end="2025-03-03"), "not_met"),
    ("belimumab every 4 weeks x 4", "inc-3b", rx(BEL, end="2025-03-31"), "met"),
    ("belimumab 600 mg (not per kg)", "inc-3b", rx(BEL, dose="600 mg"), "unknown"),
    # inc-3b (ii): oral mycophenolate sodium > 1440 mg/day (720 mg = MMF 1 g) for >= 90 days; other drugs
    ("mycophenolate sodium 1439 mg/day", "inc-3b", rx(MPS, dose="1439 mg", frequency="daily"), "not_met"),
    ("mycophenolate sodium 720 mg twice daily = 1440: disputed", "inc-3b", rx(MPS), "manual"),
    ("mycophenolate sodium 1441 mg/day", "inc-3b", rx(MPS, dose="1441 mg", frequency="daily"), "met"),
    ("mycophenolate sodium 1080 mg twice daily, 89 days", "inc-3b", rx(MPS, dose="1080 mg", end="2025-04-04"),
     "not_met"),
    ("mycophenolate sodium 1080 mg twice daily, 90 days", "inc-3b", rx(MPS, dose="1080 mg", end="2025-04-05"), "met"),
    ("tacrolimus is not in the list", "inc-3b", regimen(drug="tacrolimus", dose="2 mg", frequency="twice_daily",
                                                        end="2025-07-31"), "not_met"),
    ("medications not recorded", "inc-3b", drop("medications"), "unknown"),
    # inc-4: a glucocorticoid or immunosuppressant course ongoing and started >= 30 days ago; no SLE
    # treatment started, changed or stopped in the last 30 days
    ("stable prednisone 31 days", "inc-4", course(2, start="2026-08-14"), "met"),
    ("stable prednisone 30 days", "inc-4", course(2, start="2026-08-15"), "met"),
    ("stable prednisone 29 days", "inc-4", course(2, start="2026-08-16"), "not_met"),
    ("a short NSAID course for a sprain last week does not break stability", "inc-4",
     lambda d: d["medications"].append({"drug": "ibuprofen", "dose": "400 mg", "frequency": "three_times_daily",
                                        "route": "oral", "start": "2026-08-30", "end": "2026-09-04"}), "met"),
    ("antimalarial alone", "inc-4", drop_course(2), "not_met"),
    ("stable azathioprine alone", "inc-4",
     course(2, drug="azathioprine", dose="100 mg", start="2026-01-05"), "met"),
    ("stable NSAID without glucocorticoid", "inc-4",
     course(2, drug="naproxen", dose="500 mg", frequency="twice_daily", start="2026-05-01"), "manual"),
    ("hydroxychloroquine started 31 days ago", "inc-4", course(3, start="2026-08-14"), "met"),
    ("hydroxychloroquine started 30 days ago", "inc-4", course(3, start="2026-08-15"), "met"),
    ("hydroxychloroquine started 29 days ago", "inc-4", course(3, start="2026-08-16"), "not_met"),
    ("MMF stopped 31 days ago", "inc-4", course(1, end="2026-08-14"), "met"),
    ("MMF stopped 30 days ago", "inc-4", course(1, end="2026-08-15"), "met"),
    ("MMF stopped 29 days ago", "inc-4", course(1, end="2026-08-16"), "not_met"),
    ("dose change 10 days ago", "inc-4",
     both(course(2, end="2026-09-04", ongoing=None), add_course(drug="prednisone", dose="7.5 mg", frequency="daily",
                                                                route="oral", start="2026-09-04", ongoing=True)),
     "not_met"),
    ("pilocarpine started 5 days ago is not an SLE treatment", "inc-4",
     add_course(drug="pilocarpine", dose="5 mg", frequency="three_times_daily", route="oral", start="2026-09-09",
                ongoing=True), "met"),
    ("a course neither ended nor ongoing", "inc-4", course(3, ongoing=None), "unknown"),
    ("medications not recorded", "inc-4", drop("medications"), "unknown"),
    # inc-5: negative pregnancy test (most recent of each specimen) unless not of childbearing potential
    ("serum test positive, no urine test", "inc-5",
     pregnancy_tests({"date": "2026-09-08", "result": "positive", "specimen": "serum"}), "not_met"),
    ("serum and urine tests positive", "inc-5",
     pregnancy_tests({"date": "2026-09-08", "result": "positive", "specimen": "serum"},
                     {"date": "2026-09-08", "result": "positive", "specimen": "urine"}), "not_met"),
    ("serum negative, later urine positive: the most recent test decides", "inc-5",
     pregnancy_tests({"date": "2026-09-01", "result": "negative", "specimen": "serum"},
                     {"date": "2026-09-08", "result": "positive", "specimen": "urine"}), "not_met"),
    ("urine positive, later serum negative, pregnancy not recorded: the serum test is 6 days old", "inc-5",
     both(drop("pregnancy.pregnant"),
          pregnancy_tests({"date": "2026-09-01", "result": "positive", "specimen": "urine"},
                          {"date": "2026-09-08", "result": "negative", "specimen": "serum"})), "met"),
    ("negative test 30 days old, pregnancy not recorded", "inc-5",
     both(drop("pregnancy.pregnant"),
          pregnancy_tests({"date": "2026-08-15", "result": "negative", "specimen": "serum"})), "unknown"),
    ("recorded pregnant with an older negative test", "inc-5",
     both(put("pregnancy.pregnant", True),
          pregnancy_tests({"date": "2024-01-10", "result": "negative", "specimen": "urine"})), "not_met"),
    ("urine test negative", "inc-5", pregnancy_tests({"date": "2026-09-08", "result": "negative",
                                                      "specimen": "urine"}), "met"),
    ("test the day before", "inc-5", pregnancy_tests({"date": "2026-09-13", "result": "negative",
                                                      "specimen": "serum"}), "met"),
    ("test on the as-of day", "inc-5", pregnancy_tests({"date": "2026-09-14", "result": "negative",
                                                        "specimen": "serum"}), "met"),
    ("test only the day after", "inc-5", pregnancy_tests({"date": "2026-09-15", "result": "negative",
                                                          "specimen": "serum"}), "unknown"),
    ("older negative, most recent positive: the older one is not used", "inc-5",
     pregnancy_tests({"date": "2026-06-01", "result": "negative", "specimen": "serum"},
                     {"date": "2026-09-10", "result": "positive", "specimen": "serum"},
                     {"date": "2026-09-10", "result": "positive", "specimen": "urine"}), "not_met"),
    ("older positive, most recent negative", "inc-5",
     pregnancy_tests({"date": "2026-06-01", "result": "positive", "specimen": "serum"},
                     {"date": "2026-09-10", "result": "negative", "specimen": "serum"}), "met"),
    ("test without specimen", "inc-5", pregnancy_tests({"date": "2026-09-08", "result": "negative"}), "met"),
    ("no test", "inc-5", pregnancy_tests(), "unknown"),
    ("not of childbearing potential, no test", "inc-5",
     both(put("pregnancy.childbearing_potential", False), pregnancy_tests()), "met"),
    ("childbearing potential not recorded, no test", "inc-5",
     both(drop("pregnancy.childbearing_potential"), pregnancy_tests()), "unknown"),
    ("a man, no pregnancy record", "inc-5", both(put("demographics.sex", "male"), drop("pregnancy")), "met"),
    # inc-6: contraception, computable only for a woman not of childbearing potential
    ("woman of childbearing potential", "inc-6", lambda d: None, "manual"),
    ("woman not of childbearing potential", "inc-6", put("pregnancy.childbearing_potential", False), "met"),
    ("a man", "inc-6", both(put("demographics.sex", "male"), drop("pregnancy")), "manual"),
    ("childbearing potential not recorded", "inc-6", drop("pregnancy.childbearing_potential"), "unknown"),
    # inc-7, inc-8: consent and social security, as recorded
    ("consent is left to the study team", "inc-7", drop("consent"), "manual"),
    ("no social security affiliation", "inc-8", put("administrative.social_security_affiliation", False),
     "not_met"),
    ("social security not recorded", "inc-8", drop("administrative.social_security_affiliation"), "unknown"),
    # exc-1: Cockcroft-Gault < 30 mL/min; (140 - 32) x 60 kg x 0.85 / (72 x 2.55 mg/dL) = 30.0
    ("clearance 30.1 mL/min", "exc-1", set_lab("serum_creatinine", "2.54 mg/dL"), "not_met"),
    ("on dialysis, creatinine-based clearance above 30", "exc-1", put("renal", {"dialysis": True}), "met"),
    ("dialysis not recorded, clearance above 30", "exc-1", drop("renal"), "unknown"),
    ("clearance 30.0 mL/min", "exc-1", set_lab("serum_creatinine", "2.55 mg/dL"), "not_met"),
    ("clearance 29.9 mL/min", "exc-1", set_lab("serum_creatinine", "2.56 mg/dL"), "met"),
    ("creatinine in umol/L: 226 umol/L = 29.9 mL/min", "exc-1", set_lab("serum_creatinine", "226 umol/L"), "met"),
    ("creatinine in umol/L: 224 umol/L = 30.2 mL/min", "exc-1", set_lab("serum_creatinine", "224 umol/L"),
     "not_met"),
    ("weight not recorded", "exc-1", drop("demographics.weight"), "unknown"),
    ("sex not recorded", "exc-1", drop("demographics.sex"), "unknown"),
    ("no creatinine", "exc-1", remove_lab("serum_creatinine"), "unknown"),
    ("a lab eGFR of 20 is not a clearance", "exc-1", add_lab("egfr", "20 mL/min/1.73m2", "2026-09-08"), "not_met"),
    ("a lab eGFR does not stand in for a missing creatinine", "exc-1",
     both(remove_lab("serum_creatinine"), add_lab("egfr", "20 mL/min/1.73m2", "2026-09-08")), "unknown"),
    # exc-2a, exc-2c: clinical signs of heart failure, uncontrolled ventricular arrhythmia
    ("heart failure signs", "exc-2a", lambda d: None, "manual"),
    ("ventricular arrhythmia", "exc-2c", lambda d: None, "manual"),
    # exc-2b: LVEF < 40%
    ("LVEF 39%", "exc-2b", set_lab("lvef", "39 %"), "met"),
    ("LVEF 39.9%", "exc-2b", set_lab("lvef", "39.9 %"), "met"),
    ("LVEF 40%", "exc-2b", set_lab("lvef", "40 %"), "not_met"),
    ("LVEF 41%", "exc-2b", set_lab("lvef", "41 %"), "not_met"),
    ("no LVEF", "exc-2b", remove_lab("lvef"), "unknown"),
    # exc-3: ALT or AST > 2 x ULN, and (clinician) not related to disease activity
    ("ALT 1.975 x ULN", "exc-3", set_lab("alt", "79 U/L"), "not_met"),
    ("ALT 2.0 x ULN", "exc-3", set_lab("alt", "80 U/L"), "not_met"),
    ("ALT 2.025 x ULN", "exc-3", set_lab("alt", "81 U/L"), "manual"),
    ("AST 2.0 x ULN", "exc-3", set_lab("ast", "70 U/L"), "not_met"),
    ("AST 2.03 x ULN", "exc-3", set_lab("ast", "71 U/L"), "manual"),
    ("AST without ULN, ALT normal", "exc-3", set_lab("ast", "28 U/L", uln=None), "unknown"),
    ("AST without ULN, ALT 2.5 x ULN", "exc-3", both(set_lab("ast", "28 U/L", uln=None), set_lab("alt", "100 U/L")),
     "manual"),
    ("no ALT", "exc-3", remove_lab("alt"), "unknown"),
    # exc-4a: mean PAP > 50 mmHg
    ("mean PAP 49 mmHg", "exc-4a", set_lab("mean_pap", "49 mmHg"), "not_met"),
    ("mean PAP 50 mmHg", "exc-4a", set_lab("mean_pap", "50 mmHg"), "not_met"),
    ("mean PAP 51 mmHg", "exc-4a", set_lab("mean_pap", "51 mmHg"), "met"),
    ("no mean PAP", "exc-4a", remove_lab("mean_pap"), "unknown"),
    # exc-4b: PaO2 < 70 mmHg and/or PaCO2 > 50 mmHg (on air)
    ("PaO2 69 mmHg", "exc-4b", set_lab("pao2", "69 mmHg"), "met"),
    ("PaO2 70 mmHg", "exc-4b", set_lab("pao2", "70 mmHg"), "not_met"),
    ("PaO2 71 mmHg", "exc-4b", set_lab("pao2", "71 mmHg"), "not_met"),
    ("PaO2 9.3 kPa = 69.8 mmHg", "exc-4b", set_lab("pao2", "9.3 kPa"), "met"),
    ("PaCO2 49 mmHg", "exc-4b", set_lab("paco2", "49 mmHg"), "not_met"),
    ("PaCO2 50 mmHg", "exc-4b", set_lab("paco2", "50 mmHg"), "not_met"),
    ("PaCO2 51 mmHg", "exc-4b", set_lab("paco2", "51 mmHg"), "met"),
    ("no PaCO2, PaO2 normal", "exc-4b", remove_lab("paco2"), "unknown"),
    ("no PaCO2, PaO2 60 mmHg", "exc-4b", both(remove_lab("paco2"), set_lab("pao2", "60 mmHg")), "met"),
    # exc-6: active neoplasia or current myelodysplasia, except BCC, cutaneous SCC, cervical CIS
    ("active solid tumour", "exc-6", malignancy(status="active", category="solid_tumour"), "met"),
    ("cured solid tumour", "exc-6", malignancy(status="cured", category="solid_tumour"), "not_met"),
    ("solid tumour in remission", "exc-6", malignancy(status="in_remission", category="solid_tumour"), "not_met"),
    ("active basal cell carcinoma", "exc-6", malignancy(status="active", category="basal_cell_carcinoma"),
     "not_met"),
    ("active cutaneous SCC", "exc-6", malignancy(status="active", category="cutaneous_squamous_cell_carcinoma"),
     "not_met"),
    ("cervical carcinoma in situ", "exc-6", malignancy(status="active", category="cervical_carcinoma_in_situ"),
     "not_met"),
    ("myelodysplasia in remission", "exc-6", malignancy(status="in_remission", category="myelodysplasia"), "met"),
    ("myelodysplasia cured", "exc-6", malignancy(status="cured", category="myelodysplasia"), "not_met"),
    ("active malignancy of unknown category", "exc-6", malignancy(status="active"), "unknown"),
    ("cured malignancy of unknown category", "exc-6", malignancy(status="cured"), "not_met"),
    ("malignancies not recorded", "exc-6", drop("malignancies"), "unknown"),
    # exc-7: a cytopenia below its threshold, and (clinician) caused by another disease than SLE
    ("neutrophils 0.49", "exc-7", set_lab("neutrophils", "0.49 x10^9/L"), "manual"),
    ("neutrophils 0.5", "exc-7", set_lab("neutrophils", "0.5 x10^9/L"), "not_met"),
    ("neutrophils 0.51", "exc-7", set_lab("neutrophils", "0.51 x10^9/L"), "not_met"),
    ("neutrophils 490 cells/uL", "exc-7", set_lab("neutrophils", "490 cells/uL"), "manual"),
    ("platelets 29", "exc-7", set_lab("platelets", "29 x10^9/L"), "manual"),
    ("platelets 30", "exc-7", set_lab("platelets", "30 x10^9/L"), "not_met"),
    ("platelets 31", "exc-7", set_lab("platelets", "31 x10^9/L"), "not_met"),
    ("haemoglobin 7.9", "exc-7", set_lab("haemoglobin", "7.9 g/dL"), "manual"),
    ("haemoglobin 8.0", "exc-7", set_lab("haemoglobin", "8 g/dL"), "not_met"),
    ("haemoglobin 8.1", "exc-7", set_lab("haemoglobin", "8.1 g/dL"), "not_met"),
    ("haemoglobin 79 g/L", "exc-7", set_lab("haemoglobin", "79 g/L"), "manual"),
    ("CD4 199", "exc-7", set_lab("cd4", "199 cells/uL"), "manual"),
    ("CD4 200", "exc-7", set_lab("cd4", "200 cells/uL"), "not_met"),
    ("CD4 201", "exc-7", set_lab("cd4", "201 cells/uL"), "not_met"),
    ("CD4 0.199 x10^9/L", "exc-7", set_lab("cd4", "0.199 x10^9/L"), "manual"),
    ("no CD4 count", "exc-7", remove_lab("cd4"), "unknown"),
    ("no CD4 count, neutrophils 0.3", "exc-7", both(remove_lab("cd4"), set_lab("neutrophils", "0.3 x10^9/L")),
     "manual"),
    # exc-8: uncontrolled infection; HIV/HTLV/HBV/HCV not resolved but controlled: clinician
    ("uncontrolled pneumonia", "exc-8", infection(status="uncontrolled", agent="bacterial"), "met"),
    ("uncontrolled hepatitis C", "exc-8", infection(status="uncontrolled", agent="hepatitis_c"), "met"),
    ("controlled HIV", "exc-8", infection(status="controlled", agent="hiv"), "manual"),
    ("controlled HTLV", "exc-8", infection(status="controlled", agent="htlv"), "manual"),
    ("resolved hepatitis B", "exc-8",
     infection(status="resolved", agent="hepatitis_b", start="2015-01-01", end="2016-01-01"), "not_met"),
    ("controlled bacterial infection", "exc-8", infection(status="controlled", agent="bacterial"), "not_met"),
    ("controlled infection of unknown agent", "exc-8", infection(status="controlled"), "unknown"),
    ("uncontrolled infection starting after the as-of date", "exc-8",
     infection(status="uncontrolled", agent="bacterial", start="2026-09-15"), "not_met"),
    ("infections not recorded", "exc-8", drop("infections"), "unknown"),
    # exc-9a: belimumab with its last dose <= 2 calendar months before the as-of date
    ("belimumab ended 2 months and a day before", "exc-9a", belimumab(end="2026-07-13"), "not_met"),
    ("belimumab ended exactly 2 months before", "exc-9a", belimumab(end="2026-07-14"), "met"),
    ("belimumab ended 2 months less a day before", "exc-9a", belimumab(end="2026-07-15"), "met"),
    ("belimumab ongoing", "exc-9a", belimumab(ongoing=True), "met"),
    ("belimumab, end not recorded", "exc-9a", belimumab(), "unknown"),
    ("rituximab a month ago is not belimumab", "exc-9a", rituximab(start="2026-07-30", end="2026-08-14"),
     "not_met"),
    # exc-9b: rituximab or another B-cell depleting biologic <= 6 calendar months before the as-of date
    ("rituximab ended 6 months and a day before", "exc-9b", rituximab(start="2026-02-27", end="2026-03-13"),
     "not_met"),
    ("rituximab ended exactly 6 months before", "exc-9b", rituximab(start="2026-02-28", end="2026-03-14"), "met"),
    ("rituximab ended 6 months less a day before", "exc-9b", rituximab(start="2026-03-01", end="2026-03-15"),
     "met"),
    ("obinutuzumab 4 months before", "exc-9b", add_course(drug="obinutuzumab", dose="1000 mg", route="iv",
                                                          start="2026-05-01", end="2026-05-15"), "met"),
    ("rituximab, end not recorded", "exc-9b", rituximab(start="2025-01-06"), "unknown"),
    ("belimumab a month ago is not B-cell depleting", "exc-9b", belimumab(end="2026-08-14"), "not_met"),
    # exc-13, exc-15: administrative facts as recorded
    ("in another study", "exc-13", put("administrative.in_other_trial", True), "met"),
    ("other studies not recorded", "exc-13", drop("administrative.in_other_trial"), "unknown"),
    ("under legal protection", "exc-15", put("administrative.legal_protection", True), "met"),
    ("legal protection not recorded", "exc-15", drop("administrative.legal_protection"), "unknown"),
]


@pytest.mark.parametrize(("criterion", "patch", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_criterion_outcome(engine: Any, criterion: str, patch: Patch, expected: str) -> None:
    data = base()
    patch(data)
    assert outcome(engine, data, criterion, TRIAL) == expected


MANUAL_IN_BASE = ("inc-6", "inc-7", "exc-2a", "exc-2c", "exc-5", "exc-10", "exc-11", "exc-12", "exc-14")


def test_base_patient_is_eligible_with_manual_items_pending(engine: Any) -> None:
    result = run(engine, base(), TRIAL)
    assert result.verdict == "eligible"
    assert result.pending_manual == MANUAL_IN_BASE
    assert {c.outcome for c in result.criteria if c.id not in MANUAL_IN_BASE} == {"met", "not_met"}


def test_every_bullet_is_encoded() -> None:
    trial = load_trial(RULES / f"{TRIAL}.yaml")
    assert [c.id for c in trial.criteria if c.kind == "inclusion"] == [
        "inc-age", "inc-1", "inc-2", "inc-3a", "inc-3b", "inc-4", "inc-5", "inc-6", "inc-7", "inc-8"]
    assert [c.id for c in trial.criteria if c.kind == "exclusion"] == [
        "exc-1", "exc-2a", "exc-2b", "exc-2c", "exc-3", "exc-4a", "exc-4b", "exc-5", "exc-6", "exc-7", "exc-8",
        "exc-9a", "exc-9b", "exc-10", "exc-11", "exc-12", "exc-13", "exc-14", "exc-15"]
    assert all(c.manual for c in trial.criteria if c.condition is None)


def test_verbatim_texts_appear_in_the_registry_seed() -> None:
    """Every criterion's text is a contiguous run of the registry's own words (whitespace aside); the age
    line comes from another copy of the record, and the seed carries the structured ages it is checked with."""
    if not SEED.exists():
        pytest.skip("../shared/seeds is not beside this checkout")
    seed = SEED.read_text()
    registry = " ".join(seed.split())
    for criterion in load_trial(RULES / f"{TRIAL}.yaml").criteria:
        if criterion.id == "inc-age":
            assert "18 Years\n70 Years" in seed
            assert any("another" in note and "copy" in note for note in criterion.notes)
            continue
        assert " ".join(criterion.text.split()) in registry, criterion.id


def test_registry_errors_are_flagged() -> None:
    trial = load_trial(RULES / f"{TRIAL}.yaml")
    flagged = {c.id for c in trial.criteria if any(note.startswith("REGISTRY ERROR") for note in c.notes)}
    assert flagged == {"inc-3b", "exc-7", "exc-9a", "exc-11"}
    exc7 = trial.criterion("exc-7")
    assert any('"0.5.109/L" is 0.5 x 10^9/L' in note for note in exc7.notes)


def test_disputed_age_is_left_to_the_clinician_with_both_readings(engine: Any) -> None:
    data = base()
    birth("2008-09-14")(data)
    result = run(engine, data, TRIAL)
    assert result.verdict == "eligible"
    assert result.pending_manual == ("inc-age", *MANUAL_IN_BASE)
    inc_age = next(c for c in result.criteria if c.id == "inc-age")
    assert "age: 18 years (disputed boundary: > 18 years: false, but as read otherwise ≥ 18 years: true; " \
           "the clinician decides)" in inc_age.reason
    assert inc_age.missing == ()


def test_age_outside_both_readings_is_ineligible(engine: Any) -> None:
    data = base()
    birth("1955-09-14")(data)
    result = run(engine, data, TRIAL)
    assert result.verdict == "ineligible"
    assert result.deciding == ("inc-age",)


def test_sledai_2k_is_never_used_for_selena_sledai(engine: Any) -> None:
    data = base()
    scores(("SLEDAI-2K", 14, "2026-09-08"))(data)
    result = run(engine, data, TRIAL)
    assert result.verdict == "undetermined"
    assert result.deciding == ("inc-2",)
    assert result.to_collect == ("SELENA-SLEDAI score",)


def test_missing_cd4_is_named(engine: Any) -> None:
    data = base()
    remove_lab("cd4")(data)
    result = run(engine, data, TRIAL)
    assert result.verdict == "undetermined"
    assert result.deciding == ("exc-7",)
    assert result.to_collect == ("CD4+ T-cell count",)


def test_clearance_derivation_is_shown(engine: Any) -> None:
    result = run(engine, base(), TRIAL)
    exc1 = next(c for c in result.criteria if c.id == "exc-1")
    value = next(v for v in exc1.values if v.field == "creatinine_clearance_cockcroft_gault")
    assert value.value == "95.6 mL/min (computed)"
    assert value.date is not None and value.date.isoformat() == "2026-09-08"
    assert value.derivation == ("Cockcroft-Gault: (140 - 32) x 60 kg / (72 x 0.8 mg/dL) x 0.85 = 95.6 mL/min "
                                "(creatinine of 2026-09-08, weight as recorded)")
    assert "< 30 mL/min: false" in exc1.reason


def test_pregnancy_test_date_and_age_are_shown(engine: Any) -> None:
    result = run(engine, base(), TRIAL)
    inc5 = next(c for c in result.criteria if c.id == "inc-5")
    assert "pregnancy test (urine or serum) (most recent): negative on 2026-09-08 (6 days before the as-of date)" \
        in inc5.reason


def test_raised_transaminases_are_left_to_the_clinician(engine: Any) -> None:
    data = base()
    set_lab("alt", "120 U/L")(data)
    result = run(engine, data, TRIAL)
    exc3 = next(c for c in result.criteria if c.id == "exc-3")
    assert exc3.outcome == "manual"
    assert any(line.startswith("ALT: 3 x ULN (120 U/L / ULN 40 U/L) on 2026-09-08") for line in exc3.details)
    assert "not related to disease activity" in exc3.reason
    assert result.verdict == "review" and "exc-3" in result.pending_manual
    assert exc3.question is not None
    assert exc3.question.startswith("exc-3 (hepatitis: AST or ALT > 2 × normal), ALT: 3 x ULN")


def test_per_m2_cyclophosphamide_conversion_is_shown(engine: Any) -> None:
    data = base()
    rx(CYC, dose="0.5 g/m2")(data)
    result = run(engine, data, TRIAL)
    inc3b = next(c for c in result.criteria if c.id == "inc-3b")
    assert inc3b.outcome == "met"
    value = next(v for v in inc3b.values if v.field == "medications[1].dose_absolute")
    assert value.value == "829.2 mg"
    assert value.derivation is not None and "1.6583 m2" in value.derivation


def test_strict_mmf_boundary_is_explained(engine: Any) -> None:
    data = base()
    rx(MMF, dose="1 g", frequency="twice_daily")(data)
    result = run(engine, data, TRIAL)
    inc3b = next(c for c in result.criteria if c.id == "inc-3b")
    assert inc3b.outcome == "manual"
    assert any("daily dose: 2000 mg/day (disputed boundary: > 2000 mg/day: false, but as read otherwise "
               "≥ 2000 mg/day: true; the clinician decides)" in line for line in inc3b.details)
    assert any("disputed boundary" in note for note in inc3b.notes)


def test_recent_rituximab_decides_and_shows_its_dates(engine: Any) -> None:
    data = base()
    rituximab(start="2026-04-20", end="2026-05-04")(data)
    result = run(engine, data, TRIAL)
    assert result.verdict == "ineligible"
    assert result.deciding == ("exc-9b",)
    exc9b = next(c for c in result.criteria if c.id == "exc-9b")
    months = next(v for v in exc9b.values if v.field.endswith("months_since_end"))
    assert months.derivation == "ended 2026-05-04: 4.3333 months before the as-of date 2026-09-14"

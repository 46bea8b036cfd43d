"""Every NCT05631717 criterion, each threshold and time window at, just below and just above its boundary.

Over 500 lines on purpose: most of it is one table of hand-worked cases for its 20 criteria and their time windows;
split, a trial's cases would no longer be read in one place against its rule file.

Expected outcomes come from the registry text and the readings written in
rules/NCT05631717.yaml, worked out by hand. The base patient is
patients/NCT05631717-eligible-active-lupus-nephritis.yaml (screened 2026-09-14); each case
changes one thing. Time windows are tested the day before, the day of and the day after
their boundary, counted back from the as-of date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from matcher.api import Matcher
from matcher.cli import EXIT_ELIGIBLE
from matcher.intake.load import read_document
from matcher.rules.language import load_trial

from .helpers import PATIENTS, ROOT, RULES, cli, example, lab, outcome, run
from .patches import (
    Patch,
    add_course,
    birth,
    both,
    course,
    drop,
    malignancy,
    pregnancy_tests,
    put,
    remove_lab,
    scores,
    set_lab,
    stated_age,
)
from .patches import infection as only_infection

TRIAL = "NCT05631717"
BASE = PATIENTS / "NCT05631717-eligible-active-lupus-nephritis.yaml"
AS_OF = dt.date(2026, 9, 14)
SEED = ROOT.parent / "shared" / "seeds" / "002_0980480cd58faf05.txt"


# indexes of the base patient's medication courses
PREDNISONE, MMF, HCQ, RITUXIMAB = 0, 1, 2, 3


@pytest.fixture(scope="module")
def nct_engine() -> Iterator[Matcher]:
    """This trial alone, so rule files other developers are still writing cannot break these tests."""
    with Matcher([load_trial(RULES / f"{TRIAL}.yaml")]) as m:
        yield m


def base() -> dict[str, Any]:
    """A fresh copy of this trial's eligible example as plain data."""
    return example(BASE.name)


def days_before(days: int) -> str:
    """The date ``days`` days before the as-of date, as the patient file writes it."""
    return (AS_OF - dt.timedelta(days=days)).isoformat()


# ------------------------------------------------------------------ patches
def sledai(score: float, index: str = "SLEDAI-2K", date: str = "2026-09-08") -> Patch:
    return scores((index, score, date))


def only_lab(test: str, value: str) -> Patch:
    """Set ``test`` to ``value`` and remove the other proteinuria measure, so ``test`` decides (two current
    measures that disagree go to the clinician)."""
    other = "urine_protein_24h" if test == "urine_protein_creatinine_ratio" else "urine_protein_creatinine_ratio"

    def patch(d: dict[str, Any]) -> None:
        d["labs"] = [entry for entry in d["labs"] if entry["test"] != other]
        lab(d, test)["value"] = value
    return patch


def rituximab_ended(days: int) -> Patch:
    """The last rituximab infusion ``days`` days before the as-of date (the first two weeks earlier)."""
    return course(RITUXIMAB, start=days_before(days + 14), end=days_before(days))


def oral_course(**entry: Any) -> Patch:
    """A course added to the base patient's, taken by mouth unless ``route`` says otherwise."""
    return add_course(**{"route": "oral", **entry})


def mmf_new_dose(days: int) -> Patch:
    """The MMF dose changed ``days`` days ago: the old course ends the day before, a new one starts."""
    def patch(d: dict[str, Any]) -> None:
        d["medications"][MMF].pop("ongoing")
        d["medications"][MMF]["end"] = days_before(days + 1)
        d["medications"].append({"drug": "mycophenolate mofetil", "dose": "750 mg", "frequency": "twice_daily",
                                 "route": "oral", "start": days_before(days), "ongoing": True})
    return patch


def biologic(drug: str, ended: int | None, **extra: Any) -> Patch:
    """A course of ``drug`` whose last dose was ``ended`` days ago (None: ongoing)."""
    timing: dict[str, Any] = {"start": "2025-01-01"}
    timing.update({"ongoing": True} if ended is None else {"end": days_before(ended)})
    return oral_course(drug=drug, dose="200 mg", frequency="every_4_weeks", **timing, **extra)


def procedures(*entries: dict[str, Any]) -> Patch:
    return put("procedures", list(entries))


def procedure(kind: str, days: int | None = None, **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": kind, **extra}
    if days is not None:
        entry["date"] = days_before(days)
    return entry


def infection(resolved_days: int | None = None, **fields: Any) -> Patch:
    """One infection: resolved ``resolved_days`` days ago, or current (uncontrolled) when None.

    Defaults: bacterial, not severe, not recurrent, no hospital stay, no IV antibiotics, not treated.
    """
    entry: dict[str, Any] = {"agent": "bacterial", "severe": False, "recurrent": False, "hospitalized": False,
                             "iv_antibiotics": False, "treated": False}
    if resolved_days is None:
        entry.update(status="uncontrolled", start=days_before(10))
    else:
        entry.update(status="resolved", start=days_before(resolved_days + 10), end=days_before(resolved_days))
    for key, value in fields.items():
        if value is None:
            entry.pop(key, None)
        else:
            entry[key] = value
    return only_infection(**entry)


def vaccine(live: bool, days: int | None = None, herpes_zoster: bool | None = False,
            planned: bool | None = None) -> Patch:
    entry: dict[str, Any] = {"vaccine": "MMR" if live else "influenza (inactivated)", "live": live}
    if herpes_zoster is not None:
        entry["herpes_zoster"] = herpes_zoster
    if days is not None:
        entry["date"] = days_before(days)
    if planned is not None:
        entry["planned"] = planned
    return put("immunizations", [entry])


def pregnancy_tests_on(*tests: tuple[str, str, str | None]) -> Patch:
    """Pregnancy tests as (date, result, specimen) triples; specimen None leaves it out."""
    return pregnancy_tests(*({"date": date, "result": result, **({"specimen": specimen} if specimen else {})}
                             for date, result, specimen in tests))


def man() -> Patch:
    def patch(d: dict[str, Any]) -> None:
        d["demographics"]["sex"] = "male"
        d["pregnancy"] = {"planning_pregnancy": False}
    return patch


NEG_URINE = ("2026-09-08", "negative", "urine")
NEG_SERUM = ("2026-09-08", "negative", "serum")

CASES: list[tuple[str, str, Patch, str]] = [
    # inc-0: lupus nephritis recorded; "active" left to the clinician
    ("lupus nephritis: activity to the clinician", "inc-0", lambda d: None, "manual"),
    ("no lupus nephritis", "inc-0", put("diagnoses.lupus_nephritis.present", False), "not_met"),
    ("lupus nephritis not recorded", "inc-0", drop("diagnoses.lupus_nephritis"), "unknown"),
    # inc-1: ACR 1997 >= 4 of 11
    ("ACR 3 of 11", "inc-1", put("diagnoses.sle.acr1997_criteria_met", 3), "not_met"),
    ("ACR 4 of 11", "inc-1", put("diagnoses.sle.acr1997_criteria_met", 4), "met"),
    ("ACR 5 of 11", "inc-1", put("diagnoses.sle.acr1997_criteria_met", 5), "met"),
    ("ACR criteria listed: 4", "inc-1",
     both(drop("diagnoses.sle.acr1997_criteria_met"),
          put("diagnoses.sle.acr1997_criteria", ["malar_rash", "arthritis", "renal_disorder",
                                                    "antinuclear_antibody"])), "met"),
    ("ACR count missing", "inc-1", drop("diagnoses.sle.acr1997_criteria_met"), "unknown"),
    # inc-2: > 18 (or >= 18 as the structured ages say: disputed) and <= 65, completed years on 2026-09-14
    ("age 17, 18 tomorrow", "inc-2", birth("2008-09-15"), "not_met"),
    ("age 18 on the as-of day: disputed", "inc-2", birth("2008-09-14"), "manual"),
    ("age 18, 19 tomorrow: disputed", "inc-2", birth("2007-09-15"), "manual"),
    ("age 19 on the as-of day", "inc-2", birth("2007-09-14"), "met"),
    ("age 65 on the as-of day", "inc-2", birth("1961-09-14"), "met"),
    ("age 65, 66 tomorrow", "inc-2", birth("1960-09-15"), "met"),
    ("age 66 on the as-of day", "inc-2", birth("1960-09-14"), "not_met"),
    ("stated age 17", "inc-2", stated_age(17), "not_met"),
    ("stated age 18: disputed", "inc-2", stated_age(18), "manual"),
    ("stated age 19", "inc-2", stated_age(19), "met"),
    ("stated age 65", "inc-2", stated_age(65), "met"),
    ("stated age 66", "inc-2", stated_age(66), "not_met"),
    ("no birth date or age", "inc-2", drop("demographics.birth_date"), "unknown"),
    # inc-3: SLEDAI-2K >= 6
    ("SLEDAI-2K 5", "inc-3", sledai(5), "not_met"),
    ("SLEDAI-2K 6", "inc-3", sledai(6), "met"),
    ("SLEDAI-2K 7", "inc-3", sledai(7), "met"),
    ("only a SELENA-SLEDAI score", "inc-3", sledai(12, "SELENA-SLEDAI"), "unknown"),
    ("SLEDAI-2K only after the as-of date", "inc-3", sledai(12, date="2026-09-15"), "unknown"),
    ("SLEDAI-2K on the as-of date", "inc-3", sledai(12, date="2026-09-14"), "met"),
    ("no activity score", "inc-3", drop("disease_activity"), "unknown"),
    # inc-4: protein/creatinine ratio > 1.0 g/g or 24-hour urine protein > 1.0 g (each case: the other is 0.5)
    ("ratio 0.99 g/g ", "inc-4", only_lab("urine_protein_creatinine_ratio", "0.99 g/g"), "not_met"),
    ("ratio 1.0 g/g ", "inc-4", only_lab("urine_protein_creatinine_ratio", "1.0 g/g"), "not_met"),
    ("ratio 1.01 g/g ", "inc-4", only_lab("urine_protein_creatinine_ratio", "1.01 g/g"), "met"),
    ("ratio 1000 mg/g ", "inc-4", only_lab("urine_protein_creatinine_ratio", "1000 mg/g"), "not_met"),
    ("ratio 1010 mg/g ", "inc-4", only_lab("urine_protein_creatinine_ratio", "1010 mg/g"), "met"),
    ("ratio 100 mg/mmol (0.88 g/g)", "inc-4",
     only_lab("urine_protein_creatinine_ratio", "100 mg/mmol"), "not_met"),
    ("ratio 120 mg/mmol (1.06 g/g)", "inc-4",
     only_lab("urine_protein_creatinine_ratio", "120 mg/mmol"), "met"),
    ("24-hour 0.99 g ", "inc-4", only_lab("urine_protein_24h", "0.99 g/24h"), "not_met"),
    ("24-hour 1.0 g ", "inc-4", only_lab("urine_protein_24h", "1.0 g/24h"), "not_met"),
    ("24-hour 1.01 g ", "inc-4", only_lab("urine_protein_24h", "1.01 g/24h"), "met"),
    ("24-hour 1000 mg ", "inc-4", only_lab("urine_protein_24h", "1000 mg/24h"), "not_met"),
    ("24-hour 1010 mg ", "inc-4", only_lab("urine_protein_24h", "1010 mg/24h"), "met"),
    # two current measures of proteinuria that disagree: the records disagree, the clinician decides
    ("ratio low but 24-hour high", "inc-4", set_lab("urine_protein_creatinine_ratio", "0.8 g/g"), "unknown"),
    ("24-hour low but ratio high", "inc-4", set_lab("urine_protein_24h", "0.8 g/24h"), "unknown"),
    ("both low", "inc-4",
     both(set_lab("urine_protein_creatinine_ratio", "0.8 g/g"), set_lab("urine_protein_24h", "0.9 g/24h")),
     "not_met"),
    ("ratio low, no 24-hour", "inc-4",
     both(set_lab("urine_protein_creatinine_ratio", "0.8 g/g"), remove_lab("urine_protein_24h")), "not_met"),
    ("ratio high, no 24-hour", "inc-4", remove_lab("urine_protein_24h"), "met"),
    ("neither measured", "inc-4", remove_lab("urine_protein_creatinine_ratio", "urine_protein_24h"), "unknown"),
    # inc-5: contraception if fertile
    ("woman of childbearing potential: to the clinician", "inc-5", lambda d: None, "manual"),
    ("woman not of childbearing potential", "inc-5", put("pregnancy.childbearing_potential", False), "met"),
    ("man: to the clinician", "inc-5", man(), "manual"),
    ("childbearing potential not recorded", "inc-5", drop("pregnancy.childbearing_potential"), "unknown"),
    # inc-6: urine and serum pregnancy tests negative for women of childbearing potential
    ("both tests negative", "inc-6", lambda d: None, "met"),
    ("urine test positive", "inc-6", pregnancy_tests_on(("2026-09-08", "positive", "urine"), NEG_SERUM), "not_met"),
    ("serum test positive", "inc-6", pregnancy_tests_on(NEG_URINE, ("2026-09-08", "positive", "serum")), "not_met"),
    ("no urine test", "inc-6", pregnancy_tests_on(NEG_SERUM), "unknown"),
    ("no serum test", "inc-6", pregnancy_tests_on(NEG_URINE), "unknown"),
    ("test with no specimen counts as neither", "inc-6",
     pregnancy_tests_on(NEG_URINE, ("2026-09-08", "negative", None)), "unknown"),
    ("most recent urine test negative, older positive", "inc-6",
     pregnancy_tests_on(("2026-06-01", "positive", "urine"), NEG_URINE, NEG_SERUM), "met"),
    ("most recent urine test positive, older negative", "inc-6",
     pregnancy_tests_on(("2026-06-01", "negative", "urine"), ("2026-09-10", "positive", "urine"), NEG_SERUM),
     "not_met"),
    ("serum test only after the as-of date", "inc-6",
     pregnancy_tests_on(NEG_URINE, ("2026-09-15", "negative", "serum")), "unknown"),
    # a negative test counts for 7 days (as-of 2026-09-14); an older one is not current (the 7-day window):
    # a current test is to be collected
    ("negative urine test 7 days old", "inc-6", pregnancy_tests_on(("2026-09-07", "negative", "urine"), NEG_SERUM),
     "met"),
    ("negative urine test 8 days old", "inc-6", pregnancy_tests_on(("2026-09-06", "negative", "urine"), NEG_SERUM),
     "unknown"),
    ("negative serum test a year old", "inc-6", pregnancy_tests_on(NEG_URINE, ("2025-09-14", "negative", "serum")),
     "unknown"),
    ("old positive urine test: older than the 7-day window, not current", "inc-6",
     pregnancy_tests_on(("2026-06-01", "positive", "urine"), NEG_SERUM), "unknown"),
    ("not of childbearing potential, no tests", "inc-6",
     both(put("pregnancy.childbearing_potential", False), drop("pregnancy.tests")), "met"),
    ("man, no tests", "inc-6", man(), "met"),
    ("childbearing potential not recorded, no tests", "inc-6",
     both(drop("pregnancy.childbearing_potential"), drop("pregnancy.tests")), "unknown"),
    ("childbearing potential not recorded, both negative", "inc-6",
     drop("pregnancy.childbearing_potential"), "met"),
    # inc-7: consent, always the clinician's
    ("consent", "inc-7", lambda d: None, "manual"),
    # exc-1a: B-cell depletion, last dose within 24 weeks (168 days)
    ("rituximab last dose 167 days ago", "exc-1a", rituximab_ended(167), "met"),
    ("rituximab last dose 168 days ago (24 weeks)", "exc-1a", rituximab_ended(168), "met"),
    ("rituximab last dose 169 days ago", "exc-1a", rituximab_ended(169), "not_met"),
    ("rituximab last dose on the as-of date", "exc-1a", rituximab_ended(0), "met"),
    ("rituximab ongoing", "exc-1a", course(RITUXIMAB, end=None, ongoing=True), "met"),
    ("rituximab end date missing", "exc-1a", course(RITUXIMAB, end=None), "unknown"),
    # a single dose (frequency once, or one administration) ends on its start date
    ("single rituximab dose 168 days ago, no end date", "exc-1a",
     course(RITUXIMAB, start=days_before(168), end=None, frequency="once", administrations=None), "met"),
    ("single rituximab dose 169 days ago, no end date", "exc-1a",
     course(RITUXIMAB, start=days_before(169), end=None, frequency="once", administrations=None), "not_met"),
    ("one administration 169 days ago, no end date", "exc-1a",
     course(RITUXIMAB, start=days_before(169), end=None, administrations=1), "not_met"),
    ("obinutuzumab 168 days ago", "exc-1a",
     oral_course(drug="obinutuzumab", dose="1000 mg", frequency="once", start=days_before(168),
                end=days_before(168)), "met"),
    ("belimumab is not B-cell depleting", "exc-1a", biologic("belimumab", None), "not_met"),
    ("medication history not recorded", "exc-1a", drop("medications"), "unknown"),
    ("medication history empty", "exc-1a", put("medications", []), "not_met"),
    # exc-1b: a new immunosuppressant course (new drug or new dose) started within 12 weeks (84 days)
    ("MMF dose changed 83 days ago", "exc-1b", mmf_new_dose(83), "met"),
    ("MMF dose changed 84 days ago (12 weeks)", "exc-1b", mmf_new_dose(84), "met"),
    ("MMF dose changed 85 days ago", "exc-1b", mmf_new_dose(85), "not_met"),
    ("MMF started 84 days ago", "exc-1b", course(MMF, start=days_before(84)), "met"),
    ("MMF started 85 days ago", "exc-1b", course(MMF, start=days_before(85)), "not_met"),
    ("tacrolimus started 30 days ago", "exc-1b",
     oral_course(drug="tacrolimus", dose="2 mg", frequency="twice_daily", start=days_before(30), ongoing=True),
     "met"),
    ("Tripterygium wilfordii started 30 days ago", "exc-1b",
     oral_course(drug="tripterygium wilfordii", dose="20 mg", frequency="three_times_daily",
                start=days_before(30), ongoing=True), "met"),
    ("methotrexate started 30 days ago (not named, still an immunosuppressant)", "exc-1b",
     oral_course(drug="methotrexate", dose="10 mg", frequency="weekly", start=days_before(30), ongoing=True),
     "met"),
    ("cyclophosphamide pulse 30 days ago", "exc-1b",
     oral_course(drug="cyclophosphamide", dose="0.5 g/m2", frequency="once", route="iv", start=days_before(30),
                end=days_before(30)), "met"),
    ("prednisone dose changed 30 days ago", "exc-1b", course(PREDNISONE, start=days_before(30)), "not_met"),
    ("hydroxychloroquine started 30 days ago", "exc-1b", course(HCQ, start=days_before(30)), "not_met"),
    ("MMF stopped 30 days ago, no new course: left to the clinician", "exc-1b",
     course(MMF, ongoing=None, end=days_before(30)), "manual"),
    ("MMF stopped 84 days ago (12 weeks): left to the clinician", "exc-1b",
     course(MMF, ongoing=None, end=days_before(84)), "manual"),
    ("MMF stopped 85 days ago", "exc-1b", course(MMF, ongoing=None, end=days_before(85)), "not_met"),
    ("prednisone stopped 30 days ago (not an immunosuppressant)", "exc-1b",
     course(PREDNISONE, ongoing=None, end=days_before(30)), "not_met"),
    ("MMF neither ended nor marked ongoing", "exc-1b", course(MMF, ongoing=None), "unknown"),
    ("MMF start date missing", "exc-1b", course(MMF, start=None), "unknown"),
    ("MMF new dose starting after the as-of date", "exc-1b",
     oral_course(drug="mmf", dose="750 mg", frequency="twice_daily", start="2026-09-15", ongoing=True), "not_met"),
    ("medication history not recorded", "exc-1b", drop("medications"), "unknown"),
    # exc-1c: biologic or JAK inhibitor, last dose within 4 weeks (28 days)
    ("belimumab last dose 27 days ago", "exc-1c", biologic("belimumab", 27), "met"),
    ("belimumab last dose 28 days ago (4 weeks)", "exc-1c", biologic("belimumab", 28), "met"),
    ("belimumab last dose 29 days ago", "exc-1c", biologic("belimumab", 29), "not_met"),
    ("belimumab ongoing", "exc-1c", biologic("belimumab", None), "met"),
    ("tocilizumab 28 days ago", "exc-1c", biologic("tocilizumab", 28), "met"),
    ("adalimumab 28 days ago", "exc-1c", biologic("adalimumab", 28), "met"),
    ("tofacitinib stopped 20 days ago", "exc-1c",
     oral_course(drug="tofacitinib", dose="5 mg", frequency="twice_daily", start="2025-01-01",
                end=days_before(20)), "met"),
    ("tofacitinib stopped 29 days ago", "exc-1c",
     oral_course(drug="tofacitinib", dose="5 mg", frequency="twice_daily", start="2025-01-01",
                end=days_before(29)), "not_met"),
    ("rituximab 28 days ago is a biologic too", "exc-1c", rituximab_ended(28), "met"),
    ("biologic end date missing", "exc-1c",
     oral_course(drug="etanercept", dose="50 mg", frequency="weekly", start="2025-01-01"), "unknown"),
    # exc-2: plasmapheresis or immunoadsorption within 12 weeks (84 days)
    ("plasmapheresis 83 days ago", "exc-2", procedures(procedure("plasmapheresis", 83)), "met"),
    ("plasmapheresis 84 days ago (12 weeks)", "exc-2", procedures(procedure("plasmapheresis", 84)), "met"),
    ("plasmapheresis 85 days ago", "exc-2", procedures(procedure("plasmapheresis", 85)), "not_met"),
    ("immunoadsorption 84 days ago", "exc-2", procedures(procedure("immunoadsorption", 84)), "met"),
    ("immunoadsorption 85 days ago", "exc-2", procedures(procedure("immunoadsorption", 85)), "not_met"),
    ("plasmapheresis planned", "exc-2", procedures(procedure("plasmapheresis", planned=True)), "not_met"),
    ("plasmapheresis without a date", "exc-2", procedures(procedure("plasmapheresis")), "unknown"),
    ("another procedure 10 days ago", "exc-2", procedures(procedure("other", 10)), "not_met"),
    ("procedures not recorded", "exc-2", drop("procedures"), "unknown"),
    # exc-3: organ diseases, always the clinician's
    ("severe organ disease", "exc-3", lambda d: None, "manual"),
    # exc-4a: severe or recurrent infection, current or resolved within 4 weeks (28 days)
    ("severe infection resolved 27 days ago", "exc-4a", infection(27, severe=True), "met"),
    ("severe infection resolved 28 days ago (4 weeks)", "exc-4a", infection(28, severe=True), "met"),
    ("severe infection resolved 29 days ago", "exc-4a", infection(29, severe=True), "not_met"),
    ("severe infection current", "exc-4a", infection(severe=True), "met"),
    ("severe infection controlled, still active", "exc-4a", infection(severe=True, status="controlled"), "met"),
    ("recurrent infection resolved 28 days ago", "exc-4a", infection(28, recurrent=True), "met"),
    ("recurrent infection resolved 29 days ago", "exc-4a", infection(29, recurrent=True), "not_met"),
    ("severe herpes zoster current", "exc-4a", infection(severe=True, agent="herpes_zoster"), "met"),
    ("severe onychomycosis current", "exc-4a", infection(severe=True, agent="onychomycosis"), "not_met"),
    ("mild infection current: reading disputed", "exc-4a", infection(), "manual"),
    ("mild infection resolved 28 days ago: reading disputed", "exc-4a", infection(28), "manual"),
    ("mild infection resolved 29 days ago", "exc-4a", infection(29), "not_met"),
    ("severe infection, agent not recorded", "exc-4a", infection(severe=True, agent=None), "unknown"),
    ("severity not recorded", "exc-4a", infection(severe=None), "unknown"),
    ("severe infection resolved, end date missing", "exc-4a", infection(28, severe=True, end=None), "unknown"),
    ("infections not recorded", "exc-4a", drop("infections"), "unknown"),
    ("no infections", "exc-4a", put("infections", []), "not_met"),
    # exc-4b: infection that needed hospitalisation and IV antibiotics, within 4 weeks (28 days)
    ("hospital + IV, resolved 27 days ago", "exc-4b", infection(27, hospitalized=True, iv_antibiotics=True), "met"),
    ("hospital + IV, resolved 28 days ago", "exc-4b", infection(28, hospitalized=True, iv_antibiotics=True), "met"),
    ("hospital + IV, resolved 29 days ago", "exc-4b", infection(29, hospitalized=True, iv_antibiotics=True),
     "not_met"),
    ("hospital + IV, current", "exc-4b", infection(hospitalized=True, iv_antibiotics=True), "met"),
    ("hospital without IV antibiotics", "exc-4b", infection(10, hospitalized=True), "not_met"),
    ("IV antibiotics without hospital", "exc-4b", infection(10, iv_antibiotics=True), "not_met"),
    ("hospital, IV antibiotics not recorded", "exc-4b", infection(10, hospitalized=True, iv_antibiotics=None),
     "unknown"),
    # exc-4c: infection that needed treatment, within 2 weeks (14 days)
    ("treated, resolved 13 days ago", "exc-4c", infection(13, treated=True), "met"),
    ("treated, resolved 14 days ago (2 weeks)", "exc-4c", infection(14, treated=True), "met"),
    ("treated, resolved 15 days ago", "exc-4c", infection(15, treated=True), "not_met"),
    ("treated, current", "exc-4c", infection(treated=True), "met"),
    ("untreated, current", "exc-4c", infection(), "not_met"),
    ("treated onychomycosis, current", "exc-4c", infection(treated=True, agent="onychomycosis"), "met"),
    ("treatment not recorded", "exc-4c", infection(5, treated=None), "unknown"),
    # exc-5: major surgery within 12 weeks (84 days); surgery required during the study to the clinician
    ("major surgery 83 days ago", "exc-5", procedures(procedure("major_surgery", 83)), "met"),
    ("major surgery 84 days ago (12 weeks)", "exc-5", procedures(procedure("major_surgery", 84)), "met"),
    ("major surgery 85 days ago: the rest to the clinician", "exc-5",
     procedures(procedure("major_surgery", 85)), "manual"),
    ("major surgery planned: to the clinician", "exc-5",
     procedures(procedure("major_surgery", planned=True)), "manual"),
    ("no surgery: the study period to the clinician", "exc-5", lambda d: None, "manual"),
    ("major surgery without a date", "exc-5", procedures(procedure("major_surgery")), "unknown"),
    ("procedures not recorded", "exc-5", drop("procedures"), "unknown"),
    # exc-6: live vaccine (not zoster) within 12 weeks (84 days) or planned; future need to the clinician
    ("live vaccine 83 days ago", "exc-6", vaccine(True, 83), "met"),
    ("live vaccine 84 days ago (12 weeks)", "exc-6", vaccine(True, 84), "met"),
    ("live vaccine 85 days ago: the rest to the clinician", "exc-6", vaccine(True, 85), "manual"),
    ("live vaccine planned", "exc-6", vaccine(True, planned=True), "met"),
    ("live zoster vaccine 10 days ago", "exc-6", vaccine(True, 10, herpes_zoster=True), "manual"),
    ("live zoster vaccine planned", "exc-6", vaccine(True, herpes_zoster=True, planned=True), "manual"),
    ("live vaccine, zoster flag not recorded", "exc-6", vaccine(True, 10, herpes_zoster=None), "unknown"),
    ("live vaccine without a date", "exc-6", vaccine(True), "unknown"),
    ("inactivated vaccine 10 days ago", "exc-6", vaccine(False, 10), "manual"),
    ("vaccinations not recorded", "exc-6", drop("immunizations"), "unknown"),
    # exc-7: any malignancy but an excised or cured basal cell carcinoma
    ("breast cancer cured long ago", "exc-7",
     malignancy(category="solid_tumour", status="cured", diagnosed="2010-03-01"), "met"),
    ("lymphoma in remission", "exc-7", malignancy(category="haematological", status="in_remission"), "met"),
    ("basal cell carcinoma excised", "exc-7",
     malignancy(category="basal_cell_carcinoma", status="active", excised=True), "not_met"),
    ("basal cell carcinoma cured", "exc-7",
     malignancy(category="basal_cell_carcinoma", status="cured", excised=False), "not_met"),
    ("basal cell carcinoma neither excised nor cured", "exc-7",
     malignancy(category="basal_cell_carcinoma", status="in_remission", excised=False), "met"),
    ("basal cell carcinoma active, excision not recorded", "exc-7",
     malignancy(category="basal_cell_carcinoma", status="active"), "unknown"),
    ("cutaneous squamous cell carcinoma excised", "exc-7",
     malignancy(category="cutaneous_squamous_cell_carcinoma", status="cured", excised=True), "met"),
    ("category not recorded", "exc-7", malignancy(status="cured"), "unknown"),
    ("malignancy history not recorded", "exc-7", drop("malignancies"), "unknown"),
    # exc-8: pregnant or lactating
    ("pregnant", "exc-8", put("pregnancy.pregnant", True), "met"),
    ("breastfeeding", "exc-8", put("pregnancy.breastfeeding", True), "met"),
    ("pregnancy status not recorded, no tests", "exc-8",
     both(drop("pregnancy.pregnant"), drop("pregnancy.tests")), "unknown"),
    ("breastfeeding not recorded", "exc-8", drop("pregnancy.breastfeeding"), "unknown"),
    ("man, nothing recorded", "exc-8", man(), "not_met"),
]


@pytest.mark.parametrize(("criterion", "patch", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_criterion_outcome(nct_engine: Matcher, criterion: str, patch: Patch, expected: str) -> None:
    data = base()
    patch(data)
    assert outcome(nct_engine, data, criterion, TRIAL) == expected


def test_every_criterion_is_tested() -> None:
    trial = load_trial(RULES / f"{TRIAL}.yaml")
    assert {c.id for c in trial.criteria} == {case[1] for case in CASES}


def test_base_patient_is_eligible_with_manual_items_pending(nct_engine: Matcher) -> None:
    result = run(nct_engine, base(), TRIAL)
    assert result.verdict == "eligible"
    assert result.as_of == AS_OF
    assert result.pending_manual == ("inc-0", "inc-5", "inc-7", "exc-3", "exc-5", "exc-6")
    assert {c.outcome for c in result.criteria if c.id not in result.pending_manual} == {"met", "not_met"}


def test_eighteen_year_old_is_a_disputed_boundary(nct_engine: Matcher) -> None:
    data = base()
    birth("2008-09-14")(data)
    result = run(nct_engine, data, TRIAL)
    inc2 = next(c for c in result.criteria if c.id == "inc-2")
    assert inc2.outcome == "manual"
    assert "disputed boundary" in inc2.reason
    assert "> 18 years: false" in inc2.reason and "≥ 18 years: true" in inc2.reason
    assert inc2.missing == ()
    assert result.verdict == "eligible" and "inc-2" in result.pending_manual


def test_unknown_age_names_what_to_collect(nct_engine: Matcher) -> None:
    data = base()
    drop("demographics.birth_date")(data)
    result = run(nct_engine, data, TRIAL)
    assert result.verdict == "undetermined"
    assert result.deciding == ("inc-2",)
    assert result.to_collect == ("date of birth (or age)",)


def test_missing_pregnancy_tests_are_named(nct_engine: Matcher) -> None:
    data = base()
    drop("pregnancy.tests")(data)
    result = run(nct_engine, data, TRIAL)
    assert result.verdict == "undetermined"
    assert result.deciding == ("inc-6",)
    assert result.to_collect == ("urine pregnancy test", "serum pregnancy test")


def test_missing_lists_are_named(nct_engine: Matcher) -> None:
    data = base()
    for key in ("medications", "infections", "procedures", "immunizations", "malignancies"):
        del data[key]
    result = run(nct_engine, data, TRIAL)
    assert result.verdict == "undetermined"
    assert result.deciding == ("exc-1a", "exc-1b", "exc-1c", "exc-2", "exc-4a", "exc-4b", "exc-4c", "exc-5",
                               "exc-6", "exc-7")
    assert set(result.to_collect) == {
        "medication history (every course of the drugs the trial names)",
        "current and recent infections (an empty list if none)",
        "procedures such as plasmapheresis or major surgery, done or planned (an empty list if none)",
        "vaccinations, given or planned (an empty list if none)",
        "malignancy history (an empty list if none)",
    }


def test_ineligible_wins_over_unknown(nct_engine: Matcher) -> None:
    data = base()
    drop("pregnancy.tests")(data)
    rituximab_ended(30)(data)
    result = run(nct_engine, data, TRIAL)
    assert result.verdict == "ineligible"
    assert result.deciding == ("exc-1a",)
    assert result.to_collect == ("urine pregnancy test", "serum pregnancy test")


def test_explanation_shows_values_units_dates_and_derivations(nct_engine: Matcher) -> None:
    result = run(nct_engine, base(), TRIAL)
    by_id = {c.id: c for c in result.criteria}
    assert "12 on 2026-09-08 (6 days before the as-of date)" in by_id["inc-3"].reason
    assert "2.1 g/g on 2026-09-08" in by_id["inc-4"].reason and "> 1.0 g/g" in by_id["inc-4"].reason
    assert "2.3 g/24h (= 2.3 g/day) on 2026-09-08" in by_id["inc-4"].reason
    assert "urine pregnancy test (most recent): negative on 2026-09-08 (6 days before the as-of date)" \
        in by_id["inc-6"].reason
    age = next(v for v in by_id["inc-2"].values if v.field == "age_years")
    assert age.derivation == "completed years from birth date 1990-05-20 to 2026-09-14"
    tests = [v for v in by_id["inc-6"].values if v.field.endswith("pregnancy_test")]
    assert {(v.value, v.date) for v in tests} == {("negative", dt.date(2026, 9, 8))}
    assert by_id["inc-7"].outcome == "manual" and "left to the clinician" in by_id["inc-7"].reason
    assert any("seed copy lost" in note for note in by_id["inc-2"].notes)
    assert any("most recent urine test" in note for note in by_id["inc-6"].notes)


def test_window_derivations_are_shown(nct_engine: Matcher) -> None:
    data = base()
    rituximab_ended(168)(data)
    mmf_new_dose(84)(data)
    infection(28, severe=True)(data)
    result = run(nct_engine, data, TRIAL)
    by_id = {c.id: c for c in result.criteria}
    weeks = next(v for v in by_id["exc-1a"].values if v.field == "medications[3].weeks_since_end")
    assert weeks.value == "24 weeks"
    assert weeks.derivation is not None and days_before(168) in weeks.derivation and "2026-09-14" in weeks.derivation
    started = next(v for v in by_id["exc-1b"].values if v.field == "medications[4].days_since_start")
    assert started.value == "84 days"
    assert started.derivation is not None and days_before(84) in started.derivation
    active = next(v for v in by_id["exc-4a"].values if v.field == "infections[0].weeks_since_active")
    assert active.value == "4 weeks"
    assert active.derivation is not None and days_before(28) in active.derivation
    assert "28 days = 4 weeks" in active.derivation
    assert result.deciding == ("exc-1a", "exc-1b", "exc-4a")


def test_unknown_query_item_names_what_is_missing(nct_engine: Matcher) -> None:
    data = base()
    course(RITUXIMAB, end=None)(data)
    result = run(nct_engine, data, TRIAL)
    exc1a = next(c for c in result.criteria if c.id == "exc-1a")
    assert exc1a.outcome == "unknown"
    assert exc1a.missing == ("end date of rituximab (or ongoing: true)",)
    assert "end date of rituximab not recorded" in exc1a.reason


def test_disputed_infection_reading_is_left_to_the_clinician(nct_engine: Matcher) -> None:
    data = base()
    infection(10)(data)
    result = run(nct_engine, data, TRIAL)
    exc4a = next(c for c in result.criteria if c.id == "exc-4a")
    assert exc4a.outcome == "manual" and exc4a.missing == ()
    assert '"severe, active or recurrent"' in exc4a.reason


@pytest.mark.skipif(not SEED.exists(), reason="the shared seed texts are not beside this checkout")
def test_criterion_texts_are_verbatim_from_the_registry() -> None:
    row = next(line for line in SEED.read_text(encoding="utf-8").splitlines() if line.startswith("Eligibility"))
    for criterion in load_trial(RULES / f"{TRIAL}.yaml").criteria:
        assert " ".join(criterion.text.split()) in row, criterion.id


def test_examples_are_named_for_their_verdict(nct_engine: Matcher) -> None:
    examples = sorted(PATIENTS.glob(f"{TRIAL}-*.yaml"))
    verdicts = [path.name.split("-")[1] for path in examples]
    assert verdicts.count("eligible") >= 1 and verdicts.count("ineligible") >= 2
    assert verdicts.count("undetermined") >= 1
    for path, verdict in zip(examples, verdicts, strict=True):
        data = read_document(path).data
        assert isinstance(data, dict)
        assert str(data["screening_date"]).startswith("2026")
        assert path.read_text(encoding="utf-8").startswith("# ")
        assert run(nct_engine, data, TRIAL).verdict == verdict, path.name


def test_text_output_quotes_the_registry_and_names_the_clinician_items() -> None:
    code, text, err = cli("check", str(BASE), "--trial", TRIAL)
    assert code == EXIT_ELIGIBLE and err == ""
    assert f"{TRIAL}: ELIGIBLE" in text
    assert '"SLEDAI-2K score = 6"' in text
    assert "[clinician] inc-0 (active lupus nephritis): manual" in text
    assert "[clinician] exc-6 (live vaccine in 12 weeks or planned): manual" in text
    assert "SLEDAI-2K: 12 on 2026-09-08 (6 days before the as-of date), within the 90-day window" in text

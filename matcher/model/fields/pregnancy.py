"""Pregnancy fields: childbearing potential, pregnancy status, and the most recent pregnancy tests.

A pregnancy test describes the patient on the day it was taken: tests of one week that disagree are
unknown whatever their order in the file (:func:`_pregnancy_evidence`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

from matcher.model.fields.readings import Absence, Observation, PatientExtract, Reading, later_count, left_out
from matcher.model.measurements import PregnancyTest
from matcher.model.profile import PatientProfile

if TYPE_CHECKING:
    from matcher.model.fields.rows import FieldRow


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


def _specimen(param: str) -> str | None:
    """``urine``, ``serum``, or ``any`` (either)."""
    return None if param == "any" else param


def _latest_test(specimen: str | None, what: str, profile: PatientProfile,
                 as_of: dt.date) -> tuple[int, PregnancyTest] | Absence:
    tests = profile.pregnancy.tests if profile.pregnancy else None
    found = _pregnancy_evidence(tests, as_of, lambda test: specimen is None or test.specimen == specimen)
    if found is None:
        later = later_count(tests, as_of, lambda test: specimen is None or test.specimen == specimen)
        return Absence(f"no {what} on or before {as_of}{left_out(later, 'test')}", what)
    return found


def _test_field(param: str, row: FieldRow, *, days_ago: bool) -> PatientExtract:
    """The most recent pregnancy test of one specimen (urine, serum), or of either (``any``): its result, or
    (``days_ago``) the days from it to the as-of date."""
    specimen, what = _specimen(param), row.reads

    def extract(profile: PatientProfile, as_of: dt.date) -> Reading:
        found = _latest_test(specimen, what, profile, as_of)
        if isinstance(found, Absence):
            return found
        position, test = found
        if not days_ago:
            return Observation(test.result, test.result, f"pregnancy.tests[{position}]", test.date,
                               "most recent test on or before the as-of date")
        elapsed = (as_of - test.date).days
        return Observation(elapsed, f"{elapsed} days", f"pregnancy.tests[{position}]", test.date,
                           f"from the most recent test, {test.date}, to the as-of date {as_of}")

    return extract


def pregnancy_test(param: str, row: FieldRow) -> PatientExtract:
    return _test_field(param, row, days_ago=False)


def pregnancy_test_days_ago(param: str, row: FieldRow) -> PatientExtract:
    return _test_field(param, row, days_ago=True)


KINDS: dict[str, Callable[[str, FieldRow], PatientExtract]] = {
    "pregnancy_test": pregnancy_test,
    "pregnancy_test_days_ago": pregnancy_test_days_ago,
}
FUNCTIONS: dict[str, PatientExtract] = {
    "childbearing_potential": _childbearing_potential,
    "pregnant": _pregnant,
}

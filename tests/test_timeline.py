"""The timeline of the example patients (patients/*-washout-ends, -goes-stale, -turns-71, -reaches-30-days):
each change falls on the exact day the engine's verdict changes, checked on that day and the day before, so
an answer one day off fails."""

from __future__ import annotations

import datetime as dt
import json

import pytest

import matcher

from .helpers import PATIENTS as EXAMPLES
from .helpers import cli

CASES = [
    # (example, trial, change date, verdict before, verdict from that date, criterion, words of the reason)
    ("NCT05631717-ineligible-rituximab-washout-ends.yaml", "NCT05631717", dt.date(2026, 10, 20),
     "ineligible", "eligible", "exc-1a", "24 weeks after the medications[3] (rituximab) end 2026-05-04"),
    ("NCT00698191-eligible-sledai-goes-stale.yaml", "NCT00698191", dt.date(2026, 11, 19),
     "eligible", "undetermined", "inc-1", "the SLEDAI-2K of 2026-08-20 passes the 90-day window"),
    ("NCT00698191-eligible-turns-71.yaml", "NCT00698191", dt.date(2026, 12, 1),
     "eligible", "ineligible", "inc-1", "turns 71 on 2026-12-01 (born 1955-12-01"),
    ("NCT03562065-ineligible-prednisone-course-reaches-30-days.yaml", "NCT03562065", dt.date(2026, 9, 25),
     "ineligible", "eligible", "inc-4", "30 days after the medications[2] (prednisone) start 2026-08-26"),
]


@pytest.mark.parametrize(("name", "trial", "day", "before", "after", "criterion", "because"), CASES)
def test_the_first_change_of_each_example_is_on_its_day(engine: matcher.Matcher, name: str, trial: str,
                                                        day: dt.date, before: str, after: str, criterion: str,
                                                        because: str) -> None:
    patient = matcher.load_patient(EXAMPLES / name)
    line, = [line for line in engine.timeline(patient) if line.trial == trial]
    first = line.changes[0]
    assert (first.date, first.verdict_before, first.verdict) == (day, before, after)
    changed = {change.criterion: change for change in first.changes}
    assert because in " ".join(changed[criterion].crossings)
    assert first.summary.startswith({"eligible": "eligible from", "ineligible": "ineligible from",
                                     "undetermined": "becomes undetermined on"}[after] + f" {day}")
    # the engine, asked directly on the day before and on the day: the change is not a day off
    on = {result.trial: result.verdict for result in engine.evaluate(patient, day)}
    on_eve = {result.trial: result.verdict for result in engine.evaluate(patient, day - dt.timedelta(days=1))}
    assert (on_eve[trial], on[trial]) == (before, after)


def test_check_timeline_prints_and_writes_json() -> None:
    path = str(EXAMPLES / CASES[0][0])
    code, out, err = cli("check", path, "--timeline", "--trial", "NCT05631717", "--until", "2026-11-30")
    assert (code, err) == (10, "")  # the exit code of the verdict on the as-of date
    assert "NCT05631717  INELIGIBLE on 2026-09-14" in out
    assert "2026-10-20  ELIGIBLE  eligible from 2026-10-20 (exc-1a not met: 24 weeks after" in out
    assert "timeline to 2026-11-30" in out
    code, out, _ = cli("check", path, "--timeline", "--trial", "NCT05631717", "--format", "json")
    document = json.loads(out)
    assert document["until"] == "2027-03-13"  # 180 days after the as-of date
    change = document["trials"][0]["changes"][0]
    assert (change["date"], change["verdict_before"], change["verdict"]) == ("2026-10-20", "ineligible", "eligible")
    assert change["criteria"][0]["criterion"] == "exc-1a" and change["criteria"][0]["after"] == "not_met"


def test_until_needs_timeline_and_a_date_after_the_as_of_date() -> None:
    path = str(EXAMPLES / CASES[0][0])
    code, _, err = cli("check", path, "--until", "2026-12-01")
    assert code == 2 and "add --timeline" in err
    code, _, err = cli("check", path, "--timeline", "--until", "2026-09-13")
    assert code == 2 and "before the as-of date 2026-09-14" in err

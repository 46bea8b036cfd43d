"""BILAG-2004 assessments: "SLEDAI score>8 or BILAG score A/B" (NCT01539902 inc-3b).

The base patient is patients/NCT01539902-undetermined-sledai-6-bilag-not-recorded.yaml (screened 2026-10-12,
SLEDAI-2K 6 on 2026-10-05, no BILAG); each case changes the activity records only. The most recent assessment
on or before the as-of date counts, at most 90 days old (the trial's activity-score window).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from matcher.cli import EXIT_BAD_INPUT

from .helpers import cli, criterion_result, example, outcome
from .patches import Patch, both, drop, put

TRIAL = "NCT01539902"
BASE = "NCT01539902-undetermined-sledai-6-bilag-not-recorded.yaml"


def bilag(*entries: tuple[str, str]) -> Patch:
    return put("bilag_2004", [{"date": day, "highest_grade": grade} for day, grade in entries])


def sledai(score: int) -> Patch:
    return put("disease_activity", [{"index": "SLEDAI-2K", "score": score, "date": "2026-10-05"}])


CASES: list[tuple[str, Patch, str]] = [
    ("SLEDAI 9, no BILAG", sledai(9), "met"),
    ("SLEDAI 9, BILAG E", both(sledai(9), bilag(("2026-10-05", "E"))), "met"),
    ("SLEDAI 6, BILAG A", bilag(("2026-10-05", "A")), "met"),
    ("SLEDAI 6, BILAG B", bilag(("2026-10-05", "B")), "met"),
    ("SLEDAI 6, BILAG C", bilag(("2026-10-05", "C")), "not_met"),
    ("SLEDAI 6, BILAG D", bilag(("2026-10-05", "D")), "not_met"),
    ("SLEDAI 6, BILAG E", bilag(("2026-10-05", "E")), "not_met"),
    ("SLEDAI 8, BILAG C", both(sledai(8), bilag(("2026-10-05", "C"))), "not_met"),
    ("SLEDAI 6, BILAG list empty", put("bilag_2004", []), "unknown"),
    ("SLEDAI 6, BILAG not recorded", sledai(6), "unknown"),
    ("no SLEDAI, BILAG B", both(drop("disease_activity"), bilag(("2026-10-05", "B"))), "met"),
    ("no SLEDAI, BILAG C", both(drop("disease_activity"), bilag(("2026-10-05", "C"))), "unknown"),
    ("most recent C, older A", bilag(("2026-06-15", "A"), ("2026-10-05", "C")), "not_met"),
    ("most recent B, older D", bilag(("2026-10-05", "B"), ("2026-06-15", "D")), "met"),
    ("BILAG B 90 days old", bilag(("2026-07-14", "B")), "met"),
    ("BILAG B 91 days old", bilag(("2026-07-13", "B")), "unknown"),
    ("BILAG C 91 days old", bilag(("2026-07-13", "C")), "unknown"),
    ("BILAG A after the as-of date only", bilag(("2026-10-13", "A")), "unknown"),
    ("BILAG C, then A after the as-of date", bilag(("2026-10-05", "C"), ("2026-10-13", "A")), "not_met"),
]


@pytest.mark.parametrize(("case", "patch", "expected"), CASES, ids=[c[0] for c in CASES])
def test_inc3b_reads_sledai_or_the_bilag_grade(engine: Any, case: str, patch: Patch, expected: str) -> None:
    data = example(BASE)
    patch(data)
    assert outcome(engine, data, "inc-3b", TRIAL) == expected


def test_the_bilag_grade_used_is_shown_with_its_date_and_an_old_one_is_asked_for_again(engine: Any) -> None:
    data = example(BASE)
    bilag(("2026-10-05", "B"))(data)
    found = criterion_result(engine, data, "inc-3b", TRIAL)
    (value,) = [v for v in found.values if v.field == "bilag_2004_highest_grade"]
    assert (value.value, value.source, str(value.date)) == ("B", "bilag_2004[0]", "2026-10-05")
    assert "B on 2026-10-05 (7 days before the as-of date), within the 90-day window" in found.reason
    bilag(("2026-07-13", "A"))(data)
    old = criterion_result(engine, data, "inc-3b", TRIAL)
    assert old.outcome == "unknown" and "older than the 90-day window" in old.reason


def test_list_order_never_changes_the_grade_read(engine: Any) -> None:
    entries = [("2026-06-15", "A"), ("2026-10-05", "C"), ("2026-08-01", "B")]
    answers = set()
    for order in (entries, entries[::-1], entries[1:] + entries[:1]):
        data = example(BASE)
        bilag(*order)(data)
        answers.add(outcome(engine, data, "inc-3b", TRIAL))
    assert answers == {"not_met"}


@pytest.mark.parametrize(("entries", "expected"), [
    ([{"date": "2026-10-05", "highest_grade": "B"}, {"date": "2026-10-05", "highest_grade": "C"}],
     "two different highest grades on 2026-10-05"),
    ([{"date": "2026-10-05", "highest_grade": "F"}], "bilag_2004[0].highest_grade"),
    ([{"date": "2026-10-05"}], "bilag_2004[0].highest_grade"),
    ([{"date": "2027-10-05", "highest_grade": "A"}], "bilag_2004[0].date"),
])
def test_a_bad_bilag_entry_is_bad_input(tmp_path: Path, entries: list[dict[str, str]], expected: str) -> None:
    data = example(BASE)
    data["bilag_2004"] = entries
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data, default=str), encoding="utf-8")
    code, out, err = cli("check", str(path), "--trial", TRIAL, "--as-of", "2026-10-12")
    assert code == EXIT_BAD_INPUT and out == "" and "Traceback" not in err
    assert expected in err and "p.json" in err

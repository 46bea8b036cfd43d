"""``matcher log summary``: data items to collect grouped, named plainly, ranked by the patients each would settle."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from matcher.model.fields import PATIENT_FIELDS
from matcher.screening.collect_items import GROUPS, PlainItem, _field_group, patient_item, plain_item
from matcher.screening.log import _connect

from .helpers import cli

SHA = "ab" * 32
RESPONSE = "response to mycophenolate_mofetil (failed, not tolerated or responded)"


def write_log(path: Path, rows: list[tuple[str, str, list[str]]], status: str = "complete") -> Path:
    """A screening log with one run of ``rows``: (patient, verdict, data to collect), all for trial NCT1."""
    connection = _connect(path, create=True)
    with connection:
        connection.execute("INSERT INTO rule_files VALUES (?, 'NCT1', 'rules/NCT1.yaml', 'text')", (SHA,))
        connection.execute("INSERT INTO runs (started_at, status, source, trials, matcher_version, engine, command) "
                           "VALUES ('2026-11-01T00:00:00', ?, 'cohort.jsonl', '[\"NCT1\"]', '0', 'e', 'screen')",
                           (status,))
        for patient, verdict, to_collect in rows:
            connection.execute(
                "INSERT INTO evaluations (run_id, patient_id, trial_id, verdict, criteria_not_met, criteria_unknown, "
                "data_to_collect, clinician_to_confirm, as_of, matcher_version, engine, rules_sha256, location, "
                "evaluated_at) VALUES (1, ?, 'NCT1', ?, ?, '[]', ?, '[]', '2026-11-01', '0', 'e', ?, ?, 'now')",
                (patient, verdict, json.dumps(["inc-1"] if verdict == "ineligible" else []), json.dumps(to_collect),
                 SHA, f"cohort.jsonl:{patient}"))
    connection.close()
    return path


@pytest.mark.parametrize(("raw", "group", "name"), [
    ("severe (infections[1].severe)", "Infections", "recorded infection: whether it was severe"),
    ("needed treatment (infections[0].treated)", "Infections", "recorded infection: needed treatment"),
    (RESPONSE, "Medications", "mycophenolate mofetil: response (failed, not tolerated or responded)"),
    ("end date of mycophenolate_sodium (or ongoing: true)", "Medications",
     "mycophenolate sodium: end date (or that it is ongoing)"),
    ("end date of cellulitis", "Infections", "recorded infection: end date"),
    ("ALT with the lab's ULN", "Laboratory", "ALT with the lab's ULN"),
    ("breastfeeding status", "Pregnancy", "breastfeeding status"),
    ("whether the patient is in another study", "Study administration", "whether the patient is in another study"),
    ("current and recent infections (an empty list if none): the recorded list may be incomplete", "Infections",
     "current and recent infections: confirm the recorded list is complete"),
    ("white blood cell count", "Laboratory", "white blood cell count"),
    ("anti-dsDNA antibodies with the lab's ULN", "Laboratory", "anti-dsDNA antibodies with the lab's ULN"),
    ("a current SLEDAI-2K score (the last one, on 2026-05-06, is 89 days older than the 90-day window)",
     "Diagnosis and disease activity", "a current SLEDAI-2K score"),
    ("a current ALT with the lab's ULN (the last one, on 2025-10-21, is 1,096 days older than the 90-day window)",
     "Laboratory", "a current ALT with the lab's ULN"),
])
def test_items_are_grouped_and_named_plainly(raw: str, group: str, name: str) -> None:
    assert plain_item(raw) == PlainItem(group, name)


def test_a_bare_date_and_an_unknown_item_still_say_what_they_are() -> None:
    assert plain_item("date").name != "date" and "date" in plain_item("date").name
    assert plain_item("some_new_item") == PlainItem("Other", "some new item")
    assert all(item.group in GROUPS for item in map(plain_item, ("date", "weight", "SSDAI score", "x_y")))


def test_a_value_older_than_its_window_is_one_item_over_a_cohort_and_keeps_its_date_for_one_patient() -> None:
    stale = [f"a current SELENA-SLEDAI score (the last one, on 2026-09-{day:02}, is {31 - day} day{'s' * (day != 30)} "
             "older than the 30-day window)" for day in (1, 6, 30)]
    assert len({plain_item(item) for item in stale}) == 1
    assert [patient_item(item) for item in stale] == stale


def test_every_field_a_rule_may_test_has_a_group() -> None:
    """A new field lands in a named group of the summary, not in "Other" (its lab, its diagnosis...)."""
    assert [name for name in PATIENT_FIELDS if _field_group(name) == "Other"] == []


def test_the_entries_of_one_list_are_one_item() -> None:
    assert plain_item("severe (infections[0].severe)") == plain_item("severe (infections[3].severe)")


def test_summary_groups_names_and_ranks_by_patients_settled(tmp_path: Path) -> None:
    rows = [
        # each lacks only the SSDAI score: collecting it settles 2 patients
        ("p1", "undetermined", ["SSDAI score"]),
        ("p2", "undetermined", ["SSDAI score"]),
        # lacking for 3 patients, but never alone: it settles no one by itself
        ("p3", "undetermined", ["breastfeeding status", "severe (infections[0].severe)",
                                "severe (infections[1].severe)"]),
        ("p4", "undetermined", ["breastfeeding status", RESPONSE]),
        ("p5", "undetermined", ["breastfeeding status", "date"]),
        ("p6", "review", []),
        ("p7", "eligible", []),
        ("p8", "ineligible", ["weight"]),  # an ineligible patient's missing data is not counted
    ]
    code, out, err = cli("log", "summary", str(write_log(tmp_path / "log.db", rows)))
    assert code == 0, err
    assert re.search(r"review +1 ", out) and re.search(r"undetermined +5 ", out)
    items = re.findall(r"^ {8} *(\d+) +(\d+)  (.+)$", out, re.MULTILINE)
    assert items[0] == ("2", "2", "SSDAI score")  # settles 2 patients: first, though fewer lack it
    assert items[1] == ("0", "3", "breastfeeding status")
    # two entries of p3's infections count p3 once
    assert ("0", "1", "recorded infection: whether it was severe") in items
    assert not any(name == "weight" for _, _, name in items)
    assert "2 of 5 patients lack a single item" in out
    # grouped: each item under its group's heading
    assert out.index("Diagnosis and disease activity") < out.index("SSDAI score") < out.index("Pregnancy")
    assert out.index("Pregnancy") < out.index("breastfeeding status")
    # named plainly: no list index, no field path, no underscore, no bare "date"
    listed = "\n".join(name for _, _, name in items)
    assert "[" not in listed and "_" not in listed and "date" not in listed.splitlines()


def test_summary_is_short_by_default_and_all_lists_every_item(tmp_path: Path) -> None:
    rows = [(f"p{i}", "undetermined", [f"dose of {drug}"]) for i, drug in enumerate(
        ["prednisone", "prednisolone", "methotrexate", "azathioprine", "cyclophosphamide", "rituximab",
         "tacrolimus", "belimumab", "anifrolumab", "voclosporin", "hydrocortisone", "dexamethasone"])]
    log = write_log(tmp_path / "log.db", rows)
    _, default, _ = cli("log", "summary", str(log))
    _, top, _ = cli("log", "summary", str(log), "--top", "3")
    _, every, _ = cli("log", "summary", str(log), "--all")
    assert default.count(": dose") == 10 and "the top 10 of 12 items (--all lists every one)" in default
    assert top.count(": dose") == 3
    assert every.count(": dose") == 12 and "--all lists" not in every
    code, _, err = cli("log", "summary", str(log), "--all", "--top", "3")
    assert code == 2 and "not allowed with" in err


def test_an_unfinished_run_is_not_counted(tmp_path: Path) -> None:
    log = write_log(tmp_path / "log.db", [("p1", "undetermined", ["SSDAI score"])], status="running")
    _, out, _ = cli("log", "summary", str(log))
    assert "NOT FINISHED" in out and "SSDAI score" not in out


def test_summary_as_json_has_the_texts_counts(tmp_path: Path) -> None:
    rows = [(f"p{i}", "undetermined", [f"dose of {drug}"]) for i, drug in enumerate(
        ["prednisone", "prednisolone", "methotrexate", "azathioprine"])]
    rows.append(("p9", "undetermined", ["dose of prednisone"]))
    log = write_log(tmp_path / "log.db", rows)
    code, out, err = cli("log", "summary", str(log), "--format", "json", "--top", "3")
    assert code == 0, err
    document = json.loads(out)
    trial, = document["trials"]
    assert trial["screened"] == 5 and trial["verdicts"]["undetermined"] == 5 and trial["to_collect_distinct"] == 4
    assert trial["to_collect"][0] == {"item": "prednisone: dose", "group": "Medications", "settles": 2, "lacking": 2}
    assert len(trial["to_collect"]) == 3
    assert document["collect_next"]["computed_pairs"] == 0  # no run with --collect-next

"""The screening log keeps the clinician's part of each evaluation: the questions of a review verdict and the
decisions that settled manual criteria (issue 11: "decided by <who> on <date>" in every output), and a log
written before these columns existed is brought up to date in place."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import yaml

from matcher.screening.log import SCHEMA_VERSION

from .helpers import PATIENTS, ROOT, cli

REVIEW = PATIENTS / "NCT03562065-review-alt-above-twice-normal.yaml"


def _rows(log: Path) -> dict[str, tuple[str, list[str], list[str]]]:
    with sqlite3.connect(log) as connection:
        found = connection.execute("SELECT patient_id, verdict, clinician_to_decide, clinician_decided"
                                   " FROM evaluations WHERE trial_id = 'NCT03562065'").fetchall()
    return {patient: (verdict, json.loads(to_decide), json.loads(decided))
            for patient, verdict, to_decide, decided in found}


def _decided_copy(folder: Path) -> Path:
    """The review example with the clinician's answer to its question recorded."""
    data = yaml.safe_load(REVIEW.read_text(encoding="utf-8"))
    sha = hashlib.sha256((ROOT / "rules" / "NCT03562065.yaml").read_bytes()).hexdigest()
    data["id"] = "review-decided"
    data["decisions"] = [{"trial": "NCT03562065", "criterion": "exc-3", "outcome": "not_met", "by": "Dr A",
                          "on": str(data["screening_date"]), "rules_sha256": sha, "note": "lupus hepatitis"}]
    path = folder / "decided.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_the_log_keeps_the_questions_and_the_decisions(tmp_path: Path) -> None:
    cohort = tmp_path / "cohort"
    cohort.mkdir()
    (cohort / REVIEW.name).write_bytes(REVIEW.read_bytes())
    _decided_copy(cohort)
    log = tmp_path / "screening.db"
    code, _, err = cli("screen", str(cohort), "--out", str(tmp_path / "r.csv"), "--log", str(log),
                       "--trial", "NCT03562065")
    assert code == 0, err
    rows = _rows(log)
    review_id = yaml.safe_load(REVIEW.read_text(encoding="utf-8"))["id"]
    verdict, to_decide, decided = rows[review_id]
    assert verdict == "review" and to_decide and to_decide[0].startswith("exc-3") and decided == []
    verdict, to_decide, decided = rows["review-decided"]
    assert verdict != "review" and to_decide == []
    assert len(decided) == 1 and "exc-3" in decided[0] and "Dr A" in decided[0]


def test_a_log_of_the_previous_schema_is_brought_up_to_date(tmp_path: Path) -> None:
    log = tmp_path / "old.db"
    cohort = tmp_path / "cohort"
    cohort.mkdir()
    (cohort / REVIEW.name).write_bytes(REVIEW.read_bytes())
    assert cli("screen", str(cohort), "--out", str(tmp_path / "a.csv"), "--log", str(log))[0] == 0
    with sqlite3.connect(log) as connection:  # as schema version 1 was written: no clinician columns (nor later ones)
        connection.execute("ALTER TABLE evaluations DROP COLUMN clinician_to_decide")
        connection.execute("ALTER TABLE evaluations DROP COLUMN clinician_decided")
        connection.execute("ALTER TABLE evaluations DROP COLUMN collect_next")
        connection.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    code, _, err = cli("screen", str(cohort), "--out", str(tmp_path / "b.csv"), "--log", str(log))
    assert code == 0, err
    with sqlite3.connect(log) as connection:
        version = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        runs = connection.execute("SELECT count(DISTINCT run_id) FROM evaluations").fetchone()[0]
    assert version == str(SCHEMA_VERSION) and runs == 2
    assert any(to_decide for _, to_decide, _ in _rows(log).values())
    code, out, err = cli("log", "summary", str(log))
    assert code == 0, err
    assert "review" in out

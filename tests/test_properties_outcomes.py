"""Property: the outcome view (matcher.results.explain.outcomes, Matcher.outcomes) is the full explanation
without its explanation lines. On generated patients and on every example patient, with and without recorded
clinician decisions, every field of the view equals the field of the same name of :func:`explain`'s result,
for every trial; and building the view builds no explanation line. A screening whose outputs read only
outcomes (CSV, the log) writes the same with or without a JSON Lines output beside it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from matcher.api import Matcher
from matcher.engine.evaluate import Evaluator
from matcher.intake.load import read_document
from matcher.model.profile import PatientProfile
from matcher.results import explain as explain_module
from matcher.results.decisions import DECISION_WINDOW_DAYS
from matcher.results.explain import CriterionOutcome, TrialOutcome, TrialResult, explain, outcomes
from matcher.tools.synthetic import synthetic_patient

from . import strategies as gen
from .helpers import EXAMPLE_FILES, cli, examples
from .properties import show
from .test_clinician_properties import decisions

#: what both a trial's outcome view and its full result say beyond their fields
DERIVED = ("to_decide", "clinical_pending", "routine_pending", "decided")


def assert_projection(view: TrialOutcome, full: TrialResult) -> None:
    """Every field of ``view`` (and of each criterion's view) is the field of the same name of ``full``."""
    assert type(view) is TrialOutcome and type(full) is TrialResult
    for spec in dataclasses.fields(TrialOutcome):
        if spec.name != "criteria":
            assert getattr(view, spec.name) == getattr(full, spec.name), (full.trial, spec.name)
    assert [c.id for c in view.criteria] == [c.id for c in full.criteria], full.trial
    for seen, explained in zip(view.criteria, full.criteria, strict=True):
        assert isinstance(seen, CriterionOutcome)
        for spec in dataclasses.fields(CriterionOutcome):
            assert getattr(seen, spec.name) == getattr(explained, spec.name), (full.trial, seen.id, spec.name)
        assert seen.named == explained.named
    for name in DERIVED:
        assert getattr(view, name) == getattr(full, name), (full.trial, name)
    for criterion in full.criteria:
        assert view.named(criterion.id) == full.named(criterion.id)


def _both(evaluator: Evaluator, patient: PatientProfile, as_of: dt.date) -> list[tuple[TrialOutcome, TrialResult]]:
    pairs = []
    for trial in gen.encoded_trials():
        # two evaluations: the view is worked out on its own, not from what explaining left behind
        view = outcomes(evaluator.evaluate(patient, as_of, trial.id), "given")
        pairs.append((view, explain(evaluator.evaluate(patient, as_of, trial.id), "given")))
    return pairs


@examples(0.5)
@given(drawn=gen.patients(), data=st.data())
def test_the_outcome_view_is_the_explanation_without_its_lines(evaluator: Evaluator, drawn: Any,
                                                              data: st.DataObject) -> None:
    patient, as_of = drawn
    show(patient, as_of)
    for view, full in _both(evaluator, PatientProfile.model_validate(patient), as_of):
        assert_projection(view, full)
    patient["decisions"] = data.draw(decisions(as_of, same_version=data.draw(st.booleans())))
    note(f"decisions: {patient['decisions']}")
    for view, full in _both(evaluator, PatientProfile.model_validate(patient), as_of):
        assert_projection(view, full)


def _decisions_on_every_criterion(as_of: dt.date) -> list[dict[str, Any]]:
    """A recorded decision on every criterion of every trial (most usable, some stale, on another rule file
    version, or disagreeing), and one naming no criterion: each way a decision settles or is set aside."""
    made: list[dict[str, Any]] = []
    for trial in gen.encoded_trials():
        for number, criterion in enumerate(trial.criteria):
            made.append({"trial": trial.id, "criterion": criterion.id, "by": "Dr A",
                         "outcome": ("met", "not_met")[number % 2], "rules_sha256": trial.content_hash,
                         "on": as_of - dt.timedelta(days=number % 3)})
            if number % 4 == 1:
                made.append({**made[-1], "by": "Dr B", "outcome": ("not_met", "met")[number % 2]})
            if number % 5 == 2:
                made.append({**made[-1], "on": as_of - dt.timedelta(days=DECISION_WINDOW_DAYS + 3)})
            if number % 5 == 3:
                made.append({**made[-1], "rules_sha256": "0" * 64})
        made.append({"trial": trial.id, "criterion": "exc-99", "by": "Dr A", "outcome": "met",
                     "rules_sha256": trial.content_hash, "on": as_of})
    return made


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda path: path.name)
def test_the_outcome_view_of_every_example_patient(engine: Matcher, path: Path) -> None:
    data = read_document(path).data
    assert isinstance(data, dict)
    patient = PatientProfile.model_validate(data)
    for view, full in zip(engine.outcomes(patient), engine.evaluate(patient), strict=True):
        assert_projection(view, full)
    as_of = patient.screening_date or dt.date(2026, 11, 1)
    decided = PatientProfile.model_validate({**data, "decisions": [*data.get("decisions", []),
                                                                   *_decisions_on_every_criterion(as_of)]})
    pairs = list(zip(engine.outcomes(decided, as_of), engine.evaluate(decided, as_of), strict=True))
    for view, full in pairs:
        assert_projection(view, full)
    # every criterion has a usable decision: it settles the criterion, or says why it was not used
    assert all(c.decision or c.decision_ignored for view, _ in pairs for c in view.criteria), path.name


def test_the_outcome_view_builds_no_explanation_line(engine: Matcher, monkeypatch: pytest.MonkeyPatch) -> None:
    """``outcomes`` never explains a criterion or lists its values (the question of a manual criterion the
    record argues against aside: its brief lines are the question)."""
    patients = [PatientProfile.model_validate(read_document(path).data) for path in EXAMPLE_FILES]
    # a question's evidence is written in brief leaf lines: those patients are left out
    plain = [patient for patient in patients if not any(view.to_decide for view in engine.outcomes(patient))]

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("the outcome view built an explanation")

    for name in ("criterion", "values_of", "leaf_line", "comparison_line", "query_line", "compact_query_line"):
        monkeypatch.setattr(explain_module._Explainer, name, refuse)
    verdicts = {view.verdict for patient in plain for view in engine.outcomes(patient)}
    assert verdicts >= {"eligible", "ineligible", "undetermined"}
    assert len(plain) > len(patients) / 2


def test_screen_explain_false_gives_the_outcome_views(engine: Matcher) -> None:
    patients = [PatientProfile.model_validate(read_document(path).data) for path in EXAMPLE_FILES[:6]]
    views: list[TrialOutcome] = list(engine.screen(patients, explain=False))
    fulls = list(engine.screen(patients))
    assert len(views) == len(fulls) == 6 * len(engine.trials)
    for view, full in zip(views, fulls, strict=True):
        assert type(view) is TrialOutcome and type(full) is TrialResult
        assert_projection(view, full)


# ------------------------------------------------------------------ screening outputs
def _log_rows(database: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every evaluation and unscreened record of the log, without the run's own ids and times."""
    with sqlite3.connect(database) as connection:
        tables = {}
        for table in ("evaluations", "not_screened"):
            columns = [row[1] for row in connection.execute(f"PRAGMA table_info({table})")
                       if row[1] not in ("id", "run_id", "evaluated_at")]
            tables[table] = connection.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY id").fetchall()
        tables["rule_files"] = connection.execute("SELECT * FROM rule_files ORDER BY sha256").fetchall()
    return tables


@pytest.mark.parametrize("extra", [(), ("--collect-next", "--trial", "NCT03562065,NCT00698191")],
                         ids=["plain", "collect-next"])
def test_csv_and_log_are_the_same_with_and_without_json_lines(tmp_path: Path, extra: tuple[str, ...]) -> None:
    """The CSV and the log come from outcome views when nothing reads the JSON, from full explanations when a
    JSON Lines file is written beside them: they must not differ."""
    cohort = tmp_path / "cohort.jsonl"
    records = [read_document(path).data for path in EXAMPLE_FILES]
    records += [synthetic_patient(3, index, dt.date(2026, 11, 1)) for index in range(25)]
    records.append({"id": "broken", "labs": "not a list"})  # a record that is not screened
    cohort.write_text("".join(json.dumps(record, default=str) + "\n" for record in records), encoding="utf-8")
    written = {}
    for name, outputs in (("outcomes", ()), ("explained", ("--out", str(tmp_path / "explained.jsonl")))):
        csv, log = tmp_path / f"{name}.csv", tmp_path / f"{name}.db"
        code, _, err = cli("screen", str(cohort), "--as-of", "2026-11-01", "--out", str(csv), *outputs,
                           "--log", str(log), "--progress", "never", *extra)
        assert code == 4, err  # 4: a record was not screened (the broken one)
        written[name] = (csv.read_bytes(), _log_rows(log))
    assert (tmp_path / "explained.jsonl").stat().st_size > 0
    assert written["outcomes"][0] == written["explained"][0]
    assert written["outcomes"][1] == written["explained"][1]
    assert len(written["outcomes"][1]["evaluations"]) > 25
    assert written["outcomes"][1]["not_screened"]

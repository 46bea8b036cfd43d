"""The JSON form of a result holds every field of it, as ``dataclasses.asdict`` would give them; the screen's
compact writer (:func:`matcher.results.render.compact_json`) gives, byte for byte, what ``json.dumps`` gives."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from matcher.api import Matcher
from matcher.intake.validate import load_patient
from matcher.model.profile import PatientProfile
from matcher.results import render
from matcher.results.explain import TrialResult
from matcher.results.render import compact_json, trial_json
from matcher.screening.screen import trial_row

from . import strategies as gen
from .helpers import EXAMPLE_FILES, examples


def reference_criterion_json(result: Any) -> dict[str, Any]:
    data = dataclasses.asdict(result)
    del data["text_details"]  # the text output's shortened details: the JSON keeps every entry in "details"
    data["values"] = [{**value, "date": value["date"].isoformat() if value["date"] else None}
                      for value in data["values"]]
    for key in ("details", "missing", "notes"):
        data[key] = list(data[key])
    return data


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_criteria_in_json_are_their_dataclass_fields(engine: Matcher, path: Any) -> None:
    for result in engine.evaluate(load_patient(path)):
        rendered = trial_json(result)["criteria"]
        expected = [reference_criterion_json(c) for c in result.criteria]
        assert rendered == expected
        assert [list(c) for c in rendered] == [list(c) for c in expected]  # same key order
        assert [[list(v) for v in c["values"]] for c in rendered] == [[list(v) for v in c["values"]] for c in expected]


# ------------------------------------------------------------------ the compact writer of matcher screen
def dumps(document: Any) -> str:
    """What ``matcher screen`` wrote before the compact writer, and what it must go on writing."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def screen_documents(engine: Matcher, patient: PatientProfile, as_of: dt.date | None = None) -> list[dict[str, Any]]:
    """Every trial's document of ``matcher screen`` for the patient, built as ``screen.trial_row`` builds it, with
    near misses and the items to collect next; every other one also with a FHIR import report."""
    results = engine.evaluate(patient, as_of)
    misses = engine.near_misses(patient, results, when=False)
    documents = []
    for number, result in enumerate(results):
        document = {"patient": result.patient, "location": f"patients/x.yaml:{number}",
                    "as_of": result.as_of.isoformat(), "as_of_source": result.as_of_source, **trial_json(result),
                    "near_miss": misses[result.trial].to_json() if result.trial in misses else None}
        if result.verdict == "undetermined":
            document["collect_next"] = [item.to_json() for item in engine.deciding_items(patient, result)]
        if number % 2:
            document["fhir_import"] = {"unused": ["Observation/1: \"</script>\" \u00b5mol/L"], "unknown": []}
        documents.append(document)
    return documents


def assert_written_alike(document: dict[str, Any]) -> None:
    expected = dumps(document)
    assert compact_json(document) == expected
    assert compact_json(document) == expected  # the second time from what the first one kept


@pytest.fixture(scope="module")
def example_documents(engine: Matcher) -> list[dict[str, Any]]:
    return [document for path in EXAMPLE_FILES for document in screen_documents(engine, load_patient(path))]


def test_screen_json_is_json_dumps_on_every_example_and_trial(example_documents: list[dict[str, Any]]) -> None:
    render._FIXED.clear()
    for document in example_documents:
        assert_written_alike(document)
    trials = {document["trial"] for document in example_documents}
    assert {trial for trial, _ in render._FIXED} == trials  # the fixed text of every trial was kept ...
    assert any(kept.whole for fixed in render._FIXED.values() for kept in fixed.criteria if kept)  # ... and used


def test_trial_row_writes_the_compact_json(engine: Matcher, monkeypatch: pytest.MonkeyPatch) -> None:
    """``matcher screen``'s row holds the compact writer's text, which reads back as the document."""
    written: list[str] = []

    def spy(document: dict[str, Any]) -> str:
        written.append(compact_json(document))
        return written[-1]

    monkeypatch.setattr(render, "compact_json", spy)
    patient = load_patient(EXAMPLE_FILES[0])
    for result in engine.evaluate(patient):
        row = trial_row(result, "here", fhir_import={"unused": ["a"]})
        assert row.json is not None and row.json == written[-1]
        document = json.loads(row.json)
        assert row.json == dumps(document)
        assert document["criteria"] == json.loads(dumps(trial_json(result)["criteria"]))


@examples(0.5)
@given(drawn=gen.patients())
def test_screen_json_is_json_dumps_on_generated_patients(engine: Matcher,
                                                         drawn: tuple[dict[str, Any], dt.date]) -> None:
    data, as_of = drawn
    note(gen.dump(data))
    for document in screen_documents(engine, PatientProfile.model_validate(data), as_of):
        assert_written_alike(document)


#: texts a JSON writer must escape, or must not (the HTML report embeds the JSON)
AWKWARD_TEXTS = ["", "\x00", "\"quoted\"", "back\\slash", "</script><script>alert(1)</script>", "\u00b5mol/L \u2265 3",
                 "tab\tnew\nline\r\x1f\x7f", "\ud83d\ude00 emoji", "\u2028\u2029", "%s {0} %%"]
awkward_text = st.one_of(st.sampled_from(AWKWARD_TEXTS), st.text(max_size=12))


@pytest.fixture(scope="module")
def one_result(engine: Matcher) -> TrialResult:
    return engine.evaluate(load_patient(EXAMPLE_FILES[0]))[0]


@given(data=st.data())
def test_screen_json_is_json_dumps_whatever_the_texts(one_result: TrialResult, data: st.DataObject) -> None:
    """Awkward texts in the fixed parts, in the variable parts, and a trial seen again with other fixed texts (a
    changed rule file under the same digest, or a caller's own document) are written as json.dumps writes them."""
    render._FIXED.clear()
    for _ in range(3):  # the first document is learnt from; the later ones differ from it, or not
        document = {"patient": data.draw(awkward_text), **trial_json(one_result), "near_miss": None}
        for key in ("title", "summary", "trial"):
            if data.draw(st.booleans()):
                document[key] = data.draw(awkward_text)
        if data.draw(st.booleans()):
            document["notes"] = data.draw(st.lists(awkward_text, max_size=3))
        for criterion in document["criteria"]:
            for key in ("text", "reason", "label", "question"):
                if data.draw(st.booleans()):
                    criterion[key] = data.draw(awkward_text)
            for key in ("notes", "details", "missing"):
                if data.draw(st.booleans()):
                    criterion[key] = data.draw(st.lists(awkward_text, max_size=3))
        if data.draw(st.booleans()):
            document["collect_next"] = data.draw(gen.json_values())
        assert compact_json(document) == dumps(document)


@given(data=st.data())
def test_screen_json_is_json_dumps_whatever_the_values(one_result: TrialResult, data: st.DataObject) -> None:
    """Values of other types where a kept value was (a number for a bool, a tuple for a list, 1 for 1.0 or True),
    keys in another order, and any JSON value anywhere are written as json.dumps writes them."""
    render._FIXED.clear()
    learnt = {"patient": "p", **trial_json(one_result)}
    compact_json(learnt)
    document = {"patient": "p", **trial_json(one_result)}
    for criterion in document["criteria"]:
        for key in list(criterion):
            if data.draw(st.integers(0, 7)) == 0:
                criterion[key] = data.draw(st.one_of(gen.json_values(), st.sampled_from(
                    [0, 1, 1.0, True, False, None, (), ("a",), [], {}, float("nan"), criterion[key]])))
        if data.draw(st.integers(0, 7)) == 0:  # the same keys in another order
            items = list(criterion.items())
            criterion.clear()
            criterion.update(data.draw(st.permutations(items)))
    for key in ("title", "notes", "rules"):
        if data.draw(st.integers(0, 3)) == 0:
            document[key] = data.draw(gen.json_values())
    assert compact_json(document) == dumps(document)


def test_a_string_equal_to_the_stand_in_is_written_as_itself(one_result: TrialResult) -> None:
    render._FIXED.clear()
    compact_json({"patient": "p", **trial_json(one_result)})
    document = {"patient": render._STAND_IN, **trial_json(one_result)}
    document["criteria"][0]["reason"] = render._STAND_IN
    assert compact_json(document) == dumps(document)
    assert render._STAND_IN_JSON in compact_json(document)


def test_a_value_free_criterion_kept_whole_is_checked_key_by_key(one_result: TrialResult) -> None:
    """A criterion kept whole (it holds no number) is used only for an equal criterion with bools where it had
    them: 0 == False, but json.dumps writes 0."""
    render._FIXED.clear()
    document = {"patient": "p", **trial_json(one_result)}
    document["criteria"][0]["values"] = []
    compact_json(document)
    fixed = next(iter(render._FIXED.values())).criteria[0]
    assert fixed is not None and fixed.whole  # kept whole
    for routine in (0, 1, 0.0, None, "false"):
        document["criteria"][0]["routine"] = routine
        assert compact_json(document) == dumps(document)

"""The JSON form of a result holds every field of it, as ``dataclasses.asdict`` would give them."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from matcher.api import Matcher
from matcher.intake.validate import load_patient
from matcher.results.render import trial_json

from .helpers import EXAMPLE_FILES


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

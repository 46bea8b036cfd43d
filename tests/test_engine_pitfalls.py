"""Each durable-rules behaviour that gives wrong answers silently (measured on 2.0.28; docs/engine.md),
pinned: either shown to be designed around (structurally, over every compiled rule), or
exercised against the real engine."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from pydantic import ValidationError

import matcher
from matcher.engine.adapter import Ruleset, encode_fact, engine_number
from matcher.engine.evaluate import Evaluator
from matcher.errors import EvaluationError
from matcher.intake.load import parse_yaml
from matcher.rules.compile import CompiledTrial, compile_trial
from matcher.rules.language import parse_trial

from .helpers import ROOT, base_patient, profile, run


def compiled_trials(trials: list[matcher.Trial]) -> list[CompiledTrial]:
    return [compile_trial(trial) for trial in trials]


def conditions(rule: dict[str, Any]) -> dict[str, Any]:
    (pattern,) = rule["all"]
    return pattern["m"]


def leaves(condition: Any) -> list[tuple[str, Any]]:
    """(key, value) pairs of every comparison inside an engine condition."""
    found: list[tuple[str, Any]] = []
    if isinstance(condition, dict):
        for key, value in condition.items():
            if key in ("$and", "$or"):
                for part in value:
                    found += leaves(part)
            elif key.startswith("$"):
                found += [(f"{key}:{k}", v) for k, v in value.items()]
            else:
                found.append((key, value))
    return found


# 1. post vs assert: facts fire every matching rule, events only the first.
def test_every_matching_rule_fires_for_one_fact() -> None:
    rules = {f"r{i}": {"all": [{"m": {"$and": [{"kind": "p"}, {"$gte": {"x": i}}]}}]} for i in range(5)}
    ruleset = Ruleset("pitfall1", rules)
    try:
        assert sorted(ruleset.fire({"kind": "p", "x": 3})) == ["r0", "r1", "r2", "r3"]
    finally:
        ruleset.close()


# 2. asserting identical content twice raises; the adapter retracts after each evaluation.
def test_same_patient_twice_and_identical_list_entries(engine: Any) -> None:
    data = base_patient()
    data["medications"].append(dict(data["medications"][0]))  # an exact duplicate course
    first = run(engine, data)
    second = run(engine, data)
    assert first == second
    assert first.verdict == "eligible"


# 3. a negation-only rule fires forever on the engine's own state fact: every rule has a positive guard.
def test_every_compiled_rule_has_a_positive_kind_guard(trials: list[matcher.Trial]) -> None:
    for compiled in compiled_trials(trials):
        for name, rule in compiled.rules.items():
            condition = conditions(rule)
            assert "$and" in condition, name
            guard = condition["$and"][0]
            assert list(guard) == ["kind"] and isinstance(guard["kind"], str), name


def test_a_negation_only_rule_matches_facts_it_was_not_meant_for() -> None:
    """Why the guard exists: a lone $nex rule ('x is unknown') matches every fact without x,
    whatever its kind, so it cannot stand for 'this patient's x is unknown'. On a session's first fact
    it also matches the engine's own state fact: the adapter refuses that action (it is not about the
    fact asserted) once every action has run, and the session stays usable."""
    ruleset = Ruleset("pitfall3", {"lonely": {"all": [{"m": {"$nex": {"x": 1}}}]}})
    try:
        with pytest.raises(EvaluationError, match=r'"lonely":\{"m":\{ "sid":"0", "id":"sid-0", "\$s":1\}'):
            ruleset.fire({"kind": "patient", "y": 1})
        assert "lonely" in ruleset.fire({"kind": "patient", "y": 1})
        assert "lonely" in ruleset.fire({"kind": "medications", "item": 0})
    finally:
        ruleset.close()


# 4. none(...) is 'no such fact yet', not per-field negation: never compiled.
# 8. anyItem/allItems give wrong answers with OR inside: never compiled either.
def test_no_session_or_list_quantifiers_are_compiled(trials: list[matcher.Trial]) -> None:
    for compiled in compiled_trials(trials):
        text = json.dumps(compiled.rules)
        for forbidden in ('"none"', '"$iany"', '"$iall"', '"$not"', '"$nex"', '"$ex"'):
            assert forbidden not in text


# 5. a comparison on a missing field does not match, for every operator including !=.
@pytest.mark.parametrize("op", ["$lt", "$lte", "$gt", "$gte", "$neq"])
def test_missing_field_matches_no_operator(op: str) -> None:
    ruleset = Ruleset("pitfall5", {"r": {"all": [{"m": {"$and": [{"kind": "p"}, {op: {"x": 5}}]}}]}})
    try:
        assert ruleset.fire({"kind": "p"}) == []
        assert ruleset.fire({"kind": "p", "y": 5}) == []
    finally:
        ruleset.close()


def test_facts_never_carry_null() -> None:
    with pytest.raises(EvaluationError):
        encode_fact({"kind": "p", "x": None})


# 6. comparing two fields matches when one is missing: no compiled value is a field reference.
def test_no_field_is_compared_with_another_field(trials: list[matcher.Trial]) -> None:
    for compiled in compiled_trials(trials):
        for name, rule in compiled.rules.items():
            for key, value in leaves(conditions(rule)):
                assert isinstance(value, (str, int, float, bool)), (name, key, value)


# 7. types are coerced silently ("9" >= 15 compares as strings; True == 1): the profile is strict.
@pytest.mark.parametrize(("path", "value"), [
    (("diagnoses", "sle", "acr1997_criteria_met"), True),
    (("diagnoses", "sle", "acr1997_criteria_met"), "6"),
    (("diagnoses", "lupus_nephritis", "present"), 1),
    (("diagnoses", "lupus_nephritis", "present"), "yes"),
    (("demographics", "age"), "36"),
])
def test_wrongly_typed_values_are_rejected_before_the_engine(path: tuple[str, ...], value: Any) -> None:
    data = base_patient()
    if path[-1] == "age":
        del data["demographics"]["birth_date"]
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    with pytest.raises(ValidationError):
        profile(data)


def test_engine_compares_typed_numbers() -> None:
    ruleset = Ruleset("pitfall7", {"adult": {"all": [{"m": {"$and": [{"kind": "p"}, {"$gte": {"age": 15}}]}}]}})
    try:
        assert ruleset.fire({"kind": "p", "age": 9}) == []
        assert ruleset.fire({"kind": "p", "age": 15}) == ["adult"]
    finally:
        ruleset.close()


@pytest.mark.parametrize("value", [1e-7, 0.1 + 0.2, 123456.789, 1e14, -3.5, 0.0, 20.000000001])
def test_numbers_are_written_without_exponents(value: float) -> None:
    text = engine_number(value)
    assert "e" not in text.lower()
    assert float(text) == pytest.approx(value, abs=1e-9)


def test_exponent_numbers_would_be_rejected_by_the_engine() -> None:
    ruleset = Ruleset("pitfall7b", {"r": {"all": [{"m": {"$and": [{"kind": "p"}, {"$gte": {"x": 1}}]}}]}})
    try:
        assert ruleset.fire({"kind": "p", "x": 1e15}) == ["r"]  # written 1000000000000000 by the adapter
        from matcher.engine.adapter import _engine

        with pytest.raises(Exception, match="error code"):
            _engine.assert_fact(ruleset._handle, '{"sid": "0", "kind": "p", "x": 1e15}')
    finally:
        ruleset.close()


# 8 (continued). An OR inside a list entry's condition is evaluated per entry fact, correctly.
def test_or_inside_a_list_entry_condition(engine: Any) -> None:
    trial = parse_trial(parse_yaml(QUERY_WITH_OR, "<string>"))
    with Evaluator([compile_trial(trial)]) as evaluator:
        data = base_patient()
        data["medications"] = [
            {"drug": "prednisone", "route": "iv", "response": "failed"},
            {"drug": "azathioprine", "route": "oral", "response": "responded"},
        ]
        ev = evaluator.evaluate(profile(data), base_date(), "TEST-OR")
        assert ev.queries["oral_or_iv_failure"].truth is True  # entry 0: iv and failed
        data["medications"][0]["response"] = "responded"
        ev = evaluator.evaluate(profile(data), base_date(), "TEST-OR")
        assert ev.queries["oral_or_iv_failure"].truth is False


QUERY_WITH_OR = """
trial: TEST-OR
title: t
condition: c
source: {registry: test, last_updated: 2026-01-01}
queries:
  oral_or_iv_failure:
    over: medications
    label: failed an oral or intravenous course
    where:
      all:
        - any: [{field: route, eq: oral}, {field: route, eq: iv}]
        - {field: response, eq: failed}
criteria:
  - {id: c1, kind: inclusion, text: t, condition: {query: oral_or_iv_failure}}
"""


def base_date() -> Any:
    import datetime as dt

    return dt.date(2026, 11, 2)


# 9. at most 1024 live sessions per ruleset: one session is reused for every patient.
def test_many_patients_reuse_one_session(trials: list[matcher.Trial]) -> None:
    data = base_patient()
    patient = profile(data)
    with matcher.Matcher(trials) as m:
        verdicts = {m.evaluate(patient)[0].verdict for _ in range(1500)}
    assert verdicts == {"eligible"}


# 10/11. rulesets are created and deleted through the C extension; no Host, no name clash.
def test_rulesets_can_be_rebuilt_many_times(trials: list[matcher.Trial]) -> None:
    patient = profile(base_patient())
    for _ in range(50):
        with matcher.Matcher(trials) as m:
            assert m.evaluate(patient)[0].verdict == "eligible"


def test_sentinel_rule_is_in_every_ruleset() -> None:
    ruleset = Ruleset("pitfall10", {"r": {"all": [{"m": {"$and": [{"kind": "p"}, {"x": 1}]}}]}})
    try:
        assert ruleset.fire({"kind": "p", "x": 2}) == []  # the sentinel fired (else fire() raises)
    finally:
        ruleset.close()


# 13. the engine's own validation is weak: unknown operators fail at rule-load time (see test_rules.py),
# and the engine's answers are checked against Kleene logic before use.
def test_engine_answers_that_contradict_themselves_are_refused(trials: list[matcher.Trial],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    original = Ruleset.fire

    def drop_one_rule(self: Ruleset, fact: dict[str, Any]) -> list[str]:
        fired = original(self, fact)
        return fired[1:] if fact["kind"] == "patient" else fired

    monkeypatch.setattr(Ruleset, "fire", drop_one_rule)
    with matcher.Matcher(trials) as m, pytest.raises(EvaluationError, match="refusing to answer"):
        m.evaluate(profile(base_patient()))


def test_engine_firing_both_ways_is_refused(trials: list[matcher.Trial], monkeypatch: pytest.MonkeyPatch) -> None:
    original = Ruleset.fire

    def fire_both(self: Ruleset, fact: dict[str, Any]) -> list[str]:
        fired = original(self, fact)
        if fact["kind"] == "patient":
            fired += [name[:-1] + ("f" if name.endswith("t") else "t") for name in fired[:1]]
        return fired

    monkeypatch.setattr(Ruleset, "fire", fire_both)
    with matcher.Matcher(trials) as m, pytest.raises(EvaluationError, match="both true and false"):
        m.evaluate(profile(base_patient()))


@pytest.mark.parametrize("extra", ["unknown", "other scope"])
def test_engine_firing_a_rule_it_should_not_is_refused(trials: list[matcher.Trial], monkeypatch: pytest.MonkeyPatch,
                                                        extra: str) -> None:
    """A fired rule that is no rule of the trial, or one of another kind of fact, is refused, not skipped."""
    compiled = {trial.id: compile_trial(trial) for trial in trials}
    original = Ruleset.fire

    def fire_more(self: Ruleset, fact: dict[str, Any]) -> list[str]:
        fired = original(self, fact)
        if fact["kind"] == "patient":
            trial = compiled[self.name.split("#")[0]]
            others = [rule for rule, (index, _) in trial.rule_meaning.items() if trial.nodes[index].scope != "patient"]
            fired.append("no such rule" if extra == "unknown" or not others else others[0])
        return fired

    monkeypatch.setattr(Ruleset, "fire", fire_more)
    expected = "unknown rule" if extra == "unknown" else "fired on a patient fact but belongs to"
    with matcher.Matcher(trials) as m, pytest.raises(EvaluationError, match=expected):
        m.evaluate(profile(base_patient()))


# The engine really decides: with durable-rules unimportable, the CLI fails loudly instead of answering.
@pytest.mark.parametrize("hidden", ["durable_rules_engine", "durable"])
def test_cli_refuses_to_answer_without_the_engine(tmp_path: Any, hidden: str) -> None:
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text(f"import sys\nsys.modules[{hidden!r}] = None\n")
    env = {"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": "/usr/bin:/bin", "NO_COLOR": "1"}
    patient = ROOT / "patients" / "NCT00698191-eligible-lupus-nephritis.yaml"
    done = subprocess.run([sys.executable, "-m", "matcher", "check", str(patient)], capture_output=True, text=True,
                          env=env, check=False)
    assert done.returncode == 3
    assert done.stdout == ""
    assert "durable-rules is not importable" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


# The adapter reads each fired rule's name from the action text without decoding it: only the exact
# form {"<rule>":{"m":<the fact asserted>}} is accepted.
def test_actions_are_read_strictly() -> None:
    ruleset = Ruleset("strict-actions", {"r": {"all": [{"m": {"$and": [{"kind": "p"}, {"x": 1}]}}]}})
    try:
        fact = '{"sid":"0","kind":"p","x":1}'
        suffix = '":{"m":' + fact + "}}"
        assert ruleset._rule_of('{"r":{"m":' + fact + "}}", suffix) == "r"
        assert ruleset._rule_of('{"sentinel":{"m":' + fact + "}}", suffix) == "sentinel"
        for action in (
            '{"q":{"m":' + fact + "}}",  # a rule this ruleset does not have
            '{"r":{"m":{"sid":"0","kind":"p","x":2}}}',  # another fact
            '{"r":{"m":' + fact + '},"r":{"m":' + fact + "}}",  # two keys
            '{ "r":{"m":' + fact + "}}",  # other spacing: not what the engine writes
            '{"r":{"m1":' + fact + "}}",
            "",
            "null",
        ):
            with pytest.raises(EvaluationError, match="does not expect"):
                ruleset._rule_of(action, suffix)
    finally:
        ruleset.close()


@pytest.mark.parametrize("value", ["é", 'a "quoted" \\ word', "日本", "tab\there"])
def test_the_engine_echoes_facts_verbatim(value: str) -> None:
    """What the strict reading of actions relies on, for strings the JSON writer escapes or not."""
    ruleset = Ruleset("echo", {"r": {"all": [{"m": {"$and": [{"kind": "p"}, {"s": value}]}}]}})
    try:
        assert ruleset.fire({"kind": "p", "s": value, "x": 0.25}) == ["r"]
    finally:
        ruleset.close()

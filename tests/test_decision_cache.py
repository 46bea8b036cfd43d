"""The decision cache (matcher/engine/cache.py) never changes an answer.

* Its classes of numbers, strings and booleans are exactly the engine's: at a threshold, just above and
  below it, and where the engine's fixed-point rounding moves a value onto it, two values share a class
  if and only if durable-rules fires the same rules for them (a wrong class would reuse another fact's
  answer: a false "eligible").
* Cached and uncached evaluation give byte-identical full JSON on generated patients (values at and
  around every threshold, with caches small enough to evict), on random rule files and on every example
  in patients/; ``--no-cache`` and ``cache=False`` turn it off, with the same output.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import matcher
from matcher.engine.adapter import Ruleset, engine_number
from matcher.engine.cache import ABSENT, OTHER_STRING, DecisionCache, FactClasses, NotCacheable, number_class
from matcher.engine.evaluate import Evaluator
from matcher.errors import EvaluationError
from matcher.intake.load import Document
from matcher.model.profile import PatientProfile
from matcher.results.explain import explain
from matcher.results.render import trial_json
from matcher.rules.compile import compile_trial
from matcher.rules.language import parse_trial

from . import strategies as gen
from .helpers import PATIENTS, RULES, cli, examples

OPERATORS = ("$lt", "$lte", "$gt", "$gte", "$neq")


def _ruleset_on(key: str, thresholds: list[Any]) -> dict[str, Any]:
    """Every comparison of ``key`` with every threshold, as the compiler writes them (strings and booleans:
    equality and inequality only), one rule each."""
    rules: dict[str, Any] = {}
    for number, threshold in enumerate(thresholds):
        rules[f"eq{number}"] = {"all": [{"m": {"$and": [{"kind": "x"}, {key: threshold}]}}]}
        for operator in OPERATORS if type(threshold) in (int, float) else ("$neq",):
            rules[f"{operator[1:]}{number}"] = {"all": [{"m": {"$and": [{"kind": "x"}, {operator: {key: threshold}}]}}]}
    return rules


@pytest.fixture(scope="module")
def ruleset_factory() -> Iterator[Any]:
    made: list[Ruleset] = []

    def build(key: str, thresholds: list[Any]) -> tuple[Ruleset, FactClasses]:
        rules = _ruleset_on(key, thresholds)
        ruleset = Ruleset("cache-test", rules)
        made.append(ruleset)
        return ruleset, FactClasses(rules)

    yield build
    for ruleset in made:
        ruleset.close()


def _same_partition(ruleset: Ruleset, classes: FactClasses, key: str, values: list[Any]) -> None:
    """Two values share a class exactly when the engine fires the same rules for them."""
    fired = {repr(value): frozenset(ruleset.fire({"kind": "x", key: value})) for value in values}
    classed = {repr(value): classes.key({"kind": "x", key: value}) for value in values}
    for first, second in itertools.combinations(values, 2):
        same_class = classed[repr(first)] == classed[repr(second)]
        same_answer = fired[repr(first)] == fired[repr(second)]
        assert same_class == same_answer, (first, second, classed[repr(first)], classed[repr(second)],
                                           sorted(fired[repr(first)] ^ fired[repr(second)]))


# ------------------------------------------------------------------ classes at the boundaries
def test_an_integer_threshold_splits_below_at_and_above(ruleset_factory: Any) -> None:
    ruleset, classes = ruleset_factory("age", [18])
    values = [17, 18, 19, 17.5, 18.0, 18.5, 17.9999999, 18.0000001, 0, -18, 10**12, 1e14 + 0.5]
    _same_partition(ruleset, classes, "age", values)
    assert classes.key({"kind": "x", "age": 18}) == classes.key({"kind": "x", "age": 18.0})
    assert classes.key({"kind": "x", "age": 17}) != classes.key({"kind": "x", "age": 18})
    assert classes.key({"kind": "x", "age": 19}) != classes.key({"kind": "x", "age": 18})


def test_a_value_the_engine_rounds_onto_the_threshold_is_of_the_thresholds_class(ruleset_factory: Any) -> None:
    """Facts are written with ten decimals: 17.99999999999 reaches the engine as 18, and is classed as 18."""
    ruleset, classes = ruleset_factory("age", [18])
    assert engine_number(17.99999999999) == "18"
    assert classes.key({"kind": "x", "age": 17.99999999999}) == classes.key({"kind": "x", "age": 18})
    assert classes.key({"kind": "x", "age": 17.9999999999}) != classes.key({"kind": "x", "age": 18})
    assert classes.key({"kind": "x", "age": 18.00000000004}) == classes.key({"kind": "x", "age": 18})
    assert classes.key({"kind": "x", "age": 18.0000000001}) != classes.key({"kind": "x", "age": 18})
    _same_partition(ruleset, classes, "age", [17.99999999999, 17.9999999999, 18, 18.00000000004, 18.0000000001,
                                              18.00000000006])


def test_decimal_thresholds_and_their_neighbours(ruleset_factory: Any) -> None:
    ruleset, classes = ruleset_factory("dose", [0.5, 1.5, 2, 7.5])
    values = [0, 0.4999999999, 0.5, 0.50000000004, 0.5000000001, 1, 1.4999999999, 1.5, 1.5000000001, 1.9999999999,
              2, 2.0000000001, 7.4999999999, 7.5, 7.500000000049, 7.5000000001, 100, -0.5, -0.0]
    _same_partition(ruleset, classes, "dose", values)
    # four thresholds: each, and the five intervals around them
    assert len({classes.key({"kind": "x", "dose": value}) for value in values}) == 9


def test_thresholds_written_as_integer_and_as_decimal_are_one_number(ruleset_factory: Any) -> None:
    ruleset, classes = ruleset_factory("weight", [40, 40.0, 100.25])
    _same_partition(ruleset, classes, "weight", [39, 39.9999999999, 40, 40.0, 40.0000000001, 100.25, 100.2500000001,
                                                 100.2499999999, 101])


def test_negative_and_large_thresholds(ruleset_factory: Any) -> None:
    ruleset, classes = ruleset_factory("delta", [-3, -0.25, 0, 999999999999999])
    _same_partition(ruleset, classes, "delta", [-4, -3, -2.9999999999, -0.25, -0.2500000001, -0.0, 0, 0.0000000001,
                                                999999999999998, 999999999999999, 1e15, 2e15])


def test_compared_strings_are_kept_and_every_other_string_is_one_class(ruleset_factory: Any) -> None:
    ruleset, classes = ruleset_factory("sex", ["female", "male"])
    _same_partition(ruleset, classes, "sex", ["female", "male", "other", "unknown", "Female", "", "fe\"male"])
    assert classes.key({"kind": "x", "sex": "female"}) == ('{"kind":"x"}', "female")
    assert classes.key({"kind": "x", "sex": "unknown"}) == ('{"kind":"x"}', OTHER_STRING)
    assert classes.keys == ("sex",)


def test_booleans_are_their_own_classes(ruleset_factory: Any) -> None:
    ruleset, classes = ruleset_factory("pregnant", [True])
    _same_partition(ruleset, classes, "pregnant", [True, False])
    assert classes.key({"kind": "x", "pregnant": True}) != classes.key({"kind": "x", "pregnant": False})


def test_a_number_compared_with_a_string_or_a_boolean_is_kept_exact(ruleset_factory: Any) -> None:
    """Types the engine coerces (``True == 1``, a number against a string) are not collapsed: their exact text."""
    _ruleset, classes = ruleset_factory("mixed", [1, "1"])
    assert classes.key({"kind": "x", "mixed": 2}) != classes.key({"kind": "x", "mixed": 3})
    _ruleset, classes = ruleset_factory("flag", [True])
    assert classes.key({"kind": "x", "flag": 1}) != classes.key({"kind": "x", "flag": 2})
    assert classes.key({"kind": "x", "flag": 1}) != classes.key({"kind": "x", "flag": True})


def test_an_absent_key_is_a_class_of_its_own_and_keys_no_rule_reads_are_dropped(ruleset_factory: Any) -> None:
    _ruleset, classes = ruleset_factory("age", [18])
    assert classes.keys == ("age",)
    assert classes.key({"kind": "x"}) == ('{"kind":"x"}', ABSENT)
    assert classes.key({"kind": "x"}) != classes.key({"kind": "x", "age": 18})
    assert classes.key({"kind": "x", "age": 30, "item": 0}) == classes.key({"kind": "x", "age": 31, "item": 7})


def test_a_fact_is_keyed_on_what_the_rules_of_its_own_kind_compare() -> None:
    rules = {"a": {"all": [{"m": {"$and": [{"kind": "patient"}, {"$gte": {"age": 18}}]}}]},
             "b": {"all": [{"m": {"$and": [{"kind": "medications"}, {"$gt": {"dose": 10}}]}}]},
             "c": {"all": [{"m": {"$and": [{"kind": "medications"}, {"drug": "rituximab"}]}}]},
             "sentinel": {"all": [{"m": {"$ex": {"kind": 1}}}]}}
    classes = FactClasses(rules)
    assert classes.keys == ("age", "dose", "drug")
    patient = classes.key({"kind": "patient", "age": 30, "dose": 5})
    assert patient == classes.key({"kind": "patient", "age": 40, "dose": 50})  # no patient rule reads dose
    assert patient != classes.key({"kind": "patient", "age": 17, "dose": 5})
    course = classes.key({"kind": "medications", "age": 30, "dose": 12, "drug": "x"})
    assert course == classes.key({"kind": "medications", "age": 10, "dose": 11, "drug": "y"})
    assert course != classes.key({"kind": "medications", "dose": 12, "drug": "rituximab"})
    assert course != patient
    # a kind no rule is guarded by: every key counts (only the sentinel could match it)
    assert classes.key({"kind": "other", "age": 30}) != classes.key({"kind": "other", "age": 10})


def test_a_number_the_engine_refuses_is_refused_on_the_cached_path_too(ruleset_factory: Any) -> None:
    _ruleset, classes = ruleset_factory("age", [18])
    with pytest.raises(EvaluationError, match="not a finite number"):
        classes.key({"kind": "x", "age": float("inf")})


def test_number_classes_are_ordered_intervals() -> None:
    thresholds: list[int | float] = [1, 2.5]
    assert [number_class(v, thresholds) for v in (0, 1, 1.2, 2.5, 3)] == [0, 1, 2, 3, 4]


@given(thresholds=st.lists(st.one_of(st.integers(-10**6, 10**6), st.decimals(-10**6, 10**6, places=4).map(float)),
                           min_size=1, max_size=5),
       data=st.data())
def test_the_shortcut_for_floats_gives_the_class_of_the_number_the_engine_reads(
        thresholds: list[int | float], data: st.DataObject) -> None:
    """Away from every threshold a float is classed without writing its text; near one (within rounding of it,
    or a few ulps away) the class is that of the text the engine is given, read back."""
    read = sorted({float(engine_number(t)) if "." in engine_number(t) else int(engine_number(t)) for t in thresholds})
    near = data.draw(st.sampled_from(read))
    offset = data.draw(st.sampled_from([0, 1e-12, 4e-11, 5e-11, 6e-11, 1e-10, 1e-9, 1.1e-9, 1e-8, 0.5, 1e-3]))
    value = float(near) + data.draw(st.sampled_from([-1, 1])) * offset * data.draw(st.sampled_from([1, 1 + abs(near)]))
    assert number_class(value, read) == number_class(value, read, rounded=True), (value, read)


def test_rules_of_another_shape_are_not_cached() -> None:
    with pytest.raises(NotCacheable):
        FactClasses({"r": {"all": [{"m": {"kind": "x"}}, {"n": {"kind": "y"}}]}})
    with pytest.raises(NotCacheable):
        FactClasses({"r": {"all": [{"m": {"$mt": {"name": "a.*"}}}]}})
    with pytest.raises(NotCacheable):
        FactClasses({"r": {"any": [{"m": {"kind": "x"}}]}})


def test_every_encoded_trial_is_cached(trials: list[matcher.Trial]) -> None:
    for trial in trials:
        classes = FactClasses(compile_trial(trial).rules)
        assert classes.keys and "item" not in classes.keys


def test_the_cache_is_bounded_and_keeps_the_most_recently_used() -> None:
    cache = DecisionCache(2)
    cache.put(("a",), (True,))
    cache.put(("b",), (False,))
    assert cache.get(("a",)) == (True,)  # a is now the most recent
    cache.put(("c",), (None,))
    assert len(cache) == 2 and cache.get(("b",)) is None and cache.get(("a",)) == (True,)
    assert (cache.hits, cache.misses) == (2, 1)
    with pytest.raises(ValueError):
        DecisionCache(0)


# ------------------------------------------------------------------ cached = uncached, whole evaluations
def _full_json(evaluator: Evaluator, patient: PatientProfile, as_of: dt.date, trial_ids: list[str]) -> list[str]:
    return [json.dumps(trial_json(explain(evaluator.evaluate(patient, as_of, trial_id), "given")),
                       ensure_ascii=False, sort_keys=False) for trial_id in trial_ids]


@pytest.fixture(scope="module")
def evaluators() -> Iterator[tuple[Evaluator, Evaluator, Evaluator]]:
    """Uncached, cached (default bounds) and cached with caches so small they evict all the time, over
    every encoded trial, kept for the whole module so answers cached for one patient serve the next."""
    compiled = [compile_trial(trial) for trial in gen.encoded_trials()]
    with Evaluator(compiled, cache=False) as plain, Evaluator(compiled) as cached, \
            Evaluator(compiled, patient_facts=3, entry_facts=5) as tiny:
        yield plain, cached, tiny


@examples(1.0)
@given(drawn=gen.patients())
def test_cached_and_uncached_evaluation_give_the_same_full_json(
        evaluators: tuple[Evaluator, Evaluator, Evaluator], drawn: tuple[dict[str, Any], dt.date]) -> None:
    """On generated patients (values at, just above and just below every threshold of the rule files), the full
    JSON of every trial is byte-identical with and without the cache; the second evaluation of a patient is
    answered from the cache alone."""
    data, as_of = drawn
    note(gen.dump(data))
    patient = PatientProfile.model_validate(data)
    plain, cached, tiny = evaluators
    trial_ids = list(plain.compiled)
    expected = _full_json(plain, patient, as_of, trial_ids)
    assert _full_json(cached, patient, as_of, trial_ids) == expected
    asked = cached.cache_stats().misses
    assert _full_json(cached, patient, as_of, trial_ids) == expected
    assert cached.cache_stats().misses == asked  # every fact of the second time was answered from the cache
    assert _full_json(tiny, patient, as_of, trial_ids) == expected
    assert plain.cache_stats() == (0, 0, 0)


@examples(0.5)
@given(document=gen.rule_documents(), data=st.data())
def test_cached_and_uncached_agree_on_random_rule_files(document: dict[str, Any], data: st.DataObject) -> None:
    """Random rule files (thresholds in any unit, disputed boundaries, queries) and several patients near their
    thresholds evaluated in one cached evaluator: the same truths and full JSON as without the cache."""
    note(gen.rule_file(document))
    trial = parse_trial(Document("<string>", document, {}))
    compiled = compile_trial(trial)
    near = gen.thresholds_of([trial])
    with Evaluator([compiled], cache=False) as plain, Evaluator([compiled]) as cached:
        for _ in range(6):
            patient_data, as_of = data.draw(gen.patients(thresholds=near))
            patient = PatientProfile.model_validate(patient_data)
            uncached_evaluation = plain.evaluate(patient, as_of, trial.id)
            cached_evaluation = cached.evaluate(patient, as_of, trial.id)
            assert cached_evaluation.truths == uncached_evaluation.truths
            assert ({name: [item.truths for item in query.items or ()]
                     for name, query in cached_evaluation.queries.items()}
                    == {name: [item.truths for item in query.items or ()]
                        for name, query in uncached_evaluation.queries.items()})
            assert _full_json(cached, patient, as_of, [trial.id]) == _full_json(plain, patient, as_of, [trial.id])


def test_every_example_patient_gives_the_same_full_json_with_and_without_the_cache(
        trials: list[matcher.Trial]) -> None:
    """Every file in patients/ through one cached Matcher (in order, then backwards, so answers cached for
    one example serve the others) and through an uncached one: the same full JSON."""
    from matcher.intake.sources import iter_records, read_record
    from matcher.screening.screen import trial_row

    records = [(record.location, read_record(record)) for record in iter_records(PATIENTS)]
    assert len(records) >= 40
    with matcher.Matcher(trials, cache=False) as plain, matcher.Matcher(trials) as cached:
        def rows(engine: matcher.Matcher, order: list[Any]) -> dict[str, list[str | None]]:
            return {location: [trial_row(result, location).json for result in engine.evaluate(loaded.profile)]
                    for location, loaded in order}

        expected = rows(plain, records)
        assert rows(cached, records) == expected
        assert rows(cached, records[::-1]) == expected
        stats = cached.cache_stats()
        assert stats.hits > stats.misses > 0
        assert plain.cache_stats() == (0, 0, 0)


def test_no_cache_on_the_command_line_gives_the_same_output(tmp_path: Any) -> None:
    patient = str(PATIENTS / "NCT00698191-eligible-lupus-nephritis.yaml")
    assert cli("check", patient, "--format", "json", "--as-of", "2026-11-01") == \
        cli("check", patient, "--format", "json", "--as-of", "2026-11-01", "--no-cache")
    outputs = []
    for flags in ([], ["--no-cache"]):
        out = tmp_path / f"results{len(flags)}.jsonl"
        code, _, err = cli("screen", str(PATIENTS), "--out", str(out), "--no-log", "--as-of", "2026-11-01",
                           "--rules", str(RULES), *flags)
        assert code in (0, 4), err
        outputs.append(out.read_text(encoding="utf-8"))
    assert outputs[0] == outputs[1] and outputs[0].count("\n") >= 40


def test_cache_false_asks_the_engine_about_every_fact(trials: list[matcher.Trial]) -> None:
    from .helpers import base_patient, profile

    patient = profile(base_patient())
    with matcher.Matcher(trials, cache=False) as plain, matcher.Matcher(trials) as cached:
        plain.evaluate(patient)
        cached.evaluate(patient)
        cached.evaluate(patient)
        assert plain.cache_stats() == (0, 0, 0)
        stats = cached.cache_stats()
        assert stats.misses > 0 and stats.hits >= stats.misses


# ------------------------------------------------------------------ each field read once per patient
def test_reads_shared_by_every_trial_give_the_same_evaluations_and_read_each_field_once(
        evaluators: tuple[Evaluator, Evaluator, Evaluator]) -> None:
    from matcher.engine.evaluate import PatientReads
    from matcher.model.fields import PATIENT_FIELDS

    from .helpers import base_patient, profile

    plain, _cached, _tiny = evaluators
    patient, as_of = profile(base_patient()), dt.date(2026, 11, 1)
    trial_ids = list(plain.compiled)
    alone = _full_json(plain, patient, as_of, trial_ids)
    read = PatientReads(patient, as_of)
    calls: dict[str, int] = {}

    def counted(name: str, extract: Any) -> Any:
        def wrapper(*args: Any) -> Any:
            calls[name] = calls.get(name, 0) + 1
            return extract(*args)
        return wrapper

    with Evaluator([plain.compiled[t] for t in trial_ids], cache=False) as counting:
        # every trial's extractors of patient fields, counting their calls
        counting._reads = {trial_id: reads._replace(patient=tuple(
            (name, counted(name, extract), key, window, label) for name, extract, key, window, label in reads.patient))
            for trial_id, reads in counting._reads.items()}
        shared = [json.dumps(trial_json(explain(counting.evaluate(patient, as_of, trial_id, read=read), "given")),
                             ensure_ascii=False) for trial_id in trial_ids]
    assert shared == alone
    assert calls and set(calls.values()) == {1}  # every patient field read once across the trials
    assert sum(name in PATIENT_FIELDS for name in calls) == len(calls)
    assert len(read.fields) == len(calls)
    used_by_several = [name for name in calls
                       if sum(name in plain.compiled[t].patient_fields for t in trial_ids) > 1]
    assert used_by_several  # the shared reads saved something: age, sex, labs are compared by several trials
    other = profile(base_patient())
    with pytest.raises(ValueError, match="another patient"):
        plain.evaluate(other, as_of, trial_ids[0], read=read)
    with pytest.raises(ValueError, match="another patient"):
        plain.evaluate(patient, dt.date(2026, 10, 1), trial_ids[0], read=read)

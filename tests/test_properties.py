"""Properties of the matcher, each its own test, over patients and rule trees from tests/strategies.py.

Everything is derived from the rule files in rules/ and the field catalogue (matcher/model/fields/fields.yaml): a
new rule file is covered as soon as it is added, and a comparison on a field the strategies cannot
write makes test_boundaries fail with what to add. Example counts follow the hypothesis profile
(tests/conftest.py): the default keeps this module near a minute on two cores; run
``HYPOTHESIS_PROFILE=thorough pytest tests/test_properties.py`` for a longer search.

Every failure shows its counterexample as a patient file to run with ``matcher check``.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import operator
import re
import tempfile
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, note
from hypothesis import strategies as st

import matcher
from matcher.cli import EXIT_BAD_INPUT, EXIT_ELIGIBLE, EXIT_INELIGIBLE, EXIT_REVIEW, EXIT_UNDETERMINED, main
from matcher.engine.evaluate import Evaluation, Evaluator
from matcher.errors import MatcherError, PatientFileError
from matcher.intake.load import Document, parse_json, parse_yaml
from matcher.intake.validate import validate_patient
from matcher.model.fields import LISTS
from matcher.model.measurements import LAB_TESTS
from matcher.model.profile import PatientProfile
from matcher.results.explain import TrialResult, explain
from matcher.rules.compile import CompiledTrial, compile_trial
from matcher.rules.language import Comparison, QueryRef, parse_trial, walk

from . import strategies as gen
from .helpers import examples
from .oracle import oracle

Truth = bool | None



# ================================================================== evaluation helpers

def compiled_trials(evaluator: Evaluator) -> list[CompiledTrial]:
    return [evaluator.compiled[trial.id] for trial in gen.encoded_trials()]


def show(data: dict[str, Any], as_of: dt.date) -> str:
    """Note the patient as a file ``matcher check`` runs (printed only when the property fails)."""
    text = gen.patient_file(data, as_of)
    note(text)
    return text


def root_truths(evaluation: Evaluation) -> dict[str, Truth]:
    compiled = evaluation.compiled
    return {cid: evaluation.truths[index] for cid, index in compiled.criterion_roots.items()}


def results(evaluator: Evaluator, patient: PatientProfile, as_of: dt.date) -> list[TrialResult]:
    return [explain(evaluator.evaluate(patient, as_of, trial.id), "given") for trial in gen.encoded_trials()]


def decisions(found: list[TrialResult]) -> dict[str, tuple[str, dict[str, str], tuple[str, ...]]]:
    """trial -> (verdict, outcome of every criterion, deciding criteria): what must not change."""
    return {r.trial: (r.verdict, {c.id: c.outcome for c in r.criteria}, r.deciding) for r in found}


def changes(before: dict[str, Any], after: dict[str, Any]) -> str:
    """What differs between two ``decisions``: one line per criterion or verdict."""
    lines = []
    for trial in sorted(set(before) | set(after)):
        (v1, o1, d1), (v2, o2, d2) = before.get(trial, ("-", {}, ())), after.get(trial, ("-", {}, ()))
        if v1 != v2 or d1 != d2:
            lines.append(f"{trial}: verdict {v1} {d1} became {v2} {d2}")
        lines += [f"{trial} {cid}: {o1.get(cid)} became {o2.get(cid)}" for cid in sorted(set(o1) | set(o2))
                  if o1.get(cid) != o2.get(cid)]
    return "\n".join(lines)


def load_text(text: str, name: str) -> PatientProfile:
    """Read a generated patient as a file is read. Its dates are not checked against the wall clock and the
    birth date: generated screenings reach 2060 (test_dates_outside_the_patients_life_are_refused checks that)."""
    return validate_patient(parse_yaml(text, name, PatientFileError), check_dates=False)


def as_yaml(data: dict[str, Any]) -> str:
    return gen.dump(data)


#: what each operator means, written here independently of matcher.rules.language.OPERATORS
RELATIONS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "lte": operator.le, "gt": operator.gt,
    "gte": operator.ge, "in": lambda value, options: value in options,
}


def implied(node: Comparison, value: Any, numeric: bool) -> tuple[Truth, list[bool]]:
    """The truth a comparison must have for a patient value, and that of each of its readings
    (a disputed boundary is decided only where its readings agree)."""
    each = [RELATIONS[r.op](value, gen.exact(r.value) if numeric else r.value) for r in node.readings]
    return (each[0] if len(set(each)) == 1 else None), each


# ================================================================== 1. engine = oracle
@examples(1.0)
@given(drawn=gen.patients())
def test_engine_agrees_with_the_oracle_on_every_criterion_of_every_trial(
        evaluator: Evaluator, drawn: tuple[dict[str, Any], dt.date]) -> None:
    """durable-rules decides every criterion of every encoded trial as the plain-Python three-valued
    evaluator (tests/oracle.py) does, on partial, complete and boundary patients."""
    data, as_of = drawn
    show(data, as_of)
    patient = PatientProfile.model_validate(data)
    for compiled in compiled_trials(evaluator):
        engine = root_truths(evaluator.evaluate(patient, as_of, compiled.trial.id))
        assert engine == oracle(compiled, patient, as_of), compiled.trial.id


@examples(1.0)
@given(document=gen.rule_documents(), data=st.data())
def test_engine_agrees_with_the_oracle_on_random_rule_trees(document: dict[str, Any], data: st.DataObject) -> None:
    """Random rule files over every patient and list field (all/any/not, queries, manual parts,
    disputed boundaries, thresholds in any accepted unit) compile to rules the engine evaluates as
    the oracle does: this tests the compiler and the engine workarounds, not only the encoded trials."""
    note(gen.rule_file(document))
    trial = parse_trial(Document("<string>", document, {}))
    compiled = compile_trial(trial)
    near = gen.thresholds_of([trial])
    with Evaluator([compiled]) as ev:
        for _ in range(3):
            patient_data, as_of = data.draw(gen.patients(thresholds=near))
            show(patient_data, as_of)
            patient = PatientProfile.model_validate(patient_data)
            assert root_truths(ev.evaluate(patient, as_of, trial.id)) == oracle(compiled, patient, as_of)


# ================================================================== 2. boundaries
SITES = gen.sites(gen.encoded_trials())


def _site_tokens(ctx: gen.Ctx, writer: gen.Writer, site: gen.Site) -> list[gen.Token]:
    """Values just below, at and just above every threshold of the comparison (every reading), or for a
    bool/enum comparison each compared value and one other."""
    if writer.numeric:
        found: dict[Any, gen.Token] = {}
        for reading in site.node.readings:
            for token in writer.around(ctx, gen.exact(reading.value)):
                found.setdefault(token.value, token)
        return list(found.values())
    compared: set[Any] = set()
    for reading in site.node.readings:
        compared |= set(reading.value) if isinstance(reading.value, tuple) else {reading.value}
    others = [c for c in writer.choices if c not in compared]
    chosen = [c for c in writer.choices if c in compared]
    if others:
        chosen.append(ctx.draw(st.sampled_from(others)))
    return [gen.Token(c) for c in chosen]


def _node_index(compiled: CompiledTrial, node: Comparison) -> int:
    return next(c.index for c in compiled.nodes if c.node is node)


@pytest.mark.parametrize("site", SITES, ids=[s.ident for s in SITES])
def test_boundaries_of_every_threshold_in_the_rule_files(evaluator: Evaluator, site: gen.Site) -> None:
    """For every comparison in every rule file (criterion conditions and query ``where``s), values just
    below, at and just above each threshold (each reading of a disputed boundary), written into a
    patient by the field writers of tests/strategies.py, make the engine decide the comparison as its
    operator says; bool and enum comparisons likewise for the compared values and another. Dated
    values are written on the as-of date with a value of the other side the day before and the day
    after; ages and durations at the day they change. A comparison on a field without a writer fails."""
    writer = gen.writer_for(site.scope, site.node.field)
    if writer is None:
        where = "patient field" if site.scope == gen.PATIENT else f"field of {site.scope} entries"
        pytest.fail(f"{site}: tests/strategies.py has no field writer for the {where} {site.node.field!r}, so "
                    "the boundaries of this comparison are not tested: add one (see _build_writers there)",
                    pytrace=False)
    compiled = evaluator.compiled[site.trial.id]
    index = _node_index(compiled, site.node)

    @examples(0.15)
    @given(drawn=gen.patients(sparse=True), data=st.data())
    def check(drawn: tuple[dict[str, Any], dt.date], data: st.DataObject) -> None:
        base, as_of = drawn
        tokens = _site_tokens(gen.Ctx(data.draw, as_of), writer, site)
        for token in tokens:
            expected, each = implied(site.node, token.value, writer.numeric)
            decoys = [t for t in tokens if implied(site.node, t.value, writer.numeric)[0] != expected]
            ctx = gen.Ctx(data.draw, as_of, decoy=decoys[0] if decoys else None)
            patient = copy.deepcopy(base)
            if site.scope == gen.PATIENT:
                writer.write(ctx, patient, token)
            else:
                entry = gen.base_entry(ctx, site.scope)
                writer.write(ctx, entry, token)
                patient[site.scope] = [entry]
            shown = show(patient, as_of)
            evaluation = evaluator.evaluate(PatientProfile.model_validate(patient), as_of, site.trial.id)
            if site.scope == gen.PATIENT:
                truths = evaluation.truths
            else:
                items = evaluation.queries[site.owner].items or ()
                assert len(items) == 1, f"{site}: the written {site.scope} entry is not counted"
                truths = items[0].truths
            found = [truths[index], *(truths[child] for child in compiled.nodes[index].children)]
            wanted = [expected, *(each if len(each) > 1 else [])]
            assert found == wanted, (f"{site}: value {token} should make it {expected} (readings {each}) but the "
                                     f"engine says {found}\n{shown}")

    check()


@pytest.mark.parametrize(("scope", "name"), sorted(gen.WRITERS), ids=[f"{s}.{n}" for s, n in sorted(gen.WRITERS)])
def test_every_field_reads_what_its_writer_wrote(scope: str, name: str) -> None:
    """Boundaries of every field the strategies can write, used by a rule file or not: a value written
    just below, at or just above a threshold (ages and durations to the day, dated values on the as-of
    date) is read by the matcher on the same side of it. Pins the documented arithmetic (completed
    years, calendar months, 7-day weeks, "most recent on or before the as-of date") field by field."""
    writer = gen.WRITERS[(scope, name)]
    spec = gen.field_spec(scope, name)

    @examples(0.1)
    @given(drawn=gen.patients(sparse=True), data=st.data())
    def check(drawn: tuple[dict[str, Any], dt.date], data: st.DataObject) -> None:
        base, as_of = drawn
        ctx = gen.Ctx(data.draw, as_of)
        if writer.numeric:  # a threshold as a rule file writes one: a short decimal
            threshold: Fraction | None = Fraction(f"{float(writer.random(ctx).value):.2f}")
            tokens = writer.around(ctx, threshold)
        else:
            threshold, tokens = None, [gen.Token(c) for c in writer.choices]
        for token in tokens:
            patient = copy.deepcopy(base)
            if scope == gen.PATIENT:
                writer.write(ctx, patient, token)
                profile = PatientProfile.model_validate(patient)
                reading = spec.extract(profile, as_of)
            else:
                entry = gen.base_entry(ctx, scope)
                writer.write(ctx, entry, token)
                patient[scope] = [entry]
                profile = PatientProfile.model_validate(patient)
                item = getattr(profile, scope)[0]
                assert LISTS[scope].visible(item, as_of), f"{scope}.{name}: the written entry is not counted"
                reading = spec.extract(item, 0, profile, as_of)
            value = getattr(reading, "value", reading)
            if threshold is None:
                same = value == token.value
            else:
                number = isinstance(value, (int, float)) and not isinstance(value, bool)
                read = gen.exact(value) if number else None
                same = read is not None and all(rel(read, threshold) == rel(token.value, threshold)
                                                for rel in (operator.lt, operator.eq, operator.gt))
            assert same, (f"{scope}.{name}: wrote {token} (threshold {threshold}), read {value}\n"
                          f"{gen.patient_file(patient, as_of)}")

    check()


# ================================================================== 3. information monotonicity
@examples(0.6)
@given(drawn=gen.patients(complete=True), data=st.data())
def test_filling_in_missing_data_never_changes_a_decided_outcome(
        evaluator: Evaluator, drawn: tuple[dict[str, Any], dt.date], data: st.DataObject) -> None:
    """Take information away from a patient (optional keys at any depth, a whole list, every result of a
    test): each criterion that was met or not met with less information is the same with more, and a
    verdict of eligible or ineligible stays; only undetermined may change. Asserted for records that do
    not contradict themselves (gen.consistent) and for keys whose absence the matcher does not read as a
    value (gen.removable says which and why)."""
    full, as_of = drawn
    gen.consistent(full, as_of)
    partial, removed = data.draw(gen.less_informed(full, as_of))
    note(f"removed: {removed}")
    show(partial, as_of)
    before = decisions(results(evaluator, PatientProfile.model_validate(partial), as_of))
    after = decisions(results(evaluator, PatientProfile.model_validate(full), as_of))
    for trial, (verdict, outcomes, _) in before.items():
        for cid, outcome in outcomes.items():
            if outcome in ("met", "not_met"):
                assert after[trial][1][cid] == outcome, f"{trial} {cid}: {outcome} became {after[trial][1][cid]}"
        if verdict != "undetermined":
            assert after[trial][0] == verdict, f"{trial}: {verdict} became {after[trial][0]}"


# ================================================================== 4. verdict algebra
@examples(1.0)
@given(drawn=gen.patients())
def test_verdicts_follow_from_the_criterion_outcomes(
        evaluator: Evaluator, drawn: tuple[dict[str, Any], dt.date]) -> None:
    """ineligible exactly when an inclusion is not met or an exclusion is met; eligible exactly when every
    inclusion is met, no exclusion is met and nothing is unknown (manual criteria are pending, not
    unknown); undetermined otherwise. Outcomes are the engine's truths (met = true, not met = false);
    an unknown outcome says what to collect, a decided one does not."""
    data, as_of = drawn
    show(data, as_of)
    patient = PatientProfile.model_validate(data)
    for trial in gen.encoded_trials():
        evaluation = evaluator.evaluate(patient, as_of, trial.id)
        result = explain(evaluation, "given")
        truths = root_truths(evaluation)
        by_id = {c.id: c for c in result.criteria}
        assert list(by_id) == [c.id for c in trial.criteria]
        for criterion in trial.criteria:
            outcome = by_id[criterion.id].outcome
            if criterion.condition is None:
                assert outcome == "manual", criterion.id
            else:
                wanted = {True: {"met"}, False: {"not_met"}, None: {"unknown", "manual"}}[truths[criterion.id]]
                assert outcome in wanted, (criterion.id, outcome, truths[criterion.id])
            assert bool(by_id[criterion.id].missing) == (outcome == "unknown"), (criterion.id, outcome)
        inclusions = [c for c in result.criteria if c.kind == "inclusion"]
        exclusions = [c for c in result.criteria if c.kind == "exclusion"]
        failing = [c.id for c in result.criteria if (c.kind, c.outcome) in (("inclusion", "not_met"),
                                                                            ("exclusion", "met"))]
        unknown = [c.id for c in result.criteria if c.outcome == "unknown"]
        assert (result.verdict == "ineligible") == bool(failing), result.trial
        questions = [c.id for c in result.criteria if c.outcome == "manual" and c.question]
        assert (result.verdict in ("eligible", "review")) == (
            all(c.outcome in ("met", "manual") for c in inclusions)
            and all(c.outcome in ("not_met", "manual") for c in exclusions) and not unknown), result.trial
        assert (result.verdict == "review") == (not failing and not unknown and bool(questions)), result.trial
        assert result.deciding == tuple(failing if failing else unknown if result.verdict == "undetermined"
                                        else questions if result.verdict == "review" else ())
        assert result.pending_manual == tuple(c.id for c in result.criteria if c.outcome == "manual")
        if result.verdict == "undetermined":
            assert result.to_collect, result.trial


# ================================================================== 5. unit invariance
@examples(0.8)
@given(drawn=gen.patients(), data=st.data())
def test_the_same_quantities_in_other_units_give_the_same_outcomes(
        evaluator: Evaluator, drawn: tuple[dict[str, Any], dt.date], data: st.DataObject) -> None:
    """Every lab value, ULN, dose, weight and height rewritten in another accepted unit (g/24h and mg/24h,
    umol/L and mg/dL, mg/mmol, g/g and mg/g, x10^9/L and /uL, kPa and mmHg, ...) at exactly the same
    amount gives the same outcome for every criterion of every trial."""
    missing = sorted({t.measure.display for t in LAB_TESTS.values() if len(gen.spellings(t.measure.display)) < 2})
    assert not missing, f"tests/strategies.py UNITS has no other spelling for {missing}: add the accepted ones"
    data_a, as_of = drawn
    data_b = gen.rewrite_units(data.draw, data_a)
    show(data_b, as_of)
    first = decisions(results(evaluator, PatientProfile.model_validate(data_a), as_of))
    second = decisions(results(evaluator, PatientProfile.model_validate(data_b), as_of))
    assert second == first, changes(first, second)


# ================================================================== 6. time invariance
FIRST, LAST = dt.date(1901, 1, 1), dt.date(2099, 12, 31)  # every 4th year is a leap year in between


@examples(0.8)
@given(drawn=gen.patients(), years=st.integers(-25, 25).filter(bool), data=st.data())
def test_shifting_every_date_by_whole_leap_cycles_changes_nothing(
        evaluator: Evaluator, drawn: tuple[dict[str, Any], dt.date], years: int, data: st.DataObject) -> None:
    """Every date of the patient and the as-of date moved by the same number of 4-year cycles (so each
    date keeps its month and day, 29 February included, and every month its length: all dates stay
    within 1901-2099) gives the same outcomes and verdicts. Shifts by a number of days are not asserted:
    calendar months have different lengths, so a duration in months may rightly change."""
    data_a, as_of = drawn
    shift = 4 * years
    dates = [as_of, *gen.all_dates(data_a)]
    assume(min(dates) >= FIRST and max(dates) <= LAST)
    assume(FIRST.year <= min(dates).year + shift and max(dates).year + shift <= LAST.year)

    def moved(day: dt.date) -> dt.date:
        return day.replace(year=day.year + shift)

    data_b = gen.shift_dates(data_a, moved)
    show(data_b, moved(as_of))
    first = decisions(results(evaluator, PatientProfile.model_validate(data_a), as_of))
    second = decisions(results(evaluator, PatientProfile.model_validate(data_b), moved(as_of)))
    assert second == first, changes(first, second)


# ================================================================== 7. order invariance, determinism
def _unplaced(items: tuple[str, ...]) -> set[str]:
    return {re.sub(r"\[\d+\]", "[]", item) for item in items}


@examples(0.8)
@given(drawn=gen.patients(), data=st.data())
def test_order_of_keys_and_entries_changes_nothing_and_evaluation_is_deterministic(
        evaluator: Evaluator, drawn: tuple[dict[str, Any], dt.date], data: st.DataObject) -> None:
    """The patient file with its keys, medication courses, lab results (distinct dates for one test),
    scores and other list entries in another order gives the same outcomes, verdicts and things to
    collect; the same patient evaluated twice, or by a freshly compiled matcher, gives equal results."""
    data_a, as_of = drawn
    data_b = gen.shuffled(data.draw, data_a)
    show(data_b, as_of)
    patient_a, patient_b = load_text(as_yaml(data_a), "a.yaml"), load_text(as_yaml(data_b), "b.yaml")
    first, second = results(evaluator, patient_a, as_of), results(evaluator, patient_b, as_of)
    assert decisions(second) == decisions(first), changes(decisions(first), decisions(second))
    for one, other in zip(first, second, strict=True):  # entries are named by their place in the list
        assert _unplaced(one.to_collect) == _unplaced(other.to_collect), (one.trial, one.to_collect, other.to_collect)
    assert results(evaluator, patient_a, as_of) == first, "evaluating the same patient again gave another result"
    fresh = matcher.evaluate(patient_a, list(gen.encoded_trials()), as_of)
    assert fresh == first, "a freshly compiled matcher gave another result"


# ================================================================== 8. bad input
def _parse(text: str, suffix: str) -> PatientProfile:
    name = f"patient{suffix}"
    document = parse_json(text, name, PatientFileError) if suffix == ".json" else parse_yaml(text, name,
                                                                                             PatientFileError)
    return validate_patient(document)


@examples(2.0)
@given(document=gen.bad_documents())
def test_bad_input_raises_only_the_matchers_own_errors(document: tuple[str, str]) -> None:
    """Arbitrary YAML and JSON, wrong types, impossible values, unknown and missing keys: reading and
    validating a patient either succeeds or raises a PatientFileError naming the file; a patient that
    validates is evaluated without any exception but the matcher's own."""
    text, suffix = document
    note(text)
    try:
        patient = _parse(text, suffix)
    except PatientFileError as error:
        assert error.file == f"patient{suffix}"
        return
    try:
        matcher.evaluate(patient, list(gen.encoded_trials()), dt.date(2026, 11, 2))
    except MatcherError as error:  # e.g. a birth date after the as-of date
        assert isinstance(error, PatientFileError), error


@examples(0.4)
@given(document=gen.bad_documents())
def test_the_cli_answers_bad_input_with_one_line_and_exit_code_2(document: tuple[str, str]) -> None:
    """``matcher check`` on any file never prints a traceback: bad input gives exit code 2 and one line
    per problem on stderr, each naming the file; input that validates gives a verdict's exit code."""
    text, suffix = document
    note(text)
    try:
        _parse(text, suffix)
        valid = True
    except MatcherError:
        valid = False
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"patient{suffix}"
        path.write_text(text, encoding="utf-8")
        rules = Path(folder) / "rules"  # one small trial keeps each run (and shrinking) quick
        rules.mkdir()
        smallest = min(gen.encoded_trials(), key=lambda t: len(t.criteria))
        (rules / Path(smallest.path).name).write_bytes((gen.RULES / Path(smallest.path).name).read_bytes())
        out, err = io.StringIO(), io.StringIO()
        code = main(["check", str(path), "--as-of", "2026-11-02", "--format", "json", "--rules", str(rules)], out, err)
    assert "Traceback" not in err.getvalue() + out.getvalue()
    if valid:
        assert code in (EXIT_ELIGIBLE, EXIT_INELIGIBLE, EXIT_UNDETERMINED, EXIT_REVIEW, EXIT_BAD_INPUT), code
    else:
        assert code == EXIT_BAD_INPUT, code
    if code == EXIT_BAD_INPUT:
        lines = err.getvalue().splitlines()  # one line per problem of the file, each naming it
        assert lines and all(line.startswith(f"matcher: error: {path}") for line in lines), lines
        assert out.getvalue() == ""


# ================================================================== 9. thresholds match the rule file's words
_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)")
_WORDS = {"one": 1, "two": 2, "twice": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
          "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
_WORD = re.compile(r"\b(" + "|".join(_WORDS) + r")\b", re.IGNORECASE)
#: relation words and symbols written right before a number, longest first
_BEFORE = sorted([
    ("≥", "gte"), (">=", "gte"), ("=>", "gte"), ("≧", "gte"), ("at least", "gte"), ("no less than", "gte"),
    ("not less than", "gte"), ("a minimum of", "gte"), ("minimum of", "gte"),
    (">", "gt"), ("more than", "gt"), ("greater than", "gt"), ("higher than", "gt"), ("above", "gt"),
    ("exceeding", "gt"), ("over", "gt"),
    ("≤", "lte"), ("<=", "lte"), ("=<", "lte"), ("≦", "lte"), ("at most", "lte"), ("no more than", "lte"),
    ("not more than", "lte"), ("up to", "lte"), ("a maximum of", "lte"), ("maximum of", "lte"),
    ("<", "lt"), ("less than", "lt"), ("fewer than", "lt"), ("lower than", "lt"), ("below", "lt"), ("under", "lt"),
], key=lambda pair: -len(pair[0]))
_NEGATION = {"gte": "lt", "lt": "gte", "gt": "lte", "lte": "gt", "eq": "ne", "ne": "eq"}


_PERIODIC = {"daily": Fraction(1), "weekly": Fraction(7)}  # days between administrations


def _mentions(text: str) -> Iterator[tuple[Fraction, str | None]]:
    """(number, relation written right before it or None) for every number in ``text``; a number of weeks
    also counts as 7 times as many days and a number of days as a seventh as many weeks."""
    clean = text.replace("\\", "")
    found = [(m.start(), m.end(), Fraction(m.group(1))) for m in _NUMBER.finditer(clean)]
    found += [(m.start(), m.end(), Fraction(_WORDS[m.group(1).lower()])) for m in _WORD.finditer(clean)]
    for word, interval in _PERIODIC.items():
        found += [(m.start(), m.end(), interval) for m in re.finditer(rf"\b{word}\b", clean, re.IGNORECASE)]
    for start, end, number in found:
        before = clean[:start].rstrip().lower()
        relation = next((op for word, op in _BEFORE if before.endswith(word)
                         and (not word[0].isalpha() or not before[:-len(word)][-1:].isalpha())), None)
        yield number, relation
        after = clean[end:].lstrip().lower()
        if after.startswith("week"):
            yield number * 7, relation
        elif after.startswith("day"):
            yield number / 7, relation


def _words_of(site: gen.Site) -> str:
    """The rule file's own words around a comparison: the criterion's registry text, notes and labels, or
    the query's label and notes and the text and notes of the criteria using it."""
    trial = site.trial
    parts: list[str] = []
    if site.scope == gen.PATIENT:
        criterion = trial.criterion(site.owner)
        parts += [criterion.text, *criterion.notes]
        nodes = [criterion.condition]
    else:
        query = trial.queries[site.owner]
        parts += [query.label, *query.notes]
        nodes = [query.where]
        for criterion in trial.criteria:
            if criterion.condition is not None and any(isinstance(n, QueryRef) and n.query == site.owner
                                                       for n in walk(criterion.condition)):
                parts += [criterion.text, *criterion.notes]
    parts += [n.label for root in nodes if root is not None for n in walk(root)
              if isinstance(n, Comparison) and n.label]
    return "\n".join(parts)


def _stated(threshold: Fraction, written: str) -> set[Fraction]:
    """The numbers that state a threshold: as written, in the canonical unit, or in a unit 10^3k apart."""
    head = _NUMBER.search(written.replace(",", ""))
    base = {threshold} | ({Fraction(head.group(1))} if head else set())
    return {b * Fraction(1000) ** k for b in base for k in (-2, -1, 0, 1, 2)}


def test_every_threshold_is_stated_in_the_rule_files_own_words() -> None:
    """Every number a condition compares with appears in the words the rule file gives for it (the
    registry text, the notes recording each reading, the comparison's label), and where those words put
    a relation right before it ("≥ 8", "more than 20", "below 15", "at least six"), the comparison uses
    that relation or its negation. A threshold or operator edited in a condition but not in its words
    fails here. Fix by correcting the condition, or by stating the reading in a note ("read as ≥ 6")."""
    problems = []
    for site in gen.sites(gen.encoded_trials()):
        if gen.field_spec(site.scope, site.node.field).type != "number":
            continue
        mentions = list(_mentions(_words_of(site)))
        # a disputed boundary keeps two readings: the words may support either
        allowed = {op for r in site.node.readings for op in (r.op, _NEGATION.get(r.op, r.op))}
        for reading in site.node.readings:
            numbers = _stated(gen.exact(reading.value), reading.written)
            here = [relation for number, relation in mentions if number in numbers]
            if not here:
                problems.append(f"{site}: the threshold {reading.written} is not stated in the criterion's text, "
                                "notes or label")
                continue
            cued = {r for r in here if r is not None}
            if cued and not cued & allowed:
                problems.append(f"{site}: the words put {sorted(cued)} before {reading.written}, the condition "
                                f"says {reading.op}")
    assert not problems, "\n".join(problems)

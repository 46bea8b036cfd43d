"""Property: every threshold of the rule files is decided as its operator says just below, at and just above
it, and every field reads what its writer wrote.

A comparison on a field the strategies cannot write makes test_boundaries_of_every_threshold_in_the_rule_files
fail with what to add.
"""

from __future__ import annotations

import copy
import datetime as dt
import operator
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.engine.evaluate import Evaluator
from matcher.model.fields import LISTS
from matcher.model.profile import PatientProfile
from matcher.rules.compile import CompiledTrial
from matcher.rules.language import Comparison

from . import strategies as gen
from .helpers import examples
from .properties import implied, show

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
    patient by the field writers of tests/strategies/, make the engine decide the comparison as its
    operator says; bool and enum comparisons likewise for the compared values and another. Dated
    values are written on the as-of date with a value of the other side the day before and the day
    after; ages and durations at the day they change. A comparison on a field without a writer fails."""
    writer = gen.writer_for(site.scope, site.node.field)
    if writer is None:
        where = "patient field" if site.scope == gen.PATIENT else f"field of {site.scope} entries"
        pytest.fail(f"{site}: tests/strategies/ has no field writer for the {where} {site.node.field!r}, so "
                    "the boundaries of this comparison are not tested: add one (see _build_writers in "
                    "tests/strategies/registry.py)",
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

"""Whole patients: list entries and profiles made of every field writer, often at a threshold of the rule
files, with older and not-yet-valid dated values around the ones that count.
"""
from __future__ import annotations

import datetime as dt
import typing
from typing import Any

from hypothesis import strategies as st

from matcher.model import drugs
from matcher.model.fields import LISTS

from .attributes import entry_model, strip_optional
from .medications import drug_spelling
from .quantities import Draw, days
from .registry import item_writers, patient_writers
from .trials import Thresholds, rule_thresholds
from .writers import Ctx

# ================================================================== list entries and profiles
_NAMES = {"name": ["pneumonia", "tuberculosis", "herpes zoster", "urinary tract infection"],
          "type": ["breast carcinoma", "lymphoma", "basal cell carcinoma"], "vaccine": ["influenza", "MMR", "zoster"]}


def base_entry(ctx: Ctx, scope: str) -> dict[str, Any]:
    """A valid entry of list ``scope`` with only its required keys (random values)."""
    if scope == "medications":
        return {"drug": drug_spelling(ctx, ctx.draw(st.sampled_from(sorted(drugs.DRUGS))))}
    entry: dict[str, Any] = {}
    for name, info in entry_model(scope).model_fields.items():
        if not info.is_required():
            continue
        annotation = strip_optional(info.annotation)
        while typing.get_origin(annotation) is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        if typing.get_origin(annotation) is typing.Literal:
            entry[name] = ctx.draw(st.sampled_from(typing.get_args(annotation)))
        elif annotation is bool:
            entry[name] = ctx.draw(st.booleans())
        elif annotation is dt.date:
            entry[name] = ctx.as_of - days(ctx.draw(st.integers(0, 2000)))
        elif annotation is str:
            entry[name] = ctx.draw(st.sampled_from(_NAMES.get(name, ["x"])))
        else:  # pragma: no cover - a new required attribute: say which
            raise AssertionError(f"tests/strategies/profiles.py: base_entry cannot fill required {scope}.{name} "
                                 f"({annotation}); add it there")
    return entry


def entry(ctx: Ctx, scope: str, thresholds: Thresholds, complete: bool = False) -> dict[str, Any]:
    """A random entry of list ``scope``: its writers applied in random order (each with probability 1/2)."""
    made = base_entry(ctx, scope)
    for writer in item_writers(scope):
        if complete or ctx.draw(st.booleans()):
            writer.write(ctx, made, writer.token(ctx, thresholds))
    return made


def as_of_dates() -> st.SearchStrategy[dt.date]:
    """Screening dates, often at month ends and on 29 February."""
    special = st.sampled_from([dt.date(2024, 2, 29), dt.date(2026, 11, 2), dt.date(2025, 3, 31), dt.date(2025, 2, 28),
                               dt.date(2028, 2, 29), dt.date(2027, 1, 31), dt.date(2026, 12, 31)])
    return st.one_of(special, st.dates(dt.date(1990, 1, 1), dt.date(2060, 12, 31)))


@st.composite
def patients(draw: Draw, thresholds: Thresholds | None = None, complete: bool = False,
             as_of: dt.date | None = None, sparse: bool = False) -> tuple[dict[str, Any], dt.date]:
    """A valid patient (plain data, as a patient file holds it) and the as-of date to evaluate it on.

    Every field that has a writer is written with probability 1/2 (always when ``complete``; ``sparse``:
    at most six fields and no lists), with
    values often just below, at or just above a threshold of the rule files (or of ``thresholds``);
    dated values come with older and not-yet-valid entries; lists are absent (partial only), empty or
    hold up to three entries.
    """
    day = as_of or draw(as_of_dates())
    limits = rule_thresholds() if thresholds is None else thresholds
    ctx = Ctx(draw, day, history=True)
    data: dict[str, Any] = {"id": "generated-patient", "screening_date": day}
    writers = patient_writers()
    if sparse:  # a few fields only: a cheap background for tests that write one field at a time
        writers = draw(st.lists(st.sampled_from(writers), max_size=6, unique=True))
    for writer in writers:
        if complete or sparse or draw(st.booleans()):
            writer.write(ctx, data, writer.token(ctx, limits))
    for scope in sorted(LISTS):
        if complete or (not sparse and draw(st.integers(0, 3)) > 0):
            if scope == "medications" and not complete:
                data[scope] = draw(medication_histories(day, limits))
                continue
            count = draw(st.integers(1 if complete else 0, 3))
            data[scope] = [entry(ctx, scope, limits, complete) for _ in range(count)]
    return data, day


@st.composite
def medication_histories(draw: Draw, as_of: dt.date, thresholds: Thresholds | None = None) -> list[dict[str, Any]]:
    """Up to four courses, each with its fields written with probability 1/2: doses in every accepted unit,
    and start and end dates just around every time window of the rule files (calendar months, days,
    weeks, since the start, since the end, treated periods) as of ``as_of``."""
    ctx = Ctx(draw, as_of, history=True)
    limits = rule_thresholds() if thresholds is None else thresholds
    return [entry(ctx, "medications", limits) for _ in range(draw(st.integers(0, 4)))]

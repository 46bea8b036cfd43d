"""A synthetic patient put together from its parts, and whole cohorts streamed to JSON lines or CSV."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

from matcher.model.profile import PartialList
from matcher.tools.synthetic.draw import DEFAULT_AS_OF, LUPUS_NEPHRITIS, SJOGREN, UNDIAGNOSED, Draw, Record
from matcher.tools.synthetic.history import (
    draw_immunization,
    draw_infection,
    draw_malignancy,
    draw_pregnancy,
    draw_procedure,
)
from matcher.tools.synthetic.labs import draw_labs
from matcher.tools.synthetic.medications import draw_medications
from matcher.tools.synthetic.person import (
    draw_age,
    draw_bilag,
    draw_condition,
    draw_demographics,
    draw_diagnoses,
    draw_disease_activity,
)

#: the rule-file version synthetic decisions claim to be made on: none that exists, so the matcher
#: shows each as not used (made on another version of the rule file) and decides as without it
SYNTHETIC_RULES_SHA256 = "d" * 64  # letters: a CSV cell of digits would be read as a number


def _decision(draw: Draw) -> Record:
    """A clinician's recorded decision on a question left to the clinician (see SYNTHETIC_RULES_SHA256)."""
    decision: Record = {"trial": draw.pick(("NCT03562065", "NCT00698191", "NCT05631717")),
                        "criterion": draw.pick(("exc-3", "exc-8", "inc-3", "inc-0")),
                        "outcome": draw.pick(("met", "not_met")), "by": draw.pick(("Dr A", "Dr B (hepatology)")),
                        "on": draw.iso(draw.integer(0, 120)), "rules_sha256": SYNTHETIC_RULES_SHA256}
    if draw.chance(0.5):
        decision["note"] = "synthetic decision (benchmark data, not clinical)"
    return decision


def _entries(draw: Draw, make: Any, absent: float, empty: float) -> list[Record] | None:
    size = draw.list_size(absent, empty)
    return None if size is None else [make(draw) for _ in range(size)]


def _flags(draw: Draw, probabilities: dict[str, tuple[float, float]]) -> Record:
    """Booleans, each recorded with its own probability and true with another: {key: (recorded, true)}."""
    return {key: draw.chance(true) for key, (recorded, true) in probabilities.items() if draw.recorded(recorded)}


def synthetic_patient(seed: int, index: int, as_of: dt.date) -> dict[str, Any]:
    """Patient ``index`` of the synthetic cohort ``seed``, screened on ``as_of`` (a JSON-ready dict)."""
    draw = Draw(seed, index, as_of)
    condition = draw_condition(draw)
    age = draw_age(draw, condition)
    sex: str | None = None
    if draw.recorded(0.97):
        sex = "female" if draw.chance(0.93 if condition == SJOGREN else 0.9) else "male"
    dialysis = condition == LUPUS_NEPHRITIS and draw.chance(0.06)

    patient: Record = {"id": f"synthetic-{seed}-{index:07d}", "screening_date": draw.iso(0)}
    if draw.recorded(0.95):
        patient["demographics"] = draw_demographics(draw, sex, age)
    if condition != UNDIAGNOSED or draw.chance(0.5):
        patient["diagnoses"] = draw_diagnoses(draw, condition)
    activity = draw_disease_activity(draw, condition)
    if activity is not None:
        patient["disease_activity"] = activity
    bilag = draw_bilag(draw.branch("bilag"), condition)
    if bilag is not None:
        patient["bilag_2004"] = bilag
    labs = draw_labs(draw, condition, sex, age, dialysis)
    if labs is not None:
        patient["labs"] = labs
    medications = draw_medications(draw, condition)
    if medications is not None:
        patient["medications"] = medications
    if draw.recorded(0.8):
        patient["pregnancy"] = draw_pregnancy(draw, sex, age)
    for key, make, absent, empty in (("infections", draw_infection, 0.25, 0.45),
                                     ("malignancies", draw_malignancy, 0.3, 0.6),
                                     ("procedures", draw_procedure, 0.4, 0.45),
                                     ("immunizations", draw_immunization, 0.35, 0.3)):
        entries = _entries(draw, make, absent, empty)
        if entries is not None:
            patient[key] = entries
    if draw.recorded(0.7):
        renal = _flags(draw, {"dialysis": (0.9, 0.0), "kidney_transplant": (0.6, 0.02)})
        if dialysis and "dialysis" in renal:
            renal["dialysis"] = True
        patient["renal"] = renal
    if draw.recorded(0.5):
        consent: Record = {"signed": draw.chance(0.85)} if draw.recorded(0.9) else {}
        if consent.get("signed") and draw.recorded(0.8):
            consent["date"] = draw.iso(draw.integer(0, 10))
        patient["consent"] = consent
    if draw.recorded(0.65):
        patient["administrative"] = _flags(draw, {"in_other_trial": (0.85, 0.06),
                                                  "social_security_affiliation": (0.8, 0.9),
                                                  "legal_protection": (0.75, 0.04)})
    recorded_lists = [name for name in get_args(PartialList) if name in patient]
    if recorded_lists and draw.chance(0.08):  # read from a record that does not say the lists are complete
        patient["partial_lists"] = [name for name in recorded_lists if draw.chance(0.5)] or recorded_lists[:1]
    if draw.chance(0.1):
        patient["notes"] = f"synthetic {condition.replace('_', ' ')} patient (benchmark data, not clinical)"
    decisions = _entries(draw, _decision, 0.6, 0.2)  # drawn last: the draws above stay as they were
    if decisions is not None:
        patient["decisions"] = decisions
    return patient


def iter_cohort(n: int, seed: int = 0, as_of: dt.date = DEFAULT_AS_OF) -> Iterator[dict[str, Any]]:
    """Patients 0..n-1 of cohort ``seed``, one at a time."""
    for index in range(n):
        yield synthetic_patient(seed, index, as_of)


def write_jsonl(path: str | Path, n: int, seed: int = 0, as_of: dt.date = DEFAULT_AS_OF) -> None:
    """Write ``n`` patients of cohort ``seed`` to ``path``, one JSON object per line, streaming."""
    with Path(path).open("w", encoding="utf-8") as out:
        for patient in iter_cohort(n, seed, as_of):
            out.write(json.dumps(patient, ensure_ascii=False, separators=(",", ":")))
            out.write("\n")


def write_csv(path: str | Path, n: int, seed: int = 0, as_of: dt.date = DEFAULT_AS_OF) -> None:
    """Write ``n`` patients of cohort ``seed`` as a cohort CSV (README, "Cohort input formats"), streaming:
    a first pass finds the columns (every patient is regenerated from its seed, so nothing is kept)."""
    import csv

    from matcher.intake.sources import csv_cells

    columns: dict[str, None] = {}
    for patient in iter_cohort(n, seed, as_of):
        columns.update(dict.fromkeys(csv_cells(patient)))
    with Path(path).open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        for patient in iter_cohort(n, seed, as_of):
            writer.writerow(csv_cells(patient))

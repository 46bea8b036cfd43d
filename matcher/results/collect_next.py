"""What to collect next: the missing items ranked by how many trials each could decide.

For an undetermined result, every value the record lacks (a patient field read as unknown, or a list
whose query is unknown) is an item to collect. Which values could the item take that change the
outcome? Those on both sides of every threshold the compiled rules compare it with (just below, at
and just above a number; every choice of an enum; yes and no), and for a list, a match or none. The
engine evaluates the trial with each such value supposed, the other missing values left unknown, and
the item *could decide* the trial if some value gives a verdict other than undetermined. It *could
make the patient eligible* if some value gives eligible (or review: eligible, with a clinician to
decide), else it can only rule the patient out. Nothing is guessed: the supposed values are never a
verdict, only a question put to the engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from matcher.engine.evaluate import Evaluator
from matcher.model.fields import LISTS, PATIENT_FIELDS, Absence
from matcher.model.profile import PatientProfile
from matcher.results.explain import TrialOutcome, Verdict, outcomes
from matcher.rules.compile import PATIENT_KIND, CompiledTrial
from matcher.rules.language import Comparison


@dataclass(frozen=True)
class CollectItem:
    #: what to collect, in the words of the data to collect
    item: str
    #: the undetermined trials some value of this item decides alone
    decides: tuple[str, ...]
    #: of those, the trials some value makes eligible (or review); the others it can only rule out
    could_make_eligible: tuple[str, ...]

    @property
    def only_ineligible(self) -> tuple[str, ...]:
        return tuple(trial for trial in self.decides if trial not in self.could_make_eligible)

    def to_json(self) -> dict[str, Any]:
        return {"item": self.item, "decides": list(self.decides), "could_make_eligible": list(self.could_make_eligible),
                "only_ineligible": list(self.only_ineligible)}


def _near(value: float) -> list[float]:
    step = max(abs(value), 1.0) * 1e-6
    return [value - step, value, value + step]


def supposed_values(compiled: CompiledTrial, field: str) -> list[Any]:
    """The values of ``field`` on both sides of every threshold the trial compares it with."""
    spec = PATIENT_FIELDS[field]
    if spec.type == "bool":
        return [True, False]
    if spec.type == "enum":
        return list(spec.choices)
    values: list[Any] = []
    for node in compiled.nodes:
        if node.scope == PATIENT_KIND and isinstance(node.node, Comparison) and node.node.field == field:
            for reading in node.node.readings:
                if isinstance(reading.value, (int, float)) and not isinstance(reading.value, bool):
                    values += _near(float(reading.value))
    return sorted(set(values))


def _trial_items(evaluator: Evaluator, profile: PatientProfile, result: TrialOutcome,
                 lists: dict[str, str] | None = None) -> dict[str, tuple[bool, bool]]:
    """item -> (decides, could make eligible) for one undetermined result; ``lists`` gets item -> the list it is
    about, for an item named by a query's label (a question about the entries of a list)."""
    compiled = evaluator.compiled[result.trial]
    evaluation = evaluator.evaluate(profile, result.as_of, result.trial)
    trials: dict[str, list[dict[str, Any]]] = {}
    for name, reading in evaluation.readings.items():
        if isinstance(reading, Absence):
            trials.setdefault(reading.collect, []).extend({name: value} for value in supposed_values(compiled, name))
    for name, query in evaluation.queries.items():
        if query.truth is None:
            spec = compiled.trial.queries[name]
            item = LISTS[spec.over].collect if query.items is None else spec.label
            trials.setdefault(item, []).extend({f"query:{name}": truth} for truth in (True, False))
            if lists is not None:
                lists[item] = spec.over
    found = {}
    for item, suppositions in trials.items():
        verdicts: set[Verdict] = set()
        for supposed in suppositions:
            verdicts.add(outcomes(evaluator.evaluate(profile, result.as_of, result.trial, supposed),
                                  result.as_of_source).verdict)
        found[item] = (verdicts != {"undetermined"}, bool(verdicts & {"eligible", "review"}))
    return found


@dataclass(frozen=True)
class DecidingItem:
    """An item some value of which alone decides one undetermined result (a screening's ``collect_next``)."""

    item: str
    #: some value makes the patient eligible (or review) for the trial; else it can only rule the patient out
    could_make_eligible: bool
    #: the list the item is about (``medications``, ``infections``...) when it is named by a query's label
    #: (``belimumab given within 2 months``), so a cohort's summary can group it; None for the others
    about: str | None = None

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"item": self.item, "could_make_eligible": self.could_make_eligible}
        if self.about is not None:
            document["list"] = self.about
        return document


def deciding_items(evaluator: Evaluator, profile: PatientProfile, result: TrialOutcome) -> tuple[DecidingItem, ...]:
    """For one undetermined result: the missing items some value of which alone decides it, in item order
    (nothing for a decided result)."""
    if result.verdict != "undetermined":
        return ()
    lists: dict[str, str] = {}
    found = _trial_items(evaluator, profile, result, lists)
    return tuple(DecidingItem(item, could_pass, lists.get(item))
                 for item, (decided, could_pass) in sorted(found.items()) if decided)


def collect_next(evaluator: Evaluator, profile: PatientProfile, results: Iterable[TrialOutcome]) -> list[CollectItem]:
    """The items to collect for one patient's undetermined results, those deciding the most trials first."""
    decides: dict[str, list[str]] = {}
    eligible: dict[str, list[str]] = {}
    for result in results:
        if result.verdict != "undetermined":
            continue
        for item, (decided, could_pass) in _trial_items(evaluator, profile, result).items():
            decides.setdefault(item, [])
            eligible.setdefault(item, [])
            if decided:
                decides[item].append(result.trial)
            if could_pass:
                eligible[item].append(result.trial)
    items = [CollectItem(item, tuple(decides[item]), tuple(t for t in eligible[item] if t in decides[item]))
             for item in decides]
    return sorted(items, key=lambda entry: (-len(entry.decides), -len(entry.could_make_eligible), entry.item))


def cohort_collect_next(evaluator: Evaluator, patients: Iterable[tuple[PatientProfile, Sequence[TrialOutcome]]]
                        ) -> list[tuple[str, int]]:
    """Over a cohort: each item with the number of undetermined patient-trial pairs some value of it decides,
    most first."""
    counts: dict[str, int] = {}
    for profile, results in patients:
        for entry in collect_next(evaluator, profile, results):
            counts[entry.item] = counts.get(entry.item, 0) + len(entry.decides)
    return sorted(((item, count) for item, count in counts.items() if count), key=lambda pair: (-pair[1], pair[0]))


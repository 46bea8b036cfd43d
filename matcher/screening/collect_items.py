"""Data items to collect, named for a coordinator and grouped, for ``matcher log summary``.

The explanation names what is missing in the words of the field table
(matcher/model/fields/fields.yaml): ``"ALT with the lab's ULN"``, ``"dose of
mycophenolate_mofetil"``, ``"severe (infections[1].severe)"``, a bare
``"date"``. A summary over a cohort needs them grouped (laboratory, pregnancy,
medications...), with one name per item whichever list entry lacked it, and
without internal spellings. This module maps one item of the log's
``data_to_collect`` to a :class:`PlainItem`; an item it does not recognise
keeps its own words (underscores read as spaces) in the group ``Other``, so a
new field never disappears from the summary.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from matcher.model.drugs import DRUGS
from matcher.model.fields import LISTS, PATIENT_FIELDS
from matcher.model.measurements import LAB_TESTS

#: the groups, in the order a summary lists a trial's items when they rank equal
GROUPS = ("Demographics", "Diagnosis and disease activity", "Laboratory", "Pregnancy", "Medications",
          "Infections", "Malignancies", "Procedures", "Vaccinations", "Study administration", "Other")

#: patient field (PATIENT_FIELDS) -> group; a field not listed here is "Laboratory" if it reads a test of LAB_TESTS
#: (``alt``, ``alt_x_uln``), else goes by its name's prefix, else "Other"
_FIELD_GROUPS: dict[str, str] = {
    **dict.fromkeys(("age_years", "sex", "weight", "height", "body_surface_area"), "Demographics"),
    **dict.fromkeys(("dialysis", "kidney_transplant", "sledai_2k", "selena_sledai", "ssdai", "essdai",
                     "stimulated_saliva_flow", "lvef", "mean_pap", "pao2", "paco2", "bilag_2004_highest_grade"),
                    "Diagnosis and disease activity"),
    **dict.fromkeys(("planning_pregnancy", "breastfeeding", "childbearing_potential", "pregnant"), "Pregnancy"),
    **dict.fromkeys(("consent_signed", "in_other_trial", "social_security_affiliation", "legal_protection"),
                    "Study administration"),
}
_PREFIX_GROUPS = (("sle.", "Diagnosis and disease activity"), ("lupus_nephritis.", "Diagnosis and disease activity"),
                  ("primary_sjogren.", "Diagnosis and disease activity"), ("egfr", "Laboratory"),
                  ("creatinine_clearance", "Laboratory"), ("urine_pregnancy", "Pregnancy"),
                  ("serum_pregnancy", "Pregnancy"), ("pregnancy_test", "Pregnancy"))
#: list (LISTS) -> its group and what one entry is called
_LIST_GROUPS = {"medications": ("Medications", "medication course"), "infections": ("Infections", "infection"),
                "malignancies": ("Malignancies", "malignancy"), "procedures": ("Procedures", "procedure"),
                "immunizations": ("Vaccinations", "vaccination")}
#: an entry attribute whose label is a bare adjective -> what to ask
_ATTRIBUTE_QUESTIONS = {"severe": "whether it was severe", "recurrent": "whether it is recurrent",
                        "excised": "whether it was excised"}

_INCOMPLETE = ": the recorded list may be incomplete"
#: a value older than its window (matcher.model.currency.current): one item whatever the date and age
_STALE = re.compile(r"^a current (?P<what>.+) \(the last one, on \d{4}-\d{2}-\d{2}, is [\d,]+ days? older than "
                    r"the \d+-day window\)$")
_ENTRY = re.compile(r"^(?P<label>.+) \((?P<list>\w+)\[\d+\]\.(?P<field>\w+)\)$")
_COURSE = re.compile(r"^(?P<what>dose|route|frequency|start date|end date) of (?P<name>.+?)"
                     r"(?P<unit> in mg/m2| in mg/kg)?(?P<ongoing> \(or ongoing: true\))?$")
_RESPONSE = re.compile(r"^response to (?P<name>\S+) \((?P<choices>[^)]*)\)$")
_LAB_HINTS = ("the reporting lab's upper limit of normal", "eGFR", "creatinine")


@dataclass(frozen=True, order=True)
class PlainItem:
    """A data item as a coordinator reads it: its group and its name."""

    group: str
    name: str


def _readable(text: str) -> str:
    return text.replace("_", " ")


def _field_group(field: str) -> str:
    if field in _FIELD_GROUPS:
        return _FIELD_GROUPS[field]
    if field in LAB_TESTS or field.removesuffix("_x_uln") in LAB_TESTS:
        return "Laboratory"
    return next((group for prefix, group in _PREFIX_GROUPS if field.startswith(prefix)), "Other")


@cache
def _collect_index() -> dict[str, str]:
    """The field table's "what to collect" wording -> the group of the (first) field that uses it."""
    index: dict[str, str] = {}
    for name, spec in PATIENT_FIELDS.items():
        if spec.collect:
            index.setdefault(spec.collect, _field_group(name))
    return index


@cache
def plain_item(item: str, about: str | None = None) -> PlainItem:
    """``item`` (one entry of a result's ``to_collect``) grouped and named plainly; ``about``: the list an item
    named by a query's label is about (``collect_next``'s ``list``), which gives its group."""
    if about is not None:
        named = plain_item(item)
        if named.group == "Other" and about in _LIST_GROUPS:
            return PlainItem(_LIST_GROUPS[about][0], named.name)
        return named
    if item.endswith(_INCOMPLETE):
        whole = plain_item(item.removesuffix(_INCOMPLETE))
        name = whole.name.removesuffix(" (an empty list if none)")
        return PlainItem(whole.group, f"{name}: confirm the recorded list is complete")
    stale = _STALE.match(item)
    if stale:  # the name keeps what to collect; the date and age are the patient's (patient_item keeps them)
        return PlainItem(plain_item(stale["what"]).group, f"a current {stale['what']}")
    for name, listed in LISTS.items():
        if item == listed.collect:
            return PlainItem(_LIST_GROUPS.get(name, ("Other", ""))[0], item)
    entry = _ENTRY.match(item)
    if entry:
        group, singular = _LIST_GROUPS.get(entry["list"], ("Other", _readable(entry["list"])))
        question = _ATTRIBUTE_QUESTIONS.get(entry["field"], entry["label"])
        return PlainItem(group, f"recorded {singular}: {question}")
    course = _COURSE.match(item)
    if course:
        what = course["what"] + (course["unit"] or "") + (" (or that it is ongoing)" if course["ongoing"] else "")
        if course["name"] in DRUGS:
            return PlainItem("Medications", f"{_readable(course['name'])}: {what}")
        if course["what"] in ("start date", "end date"):  # an infection, named by the patient's description
            return PlainItem("Infections", f"recorded infection: {what}")
    response = _RESPONSE.match(item)
    if response and response["name"] in DRUGS:
        return PlainItem("Medications", f"{_readable(response['name'])}: response ({response['choices']})")
    if item == "date":  # the date of a recorded infection, procedure or vaccination (weeks_since...)
        return PlainItem("Other", "date of a recorded infection, procedure or vaccination")
    found = _collect_index().get(item)
    if found is None and any(hint in item for hint in _LAB_HINTS):
        found = "Laboratory"
    return PlainItem(found or "Other", _readable(item))


def patient_item(item: str) -> str:
    """``item`` named plainly for one patient's row (CSV, HTML report): :func:`plain_item`'s words, keeping which
    entry of the patient file it is about where the item names one (``recorded infection (infections[1] in the
    patient file): whether it was severe``), since one patient's list is read entry by entry."""
    if _STALE.match(item):  # one patient's last value: its date and age are what the coordinator acts on
        return item
    name = plain_item(item).name
    entry = _ENTRY.match(item.removesuffix(_INCOMPLETE))
    if entry is None:
        return name
    position = item[entry.start("list"):entry.end("field")].rsplit(".", 1)[0]
    head, _, rest = name.partition(": ")
    return f"{head} ({position} in the patient file): {rest}" if rest else f"{name} ({position} in the patient file)"


@dataclass
class CollectNext:
    """Over the cohort (every trial): what collecting one item would decide, from runs with --collect-next."""

    #: undetermined patient-trial pairs, and those of them whose deciding items were computed (--collect-next)
    undetermined: int = 0
    computed: int = 0
    #: item -> undetermined pairs some value of it alone decides, and those some value makes eligible (or review)
    decides: Counter[PlainItem] = field(default_factory=Counter)
    could_make_eligible: Counter[PlainItem] = field(default_factory=Counter)

    def count(self, entries: Sequence[Mapping[str, Any]] | None) -> None:
        """One undetermined pair, with its ``collect_next`` entries (None: not computed)."""
        self.undetermined += 1
        if entries is None:
            return
        self.computed += 1
        deciding: dict[PlainItem, bool] = {}
        for entry in entries:  # several raw items may read as one plain item: the pair counts once
            item = plain_item(entry["item"], entry.get("list"))
            deciding[item] = deciding.get(item, False) or bool(entry["could_make_eligible"])
        for item, eligible in deciding.items():
            self.decides[item] += 1
            self.could_make_eligible[item] += eligible

    def ranked(self) -> list[tuple[PlainItem, int, int]]:
        """(item, pairs it decides, pairs it could make eligible), most pairs decided first."""
        return [(item, self.decides[item], self.could_make_eligible[item]) for item in sorted(
            self.decides, key=lambda item: (-self.decides[item], -self.could_make_eligible[item], item.name))]

    def to_json(self, top: int | None = None) -> dict[str, Any]:
        """The counts, and the ``top`` items (None: all) as ``[name, group, decides, could make eligible]``."""
        ranked = self.ranked()
        return {"undetermined_pairs": self.undetermined, "computed_pairs": self.computed,
                "items_distinct": len(ranked),
                "items": [[item.name, item.group, decides, eligible] for item, decides, eligible in ranked[:top]]}

"""The catalogue of the fields a rule may test: ``matcher fields`` and the table in docs/rule-files.md.

The fields are declared once, as rows of matcher/model/fields/fields.yaml, and built into the registries
of :mod:`matcher.model.fields` (``PATIENT_FIELDS`` and the item fields of each list in ``LISTS``); this
module reads those registries, so a row added there appears here without a second list to keep.
tests/test_field_catalogue.py fails when the page is older than the catalogue. Rewrite the page with
``python -m matcher.model.catalogue docs/rule-files.md``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass

from matcher.model import drugs
from matcher.model.currency import DEFAULT_WINDOW_DAYS, KIND_LABELS
from matcher.model.fields import LISTS, PATIENT_FIELDS, FieldSpec
from matcher.model.reference import replace_between, rewrite_page

BEGIN = "<!-- generated from fields.yaml (python -m matcher.model.catalogue docs/rule-files.md): do not edit -->"
END = "<!-- end of the generated field catalogue -->"

#: where a field may be used: a patient field in a criterion's condition, an item field in a query
PATIENT = "patient"
#: beyond this many allowed values the text output names how many there are, not each one
_LISTED_CHOICES = 15


@dataclass(frozen=True)
class FieldEntry:
    """One field as a rule writer needs it: where it can be used, its type, unit, values and what it reads."""

    name: str
    #: ``patient``, or the list whose entries it describes (``medications``): then only a query
    #: ``over:`` that list may test it
    scope: str
    type: str
    #: the canonical unit of a measured quantity (thresholds are written with a unit), or what a plain
    #: number counts ("years", "x ULN"); empty when neither applies
    unit: str
    #: a measured quantity: a threshold must be written with a unit
    measured: bool
    #: the values an enum field takes (empty for numbers; true/false for bool fields)
    values: tuple[str, ...]
    label: str
    #: what the patient file must give for the field to be known (what to collect when it is not)
    reads: str
    #: the kind of dated value read (lab, activity_score, pregnancy_test, imaging): a currency window applies
    window_kind: str | None
    #: the project's default window for that kind, in days
    default_window_days: int | None
    #: how the value is derived, as the catalogue row says it: ``lab serum_creatinine``,
    #: ``attribute diagnoses.sle.present``, ``function egfr_ckd_epi_2021`` (bespoke code of that name)
    derived: str

    @property
    def where(self) -> str:
        return "condition" if self.scope == PATIENT else f"query over: {self.scope}"


def _entry(spec: FieldSpec, scope: str) -> FieldEntry:
    kind = spec.window if scope == PATIENT else None
    values = ("true", "false") if spec.type == "bool" else spec.choices
    reads = spec.collect
    drug_class = spec.name.removeprefix("is_")
    if scope == "medications" and spec.name.startswith("is_") and drug_class in drugs.CLASSES:
        members = sorted(name for name, drug in drugs.DRUGS.items() if drug_class in drug.classes)
        reads += f" (true for {', '.join(members)})" if members else " (no drug is in this class yet)"
    return FieldEntry(spec.name, scope, spec.type, spec.unit_display, spec.measure is not None, values,
                      spec.label, reads, kind, DEFAULT_WINDOW_DAYS[kind] if kind else None, spec.derive)


def catalogue() -> list[FieldEntry]:
    """Every field, patient fields first (sorted by name), then each list's item fields (sorted)."""
    entries = [_entry(spec, PATIENT) for _, spec in sorted(PATIENT_FIELDS.items())]
    for list_name, listed in LISTS.items():
        entries += [_entry(spec, list_name) for _, spec in sorted(listed.fields.items())]
    return entries


def matching(entries: list[FieldEntry], text: str | None) -> list[FieldEntry]:
    """The entries whose name, list, label, unit, values or reads contain ``text`` (any case)."""
    if not text:
        return entries
    wanted = text.lower()
    return [entry for entry in entries
            if wanted in " ".join((entry.name, entry.scope, entry.label, entry.unit, entry.reads,
                                   entry.window_kind or "", *entry.values)).lower()]


def _values_text(entry: FieldEntry, *, limit: int | None) -> str:
    if entry.type == "number":
        if entry.measured:
            return f"{entry.unit} (a threshold is written with a unit)"
        return f"plain number ({entry.unit})" if entry.unit else "plain number"
    if limit is not None and len(entry.values) > limit:
        return f"one of {len(entry.values)} names (--format json lists them)"
    return ", ".join(entry.values)


def _window_text(entry: FieldEntry) -> str:
    if entry.window_kind is None:
        return ""
    return f"{entry.window_kind}, default {entry.default_window_days} days"


def _groups(entries: list[FieldEntry]) -> list[tuple[str, list[FieldEntry]]]:
    scopes = [PATIENT, *LISTS]
    return [(scope, [e for e in entries if e.scope == scope]) for scope in scopes
            if any(e.scope == scope for e in entries)]


def _heading(scope: str) -> str:
    if scope == PATIENT:
        return "Patient fields: tested in a criterion's condition, {field: NAME, OP: VALUE}"
    return (f"{scope}: item fields of each entry ({LISTS[scope].label}), tested in a query "
            f"{{over: {scope}, where: {{field: NAME, OP: VALUE}}}}")


def text(entries: list[FieldEntry]) -> str:
    """A readable table per group: field, type, unit or values, date window, label, what it reads and how it
    is derived (the catalogue row's ``derive``)."""
    if not entries:
        return "no field matches\n"
    lines: list[str] = []
    width = max(len(e.name) for e in entries)
    for scope, group in _groups(entries):
        lines += [_heading(scope), ""]
        for entry in group:
            window = _window_text(entry)
            lines.append(f"  {entry.name:<{width}}  {entry.type:<6}  {_values_text(entry, limit=_LISTED_CHOICES)}")
            reads = entry.label if entry.reads == entry.label else f"{entry.label}; reads: {entry.reads}"
            lines.append(f"  {'':<{width}}  {reads}" + (f"; dated value, window {window}" if window else "")
                         + f"; derived by: {entry.derived}")
        lines.append("")
    lines.append("Windows: a dated value counts only within its window (the project default shown; a rule file "
                 "may set its own). See docs/rule-files.md.")
    return "\n".join(lines) + "\n"


def as_json(entries: list[FieldEntry]) -> str:
    """Every entry as a JSON object (``where`` says how a rule uses it)."""
    return json.dumps([{**asdict(entry), "values": list(entry.values), "where": entry.where} for entry in entries],
                      indent=2, ensure_ascii=False)


def _cell(value: str) -> str:
    return value.replace("|", "\\|")


def markdown() -> str:
    """The catalogue for docs/rule-files.md: one table for the patient fields, one per list."""
    lines = [BEGIN, ""]
    for scope, group in _groups(catalogue()):
        if scope == PATIENT:
            lines += ["### Patient fields", "", "Tested in a criterion's `condition`: `{field: NAME, OP: VALUE}`.",
                      ""]
        else:
            lines += [f"### `{scope}`: item fields", "",
                      f"Each entry of the patient's {LISTS[scope].label}; tested only inside a query "
                      f"`over: {scope}` (`where: {{field: NAME, OP: VALUE}}`).", ""]
        lines += ["| field | type | unit or values | date window | what it is | reads | derived by |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        for entry in group:
            values = _values_text(entry, limit=None)
            if entry.type != "number":
                values = ", ".join(f"`{value}`" for value in entry.values)
            window = _window_text(entry)
            lines.append(f"| `{entry.name}` | {entry.type} | {_cell(values)} | {window} | {_cell(entry.label)} | "
                         f"{_cell(entry.reads)} | `{entry.derived}` |")
        lines.append("")
    kinds = ", ".join(f"`{kind}` = {label}" for kind, label in KIND_LABELS.items())
    lines += [f"Date window kinds: {kinds}; the days shown are the project default.", "", END]
    return "\n".join(lines)


def replace_generated(page: str) -> str:
    """``page`` with the part between the markers replaced by the current catalogue."""
    return replace_between(page, BEGIN, END, markdown())


def main(argv: list[str]) -> int:
    """``python -m matcher.model.catalogue [PAGE]``: rewrite the generated part of PAGE, or print it."""
    return rewrite_page(argv, markdown, replace_generated)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

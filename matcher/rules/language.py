"""The rule language: trial rule files (YAML) read into immutable criterion trees.

Over 500 lines: one reader checks every key of the language (criteria, queries, conditions,
windows, alternatives) with a located error each; split by part of the language if it grows.

A rule file holds one trial. Each criterion has an id, a kind (inclusion or
exclusion), a short ``label`` shown beside the id, the registry's verbatim text, and
either a ``condition`` or a ``manual`` reason, plus ``notes`` recording every
interpretation made.

Conditions::

    {all: [C, ...]}            every child holds
    {any: [C, ...]}            at least one child holds
    {not: C}                   the child does not hold
    {field: F, OP: V}          a comparison on a patient field (matcher.model.fields)
    {field: F, OP: V, alternative: {OP2: V2}}
                               a boundary the registry itself leaves disputed: where
                               the two readings disagree, the clinician decides
    {query: Q}                 some entry of a list matches the named query
    {manual: REASON}           a part of the criterion left to the clinician
    {equivalent: [CMP, ...]}   comparisons on equivalent measures of one quantity (UPCR and
                               24-hour protein): the measures recorded decide where they agree;
                               where they disagree, the clinician decides ("records disagree")

Currency windows: a dated value (lab, activity score, pregnancy test, imaging) counts
only if it is at most N days older than the as-of date. The window of a comparison is
its own ``within: N days``, else its criterion's ``within``, else the trial's
``windows: {KIND: N days}``, else the project default for that kind
(:data:`matcher.model.currency.DEFAULT_WINDOW_DAYS`). A value older than its window is
not used: the comparison is unknown and the data to collect says why.

Operators (one table, :data:`OPERATORS`): eq, ne, lt, lte, gt, gte, in.
Thresholds of measured quantities carry their unit (``gte: 1 g/day``).

Everything is checked when the file loads: unknown keys, fields, operators,
queries and enum values (with did-you-mean), value types, units. A rule that
loads never fails later on a patient.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from matcher.errors import RuleFileError, did_you_mean
from matcher.intake.load import Document, Path_, dotted_path, read_document
from matcher.model.currency import (
    DEFAULT_WINDOW_DAYS,
    FIELD_KINDS,
    KIND_LABELS,
    LONGEST_WINDOW_DAYS,
    PROJECT_DEFAULT,
    VALUE_KINDS,
    Window,
)
from matcher.model.fields import LISTS, PATIENT_FIELDS, FieldSpec
from matcher.model.units import UnitProblem, convert


@dataclass(frozen=True)
class Operator:
    name: str
    symbol: str
    negation: str
    #: durable-rules' operator, None for plain equality
    engine: str | None
    test: Callable[[Any, Any], bool]
    types: tuple[str, ...]


OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in (
        Operator("eq", "=", "ne", None, operator.eq, ("number", "bool", "enum")),
        Operator("ne", "≠", "eq", "$neq", operator.ne, ("number", "bool", "enum")),
        Operator("lt", "<", "gte", "$lt", operator.lt, ("number",)),
        Operator("lte", "≤", "gt", "$lte", operator.le, ("number",)),
        Operator("gt", ">", "lte", "$gt", operator.gt, ("number",)),
        Operator("gte", "≥", "lt", "$gte", operator.ge, ("number",)),
        Operator("in", "in", "not_in", None, lambda value, options: value in options, ("enum",)),
    )
}


@dataclass(frozen=True)
class Location:
    file: str
    line: int | None
    column: int | None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Reading:
    """One reading of a comparison: operator and threshold."""

    op: str
    #: threshold in the field's canonical unit (a tuple for ``in``)
    value: Any
    #: the threshold as the rule file writes it
    written: str


@dataclass(frozen=True)
class Comparison:
    field: str
    op: str
    #: threshold in the field's canonical unit (a tuple for ``in``)
    value: Any
    #: the threshold as the rule file writes it
    written: str
    label: str | None
    where: Location
    #: a second reading of a disputed boundary; the comparison is decided only where both agree
    alternative: Reading | None = None
    #: how recent the field's value must be (dated fields only; resolved when the file loads)
    within: Window | None = None

    @property
    def readings(self) -> tuple[Reading, ...]:
        primary = Reading(self.op, self.value, self.written)
        return (primary,) if self.alternative is None else (primary, self.alternative)


@dataclass(frozen=True)
class ManualPart:
    """A part of a criterion the registry leaves to clinical judgement: never decided by the matcher."""

    reason: str
    where: Location


@dataclass(frozen=True)
class QueryRef:
    query: str
    where: Location


@dataclass(frozen=True)
class Equivalent:
    """Comparisons on equivalent measures of one quantity: decided by the measures recorded where they
    agree; where they disagree (one true, one false), unknown and left to the clinician."""

    children: tuple[Comparison, ...]
    where: Location


@dataclass(frozen=True)
class AllOf:
    children: tuple[Node, ...]
    where: Location


@dataclass(frozen=True)
class AnyOf:
    children: tuple[Node, ...]
    where: Location


@dataclass(frozen=True)
class Not:
    child: Node
    where: Location


Node = Comparison | QueryRef | ManualPart | AllOf | AnyOf | Not | Equivalent


def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, (AllOf, AnyOf, Equivalent)):
        return node.children
    if isinstance(node, Not):
        return (node.child,)
    return ()


def walk(node: Node) -> Iterator[Node]:
    yield node
    for child in children(node):
        yield from walk(child)


@dataclass(frozen=True)
class Query:
    """Does some entry of a list (``over``) satisfy ``where``? Unknown entries make it unknown."""

    name: str
    over: str
    label: str
    where: Node
    notes: tuple[str, ...]
    location: Location


@dataclass(frozen=True)
class Criterion:
    id: str
    kind: Literal["inclusion", "exclusion"]
    text: str
    condition: Node | None
    manual: str | None
    notes: tuple[str, ...]
    location: Location
    #: a confirmation the study team asks of every patient (consent, willingness, contraception):
    #: listed apart from clinical questions, and never the reason for a ``review`` verdict
    #: (None: the rule file does not say; lint asks for it where the text speaks of consent)
    routine: bool | None = None
    #: a short plain name shown beside the id wherever a person reads it ("age over 18 and under 70");
    #: lint requires one (at most :data:`LABEL_MAX_CHARS` characters); None where the file has none
    label: str | None = None

    @property
    def named(self) -> str:
        """The id with its label, as a person reads it: ``inc-age (age over 18 and under 70)``."""
        return f"{self.id} ({self.label})" if self.label else self.id


#: the longest criterion label lint accepts: a label sits beside the id in lists and table headers
LABEL_MAX_CHARS = 40


@dataclass(frozen=True)
class Trial:
    id: str
    title: str
    condition: str
    source: dict[str, str]
    last_updated: dt.date | None
    notes: tuple[str, ...]
    queries: dict[str, Query]
    criteria: tuple[Criterion, ...]
    path: str
    #: sha256 of the rule file's bytes: which rule version decided
    content_hash: str = field(compare=False)
    #: the trial's own windows per kind of value (``windows:``); kinds not listed take the project default
    windows: dict[str, Window] = field(default_factory=dict)

    def criterion(self, criterion_id: str) -> Criterion:
        for criterion in self.criteria:
            if criterion.id == criterion_id:
                return criterion
        raise KeyError(criterion_id)


# ------------------------------------------------------------------ parsing
class _Reader:
    """Walks a rule document, raising RuleFileError at the right line."""

    def __init__(self, document: Document) -> None:
        self.doc = document
        #: the trial's ``windows:`` and the window of the criterion being read (see _window)
        self.trial_windows: dict[str, Window] = {}
        self.criterion_window: Window | None = None

    def fail(self, at: Path_, message: str, key: bool = False, criterion: str | None = None) -> RuleFileError:
        line, column = self.doc.position(at, key=key)
        return RuleFileError(message, file=self.doc.path, line=line, column=column,
                             field=dotted_path(at) or None, criterion=criterion)

    def where(self, at: Path_) -> Location:
        line, column = self.doc.position(at)
        return Location(self.doc.path, line, column)

    def mapping(self, value: Any, at: Path_, allowed: set[str], required: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(at, f"expected a mapping with keys {', '.join(sorted(required | allowed))}")
        for key in value:
            if key not in allowed | required:
                raise self.fail((*at, key), f"unknown key{did_you_mean(key, allowed | required)}", key=True)
        for key in sorted(required):
            if key not in value:
                raise self.fail(at, f"required key {key!r} is missing")
        return value

    def text(self, value: Any, at: Path_) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(at, "expected non-empty text")
        return value.strip()

    def notes(self, value: Any, at: Path_) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise self.fail(at, "notes must be a list of texts")
        return tuple(self.text(note, (*at, i)) for i, note in enumerate(value))


_TOP_KEYS = {"trial", "title", "condition", "source", "criteria"}
_TOP_OPTIONAL = {"notes", "queries", "windows"}


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it (shorter, and stable in outputs)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_trial(path: str | Path) -> Trial:
    """Read, check and return one trial's rule file."""
    path = Path(display_path(Path(path)))
    document = read_document(path, RuleFileError)
    content_hash = hashlib.sha256(path.read_bytes()).hexdigest()
    return parse_trial(document, content_hash)


def parse_trial(document: Document, content_hash: str = "") -> Trial:
    r = _Reader(document)
    top = r.mapping(document.data, (), _TOP_OPTIONAL, _TOP_KEYS)
    trial_id = r.text(top["trial"], ("trial",))
    stem = Path(document.path).stem
    if stem not in (trial_id, "<string>") and Path(document.path).suffix:
        raise r.fail(("trial",), f"trial id {trial_id!r} does not match the file name {Path(document.path).name!r}")
    source = r.mapping(top["source"], ("source",), {"url", "seed", "structured_ages", "copy"},
                       {"registry", "last_updated"})
    last_updated = source["last_updated"]
    if last_updated is not None and not isinstance(last_updated, dt.date):
        raise r.fail(("source", "last_updated"), "expected a date written YYYY-MM-DD (or null when no copy of "
                     "the record gives one, with a note saying so)")
    r.trial_windows, window_notes = _parse_windows(r, top["windows"]) if "windows" in top else ({}, ())
    queries = _parse_queries(r, top.get("queries") or {})
    raw_criteria = top["criteria"]
    if not isinstance(raw_criteria, list) or not raw_criteria:
        raise r.fail(("criteria",), "expected a non-empty list of criteria")
    criteria: list[Criterion] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_criteria):
        criterion = _parse_criterion(r, raw, ("criteria", index), queries)
        if criterion.id in seen:
            raise r.fail(("criteria", index, "id"), f"criterion id {criterion.id!r} is used twice")
        seen.add(criterion.id)
        criteria.append(criterion)
    _one_window_per_field(criteria)
    used = {node.query for c in criteria if c.condition for node in walk(c.condition) if isinstance(node, QueryRef)}
    for name, query in queries.items():
        if name not in used:
            raise RuleFileError(f"query {name!r} is defined but no criterion uses it", file=document.path,
                                line=query.location.line, column=query.location.column)
    return Trial(
        id=trial_id,
        title=r.text(top["title"], ("title",)),
        condition=r.text(top["condition"], ("condition",)),
        source={k: str(v) for k, v in source.items()},
        last_updated=last_updated,
        notes=r.notes(top.get("notes"), ("notes",)) + window_notes,
        queries=queries,
        criteria=tuple(criteria),
        path=document.path,
        content_hash=content_hash,
        windows=dict(r.trial_windows),
    )


def _window_days(r: _Reader, written: Any, at: Path_, criterion: str | None = None) -> int:
    """``N days`` or ``N weeks`` as a whole number of days, positive and at most ten years."""
    parts = written.split() if isinstance(written, str) else []
    per = {"day": 1, "days": 1, "week": 7, "weeks": 7}
    if len(parts) != 2 or not parts[0].isdigit() or parts[1] not in per:
        raise r.fail(at, f"a window is written as a whole number of days or weeks, e.g. '90 days' or '4 weeks', "
                     f"not {written!r}", criterion=criterion)
    days = int(parts[0]) * per[parts[1]]
    if not 0 < days <= LONGEST_WINDOW_DAYS:
        raise r.fail(at, f"a window must be between 1 and {LONGEST_WINDOW_DAYS} days, not {written!r}",
                     criterion=criterion)
    return days


def _parse_windows(r: _Reader, raw: Any) -> tuple[dict[str, Window], tuple[str, ...]]:
    """The trial's ``windows:``: a window per kind of value, and the notes that say why."""
    spec = r.mapping(raw, ("windows",), {*VALUE_KINDS, "notes"}, set())
    windows: dict[str, Window] = {kind: Window(_window_days(r, spec[kind], ("windows", kind)),
                            f"the trial's window for {KIND_LABELS[kind]}")
               for kind in VALUE_KINDS if kind in spec}
    stated = ", ".join(f"{KIND_LABELS[kind]} {windows[kind].days} days" for kind in VALUE_KINDS if kind in windows)
    notes = r.notes(spec.get("notes"), ("windows", "notes"))
    if stated:
        notes = (f"Screening windows: {stated}.", *notes)
    return windows, notes


def _window(r: _Reader, raw: dict[str, Any], at: Path_, name: str, fields: dict[str, FieldSpec],
            criterion: str | None) -> Window | None:
    """The window of a comparison on ``name``: its own, its criterion's, the trial's, the project's."""
    kind = FIELD_KINDS.get(name) if fields is PATIENT_FIELDS else None
    if "within" in raw:
        if kind is None:
            raise r.fail((*at, "within"), f"field {name!r} is not a dated result (a lab, score, test or imaging "
                         "value): a window does not apply to it", criterion=criterion)
        return Window(_window_days(r, raw["within"], (*at, "within"), criterion), "stated by the comparison")
    if kind is None:
        return None
    if r.criterion_window is not None:
        return r.criterion_window
    if kind in r.trial_windows:
        return r.trial_windows[kind]
    return Window(DEFAULT_WINDOW_DAYS[kind], f"{PROJECT_DEFAULT} for {KIND_LABELS[kind]}")


def _one_window_per_field(criteria: list[Criterion]) -> None:
    """A trial reads one value per field: every comparison on a field must use the same window."""
    seen: dict[str, Comparison] = {}
    for criterion in criteria:
        for node in walk(criterion.condition) if criterion.condition else ():
            if not isinstance(node, Comparison) or node.within is None:
                continue
            first = seen.setdefault(node.field, node)
            if first.within is not None and first.within.days != node.within.days:
                raise RuleFileError(
                    f"field {node.field!r} is compared with a {node.within.describe()} here but a "
                    f"{first.within.describe()} at line {first.where.line}: one trial reads one value per field, "
                    "so its comparisons must share one window", file=node.where.file, line=node.where.line,
                    column=node.where.column, field=node.field, criterion=criterion.id)


def _parse_queries(r: _Reader, raw: Any) -> dict[str, Query]:
    if not isinstance(raw, dict):
        raise r.fail(("queries",), "queries must be a mapping from query name to its definition")
    queries: dict[str, Query] = {}
    for name, body in raw.items():
        at: Path_ = ("queries", name)
        spec = r.mapping(body, at, {"notes"}, {"over", "label", "where"})
        over = spec["over"]
        if over not in LISTS:
            raise r.fail((*at, "over"), f"cannot query {over!r}{did_you_mean(str(over), LISTS)}; lists: "
                         f"{', '.join(LISTS)}")
        where = _parse_node(r, spec["where"], (*at, "where"), LISTS[over].fields, None, None)
        queries[name] = Query(name, over, r.text(spec["label"], (*at, "label")), where,
                              r.notes(spec.get("notes"), (*at, "notes")), r.where(at))
    return queries


def _parse_criterion(r: _Reader, raw: Any, at: Path_, queries: dict[str, Query]) -> Criterion:
    spec = r.mapping(raw, at, {"condition", "label", "manual", "notes", "routine", "within"}, {"id", "kind", "text"})
    criterion_id = r.text(spec["id"], (*at, "id"))
    r.criterion_window = None
    if "within" in spec:
        r.criterion_window = Window(_window_days(r, spec["within"], (*at, "within"), criterion_id),
                                    f"stated by criterion {criterion_id}")
    kind = spec["kind"]
    if kind not in ("inclusion", "exclusion"):
        raise r.fail((*at, "kind"), f"kind must be inclusion or exclusion, not {kind!r}"
                     f"{did_you_mean(str(kind), ['inclusion', 'exclusion'])}", criterion=criterion_id)
    has_condition, has_manual = "condition" in spec, "manual" in spec
    if has_condition == has_manual:
        raise r.fail(at, "a criterion needs exactly one of 'condition' or 'manual' (with the reason it is left "
                     "to the clinician)", criterion=criterion_id)
    condition = (_parse_node(r, spec["condition"], (*at, "condition"), PATIENT_FIELDS, queries, criterion_id)
                 if has_condition else None)
    manual = r.text(spec["manual"], (*at, "manual")) if has_manual else None
    routine = spec.get("routine")
    if routine is not None and not isinstance(routine, bool):
        raise r.fail((*at, "routine"), f"routine must be true or false, not {routine!r}", criterion=criterion_id)
    if r.criterion_window is not None and (condition is None or not any(
            isinstance(node, Comparison) and node.field in FIELD_KINDS for node in walk(condition))):
        raise r.fail((*at, "within"), "this criterion compares no dated result (a lab, score, test or imaging "
                     "value): its window would apply to nothing", criterion=criterion_id)
    r.criterion_window = None
    label = r.text(spec["label"], (*at, "label")) if "label" in spec else None
    if label is not None and "\n" in label:
        raise r.fail((*at, "label"), "a label is one short line", criterion=criterion_id)
    return Criterion(criterion_id, kind, r.text(spec["text"], (*at, "text")), condition, manual,
                     r.notes(spec.get("notes"), (*at, "notes")), r.where(at), routine, label)


_NODE_KEYS = {"all", "any", "not", "field", "query", "manual", "equivalent"}


def _parse_node(r: _Reader, raw: Any, at: Path_, fields: dict[str, FieldSpec],
                queries: dict[str, Query] | None, criterion: str | None) -> Node:
    if not isinstance(raw, dict):
        raise r.fail(at, "a condition must be a mapping: all, any, not, field, query or manual",
                     criterion=criterion)
    kinds = [key for key in raw if key in _NODE_KEYS]
    if len(kinds) != 1:
        unknown = [key for key in raw if key not in _NODE_KEYS | set(OPERATORS) | {"label", "alternative", "within"}]
        if unknown:
            raise r.fail((*at, unknown[0]), f"unknown key{did_you_mean(unknown[0], _NODE_KEYS | set(OPERATORS))}",
                         key=True, criterion=criterion)
        raise r.fail(at, "a condition needs exactly one of all, any, not, field, query, manual",
                     criterion=criterion)
    kind = kinds[0]
    where = r.where(at)
    if kind in ("all", "any"):
        r.mapping(raw, at, set(), {kind})
        items = raw[kind]
        if not isinstance(items, list) or not items:
            raise r.fail((*at, kind), f"'{kind}' needs a non-empty list of conditions", criterion=criterion)
        parsed = tuple(_parse_node(r, item, (*at, kind, i), fields, queries, criterion)
                       for i, item in enumerate(items))
        return AllOf(parsed, where) if kind == "all" else AnyOf(parsed, where)
    if kind == "not":
        r.mapping(raw, at, set(), {"not"})
        return Not(_parse_node(r, raw["not"], (*at, "not"), fields, queries, criterion), where)
    if kind == "manual":
        r.mapping(raw, at, set(), {"manual"})
        if queries is None:
            raise r.fail(at, "a manual part cannot be used inside a query", criterion=criterion)
        return ManualPart(r.text(raw["manual"], at + ("manual",)), where)
    if kind == "equivalent":
        return _parse_equivalent(r, raw, at, fields, queries, criterion)
    if kind == "query":
        r.mapping(raw, at, set(), {"query"})
        if queries is None:
            raise r.fail(at, "a query cannot be used inside another query", criterion=criterion)
        name = raw["query"]
        if name not in queries:
            raise r.fail((*at, "query"), f"unknown query {name!r}{did_you_mean(str(name), queries)}",
                         criterion=criterion)
        return QueryRef(name, where)
    return _parse_comparison(r, raw, at, fields, criterion)


def _parse_equivalent(r: _Reader, raw: dict[str, Any], at: Path_, fields: dict[str, FieldSpec],
                      queries: dict[str, Query] | None, criterion: str | None) -> Equivalent:
    r.mapping(raw, at, set(), {"equivalent"})
    if queries is None:
        raise r.fail(at, "'equivalent' compares measures of the patient; it cannot be used inside a query",
                     criterion=criterion)
    items = raw["equivalent"]
    if not isinstance(items, list) or len(items) < 2:
        raise r.fail((*at, "equivalent"), "'equivalent' needs a list of at least two comparisons, one per measure",
                     criterion=criterion)
    parsed: list[Comparison] = []
    for i, item in enumerate(items):
        item_at = (*at, "equivalent", i)
        if not isinstance(item, dict) or "field" not in item or "alternative" in item:
            raise r.fail(item_at, "each measure of 'equivalent' is one comparison {field: F, OP: V} (without an "
                         "alternative reading)", criterion=criterion)
        comparison = _parse_comparison(r, item, item_at, fields, criterion)
        if comparison.field in {c.field for c in parsed}:
            raise r.fail((*item_at, "field"), f"field {comparison.field!r} appears twice: each measure of "
                         "'equivalent' is a different field", criterion=criterion)
        parsed.append(comparison)
    return Equivalent(tuple(parsed), r.where(at))


def _parse_comparison(r: _Reader, raw: dict[str, Any], at: Path_, fields: dict[str, FieldSpec],
                      criterion: str | None) -> Comparison:
    ops = [key for key in raw if key in OPERATORS]
    for key in raw:
        if key not in OPERATORS and key not in ("field", "label", "alternative", "within"):
            raise r.fail((*at, key), f"unknown operator or key"
                         f"{did_you_mean(key, set(OPERATORS) | {'label', 'alternative', 'within'})}",
                         key=True, criterion=criterion)
    if len(ops) != 1:
        raise r.fail(at, f"a comparison needs exactly one operator ({', '.join(OPERATORS)})", criterion=criterion)
    name = raw["field"]
    if not isinstance(name, str) or name not in fields:
        raise r.fail((*at, "field"), f"unknown field {name!r}{did_you_mean(str(name), fields)}",
                     criterion=criterion)
    spec = fields[name]
    op = OPERATORS[ops[0]]
    if spec.type not in op.types:
        raise r.fail((*at, op.name), f"operator {op.name!r} does not apply to {spec.type} field {name!r}",
                     criterion=criterion)
    label = raw.get("label")
    if label is not None and not isinstance(label, str):
        raise r.fail((*at, "label"), "label must be text", criterion=criterion)
    written = raw[op.name]
    value = _threshold(r, spec, op, written, (*at, op.name), criterion)
    alternative = None
    if "alternative" in raw:
        alt_at = (*at, "alternative")
        alt = raw["alternative"]
        alt_ops = [key for key in alt if key in OPERATORS] if isinstance(alt, dict) else []
        if not isinstance(alt, dict) or len(alt_ops) != 1 or len(alt) != 1:
            raise r.fail(alt_at, "alternative must be one operator and threshold, e.g. {gte: 18}",
                         criterion=criterion)
        alt_op = OPERATORS[alt_ops[0]]
        if spec.type not in alt_op.types:
            raise r.fail(alt_at, f"operator {alt_op.name!r} does not apply to {spec.type} field {name!r}",
                         criterion=criterion)
        alt_value = _threshold(r, spec, alt_op, alt[alt_op.name], (*alt_at, alt_op.name), criterion)
        alternative = Reading(alt_op.name, alt_value, _written(alt[alt_op.name]))
        if (alt_op.name, alt_value) == (op.name, value):
            raise r.fail(alt_at, "the alternative reading is the same as the first", criterion=criterion)
    within = _window(r, raw, at, name, fields, criterion)
    return Comparison(name, op.name, value, _written(written), label, r.where(at), alternative, within)


def _written(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _threshold(r: _Reader, spec: FieldSpec, op: Operator, written: Any, at: Path_, criterion: str | None) -> Any:
    if spec.type == "bool":
        if not isinstance(written, bool):
            raise r.fail(at, f"field {spec.name!r} is true or false; compare it with true or false",
                         criterion=criterion)
        return written
    if spec.type == "enum":
        options = written if op.name == "in" else [written]
        if op.name == "in" and (not isinstance(written, list) or not written):
            raise r.fail(at, "'in' needs a non-empty list", criterion=criterion)
        for option in options:
            if option not in spec.choices:
                raise r.fail(at, f"{option!r} is not a value of {spec.name!r}{did_you_mean(str(option), spec.choices)}"
                             f"; values: {', '.join(spec.choices)}", criterion=criterion)
        return tuple(options) if op.name == "in" else written
    # numbers
    if spec.measure is not None:
        if not isinstance(written, str):
            raise r.fail(at, f"field {spec.name!r} is a measured quantity: write the threshold with its unit, "
                         f"e.g. '{written} {spec.unit_display}'", criterion=criterion)
        try:
            return convert(written, spec.measure)
        except UnitProblem as exc:
            raise r.fail(at, str(exc), criterion=criterion) from None
    if isinstance(written, bool) or not isinstance(written, (int, float)):
        raise r.fail(at, f"field {spec.name!r} takes a plain number, not {written!r}", criterion=criterion)
    return float(written)


def load_trials(directory: str | Path) -> list[Trial]:
    """Every ``*.yaml`` rule file in ``directory``, sorted by trial id."""
    directory = Path(directory)
    if not directory.is_dir():
        raise RuleFileError("rules directory not found", file=str(directory))
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise RuleFileError("no rule files (*.yaml) in this directory", file=str(directory))
    return sorted((load_trial(path) for path in files), key=lambda trial: trial.id)

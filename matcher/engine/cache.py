"""Decide each distinct fact once: a bounded cache of the engine's answers, keyed on each fact's class.

A trial's rules compare a fact's values with constants only (``age >= 18``, ``sex == "female"``,
``query__x == true``), one fact at a time, and every fact is retracted after its rules have fired. So the
rules a fact fires depend only on how each of its values compares with the constants the rules compare
that key with: its *class*. Two facts of one kind whose values fall in the same classes fire the same
rules, and the engine's decided answer for the first (the truth of every node) is the answer for the
second. The cache keys each fact on its classes, asks the engine on a miss (the real fact, as without the
cache) and reuses that answer on a hit: the engine still decides every distinct case, and the answer
reused is one it gave for a fact it cannot tell apart from this one.

The class of a value, for one key of one ruleset (:class:`FactClasses` reads the constants from the
compiled rules themselves, as the engine gets them):

* a number: where it lies among the numbers that key is compared with (equal to one, or strictly
  between two neighbours), after the rounding the engine's input goes through (the fixed-point text
  :func:`~matcher.engine.adapter.engine_number` writes, read back as the engine reads it: ``atof`` for a
  text with a point, ``atol`` otherwise). durable-rules compares an integer with an integer exactly and
  anything else as C doubles; every number written this way is an exact double below 2**53, so that is
  the order of the real numbers, and Python's comparisons give the same answers;
* a string: itself if a rule compares the key with that very string, else one class "any other string"
  (the key's rules test only equality, so no other string can make one of them match);
* a boolean: itself;
* a key no rule mentions (the list index of an entry): left out of the key; the caller keeps it;
* anything else, or a key whose rules do anything but these comparisons (an ordering of strings, a number
  compared with a string): the value's exact text, which cannot merge two facts the engine could tell
  apart.

A key absent from the fact is its own class (a comparison on a missing key never matches). A ruleset with
a rule of any other shape than one condition on one fact is not cached at all: its facts all go to the
engine.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from typing import Any, NamedTuple

from matcher.engine.adapter import PLAIN_INT, encode_fact, engine_number

#: the class of every string a key's rules do not compare with
OTHER_STRING = ("other string",)
#: the class of a key the fact does not carry
ABSENT = None
#: the comparisons a number class answers (equality is a bare ``{key: value}``)
_NUMBER_OPERATORS = frozenset({"eq", "$neq", "$lt", "$lte", "$gt", "$gte"})
_EQUALITY_OPERATORS = frozenset({"eq", "$neq"})
_COMPARISONS = frozenset({"$neq", "$lt", "$lte", "$gt", "$gte"})
#: integers beyond this are not exact doubles: compared as such, they are kept exact instead
_EXACT_INTEGERS = 2**53
#: floats below this in size take the shortcut of number_class (far from every threshold, no text needed)
_ROUNDED_FLOATS = 1e15
#: how far (times 1 + |value|) the number the engine reads can lie from a float: 5e-11 for the ten decimals
#: it is written with, 1.2e-16 relative for reading the text back; with room to spare
_MARGIN = 1e-9
#: what the engine's atol gives at most (it saturates)
_LONG_MAX = 2**63 - 1
_LONG_MIN = -(2**63)

#: default bounds of one trial's caches, in facts: entries of a list repeat across patients far more than
#: whole patients do, so their cache is larger; both keep a worker's memory flat however long the run. A cached
#: fact weighs 0.5-1.5 KB; 2,048 entry facts answer as many entry facts as 4,096 did on the bench's cohort
#: and halve what a cohort with more varied lists can fill (docs/engine.md)
PATIENT_FACTS = 1_024
ENTRY_FACTS = 2_048


class NotCacheable(Exception):
    """A ruleset with a rule the cache cannot reason about: its facts are always decided by the engine."""


def engine_reads(text: str) -> int | float:
    """The number the engine reads from a number's JSON text: ``atof`` with a point, else ``atol``."""
    if "." in text:
        return float(text)
    return min(max(int(text), _LONG_MIN), _LONG_MAX)


def number_class(value: int | float, thresholds: list[int | float], rounded: bool = False) -> int | str:
    """A number's class among sorted, distinct ``thresholds``, for the number the engine reads: ``2 * i + 1`` if
    it equals ``thresholds[i]``, ``2 * i`` if it lies strictly between ``thresholds[i - 1]`` and
    ``thresholds[i]``. A number that is not an exact double after the engine's rounding is its own class (its
    text). ``rounded``: always write the text and read it back as the engine does, with no shortcut."""
    if not rounded:
        if type(value) is int and -PLAIN_INT < value < PLAIN_INT:  # written as it is, read as it is
            return _position(value, thresholds)
        if type(value) is float and -_ROUNDED_FLOATS < value < _ROUNDED_FLOATS:  # finite, not NaN
            # the engine reads within 5e-11 (ten decimals) plus half an ulp of the value: further than the
            # margin from every threshold, it lies where the value does (writing the text is most of the cost)
            position = bisect.bisect_left(thresholds, value)
            margin = _MARGIN * (1.0 + abs(value))
            if ((position == len(thresholds) or thresholds[position] - value > margin)
                    and (position == 0 or value - thresholds[position - 1] > margin)):
                return 2 * position
    text = engine_number(value)
    seen = engine_reads(text)
    if isinstance(seen, int) and not -_EXACT_INTEGERS < seen < _EXACT_INTEGERS:
        return text
    return _position(seen, thresholds)


def _position(seen: int | float, thresholds: list[int | float]) -> int:
    position = bisect.bisect_left(thresholds, seen)
    if position < len(thresholds) and thresholds[position] == seen:
        return 2 * position + 1
    return 2 * position


class _Key(NamedTuple):
    """How one key of a fact is classed: its numbers' sorted thresholds or the strings its rules name."""

    #: sorted, distinct, as the engine reads them; None when the key is not compared with numbers only
    numbers: list[int | float] | None
    #: the strings the rules compare the key with (equality only); None when not strings only
    strings: frozenset[str] | None


class FactClasses:
    """The classes of a ruleset's facts: :meth:`key` gives the cache key of a fact.

    A rule guarded by ``kind == K`` (the compiler guards every rule so) matches no fact of another kind, so a
    fact's key lists only the keys the rules of its own kind (and any unguarded rule) compare, with the
    constants those rules compare them with.
    """

    def __init__(self, rules: Mapping[str, Any]) -> None:
        by_kind: dict[str | None, dict[str, list[tuple[str, Any]]]] = {}
        for name, rule in rules.items():
            condition = _only_condition(name, rule)
            _collect(condition, by_kind.setdefault(_guard(condition), {}))
        unguarded = by_kind.pop(None, {})
        every: dict[str, list[tuple[str, Any]]] = {}
        for compared in [unguarded, *by_kind.values()]:
            for key, tests in compared.items():
                every.setdefault(key, []).extend(tests)
        #: kind -> (the kind's own class, then (key, numbers, strings) in one fixed order); a fact of no guarded
        #: kind: every key
        self._plans = {kind: (encode_fact({"kind": kind}), _plan(compared, unguarded))
                       for kind, compared in by_kind.items()}
        self._every = _plan(every, {})
        #: every key a rule compares
        self.keys = tuple(key for key, _, _ in self._every)

    def key(self, fact: Mapping[str, Any]) -> tuple[Hashable, ...]:
        """The fact's kind, then the class of each value its kind's rules compare (:data:`ABSENT` if missing)."""
        kind = fact.get("kind")
        found = self._plans.get(kind) if type(kind) is str else None
        if found is None:
            kind_class: Hashable = encode_fact({"kind": kind}) if kind is not None else ABSENT
            plan = self._every
        else:  # the kind's class is worked out once (this runs for every fact asked about)
            kind_class, plan = found
        classes: list[Hashable] = [kind_class]
        append = classes.append
        get = fact.get
        for name, numbers, strings in plan:
            value = get(name, _MISSING)
            type_ = type(value)
            if value is _MISSING:
                append(ABSENT)
            elif type_ is bool:
                append("true" if value else "false")
            elif (type_ is int or type_ is float) and numbers is not None:
                append(number_class(value, numbers))
            elif type_ is str and strings is not None:
                append(value if value in strings else OTHER_STRING)
            else:  # the exact text the engine would be given (and its refusal of a value it cannot take)
                append(encode_fact({name: value}))
        return tuple(classes)


_MISSING = object()


def _guard(condition: Any) -> str | None:
    """The kind a condition requires (``{"kind": K}`` alone or in a top-level ``$and``), else None."""
    parts = condition.get("$and", [condition]) if isinstance(condition, dict) else []
    kinds = {part["kind"] for part in parts if isinstance(part, dict) and list(part) == ["kind"]}
    found = kinds.pop() if len(kinds) == 1 else None
    return found if type(found) is str else None


def _plan(compared: dict[str, list[tuple[str, Any]]], unguarded: dict[str, list[tuple[str, Any]]]
          ) -> tuple[tuple[str, list[int | float] | None, frozenset[str] | None], ...]:
    """(key, numbers, strings) for every key but ``kind``, in name order, from what the rules compare it with."""
    tests: dict[str, list[tuple[str, Any]]] = {}
    for source in (compared, unguarded):
        for key, found in source.items():
            tests.setdefault(key, []).extend(found)
    return tuple((key, *_classing(tests[key])) for key in sorted(tests) if key != "kind")


def _only_condition(name: str, rule: Any) -> Any:
    """The one condition of a rule on one fact (``{"all": [{"m": condition}]}``), else NotCacheable."""
    if (isinstance(rule, dict) and list(rule) == ["all"] and isinstance(rule["all"], list)
            and len(rule["all"]) == 1 and isinstance(rule["all"][0], dict) and list(rule["all"][0]) == ["m"]):
        return rule["all"][0]["m"]
    raise NotCacheable(f"rule {name} is not one condition on one fact")


def _collect(condition: Any, compared: dict[str, list[tuple[str, Any]]]) -> None:
    """Every (operator, constant) each key is compared with in ``condition``."""
    if not isinstance(condition, dict) or len(condition) != 1:
        raise NotCacheable(f"condition {condition!r} has not one operator")
    ((operator, operand),) = condition.items()
    if operator in ("$and", "$or"):
        if not isinstance(operand, list):
            raise NotCacheable(f"{operator} of {operand!r}")
        for part in operand:
            _collect(part, compared)
    elif operator == "$ex":  # the sentinel: the key is there (its class says whether it is)
        if not isinstance(operand, dict) or len(operand) != 1:
            raise NotCacheable(f"$ex of {operand!r}")
        compared.setdefault(next(iter(operand)), [])
    elif operator in _COMPARISONS:
        if not isinstance(operand, dict) or len(operand) != 1:
            raise NotCacheable(f"{operator} of {operand!r}")
        ((key, value),) = operand.items()
        compared.setdefault(key, []).append((operator, value))
    elif operator.startswith("$"):
        raise NotCacheable(f"operator {operator} is not one the cache reasons about")
    else:
        compared.setdefault(operator, []).append(("eq", operand))


def _classing(tests: list[tuple[str, Any]]) -> _Key:
    operators = {operator for operator, _ in tests}
    constants = [value for _, value in tests]
    numbers = None
    strings = None
    if all(type(value) in (int, float) for value in constants) and operators <= _NUMBER_OPERATORS:
        read = sorted({engine_reads(engine_number(value)) for value in constants})
        if all(-_EXACT_INTEGERS < value < _EXACT_INTEGERS for value in read):
            numbers = read
    if all(type(value) is str for value in constants) and operators <= _EQUALITY_OPERATORS:
        strings = frozenset(constants)
    if not constants:  # only tested for being there: every value of one type is one class
        numbers, strings = [], frozenset()
    return _Key(numbers, strings)


class CacheStats(NamedTuple):
    #: facts answered from the cache
    hits: int
    #: facts the engine was asked about (and whose answers were kept)
    misses: int
    #: answers held now
    entries: int


class DecisionCache:
    """A bounded, least-recently-used map of fact classes to the engine's decided answers for one scope."""

    def __init__(self, bound: int) -> None:
        if bound < 1:
            raise ValueError("a cache holds at least one answer")
        self.bound = bound
        self._answers: OrderedDict[tuple[Hashable, ...], tuple[bool | None, ...]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[Hashable, ...]) -> tuple[bool | None, ...] | None:
        answer = self._answers.get(key)
        if answer is None:
            self.misses += 1
            return None
        self._answers.move_to_end(key)
        self.hits += 1
        return answer

    def put(self, key: tuple[Hashable, ...], answer: tuple[bool | None, ...]) -> None:
        self._answers[key] = answer
        if len(self._answers) > self.bound:
            self._answers.popitem(last=False)

    def __len__(self) -> int:
        return len(self._answers)

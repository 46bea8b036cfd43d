"""Property: every threshold a rule file compares with is stated in the rule file's own words (registry text,
notes, labels), with a relation that agrees with the comparison's operator.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from fractions import Fraction

from matcher.rules.language import Comparison, QueryRef, walk

from . import strategies as gen

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

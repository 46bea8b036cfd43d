"""Stage 1: read a YAML or JSON file into plain data, remembering where each value stood.

The YAML dialect is deliberately narrow so that what a clinician writes is
what the matcher reads: only ``true``/``false`` are booleans (not ``yes``,
``no``, ``on``, ``off``), there are no sexagesimal numbers (PyYAML would read
an ANA titre written ``1:40`` as the integer 100), and a key written twice in
one mapping is an error instead of silently keeping the last value.

Every document is held to the input limits below (docs/limits.md), so that a
hostile or broken file gets one clear error instead of a hang, a crash or
unbounded memory: its size, the length of a text, the nesting depth, the range
of numbers, and YAML aliases (how many, and how much they expand to). YAML
tags are refused on mappings and lists (``!!python/object:...``, ``!!set``):
the matcher reads plain data only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from matcher.errors import MatcherError, shown

try:  # the C loader is about 8x faster; fall back to the pure-Python one where it is missing
    _BaseLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _BaseLoader = yaml.SafeLoader

Path_ = tuple[str | int, ...]

#: the largest patient, rule or FHIR document read (characters)
MAX_DOCUMENT_CHARACTERS = 16_000_000
#: the longest text value (characters)
MAX_TEXT_CHARACTERS = 100_000
#: the deepest nesting of mappings and lists
MAX_DEPTH = 64
#: the largest whole number, in magnitude (a float must also be finite)
MAX_NUMBER = 10**15
#: YAML: the most alias uses (``*name``) in one document
MAX_ALIASES = 100
#: YAML: the most values aliases may add to a document once expanded
MAX_ALIAS_EXPANSION = 10_000


def strict_loader(base: type[Any]) -> type[Any]:
    """A subclass of PyYAML's ``base`` safe loader (C or pure Python) with YAML 1.2-like implicit types (see the
    module docstring). The C loader differs only in its scanner and parser: the resolvers and constructors set
    here are the same Python code for both (tests/test_yaml_loaders.py holds them to the same results)."""

    class StrictLoader(base):  # type: ignore[misc]
        pass

    StrictLoader.yaml_implicit_resolvers = {}
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items():
        StrictLoader.yaml_implicit_resolvers[first] = [
            (tag, regexp)
            for tag, regexp in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
        ]
    StrictLoader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )
    StrictLoader.add_implicit_resolver(
        "tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789")
    )
    StrictLoader.add_constructor("tag:yaml.org,2002:int", _construct_decimal_int)
    StrictLoader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)(?:[eE][-+]?[0-9]+)?$"),
        list("-+0123456789."),
    )
    return StrictLoader


def _construct_decimal_int(loader: Any, node: yaml.ScalarNode) -> int:
    """A whole number in decimal, as YAML 1.2 reads ``08`` (PyYAML's 1.1 constructor takes a leading 0 for
    octal and raises on ``08``)."""
    text = loader.construct_scalar(node)
    try:
        return int(text, 10)
    except ValueError:
        raise yaml.constructor.ConstructorError(None, None, f"{text!r} is not a whole number written in decimal",
                                                node.start_mark) from None


_StrictLoader = strict_loader(_BaseLoader)


@dataclass(frozen=True)
class Document:
    """A file's data plus the line and column (1-based) of every value in it."""

    path: str
    data: Any
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def position(self, at: Path_, key: bool = False) -> tuple[int | None, int | None]:
        """Line and column of the value at ``at`` (of its key when ``key``), or of its nearest ancestor."""
        probe = tuple(at)
        if key and ("key", *probe) in self.positions:
            return self.positions[("key", *probe)]
        while True:
            if probe in self.positions:
                return self.positions[probe]
            if not probe:
                return (None, None)
            probe = probe[:-1]


def read_document(path: str | Path, error_type: type[MatcherError] = MatcherError) -> Document:
    """Read ``path`` (.yaml, .yml or .json) or raise ``error_type`` naming the file and place."""
    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error_type("no such file", file=name) from None
    except IsADirectoryError:
        raise error_type("is a directory, expected a file", file=name) from None
    except UnicodeDecodeError as exc:
        raise error_type(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=name) from None
    except OSError as exc:
        raise error_type(f"cannot read: {exc.strerror}", file=name) from None
    suffix = path.suffix.lower()
    if suffix == ".json":
        return parse_json(text, name, error_type)
    if suffix in (".yaml", ".yml"):
        return parse_yaml(text, name, error_type)
    raise error_type(f"unsupported file type {suffix!r}: use .yaml, .yml or .json", file=name)


def check_size(text: str | bytes, name: str, error_type: type[MatcherError] = MatcherError) -> None:
    """Refuse a document longer than :data:`MAX_DOCUMENT_CHARACTERS`."""
    if len(text) > MAX_DOCUMENT_CHARACTERS:
        raise error_type(f"the document has {len(text):,} characters, more than the limit of "
                         f"{MAX_DOCUMENT_CHARACTERS:,}", file=name)


def limit_problem(value: Any) -> str | None:
    """What is wrong with a scalar value by the input limits (a text too long, a number out of range), or None."""
    if isinstance(value, str) and len(value) > MAX_TEXT_CHARACTERS:
        return f"a text of {len(value):,} characters, more than the limit of {MAX_TEXT_CHARACTERS:,}"
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and abs(value) > MAX_NUMBER:
        return f"the number {shown(value)} is out of range (at most {MAX_NUMBER:.0e} in magnitude)"
    if isinstance(value, float) and not abs(value) <= MAX_NUMBER:
        return f"the number {shown(value)} is out of range (at most {MAX_NUMBER:.0e} in magnitude)"
    return None


def check_limits(data: Any) -> tuple[Path_, str] | None:
    """The first place in plain (JSON) data that breaks the input limits, and the problem; None if it is within."""
    stack: list[tuple[Any, Path_]] = [(data, ())]
    while stack:
        value, at = stack.pop()
        if isinstance(value, (dict, list)):
            if len([part for part in at if part != "key"]) >= MAX_DEPTH:
                return at[:4], f"nested too deeply (more than {MAX_DEPTH} levels)"
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and len(key) > MAX_TEXT_CHARACTERS:
                    return at, f"a key of {len(key):,} characters, more than the limit of {MAX_TEXT_CHARACTERS:,}"
                stack.append((item, (*at, key)))
            continue
        problem = limit_problem(value)
        if problem is not None:
            return at, problem
    return None


def parse_json(text: str, name: str, error_type: type[MatcherError] = MatcherError) -> Document:
    check_size(text, name, error_type)
    try:
        data = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise error_type(f"invalid JSON: {exc.msg}", file=name, line=exc.lineno, column=exc.colno) from None
    except _DuplicateKey as exc:
        line, column = _json_key_position(text, exc.key)
        raise error_type(f"key {shown(exc.key)} appears twice in the same object", file=name, line=line,
                         column=column) from None
    except ValueError as exc:
        raise error_type(f"invalid JSON: {exc}", file=name) from None
    except RecursionError:
        raise error_type(f"invalid JSON: nested too deeply (more than {MAX_DEPTH} levels)", file=name) from None
    positions: dict[Path_, tuple[int, int]] = {}
    broken = check_limits(data)
    try:  # JSON is (nearly) YAML: reuse the YAML composer only to learn positions
        positions = parse_yaml(text, name, error_type).positions
    except MatcherError as exc:
        if broken is not None and exc.line is not None:
            raise  # the YAML reading found the same limit, with its place
        positions = {}
    if broken is not None:
        at, problem = broken
        line, column = Document(name, data, positions).position(at)
        raise error_type(problem, file=name, line=line, column=column, field=_dotted(at) or None)
    return Document(name, data, positions)


def _json_key_position(text: str, key: str) -> tuple[int | None, int | None]:
    """Line and column of the second ``"key":`` in ``text`` (where a duplicate key is), or (None, None)."""
    pattern = re.compile(re.escape(json.dumps(key)) + r"\s*:")
    found = list(pattern.finditer(text))
    if len(found) < 2:
        return None, None
    offset = found[1].start()
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _reject_constant(token: str) -> Any:
    raise ValueError(f"{token} is not a number the matcher accepts")


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def parse_yaml(text: str, name: str, error_type: type[MatcherError] = MatcherError) -> Document:
    check_size(text, name, error_type)
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        positions: dict[Path_, tuple[int, int]] = {}
        budget = _AliasBudget()
        data = None if node is None else _build(loader, node, (), positions, name, error_type, budget)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise error_type(f"invalid YAML: {problem}", file=name, line=line, column=column) from None
    except yaml.YAMLError as exc:
        raise error_type(f"invalid YAML: {exc}", file=name) from None
    except RecursionError:
        raise error_type("invalid YAML: nested too deeply (or an alias that refers to itself)", file=name) from None
    finally:
        loader.dispose()
    return Document(name, data, positions)


class _AliasBudget:
    """What the aliases of one YAML document have used: an alias is a node reached a second time."""

    def __init__(self) -> None:
        self.seen: set[int] = set()
        self.aliases = 0
        self.expanded = 0
        #: how many alias expansions enclose the node being built
        self.inside = 0


def _build(
    loader: Any,
    node: yaml.Node,
    at: Path_,
    positions: dict[Path_, tuple[int, int]],
    name: str,
    error_type: type[MatcherError],
    budget: _AliasBudget | None = None,
) -> Any:
    budget = budget or _AliasBudget()
    line, column = node.start_mark.line + 1, node.start_mark.column + 1

    def refuse(problem: str) -> MatcherError:
        return error_type(problem, file=name, line=line, column=column, field=_dotted(at) or None)

    if len(at) > MAX_DEPTH:
        raise error_type(f"nested too deeply (more than {MAX_DEPTH} levels, or an alias that refers to itself)",
                         file=name, line=line, column=column, field=_dotted(at[:4]) + "...")
    alias = id(node) in budget.seen
    if alias and not budget.inside:  # an alias inside an expanded alias counts as expansion only
        budget.aliases += 1
        if budget.aliases > MAX_ALIASES:
            raise refuse(f"more than {MAX_ALIASES} YAML aliases in one document")
    budget.seen.add(id(node))
    if alias or budget.inside:
        budget.expanded += 1
        if budget.expanded > MAX_ALIAS_EXPANSION:
            raise refuse(f"YAML aliases expand to more than {MAX_ALIAS_EXPANSION:,} values")
    expanding = int(alias or budget.inside > 0)
    budget.inside += expanding
    try:
        return _build_value(loader, node, at, positions, name, error_type, budget, refuse)
    finally:
        budget.inside -= expanding


_PLAIN_COLLECTION_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


def _build_value(loader: Any, node: yaml.Node, at: Path_, positions: dict[Path_, tuple[int, int]], name: str,
                 error_type: type[MatcherError], budget: _AliasBudget, refuse: Any) -> Any:
    positions[at] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _PLAIN_COLLECTION_TAGS:
        kind = "mapping" if isinstance(node, yaml.MappingNode) else "list"
        raise refuse(f"the YAML tag {shown(node.tag)} on a {kind} is not accepted: write plain data")
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise error_type(
                    "a mapping key must be a plain name",
                    file=name,
                    line=key_node.start_mark.line + 1,
                    column=key_node.start_mark.column + 1,
                )
            key = str(loader.construct_object(key_node))
            if len(key) > MAX_TEXT_CHARACTERS:
                raise refuse(f"a key of {len(key):,} characters, more than the limit of {MAX_TEXT_CHARACTERS:,}")
            if key in result:
                raise error_type(
                    f"key {shown(key)} appears twice in the same mapping",
                    file=name,
                    line=key_node.start_mark.line + 1,
                    column=key_node.start_mark.column + 1,
                    field=_dotted((*at, key)),
                )
            positions[("key", *at, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = _build(loader, value_node, (*at, key), positions, name, error_type, budget)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(loader, item, (*at, index), positions, name, error_type, budget)
            for index, item in enumerate(node.value)
        ]
    if isinstance(node.value, str) and len(node.value) > MAX_TEXT_CHARACTERS:
        raise refuse(f"a text of {len(node.value):,} characters, more than the limit of {MAX_TEXT_CHARACTERS:,}")
    try:
        value = loader.construct_object(node)
    except (ValueError, TypeError, AttributeError, OverflowError, yaml.YAMLError) as exc:
        # e.g. a date that is not in the calendar (2026-02-30), or a bad explicit tag (!!int x); the problem
        # alone: the place is the error's own, and a YAML error's text would add it again over several lines
        reason = str(exc.problem if isinstance(exc, yaml.MarkedYAMLError) and exc.problem else exc)
        raise refuse(f"cannot read {shown(node.value)}: {reason}") from None
    problem = limit_problem(value)
    if problem is not None:
        raise refuse(problem)
    return value


def _dotted(at: Path_) -> str:
    out = ""
    for part in at:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


dotted_path = _dotted

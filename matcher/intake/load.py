"""Stage 1: read a YAML or JSON file into plain data, remembering where each value stood.

The YAML dialect is deliberately narrow so that what a clinician writes is
what the matcher reads: only ``true``/``false`` are booleans (not ``yes``,
``no``, ``on``, ``off``), there are no sexagesimal numbers (PyYAML would read
an ANA titre written ``1:40`` as the integer 100), and a key written twice in
one mapping is an error instead of silently keeping the last value.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from matcher.errors import MatcherError

try:  # the C loader is about 8x faster; fall back to the pure-Python one where it is missing
    _BaseLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _BaseLoader = yaml.SafeLoader

Path_ = tuple[str | int, ...]


class _StrictLoader(_BaseLoader):  # type: ignore[misc]
    """SafeLoader with YAML 1.2-like implicit types (see module docstring)."""


_StrictLoader.yaml_implicit_resolvers = {}
for _first, _resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items():
    _StrictLoader.yaml_implicit_resolvers[_first] = [
        (tag, regexp)
        for tag, regexp in _resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
    ]
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789")
)
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."),
)


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


def parse_json(text: str, name: str, error_type: type[MatcherError] = MatcherError) -> Document:
    try:
        data = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise error_type(f"invalid JSON: {exc.msg}", file=name, line=exc.lineno, column=exc.colno) from None
    except _DuplicateKey as exc:
        raise error_type(f"key {exc.key!r} appears twice in the same object", file=name) from None
    except ValueError as exc:
        raise error_type(f"invalid JSON: {exc}", file=name) from None
    except RecursionError:
        raise error_type("invalid JSON: nested too deeply", file=name) from None
    positions: dict[Path_, tuple[int, int]] = {}
    try:  # JSON is (nearly) YAML: reuse the YAML composer only to learn positions
        positions = parse_yaml(text, name, error_type).positions
    except MatcherError:
        positions = {}
    return Document(name, data, positions)


def _reject_constant(token: str) -> Any:
    raise ValueError(f"{token} is not a number the matcher accepts")


class _DuplicateKey(Exception):
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
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        positions: dict[Path_, tuple[int, int]] = {}
        data = None if node is None else _build(loader, node, (), positions, name, error_type)
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


def _build(
    loader: Any,
    node: yaml.Node,
    at: Path_,
    positions: dict[Path_, tuple[int, int]],
    name: str,
    error_type: type[MatcherError],
) -> Any:
    positions[at] = (node.start_mark.line + 1, node.start_mark.column + 1)
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
            if key in result:
                raise error_type(
                    f"key {key!r} appears twice in the same mapping",
                    file=name,
                    line=key_node.start_mark.line + 1,
                    column=key_node.start_mark.column + 1,
                    field=_dotted((*at, key)),
                )
            positions[("key", *at, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = _build(loader, value_node, (*at, key), positions, name, error_type)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(loader, item, (*at, index), positions, name, error_type)
            for index, item in enumerate(node.value)
        ]
    try:
        return loader.construct_object(node)
    except (ValueError, TypeError, AttributeError, OverflowError, yaml.YAMLError) as exc:
        # e.g. a date that is not in the calendar (2026-02-30), or a bad explicit tag (!!int x)
        raise error_type(f"cannot read {node.value!r}: {exc}", file=name, line=node.start_mark.line + 1,
                         column=node.start_mark.column + 1, field=_dotted(at) or None) from None


def _dotted(at: Path_) -> str:
    out = ""
    for part in at:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


dotted_path = _dotted

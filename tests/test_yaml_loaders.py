"""libyaml's C loader (start-up speed) reads every file exactly as PyYAML's pure-Python loader does.

The matcher reads YAML with the C loader where PyYAML has it and falls back to the pure one elsewhere, so
both must give the same data, the same line and column for every value, and for a broken file an error
at the same line and column, naming the same field: the rule files, the field catalogue, the example
patients, every bad-input case of tests/test_bad_input.py and the YAML features the code relies on. Only
the wording of a syntax error (after "invalid YAML:") is libyaml's own.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from matcher.errors import MatcherError
from matcher.intake import load
from matcher.model.fields import rows
from matcher.rules.language import load_trials

from .helpers import EXAMPLE_FILES, RULES
from .test_bad_input import CASES

needs_libyaml = pytest.mark.skipif(not hasattr(yaml, "CSafeLoader"), reason="PyYAML built without libyaml")

PURE = load.strict_loader(yaml.SafeLoader)

#: YAML the code relies on reading one way: merge keys, anchors and aliases, dates and timestamps, YAML 1.1
#: words that are not booleans here, a decimal 08, duplicate keys, flow and block styles, and broken texts
FEATURES = {
    "merge key": "base: &b {a: 1, b: 2}\nchild:\n  <<: *b\n  b: 3\n",
    "anchors and aliases": "x: &v [1, 2]\ny: *v\nz: *v\n",
    "dates": "d: 2026-02-28\nt: 2026-02-28T10:30:00Z\nbad: 2026-02-30\n",
    "yaml 1.1 words": "a: yes\nb: no\nc: on\nd: off\ne: True\nf: FALSE\ng: y\n",
    "numbers": "a: 08\nb: 1:40\nc: 1e3\nd: .5\ne: -0\nf: 0x1F\ng: 1_000\n",
    "duplicate key": "a: 1\nb: 2\na: 3\n",
    "block and flow": "list:\n  - {k: v, n: [1, 2]}\n  - |\n    two\n    lines\n  - >\n    folded\n    text\n",
    "unicode": "name: \"Zoë \\u00e9\"\nnote: naïve – ok\n",
    "unclosed flow": "a: [1, 2\nb: 3\n",
    "bad indentation": "a:\n  b: 1\n c: 2\n",
    "tab": "a:\n\tb: 1\n",
    "unclosed quote": "a: \"open\nb: 2\n",
    "undefined alias": "a: *nowhere\n",
    "two documents": "a: 1\n---\nb: 2\n",
    "tag on a mapping": "a: !!set {x, y}\n",
    "bad int tag": "a: !!int x\n",
    "date not in the calendar": "a:\n  b: 2026-02-30\n",
}


def _read(text: str, loader: type[Any]) -> tuple[str, Any]:
    """What parse_yaml gives with ``loader``: the data with every position, or the error and its place."""
    saved = load._StrictLoader
    load._StrictLoader = loader
    try:
        document = load.parse_yaml(text, "f.yaml")
    except MatcherError as exc:
        syntax = "invalid YAML:" in exc.message
        return "error", (exc.message.split("invalid YAML:")[0] if syntax else exc.message, exc.line, exc.column,
                         exc.field)
    finally:
        load._StrictLoader = saved
    return "read", (repr(document.data), document.positions)


def test_a_bad_value_is_one_line_with_its_place() -> None:
    kind, (message, line, column, field) = _read(FEATURES["bad int tag"], load._StrictLoader)
    assert (kind, message, line, column, field) == (
        "error", "cannot read 'x': 'x' is not a whole number written in decimal", 1, 4, "a")


def _same_with_both(text: str) -> None:
    fast = _read(text, load._StrictLoader)
    assert fast == _read(text, PURE)


@needs_libyaml
def test_the_c_loader_is_the_one_in_use() -> None:
    assert issubclass(load._StrictLoader, yaml.CSafeLoader)
    assert rows._SAFE_LOADER is yaml.CSafeLoader


@needs_libyaml
@pytest.mark.parametrize("path", sorted(RULES.glob("*.yaml")), ids=lambda path: path.name)
def test_rule_files_read_the_same(path: Path) -> None:
    _same_with_both(path.read_text(encoding="utf-8"))


@needs_libyaml
def test_trials_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = load_trials(RULES)
    monkeypatch.setattr(load, "_StrictLoader", PURE)
    assert load_trials(RULES) == fast


@needs_libyaml
@pytest.mark.parametrize("path", [p for p in EXAMPLE_FILES if p.suffix == ".yaml"], ids=lambda path: path.name)
def test_example_patients_read_the_same(path: Path) -> None:
    _same_with_both(path.read_text(encoding="utf-8"))


@needs_libyaml
@pytest.mark.parametrize("text", [case[2] for case in CASES if case[1].endswith(".yaml")],
                         ids=[case[0] for case in CASES if case[1].endswith(".yaml")])
def test_bad_input_cases_read_the_same(text: str) -> None:
    _same_with_both(text)


@needs_libyaml
@pytest.mark.parametrize("text", FEATURES.values(), ids=FEATURES.keys())
def test_yaml_features_read_the_same(text: str) -> None:
    _same_with_both(text)


@needs_libyaml
def test_the_field_catalogue_reads_the_same() -> None:
    text = resources.files("matcher.model.fields").joinpath(rows.CATALOGUE_FILE).read_text(encoding="utf-8")
    assert repr(yaml.load(text, Loader=rows._SAFE_LOADER)) == repr(yaml.load(text, Loader=yaml.SafeLoader))

"""The durable-rules adapter: the only module that imports the engine.

It talks to durable-rules' C extension (``durable_rules_engine``) directly,
as ``durable.engine.Host`` does internally, because the Host cannot unload a
ruleset, starts timer threads that never stop, and decodes the whole fact once
per fired rule in Python callbacks (tests/test_engine_pitfalls.py pins each pitfall this avoids).

Design rules that keep the engine's answers right (each pinned by a test):

* Facts, not events: every matching rule fires once per asserted fact.
* Every ruleset has a sentinel rule that matches every fact, so an action
  always starts (an empty session must never be deleted: it can crash).
* One session per ruleset, reused: each fact is retracted right after its
  rules have fired, so the same patient can be evaluated again.
* Facts are flat and built by us from validated data; numbers are written in
  fixed-point notation because the engine rejects exponents such as ``1e15``.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import math
import operator
from typing import Any

from matcher.errors import EngineUnavailableError, EvaluationError

try:
    import durable  # noqa: F401 - the durable-rules distribution; its C extension below does the work
    import durable_rules_engine as _engine
except ImportError as _exc:  # pragma: no cover - exercised by a test that hides the module
    _engine = None
    _IMPORT_PROBLEM = str(_exc)
else:
    _IMPORT_PROBLEM = ""


def engine_version() -> str:
    """``durable-rules X.Y.Z``: which engine decided, for the record."""
    from importlib.metadata import PackageNotFoundError, version

    require_engine()
    try:
        return f"durable-rules {version('durable-rules')}"
    except PackageNotFoundError:  # pragma: no cover - importable but not installed as a distribution
        return "durable-rules (version unknown)"

SENTINEL = "sentinel"
_SESSION = "0"
_names = itertools.count()


def require_engine() -> Any:
    if _engine is None:
        raise EngineUnavailableError(
            "durable-rules is not importable, and the matcher does not evaluate without it "
            f"({_IMPORT_PROBLEM}). Install it with: pip install durable-rules==2.0.28 "
            "(it compiles C: needs gcc and the Python headers; Python 3.11 or 3.12)"
        )
    return _engine


#: integers below this in size are written as they are (engine_number's fixed-point limit)
PLAIN_INT = 10**15


def engine_number(value: float | int) -> str:
    """A number as the engine's JSON parser accepts it (no exponent, finite)."""
    if isinstance(value, bool) or not math.isfinite(value):
        raise EvaluationError(f"not a finite number: {value!r}")
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = f"{value:.10f}".rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text


@functools.lru_cache(maxsize=4096)
def _json_string(text: str) -> str:
    """A value's JSON (enum values repeat from fact to fact: each is encoded once)."""
    return json.dumps(text, ensure_ascii=False)


@functools.lru_cache(maxsize=4096)
def _json_key(key: str) -> str:
    """A key's JSON (ASCII-escaped, as json.dumps writes it by default)."""
    return json.dumps(key)


def encode_fact(fact: dict[str, Any]) -> str:
    """JSON for a flat fact of str, bool, int and float values."""
    parts = []
    for key, value in fact.items():
        kind = type(value)
        if kind is bool:
            encoded = "true" if value else "false"
        elif kind is int and -PLAIN_INT < value < PLAIN_INT:  # what engine_number gives, without its checks
            encoded = str(value)
        elif kind is str:
            encoded = _json_string(value)
        elif kind is float:
            encoded = engine_number(value)
        elif isinstance(value, bool):
            encoded = "true" if value else "false"
        elif isinstance(value, (int, float)):
            encoded = engine_number(value)
        elif isinstance(value, str):
            encoded = json.dumps(value, ensure_ascii=False)
        else:
            raise EvaluationError(f"fact field {key!r} has a value of type {type(value).__name__}; "
                                  "facts must be flat")
        parts.append(f"{_json_key(key) if type(key) is str else json.dumps(key)}:{encoded}")
    return "{" + ",".join(parts) + "}"


#: what encode_fact writes first for ``{"sid": _SESSION, ...}``
_SESSION_PREFIX = encode_fact({"sid": _SESSION})[:-1] + ","


def _encode_definition(definition: Any) -> str:
    """JSON for a ruleset definition, with numbers in fixed-point notation."""
    out: list[str] = []
    _write_definition(definition, out)
    return "".join(out)


def _write_definition(value: Any, out: list[str]) -> None:
    """Append ``value``'s JSON to ``out`` (one list for the whole definition: it is part of start-up)."""
    if isinstance(value, dict):
        out.append("{")
        for position, (key, item) in enumerate(value.items()):
            if position:
                out.append(",")
            out.append(_json_key(key) if type(key) is str else json.dumps(key))
            out.append(":")
            _write_definition(item, out)
        out.append("}")
    elif isinstance(value, list):
        out.append("[")
        for position, item in enumerate(value):
            if position:
                out.append(",")
            _write_definition(item, out)
        out.append("]")
    elif type(value) is str:
        out.append(_json_string(value))
    elif isinstance(value, bool) or value is None or isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, (int, float)):
        out.append(engine_number(value))
    else:
        raise EvaluationError(f"cannot encode {value!r} for the engine")


class HoldsEngineHandles:
    """Refuses to be pickled or copied: it holds handles into this process's durable-rules engine.

    An unpickled copy in another process points at nothing there (the engine answers "error code 111"); in
    the same process it points at the original's rulesets, and deletes them when it is garbage-collected.
    cloudpickle (Spark, Dask, Ray) would otherwise copy such an object silently into a closure.
    """

    def __reduce_ex__(self, protocol: object) -> Any:
        raise TypeError(f"a {type(self).__name__} holds durable-rules engine handles of this process and cannot be "
                        "pickled or copied: build one per partition or worker, inside the function that runs "
                        "there (matcher.screening.distributed.screen_arrow does), and close it at the end")


class Ruleset(HoldsEngineHandles):
    """One compiled ruleset living in the engine; call :meth:`close` when done."""

    def __init__(self, label: str, rules: dict[str, Any]) -> None:
        engine = require_engine()
        if SENTINEL in rules:
            raise EvaluationError(f"rule name {SENTINEL!r} is reserved")
        definition = dict(rules)
        definition[SENTINEL] = {"all": [{"m": {"$ex": {"kind": 1}}}]}
        self.name = f"{label}#{next(_names)}"
        try:
            self._handle = engine.create_ruleset(self.name, _encode_definition(definition))
        except Exception as exc:  # the engine raises a bare Exception with an error code
            raise EvaluationError(f"durable-rules rejected the compiled ruleset {label}: {exc}") from None
        self._engine = engine
        #: rule names as the engine writes them in an action (JSON string content) -> the name
        self._rule_names = {_json_key(name)[1:-1]: name for name in definition}

    def fire(self, fact: dict[str, Any]) -> list[str]:
        """Assert ``fact``, return the names of the rules it matched, then retract it."""
        if "kind" not in fact:
            raise EvaluationError("every fact needs a 'kind'")
        engine = self._engine
        text = self.encode(fact)
        try:
            result = engine.assert_fact(self._handle, text)
        except Exception as exc:
            raise EvaluationError(f"durable-rules could not assert a fact: {exc}") from None
        actions: list[str] = []
        try:
            if result[0] != 0:
                raise EvaluationError(f"durable-rules refused the fact (code {result[0]}); "
                                      "is an identical fact still asserted?")
            state_handle = result[1]
            started = engine.start_action_for_state(self._handle, state_handle)
            if started:
                actions.append(started[1])
                # the engine answers None when no action is left
                actions.extend(iter(functools.partial(engine.complete_and_start_action, self._handle,
                                                      state_handle), None))
        finally:
            engine.retract_fact(self._handle, text)
        # read only once every action is completed, so a refused action leaves the session clean
        suffix = '":{"m":' + text + "}}"
        fired = self._rules_of(actions, suffix)
        if SENTINEL not in fired:
            raise EvaluationError("the engine's sentinel rule did not fire: evaluation is not trustworthy")
        fired.remove(SENTINEL)
        return fired

    def encode(self, fact: dict[str, Any]) -> str:
        """The text :meth:`fire` asserts for ``fact`` (for :meth:`fire_encoded`): the session's id, then the fact."""
        if "sid" in fact or not fact:  # pragma: no cover - the evaluator's facts have a kind and no sid
            return encode_fact({"sid": _SESSION, **fact})
        return _SESSION_PREFIX + encode_fact(fact)[1:]  # the same text, without copying the fact

    def fire_encoded(self, text: str) -> int:
        """The bare engine step, for ``matcher bench``: assert a pre-encoded fact, start and complete every
        action it causes, retract it; the number of actions. No reading of the answer, no checks."""
        engine = self._engine
        result = engine.assert_fact(self._handle, text)
        actions = 0
        try:
            if engine.start_action_for_state(self._handle, result[1]):
                actions = 1
                while engine.complete_and_start_action(self._handle, result[1]):
                    actions += 1
        finally:
            engine.retract_fact(self._handle, text)
        return actions

    def _rules_of(self, actions: list[str], suffix: str) -> list[str]:
        """:meth:`_rule_of` for every action at once (it runs for every rule fired: ~37 per fact).

        Each action must be ``{"<rule>`` + ``suffix``. The name is what lies between the two if it
        has that form; rebuilding every action from its name and comparing the whole text checks
        the form of each one (an action too short to hold both would make the rebuilt text longer).
        """
        keys = list(map(operator.itemgetter(slice(2, -len(suffix))), actions))
        if "".join(actions) == '{"' + (suffix + '{"').join(keys) + suffix:
            fired = list(map(self._rule_names.get, keys))
            if None not in fired:
                return fired  # type: ignore[return-value]  # None was ruled out
        return [self._rule_of(action, suffix) for action in actions]  # raises, naming the odd action

    def _rule_of(self, action: str, suffix: str) -> str:
        """The rule an action fired, read from its JSON without decoding the fact it carries.

        An action is ``{"<rule>":{"m":<fact>}}`` and the engine echoes the asserted fact text
        verbatim, so the action must be exactly that text with a rule of this ruleset as its key
        (decoding the whole JSON of every action was a fifth of the evaluation time). Anything
        else (another fact, a second key, an unknown rule) is refused, never guessed around.
        """
        if action.startswith('{"') and action.endswith(suffix):
            name = self._rule_names.get(action[2:len(action) - len(suffix)])
            if name is not None:
                return name
        shown = action if len(action) <= 300 else action[:300] + "..."
        raise EvaluationError(f"durable-rules returned an action this adapter does not expect: {shown}")

    def close(self) -> None:
        if self._handle is not None:
            self._engine.delete_ruleset(self._handle)
            self._handle = None

    def __del__(self) -> None:  # pragma: no cover - best effort
        with contextlib.suppress(Exception):
            self.close()

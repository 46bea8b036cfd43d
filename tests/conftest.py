"""Shared fixtures: the encoded trials, one engine-backed Matcher, and patient builders.

Also the hypothesis profiles, chosen with the HYPOTHESIS_PROFILE environment variable:

* ``default`` (also in CI): keeps the whole test command within a few minutes on two cores
  (tests/test_properties_*.py take about a minute together). A failure stops at the first bug and is
  shrunk for at most 20 seconds per test, so a broken matcher fails the command in minutes,
  not hours. In CI (``CI`` set) it runs derandomized, without the example database, so every
  CI run tries the same examples.
* ``thorough``: 10 times the examples, every distinct bug reported and shrunk for up to five
  minutes: a longer search before a release or after changing the compiler, the engine adapter,
  a field or a rule file (about 10 minutes on two cores):
  ``HYPOTHESIS_PROFILE=thorough bash .ci/run -k properties``.

No deadline: the engine's latency varies. Tests with their own ``@settings`` keep their counts.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.internal.conjecture import engine as _hypothesis_engine

import matcher
from matcher.api import Matcher
from matcher.engine.evaluate import Evaluator
from matcher.rules.compile import compile_trial

from .helpers import RULES

_IN_CI = bool(os.environ.get("CI"))
settings.register_profile(
    "default",
    max_examples=50,
    deadline=None,
    print_blob=True,
    report_multiple_bugs=False,
    derandomize=_IN_CI,
    database=None if _IN_CI else settings.get_profile("default").database,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("thorough", settings.get_profile("default"), max_examples=500, report_multiple_bugs=True)
_PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "default")
settings.load_profile(_PROFILE)
# hypothesis has no setting for how long to shrink a failure (five minutes, per test); the default
# profile keeps it short: the counterexample printed is as small as 20 seconds of shrinking made it
if _PROFILE == "default" and hasattr(_hypothesis_engine, "MAX_SHRINKING_SECONDS"):
    _hypothesis_engine.MAX_SHRINKING_SECONDS = 20


def pytest_configure(config: pytest.Config) -> None:
    # registered here, not in pyproject.toml: tests/test_report.py's tests that need Chromium
    config.addinivalue_line("markers", "browser: opens a page in headless Chromium (pytest -m 'not browser' skips)")
    config.addinivalue_line("markers", "slow: builds a wheel and a virtual environment; CI runs it "
                                       "(pytest -m 'not slow' skips it while working)")
    config.addinivalue_line("markers", "spark: starts Apache Spark on local[2] (needs pyspark and Java 17; "
                                       "pytest -m 'not spark' skips)")
    config.addinivalue_line("markers", "fuzz: mutated inputs never crash, hang or print a traceback (CI runs them; "
                                       "pytest -m 'not fuzz' skips)")


@pytest.fixture(scope="session")
def trials() -> list[matcher.Trial]:
    return matcher.load_trials(RULES)


@pytest.fixture(scope="module")
def evaluator() -> Iterator[Evaluator]:
    """The evaluation stage alone, over every encoded trial as the strategies load them (the property tests find
    a rule's nodes by identity); a module that tests its own rule text defines its own ``evaluator``."""
    from .strategies import encoded_trials

    with Evaluator(compile_trial(trial) for trial in encoded_trials()) as made:
        yield made


@pytest.fixture(scope="session")
def engine(trials: list[matcher.Trial]) -> Iterator[Matcher]:
    with Matcher(trials) as m:
        yield m

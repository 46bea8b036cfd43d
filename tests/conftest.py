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
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.internal.conjecture import engine as _hypothesis_engine

import matcher
from matcher.api import Matcher
from matcher.engine.evaluate import Evaluator
from matcher.rules.compile import compile_trial

from .helpers import RULES

# pytest-xdist's workers run with COLUMNS=80 (and LINES=24) in their environment, a serial run without: the
# matcher's text output (in-process and in the commands tests start) is wrapped as when printed to a file either way
if os.environ.get("PYTEST_XDIST_WORKER"):
    for _variable in ("COLUMNS", "LINES"):
        os.environ.pop(_variable, None)

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


#: test modules whose tests .ci/run keeps on one worker, one after the other, when it spreads the suite over the
#: cores (``pytest -n N --dist loadgroup``, docs/testing.md): the Spark session a test starts in-process is reused
#: by the next (one JVM), the browser tests share one Chromium and the report they open, and the wheel built into
#: a fresh virtual environment is built once
ONE_WORKER_MODULES = ("tests/test_spark.py", "tests/test_report.py", "tests/test_install.py")


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: absent with -p no:xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup``, with the tests of each of :data:`ONE_WORKER_MODULES` one group. pytest-xdist's own
    ``xdist_group`` marker has no effect with pytest 9 (xdist renames a test's node id to group it, and pytest 9's
    node ids can no longer be renamed), so the groups are found by the node id the controller sees."""
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class OneWorkerModules(LoadGroupScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module in ONE_WORKER_MODULES else str(super()._split_scope(nodeid))

    return OneWorkerModules(config, log)


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

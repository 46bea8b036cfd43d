"""Shared fixtures: the encoded trials, one engine-backed Matcher, and patient builders."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import matcher
from matcher.api import Matcher

from .helpers import RULES


@pytest.fixture(scope="session")
def trials() -> list[matcher.Trial]:
    return matcher.load_trials(RULES)


@pytest.fixture(scope="session")
def engine(trials: list[matcher.Trial]) -> Iterator[Matcher]:
    with Matcher(trials) as m:
        yield m

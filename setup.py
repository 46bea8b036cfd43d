"""Packaging beside pyproject.toml: the one thing it cannot say is "find matcher's packages and also
ship rules/ inside matcher". The encoded trials stay at the top of the repository (adding a trial
touches only rules/ and patients/); a wheel carries them as ``matcher/encoded_trials`` (rule files,
registry copies, GUIDE.md), which :func:`matcher.api.default_rules_dir` finds when ``rules/`` is not
beside the package. Every data file a wheel carries is declared in PACKAGE_DATA (tests/test_layout.py
checks that each non-Python file of the package is)."""

from setuptools import find_packages, setup

PACKAGE_DATA = {
    "matcher.encoded_trials": ["*.yaml", "*.md", "registry/*"],
    # the HTML report's style and script, inlined when a report is written
    "matcher.screening": ["report.css", "report.js"],
    # the field catalogue: every field a rule may test, one row per field
    "matcher.model.fields": ["fields.yaml"],
}

setup(
    packages=[*find_packages(include=["matcher", "matcher.*"]), "matcher.encoded_trials"],
    package_dir={"matcher.encoded_trials": "rules"},
    package_data=PACKAGE_DATA,
)

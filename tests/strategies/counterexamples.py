"""A failing property's counterexample as a file a person can run: a patient file for ``matcher check``,
a rule file for ``--rules``.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import yaml


# ================================================================== showing a counterexample
class _Dumper(yaml.SafeDumper):
    """YAML without anchors and aliases (a patient file spells every value out)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(data: Any, **options: Any) -> str:
    text: str = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, **options)
    return text


def patient_file(data: dict[str, Any], as_of: dt.date) -> str:
    """``data`` as a patient file a person can save and run with ``matcher check``."""
    body = dump(data, default_flow_style=None, width=110)
    return (f"# counterexample: save as patient.yaml and run\n#   matcher check patient.yaml --as-of {as_of}\n"
            f"{body}")


def rule_file(document: dict[str, Any]) -> str:
    return "# generated rule file (save as rules-dir/NCT-GENERATED.yaml, run with --rules rules-dir)\n" + \
        dump(document, default_flow_style=None, width=110)

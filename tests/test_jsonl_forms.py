"""``matcher screen --jsonl full|compact``: the compact form holds what decides, and agrees with the full form."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from matcher.cli import EXIT_BAD_INPUT

from .helpers import PATIENTS, cli

AS_OF = "2026-11-02"
#: what the compact form holds, beside each criterion's outcome
COMPACT_KEYS = {"patient", "location", "as_of", "as_of_source", "trial", "verdict", "deciding", "to_collect",
                "pending_manual", "to_decide", "clinical_pending", "routine_pending", "decided",
                "decisions_not_used", "rules", "criteria", "near_miss"}


def screen(tmp_path: Path, name: str, *options: str) -> tuple[Path, list[dict[str, Any]]]:
    out = tmp_path / name
    code, _, err = cli("screen", str(PATIENTS), "--as-of", AS_OF, "--out", str(out), "--no-log", *options)
    assert code == 0, err
    return out, [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_compact_lines_hold_the_full_lines_decisions_without_the_explanation(tmp_path: Path) -> None:
    full_path, full = screen(tmp_path, "full.jsonl")
    compact_path, compact = screen(tmp_path, "compact.jsonl", "--jsonl", "compact")
    assert len(compact) == len(full) > 0
    for short, whole in zip(compact, full, strict=True):
        assert set(short) - {"fhir_import"} == COMPACT_KEYS
        assert short["criteria"] == {c["id"]: c["outcome"] for c in whole["criteria"]}
        for key in COMPACT_KEYS - {"criteria", "near_miss"}:
            assert short[key] == whole[key], key
        words = {"text", "because"}  # the near miss without its words
        assert short["near_miss"] == (whole["near_miss"] and {
            key: value for key, value in whole["near_miss"].items() if key not in words})
        fhir = whole.get("fhir_import") or {"unused": [], "unknown": []}
        if fhir["unused"] or fhir["unknown"]:  # read from a FHIR bundle that did not give everything: how much
            assert short["fhir_import"] == {"unused": len(fhir["unused"]), "unknown": len(fhir["unknown"])}
        else:
            assert "fhir_import" not in short
    verdicts = {line["verdict"] for line in compact}
    assert {"eligible", "ineligible", "undetermined", "review"} <= verdicts
    assert all(line["to_decide"] for line in compact if line["verdict"] == "review")
    text = compact_path.read_text(encoding="utf-8")
    assert '"text"' not in text and '"reason"' not in text and '"summary"' not in text
    assert compact_path.stat().st_size * 10 < full_path.stat().st_size


def test_full_is_the_default_form(tmp_path: Path) -> None:
    default, _ = screen(tmp_path, "default.jsonl")
    full, _ = screen(tmp_path, "full.jsonl", "--jsonl", "full")
    assert default.read_bytes() == full.read_bytes()


def test_the_form_needs_a_jsonl_output(tmp_path: Path) -> None:
    code, _, err = cli("screen", str(PATIENTS), "--out", str(tmp_path / "r.csv"), "--no-log", "--jsonl", "compact")
    assert code == EXIT_BAD_INPUT and "--jsonl" in err and "Traceback" not in err
    assert not (tmp_path / "r.csv").exists()
    code, _, err = cli("screen", str(PATIENTS), "--out", str(tmp_path / "r.jsonl"), "--no-log", "--jsonl", "short")
    assert code == EXIT_BAD_INPUT and "invalid choice" in err

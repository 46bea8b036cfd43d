"""`matcher spark` on a real Spark (local[2], 3 partitions): the Parquet rows it writes, read back, are those of
`matcher screen --workers 1`, and its summary is `matcher log summary`'s. Needs pyspark and Java 17; in CI
(CI set) a missing pyspark fails the test rather than skipping it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from .helpers import RULES, cli
from .test_distributed import AS_OF, comparable, screen_expected, write_cohort
from .test_fhir_bulk import BUNDLES, bulk_export_of, with_problems, write_export

if not os.environ.get("CI"):
    pytest.importorskip("pyspark", reason="matcher spark needs pyspark: pip install 'trial-matcher[spark]'")

pytestmark = pytest.mark.spark


def read_table(directory: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    return pq.read_table(directory, partitioning="hive").to_pylist()


def test_matcher_spark_writes_the_rows_of_matcher_screen(tmp_path: Path) -> None:
    source = str(tmp_path / "cohort.jsonl")
    write_cohort(Path(source), 200)
    expected = screen_expected(source, tmp_path)
    code, summary, _ = cli("log", "summary", str(tmp_path / "log.db"))
    assert code == 0

    table = tmp_path / "results"
    code, out, err = cli("spark", source, "--out", str(table), "--master", "local[2]", "--partitions", "3",
                         "--as-of", AS_OF, "--explanations", "--rules", str(RULES))
    assert code == 4, err  # the bad records of the cohort, counted as matcher screen counts them
    rows = read_table(table)
    assert len({row["run_id"] for row in rows}) == 1
    assert {str(row["run_date"]) for row in rows} == {rows[0]["run_id"][:4] + "-" + rows[0]["run_id"][4:6] + "-"
                                                      + rows[0]["run_id"][6:8]}

    got = sorted((comparable({k: v for k, v in row.items() if k != "run_date"}) for row in rows), key=key)
    assert got == sorted(expected, key=key)
    # the same CONSORT counts as the log of matcher screen (lines of equal counts may come in another order); the
    # patient id two records share counts once, by its later record, as in the log
    printed = out.split("\n\nwrote ")[0]
    assert sorted(printed.splitlines()) == sorted(summary.strip().splitlines())


def key(row: dict[str, Any]) -> tuple[str, int, str]:
    file, _, line = row["location"].rpartition(":")
    return file, int(line), row["trial"] or ""


def test_matcher_spark_reads_a_fhir_bulk_export_as_matcher_screen_does(tmp_path: Path) -> None:
    export = write_export(tmp_path / "export", with_problems(bulk_export_of(BUNDLES)))
    expected = screen_expected(str(export), tmp_path)  # the problems: exit 4
    assert sum(row["problem"] is not None for row in expected) == 6
    code, summary, _ = cli("log", "summary", str(tmp_path / "log.db"))
    assert code == 0

    table = tmp_path / "results"
    code, out, err = cli("spark", str(export), "--out", str(table), "--master", "local[2]", "--partitions", "3",
                         "--as-of", AS_OF, "--explanations", "--rules", str(RULES))
    assert code == 4, err
    rows = read_table(table)
    got = sorted((comparable({k: v for k, v in row.items() if k != "run_date"}) for row in rows), key=key)
    assert got == sorted(expected, key=key)
    assert sorted(out.split("\n\nwrote ")[0].splitlines()) == sorted(summary.strip().splitlines())

"""``matcher spark``: screen a cohort on Apache Spark, with :func:`~matcher.screening.distributed.screen_arrow`
run by ``mapInArrow`` on every partition, results appended to a Parquet table partitioned by run date.

The rules are read once, on the driver, and shipped to the executors as data; each partition builds its own
engine. The master is Spark's own configuration (``spark-submit --master``, ``spark-defaults.conf``,
``--master``), ``local[*]`` (every CPU of this machine) when none is set. pyspark is imported only here.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import sys
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matcher.errors import MatcherError, one_line
from matcher.screening.distributed import INPUT_COLUMNS, RESULT_DDL, RulesData, screen_arrow
from matcher.screening.log import LogSummary, TrialFlow
from matcher.screening.log_text import render_summary

#: the Parquet table's partition column
RUN_DATE = "run_date"


@dataclass(frozen=True)
class SparkRun:
    run_id: str
    run_date: dt.date
    summary: LogSummary
    #: records not screened because the engine refused them
    engine_problems: int


def require_pyspark() -> Any:
    try:
        import pyarrow  # noqa: F401 - mapInArrow needs it on the driver and the executors
        import pyspark
    except ImportError as exc:
        raise MatcherError(f"matcher spark needs pyspark and pyarrow ({exc}); install them with: "
                           "pip install 'trial-matcher[spark]' (and Java 17 or later for Spark itself)") from None
    return pyspark


def spark_session(master: str | None, app_name: str = "matcher") -> Any:
    """The SparkSession: ``master`` if given, else Spark's own configuration, else ``local[*]`` (every CPU)."""
    require_pyspark()
    from pyspark import SparkConf, SparkContext
    from pyspark.sql import SparkSession

    try:
        SparkContext._ensure_initialized()  # the JVM, with spark-submit's options and spark-defaults.conf
        builder = SparkSession.builder.appName(app_name)
        if master:
            builder = builder.master(master)
        chosen = master or SparkConf().get("spark.master", "local[*]")  # Spark's default: local[*], every CPU
        if chosen.startswith("local"):  # executors of a local master run this interpreter (it has durable-rules)
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        return builder.getOrCreate()
    except Exception as exc:  # Java missing or too old, a master that does not answer: Spark's own words
        raise MatcherError(f"cannot start Spark: {one_line(str(exc))} (Spark needs Java 17 or later)") from None


def read_source(spark: Any, source: str) -> Any:
    """The input DataFrame (the columns of :data:`~matcher.screening.distributed.INPUT_COLUMNS`) of a JSON Lines
    file, a FHIR bulk export or a Parquet table.

    A ``.jsonl``/``.ndjson`` file gives one profile or FHIR Bundle per line, numbered as ``matcher screen``
    numbers them; a directory of ``*.ndjson`` files is a FHIR bulk export, grouped by patient as ``matcher
    screen`` groups it (:func:`bulk_records`); a ``.parquet`` file or directory (or any other URI) needs a column
    ``profile`` (JSON text, or a struct written out as JSON) and may have ``patient_id``; its rows are numbered in
    file order."""
    from pyspark.sql import types as T

    path = check_source(source)
    schema = T.StructType([T.StructField(name, T.LongType() if kind == "long" else T.StringType())
                           for name, kind, _ in INPUT_COLUMNS])
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        lines = spark.sparkContext.textFile(source).zipWithIndex()
        rows = lines.filter(lambda pair: pair[0].strip()).map(
            lambda pair: (pair[0], None, source, pair[1] + 1, None, None))
        return spark.createDataFrame(rows, schema)
    files = _bulk_export_files(spark, source)
    if files is not None:
        return spark.createDataFrame(bulk_records(spark, files), schema)
    if path.suffix.lower() == ".parquet" or _is_uri(source) or (path.is_dir() and any(path.glob("*.parquet"))):
        from pyspark.sql import functions as F

        table = spark.read.parquet(source)
        if "profile" not in table.columns:
            raise MatcherError(f"a Parquet source needs a column 'profile' (the JSON of a profile or of a FHIR "
                               f"Bundle); it has {', '.join(table.columns)}", file=source)
        profile = F.col("profile")
        if not isinstance(table.schema["profile"].dataType, T.StringType):
            profile = F.to_json(profile)  # a profile stored as a struct: its JSON, null fields left out
        patient_id = (F.col("patient_id").cast("string") if "patient_id" in table.columns
                      else F.lit(None).cast("string"))
        pairs = table.select(profile.alias("profile"), patient_id.alias("patient_id")).rdd.zipWithIndex()
        rows = pairs.map(lambda pair: (pair[0][0], pair[0][1], source, pair[1] + 1, None, None))
        return spark.createDataFrame(rows, schema)
    raise MatcherError(f"unsupported source {path.suffix or '(no extension)'!r} for matcher spark: give a .jsonl "
                       "or .ndjson file, a directory of .ndjson files (a FHIR bulk export), or a .parquet file or "
                       "directory", file=source)


def _bulk_export_files(spark: Any, source: str) -> list[str] | None:
    """The NDJSON files of ``source`` if it is a FHIR bulk export directory (local, or a URI Hadoop lists), else
    None. Local files are named as ``matcher screen`` names them, so the locations are the same."""
    from matcher.intake.fhir.bulk import BULK_SUFFIX, bulk_files, export_files, is_bulk_export

    if not _is_uri(source):
        return bulk_files(source) if is_bulk_export(source) else None
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(source)
    filesystem = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    if not filesystem.isDirectory(path):
        return None
    names = [str(status.getPath().toString()) for status in filesystem.listStatus(path) if status.isFile()]
    if not any(name.lower().endswith(BULK_SUFFIX) for name in names):
        return None
    return export_files(source, names)


def bulk_records(spark: Any, files: list[str]) -> Any:
    """The records of a FHIR bulk export as an RDD of input rows: every line is classified on the executors
    (:func:`~matcher.intake.fhir.bulk.classify_line`), the lines of each patient brought together by a
    ``groupByKey`` and made into its bundle by :func:`~matcher.intake.fhir.bulk.group_record`, as ``matcher
    screen`` makes them; lines that belong to no patient are problem rows at their file and line."""
    context = spark.sparkContext
    lines = context.union([context.textFile(file).zipWithIndex().map(functools.partial(_placed, index, file))
                           for index, file in enumerate(files)]).filter(lambda placed: placed.text.strip())
    keyed = lines.map(_keyed)
    orphans = keyed.filter(lambda pair: pair[0] is None).map(lambda pair: _input_row(pair[1]))
    grouped = keyed.filter(lambda pair: pair[0] is not None).groupByKey().map(
        lambda pair: _input_row(_group(pair[0], pair[1])))
    return orphans.union(grouped)


def _placed(index: int, file: str, pair: tuple[str, int]) -> Any:
    from matcher.intake.fhir.bulk import Placed

    return Placed(index, file, pair[1] + 1, pair[0])


def _keyed(placed: Any) -> tuple[str | None, Any]:
    """(patient id, (role, line)), or (None, its problem record) for a line that belongs to no patient."""
    from matcher.intake.fhir.bulk import GroupRecord, classify_line

    classified = classify_line(placed.text)
    if classified.patient is None:
        return None, GroupRecord(placed.file_index, placed.file, placed.line, None, classified.problem)
    return classified.patient, (classified.role, placed)


def _group(patient: str, lines: Any) -> Any:
    from matcher.intake.fhir.bulk import group_record

    return group_record(patient, list(lines))


def _input_row(group: Any) -> tuple[str | None, None, str, int, str, str | None]:
    return group.bundle, None, group.file, group.line, "bulk", group.problem


def check_source(source: str) -> Path:
    """``source`` as a path, checked to exist when it is local (a URI such as ``s3a://`` is Spark's to read)."""
    path = Path(source)
    if not _is_uri(source) and not path.exists():
        raise MatcherError("no such file or directory", file=source)
    return path


def _is_uri(source: str) -> bool:
    return "://" in source


def run_spark(spark: Any, source: str, out: str, rules: RulesData, *, as_of: dt.date | None = None,
              partitions: int | None = None, explanations: bool = False) -> SparkRun:
    """Screen ``source`` on ``spark`` against ``rules`` (:func:`~matcher.screening.distributed.load_rules_data`,
    read before Spark starts, so a bad rule file is reported at once), append the results to the Parquet table
    ``out`` (partition ``run_date=<today>``), and count them as ``matcher log summary`` does."""
    from pyspark.sql import functions as F

    started = dt.datetime.now(dt.UTC)
    run_id = f"{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    records = read_source(spark, source)
    if partitions:
        records = records.repartition(partitions)
    screen = functools.partial(screen_arrow, rules=rules, run_id=run_id, as_of=as_of, explanations=explanations)
    results = records.mapInArrow(screen, RESULT_DDL).withColumn(RUN_DATE, F.lit(started.date()))
    results.write.mode("append").partitionBy(RUN_DATE).parquet(out)
    written = spark.read.parquet(out).where((F.col(RUN_DATE) == F.lit(started.date())) & (F.col("run_id") == run_id))
    labels = {trial.id: {c.id: c.label for c in trial.criteria if c.label} for trial in rules.trials()}
    return SparkRun(run_id, started.date(), summarise_results(written, labels), written.where(
        F.col("problem_kind") == "engine").count())


def summarise_results(results: Any, labels: dict[str, dict[str, str]] | None = None) -> LogSummary:
    """The CONSORT counts of ``matcher log summary`` for one run's result rows, aggregated by Spark; ``labels``
    (trial id -> criterion id -> label, from the run's rule files) name the criteria not met. As in the log,
    every evaluation is counted, and the flows count each patient's latest evaluation per trial: a patient id
    that two records of the source share counts once, by its later record (the rows of both are in the table)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    every = results.where(F.col("problem").isNull())
    place = F.regexp_extract("location", r"^(.*):(\d+)$", 1), F.regexp_extract("location", r"^(.*):(\d+)$", 2)
    later_first = Window.partitionBy("trial", "patient_id").orderBy(place[0].desc(), place[1].cast("long").desc())
    screened = every.withColumn("_latest", F.row_number().over(later_first)).where(F.col("_latest") == 1)
    flows: dict[str, TrialFlow] = {}

    def flow(trial: str) -> TrialFlow:
        return flows.setdefault(trial, TrialFlow(trial, labels=dict((labels or {}).get(trial, {}))))

    for row in screened.groupBy("trial", "verdict", "rules_sha256").count().collect():
        flow(row["trial"]).screened += row["count"]
        flow(row["trial"]).verdicts[row["verdict"]] += row["count"]
        flow(row["trial"]).rule_versions[row["rules_sha256"]] += row["count"]
    not_met = screened.where(F.col("verdict") == "ineligible").select("trial", F.explode("criteria_not_met")
                                                                       .alias("item"))
    for row in not_met.groupBy("trial", "item").count().collect():
        flow(row["trial"]).not_met[row["item"]] += row["count"]
    undetermined = screened.where(F.col("verdict") == "undetermined")
    for row in undetermined.groupBy("trial", "data_to_collect").count().collect():
        flow(row["trial"]).count_undetermined(row["data_to_collect"], row["count"])
    evaluations = every.count()
    not_screened = results.where(F.col("problem").isNotNull()).count()
    for item in flows.values():  # Counter order: most_common breaks ties by first insertion; make it stable
        for name in ("not_met", "rule_versions"):
            setattr(item, name, Counter(dict(sorted(getattr(item, name).items()))))
    return LogSummary(1, evaluations, not_screened, [flows[trial] for trial in sorted(flows)])


def render_run(run: SparkRun, out: str) -> str:
    return "\n".join([render_summary(run.summary), "",
                      f"wrote {out} ({RUN_DATE}={run.run_date.isoformat()}, run_id {run.run_id})"])

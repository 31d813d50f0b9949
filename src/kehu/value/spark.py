"""`kehu value score --engine spark`: the local engine's scores, computed with Apache Spark.

For transaction logs too big for one machine, or already in a data lake (any path or URI
Spark reads: a local file or folder, hdfs://, s3a://, abfss://, ...). The work is split
where the data are:

- on the executors, the log is summarised per customer (frequency, recency, T, monetary
  value, exactly as kehu.value.rfm defines them: same-day purchases count once and add
  up, the first purchase day is not a repeat, later rows than --as-of are ignored), then
  to the distinct (frequency, recency, T) triples with their counts and the distinct
  (frequency, monetary value) pairs of the repeat buyers with theirs;
- on the driver, the same BG/NBD / MBG/NBD / Pareto/NBD and Gamma-Gamma classes as the
  local engine are fitted on those counts (a few thousand triples even for tens of
  millions of customers), to the same parameters;
- on the executors again, every customer is scored with mapInPandas and the scores are
  written as Parquet, with the columns of the local engine's CSV.

pyspark is imported only here, and only when this engine runs; kehu.value never needs it
otherwise, and nothing here touches Django.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kehu.value.errors import ValueModelError
from kehu.value.readers import DATE_HELP, InputError, resolve_columns
from kehu.value.rfm import to_day, unit_days

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame, SparkSession

INSTALL_PYSPARK = ("the Spark engine needs PySpark: pip install 'kehu[spark]' (or, in a "
                   "checkout, make setup-dev)")
INSTALL_JAVA = ("the Spark engine needs Java 17 or later: apt-get install "
                "openjdk-17-jre-headless (or set JAVA_HOME to a Java 17+ installation)")
# An amount as the local reader accepts it (no NaN, no Infinity, no thousands separators).
NUMBER = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
ISO_DATE = r"^([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})([ T].*)?$"
YYYYMMDD = r"^([0-9]{4})([0-9]{2})([0-9]{2})$"
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class SparkUnavailable(Exception):
    """PySpark or Java is missing; the message says how to install it."""


def is_uri(path: str) -> bool:
    """hdfs://..., s3a://... (file:// URIs are local paths too, but Spark reads them)."""
    return bool(URI.match(path))


def check_java() -> None:
    """SparkUnavailable unless a java command is there to start Spark's JVM."""
    home = os.environ.get("JAVA_HOME")
    if home and not (Path(home) / "bin" / "java").exists():
        raise SparkUnavailable(f"JAVA_HOME is {home}, which holds no bin/java; "
                               f"{INSTALL_JAVA}")
    if not home and shutil.which("java") is None:
        raise SparkUnavailable(INSTALL_JAVA)


def session(master: str | None = None, config: dict[str, str] | None = None
            ) -> SparkSession:
    """The active SparkSession, or a new one: under spark-submit the cluster's (whose
    --master and --conf apply), otherwise Spark's local mode on every core (or `master`)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkUnavailable(INSTALL_PYSPARK) from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    under_submit = "PYSPARK_GATEWAY_PORT" in os.environ  # spark-submit started this Python
    if not under_submit:
        check_java()
        # The Python workers of local mode run this interpreter (the one with kehu
        # installed), not whatever `python3` is first on the PATH.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("kehu value score")
    settings = {"spark.ui.showConsoleProgress": "false", "spark.log.level": "ERROR"}
    if not under_submit:
        builder = builder.master(master or "local[*]")
        # A few partitions per core: the cluster default (200) only adds overhead here.
        settings["spark.sql.shuffle.partitions"] = str(4 * (os.cpu_count() or 1))
        # Spark's start-up chatter (log4j's default profile, host name warnings) would bury
        # the one line kehu prints: errors only.
        log_config = Path(__file__).parent / "data" / "spark-log4j2.properties"
        settings["spark.driver.extraJavaOptions"] = f"-Dlog4j2.configurationFile={log_config}"
    for key, value in {**settings, **(config or {})}.items():
        builder = builder.config(key, value)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # pandas newer than PySpark knows
            spark = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start: Java missing, too old, or broken
        if "JAVA_GATEWAY_EXITED" in str(exc) or "Java gateway" in str(exc):
            raise SparkUnavailable(INSTALL_JAVA) from None
        raise
    spark.sparkContext.setLogLevel("ERROR")
    return spark


@dataclass(frozen=True)
class Source:
    """A transaction file (or folder of files) and the options of the local command."""

    path: str
    customer_col: str
    date_col: str
    amount_col: str
    header: bool = True
    delimiter: str | None = None


@dataclass
class Summary:
    """The per-customer summary, cached on the executors."""

    frame: DataFrame  # customer_id, frequency, recency, T, monetary_value
    customers: int
    time_unit: str
    id_type: str  # "string" or "long"
    cached: DataFrame | None = None  # what to unpersist when done

    def __len__(self) -> int:
        return self.customers


@dataclass
class Result:
    customers: int
    report: dict[str, Any]
    clv_total: float
    seconds: dict[str, float] = field(default_factory=dict)  # aggregation, fit, scoring


# -- reading ---------------------------------------------------------------------------------

def _is_parquet(path: str) -> bool:
    if path.lower().rstrip("/").endswith((".parquet", ".parq")):
        return True
    local = _local(path)
    if local is None:
        return False
    if local.is_dir():
        return any(p.suffix in (".parquet", ".parq") for p in local.iterdir())
    with local.open("rb") as f:
        return f.read(4) == b"PAR1"


def _local(path: str) -> Path | None:
    if path.startswith("file://"):
        return Path(path[len("file://"):])
    return None if is_uri(path) else Path(path)


def _sample_file(path: str) -> Path | None:
    """A local file to sniff the CSV layout from (the first of a folder of files)."""
    local = _local(path)
    if local is None:
        return None
    if local.is_dir():
        files = sorted(p for p in local.iterdir() if p.is_file()
                       and not p.name.startswith((".", "_")))
        if not files:
            raise InputError(local, "the folder holds no file to read")
        return files[0]
    return local


def check_source(source: Source) -> None:
    """For a local file or folder, the checks that need no Spark: that it exists and has
    the columns asked for (so that a typo costs no JVM start). URIs are checked by Spark."""
    local = _local(source.path)
    if local is None:
        return
    _check_exists(None, source.path)
    if not _is_parquet(source.path):
        encoding, delimiter, first_rows = _sniff(None, source)
        _names(source, first_rows)
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = sorted(local.glob("*.parquet")) if local.is_dir() else [local]
    try:
        names = pq.read_schema(files[0]).names if files else None
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(local, f"cannot read the Parquet data: {exc}") from None
    if names is not None:
        _columns(source.path, names, source, header=True)


def _names(source: Source, first_rows: list[list[str]]) -> list[tuple[int, str]]:
    """The columns asked for, resolved against the CSV file's first line."""
    if source.header:
        names = [name.strip() for name in first_rows[0]]
        if all(re.fullmatch(r"[-+0-9.:/ ]+", name) for name in names):
            raise InputError(source.path, "the first line holds only numbers and dates, not "
                             "column names; for a file without a header use --no-header and "
                             "give columns by number", line=1)
    else:
        names = [str(i + 1) for i in range(len(first_rows[0]))]
    return _columns(source.path, names, source, source.header)


def _check_exists(spark: SparkSession | None, path: str) -> None:
    local = _local(path)
    if local is not None:
        if not local.exists():
            raise InputError(local, "no such file")
        return
    jvm = spark.sparkContext._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    try:
        fs = hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
        exists = fs.exists(hadoop_path)
    except Exception as exc:  # no file system for the scheme, no credentials, ...
        raise InputError(path, f"Spark cannot open it: {first_line(exc)}") from None
    if not exists:
        raise InputError(path, "no such file")


def _columns(path: str, names: list[str], source: Source, header: bool
             ) -> list[tuple[int, str]]:
    cols = resolve_columns(path, names, source.customer_col, source.date_col,
                           source.amount_col, header)
    return [(c.index, c.label) for c in cols]


def _read(spark: SparkSession, source: Source) -> tuple[DataFrame, list[str]]:
    """The three columns, as (customer, date, amount) in the file's own types, and their
    labels for messages."""
    from pyspark.sql import functions as F

    path = source.path
    _check_exists(spark, path)
    if _is_parquet(path):
        try:
            frame = spark.read.parquet(path)
        except Exception as exc:
            raise InputError(path, f"cannot read the Parquet data: {first_line(exc)}"
                             ) from None
        names = frame.columns
        cols = _columns(path, names, source, header=True)
        return (frame.select(*(F.col(f"`{names[i]}`") for i, _ in cols)).toDF(
            "customer", "date", "amount"), [label for _, label in cols])
    encoding, delimiter, first_rows = _sniff(spark, source)
    cols = _names(source, first_rows)
    labels = [label for _, label in cols]
    from kehu.textfiles import WHITESPACE

    if delimiter == WHITESPACE:
        # Runs of spaces or tabs (CDNOW): lines split on them, as the local reader does.
        line = F.regexp_replace(F.regexp_replace("value", "^\ufeff", ""),
                                r"^[ \t]+|[ \t\r]+$", "")
        frame = spark.read.text(path).select(line.alias("line")).where(F.col("line") != "")
        if source.header:
            frame = frame.where(F.regexp_replace("line", r"[ \t]+", " ")
                                != " ".join(first_rows[0]))
        parts = F.split("line", r"[ \t]+")
        return frame.select(*(parts.getItem(i) for i, _ in cols)).toDF(
            "customer", "date", "amount"), labels
    reader = (spark.read.option("sep", delimiter).option("header", source.header)
              .option("encoding", encoding).option("quote", '"').option("escape", '"')
              .option("mode", "PERMISSIVE").option("inferSchema", False))
    frame = reader.csv(path)
    names_read = frame.columns
    if any(i >= len(names_read) for i, _ in cols):
        raise InputError(path, "Spark reads fewer columns than the first line has")
    return frame.select(*(F.col(f"`{names_read[i]}`") for i, _ in cols)).toDF(
        "customer", "date", "amount"), labels


def _sniff(spark: SparkSession, source: Source) -> tuple[str, str, list[list[str]]]:
    """(encoding for Spark, delimiter, first non-blank rows) of a CSV file, as the local
    reader detects them; for a URI from its first lines, read through Spark."""
    import csv

    from kehu.textfiles import UTF8, WHITESPACE, SniffError, sniff

    sample_file = _sample_file(source.path)
    tmp = None
    if sample_file is None:
        lines = [row.value for row in spark.read.text(source.path).limit(200).collect()]
        fd, tmp = tempfile.mkstemp(suffix=".csv")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        sample_file = Path(tmp)
    try:
        sniffed = sniff(sample_file, whole_file=False, whitespace=True,
                        delimiter=source.delimiter)
    except SniffError as exc:
        if exc.code == SniffError.BAD_DELIMITER:
            raise InputError(source.path, f"the delimiter must be one character, got "
                                          f"{exc.detail!r}") from None
        if exc.code == SniffError.EMPTY:
            raise InputError(source.path, "the file is empty") from None
        raise InputError(source.path, "cannot decode the file as UTF-8 or GBK") from None
    finally:
        if tmp is not None:
            os.unlink(tmp)
    if sniffed.delimiter is None:
        raise InputError(source.path, "cannot tell how the columns are separated; use "
                                      "--delimiter")
    encoding = "UTF-8" if sniffed.encoding == UTF8 else "GB18030"
    rows = []
    for line in sniffed.sample.splitlines():
        if line.strip():
            line = line.lstrip("\ufeff")
            rows.append(line.split() if sniffed.delimiter == WHITESPACE
                        else next(csv.reader([line], delimiter=sniffed.delimiter)))
            if len(rows) == 2:
                break
    return encoding, sniffed.delimiter, rows


# -- typing ----------------------------------------------------------------------------------

def _typed(frame: DataFrame):
    """(customer id, day number, amount, raw date, raw amount) columns; the day and the
    amount are null where the file's value cannot be read (the raw value says which)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    fields = {f.name: f.dataType for f in frame.schema.fields}
    cust_type, date_type, amount_type = fields["customer"], fields["date"], fields["amount"]

    if isinstance(cust_type, T.IntegralType):
        customer = F.col("customer").cast("long")
    else:
        customer = F.regexp_replace(F.col("customer").cast("string"), r"^\s+|\s+$", "")
        customer = F.when(customer != "", customer)

    raw_date = F.col("date").cast("string")
    if isinstance(date_type, T.DateType):
        day = F.datediff(F.col("date"), F.lit("1970-01-01").cast("date"))
    elif isinstance(date_type, T.TimestampType | T.TimestampNTZType):
        day = F.datediff(F.to_date(F.col("date")), F.lit("1970-01-01").cast("date"))
    else:
        text = F.regexp_replace(raw_date, r"^\s+|\s+$", "")

        def part(iso_group: int, compact_group: int):
            return F.when(text.rlike(ISO_DATE),
                          F.regexp_extract(text, ISO_DATE, iso_group)).when(
                text.rlike(YYYYMMDD), F.regexp_extract(text, YYYYMMDD, compact_group))

        year, month, dom = (part(i, i).cast("int") for i in (1, 2, 3))
        iso = F.concat_ws("-", *(F.lpad(v.cast("string"), width, "0")
                                 for v, width in ((year, 4), (month, 2), (dom, 2))))
        # The strict parser refuses 2024-02-30 (null) instead of rolling it over to March.
        date = F.when(year >= 1000, F.try_to_date(iso, "yyyy-MM-dd"))
        day = F.datediff(date, F.lit("1970-01-01").cast("date"))

    raw_amount = F.col("amount").cast("string")
    if isinstance(amount_type, T.NumericType):
        amount = F.col("amount").cast("double")
    else:
        text = F.regexp_replace(raw_amount, r"^\s+|\s+$", "")
        amount = F.when(text.rlike(NUMBER), text.try_cast("double"))
    amount = F.when(~F.isnan(amount) & (F.abs(amount) != float("inf")), amount)
    return customer, day, amount, raw_date, raw_amount


# -- the three steps -------------------------------------------------------------------------

def summarise(spark: SparkSession, source: Source, as_of: str, time_unit: str) -> Summary:
    """The per-customer summary on the executors, cached; refuses unreadable values."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    as_of_day = to_day(as_of, "--as-of")
    unit = unit_days(time_unit)
    frame, labels = _read(spark, source)
    customer, day, amount, raw_date, raw_amount = _typed(frame)
    rows = frame.select(customer.alias("c"), day.alias("d"), amount.alias("a"),
                        raw_date.alias("rd"), raw_amount.alias("ra"))
    bad_row = F.col("d").isNull() | F.col("a").isNull() | F.col("c").isNull()
    rows = rows.where(bad_row | (F.col("d") <= as_of_day))
    # Purchases of one customer on one day count once; their amounts add up.
    daily = rows.groupBy("c", "d").agg(
        F.sum("a").alias("a"),
        F.count(F.lit(1)).alias("n"),
        F.first(F.when(F.col("d").isNull(), F.coalesce("rd", F.lit(""))), True).alias("bd"),
        F.first(F.when(F.col("a").isNull(), F.coalesce("ra", F.lit(""))), True).alias("ba"))
    per_customer = daily.groupBy("c").agg(
        F.count("d").alias("days"), F.min("d").alias("first"), F.max("d").alias("last"),
        F.sum("a").alias("total"), F.min_by("a", "d").alias("first_amount"),
        F.first("bd", True).alias("bad_date"), F.first("ba", True).alias("bad_amount"),
        F.sum("n").alias("rows"))
    first = F.col("first")
    frequency = (F.col("days") - 1).cast("double")
    # The repeat purchase days' amounts: every day's but the first's. (Declarative
    # aggregates only: Spark hashes them; a list per customer would be sorted.)
    repeat = F.col("total") - F.col("first_amount")
    summary = per_customer.select(
        F.col("c").alias("customer_id"),
        frequency.alias("frequency"),
        ((F.col("last") - first).cast("double") / unit).alias("recency"),
        ((F.lit(as_of_day) - first).cast("double") / unit).alias("T"),
        F.when(frequency > 0, repeat / F.greatest(frequency, F.lit(1.0)))
         .otherwise(F.lit(0.0)).alias("monetary_value"),
        "bad_date", "bad_amount", "rows", "days")
    summary = summary.persist(StorageLevel.MEMORY_AND_DISK)
    string_ids = dict(summary.dtypes)["customer_id"] == "string"
    cid = F.col("customer_id")
    checks = [F.count(F.when(cid.isNotNull() & (F.col("days") > 0), 1)).alias("customers"),
              F.sum(F.when(cid.isNull(), F.col("rows"))).alias("missing_ids"),
              F.first("bad_date", True).alias("bad_date"),
              F.first("bad_amount", True).alias("bad_amount"),
              F.sum("rows").alias("rows")]
    if string_ids:
        numeric = cid.rlike(r"^[0-9]{1,18}$")
        checks += [F.count(F.when(cid.isNotNull() & ~numeric, 1)).alias("words"),
                   F.count(F.when(cid.startswith("0") & (F.length(cid) > 1), 1)
                           ).alias("leading_zeros")]
    try:
        stats = summary.agg(*checks).collect()[0].asDict()
    except Exception as exc:
        summary.unpersist()
        raise InputError(source.path, f"Spark cannot read it: {first_line(exc)}") from None
    problem = None
    if stats["missing_ids"]:
        problem = InputError(source.path, f"the customer id is missing in "
                             f"{stats['missing_ids']:,} rows", column=labels[0])
    elif stats["bad_date"] is not None:
        value = stats["bad_date"]
        problem = InputError(source.path, "the date is missing" if value == "" else
                             f"cannot read {value!r} as a date ({DATE_HELP})",
                             column=labels[1])
    elif stats["bad_amount"] is not None:
        value = stats["bad_amount"]
        problem = InputError(source.path, "the amount is missing" if value == "" else
                             f"{value!r} is not a finite number", column=labels[2])
    elif not stats["customers"]:
        problem = ValueModelError(f"no customer made a purchase on or before {as_of}")
    if problem is not None:
        summary.unpersist()
        raise problem
    frame = summary.select("customer_id", "frequency", "recency", "T", "monetary_value")
    id_type = "string" if string_ids else "long"
    if string_ids and not stats["words"] and not stats["leading_zeros"]:
        # Numbers as ids are written back as numbers, as the local engine does; with
        # leading zeros ("00004") they stay as they were.
        frame = frame.withColumn("customer_id", cid.cast("long"))
        id_type = "long"
    return Summary(frame=frame, customers=int(stats["customers"]), time_unit=time_unit,
                   id_type=id_type, cached=summary)


def fit(summary: Summary, model_name: str):
    """(transaction model, Gamma-Gamma) fitted on the driver from the counted triples."""
    from pyspark.sql import functions as F

    from kehu.value.gamma_gamma import GammaGammaModel
    from kehu.value.pipeline import MODELS

    frame = summary.frame
    # Both aggregates in one job: kind 0 the triples, kind 1 the repeat buyers' pairs.
    triples = frame.groupBy("frequency", "recency", "T").count().select(
        F.lit(0).alias("kind"), "frequency", "recency", "T",
        F.lit(0.0).alias("monetary_value"), "count")
    pairs = (frame.where((F.col("frequency") > 0) & (F.col("monetary_value") > 0))
             .groupBy("frequency", "monetary_value").count()
             .select(F.lit(1).alias("kind"), "frequency", F.lit(0.0).alias("recency"),
                     F.lit(0.0).alias("T"), "monetary_value", "count"))
    table = triples.unionByName(pairs).toArrow()
    kind = table.column("kind").to_numpy()
    columns = {name: table.column(name).to_numpy().astype(np.float64)
               for name in ("frequency", "recency", "T", "monetary_value", "count")}
    triples = {name: values[kind == 0] for name, values in columns.items()}
    pairs = {name: values[kind == 1] for name, values in columns.items()}
    model = MODELS[model_name]().fit(triples["frequency"], triples["recency"], triples["T"],
                                     weights=triples["count"])
    gg = GammaGammaModel().fit(pairs["frequency"], pairs["monetary_value"],
                               weights=pairs["count"])
    return model, gg


def score_frame(summary: Summary, model_name: str, model, gg, months: int,
                monthly_discount: float) -> DataFrame:
    """The scores of every customer, computed on the executors (lazily)."""
    from kehu.value.pipeline import SCORE_COLUMNS

    model_state, gg_state, unit = model.to_dict(), gg.to_dict(), summary.time_unit
    schema = (f"customer_id {summary.id_type}, frequency long, recency double, T double, "
              "monetary_value double, p_alive double, predicted_purchases double, "
              "predicted_avg_value double, clv double")

    def score_batches(batches: Iterator[Any]) -> Iterator[Any]:
        import pandas as pd

        from kehu.value.clv import clv_details
        from kehu.value.gamma_gamma import GammaGammaModel
        from kehu.value.pipeline import MODELS

        transactions = MODELS[model_name].from_dict(model_state)
        spend = GammaGammaModel.from_dict(gg_state)
        for batch in batches:
            if batch.empty:
                continue
            x = batch["frequency"].to_numpy(np.float64)
            tx = batch["recency"].to_numpy(np.float64)
            t_cal = batch["T"].to_numpy(np.float64)
            m = batch["monetary_value"].to_numpy(np.float64)
            details = clv_details(transactions, spend, x, tx, t_cal, m, months=months,
                                  monthly_discount=monthly_discount, time_unit=unit)
            yield pd.DataFrame({
                "customer_id": batch["customer_id"], "frequency": x.astype(np.int64),
                "recency": tx, "T": t_cal, "monetary_value": m,
                "p_alive": transactions.p_alive(x, tx, t_cal),
                "predicted_purchases": details["predicted_purchases"],
                "predicted_avg_value": details["predicted_avg_value"], "clv": details["clv"]},
                columns=list(SCORE_COLUMNS))

    return summary.frame.mapInPandas(score_batches, schema)


def check_out(out: str) -> None:
    """--out names the Parquet folder to write: new, or one kehu (Spark) wrote before,
    which is replaced; never a file or a folder holding anything else."""
    local = _local(out)
    if local is None:
        return
    if local.exists() and not local.is_dir():
        raise InputError(local, "--out is a file; with --engine spark it names the folder "
                                "of Parquet files to write")
    if local.is_dir():
        ours = all(p.name in ("_SUCCESS", "._SUCCESS.crc") or p.name.startswith("part-")
                   or p.name.startswith(".part-") for p in local.iterdir())
        if not ours:
            raise InputError(local, "--out is a folder holding other files; give a new "
                                    "folder (or one that kehu wrote before) for the scores")
    if not local.parent.is_dir():
        raise InputError(local, "the folder to write the scores in does not exist")
    if not os.access(local.parent, os.W_OK | os.X_OK):
        raise InputError(local, "cannot write in this folder (permission denied)")


def score(spark: SparkSession, source: Source, out: str, *, as_of: str, time_unit: str,
          model_name: str, months: int, monthly_discount: float, total: bool = True
          ) -> Result:
    """`kehu value score --engine spark`: summarise, fit, score and write the Parquet
    folder `out`; the seconds each step took are in the result, and with `total` the sum
    of the CLV written (read back from `out`)."""


    check_out(out)
    with warnings.catch_warnings():
        # PySpark warns about pandas releases newer than it was tested with; the scores
        # are compared with the local engine's (tests/value/test_spark.py).
        warnings.simplefilter("ignore", FutureWarning)
        return _score(spark, source, out, as_of=as_of, time_unit=time_unit,
                      model_name=model_name, months=months, monthly_discount=monthly_discount,
                      total=total)


def _score(spark: SparkSession, source: Source, out: str, *, as_of: str, time_unit: str,
           model_name: str, months: int, monthly_discount: float, total: bool) -> Result:
    from pyspark.sql import functions as F

    from kehu.value.pipeline import fit_report

    seconds = {}
    start = time.perf_counter()
    summary = summarise(spark, source, as_of, time_unit)
    try:
        seconds["aggregation"] = time.perf_counter() - start
        start = time.perf_counter()
        model, gg = fit(summary, model_name)
        seconds["fit"] = time.perf_counter() - start
        start = time.perf_counter()
        scores = score_frame(summary, model_name, model, gg, months, monthly_discount)
        mode = "overwrite" if _local(out) is not None else "errorifexists"
        try:
            scores.write.mode(mode).parquet(out)
        except Exception as exc:
            if "PATH_ALREADY_EXISTS" in str(exc) or "already exists" in str(exc):
                raise InputError(out, "--out already exists; remove it or name a new "
                                      "folder") from None
            raise
        seconds["scoring"] = time.perf_counter() - start
    finally:
        summary.cached.unpersist()
    clv_total = float("nan")
    if total:
        clv_total = float(spark.read.parquet(out).agg(F.sum("clv")).collect()[0][0] or 0.0)
    return Result(customers=summary.customers,
                  report=fit_report(model_name, summary, model, gg),
                  clv_total=clv_total, seconds=seconds)


def first_line(exc: BaseException) -> str:
    """The line of a Spark error that says what went wrong (not the JVM's stack trace)."""
    for line in str(exc).strip().splitlines():
        line = line.strip().removeprefix(": ")
        if line and not line.startswith(("An error occurred while calling", "at ")):
            return line
    return type(exc).__name__

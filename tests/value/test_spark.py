"""`kehu value score --engine spark` gives the local engine's parameters and scores.

Spark's local mode, one JVM for the module; the cases that need Spark share one test so that
pytest-xdist never starts a second JVM on its other worker. Not database-dependent: run once.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kehu.value import pipeline
from kehu.value.datasets import simulate_transactions
from kehu.value.readers import InputError, read_transactions

from .conftest import CDNOW
from .test_cli import CDNOW_ARGS, run

pytest.importorskip("pyspark")
pytestmark = pytest.mark.one_database

PARAMS_RTOL = 1e-9
SCORES_RTOL = 1e-6


@pytest.fixture(scope="module")
def spark_session():
    from kehu.value import spark

    session = spark.session("local[2]", {
        "spark.ui.enabled": "false",
        "spark.sql.shuffle.partitions": "2",
        "spark.default.parallelism": "2",
        "spark.sql.adaptive.enabled": "false",
        "spark.driver.memory": "512m",
        # Tiny data: compiling whole stages and optimising the JIT take longer than the work.
        "spark.sql.codegen.wholeStage": "false",
        "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
    })
    yield session
    session.stop()


def local_engine(path, cols, as_of, time_unit="W", model="bgnbd", months=12, header=True):
    table = read_transactions(path, *cols, header=header)
    summary = pipeline.summarise(table, as_of, time_unit)
    transactions = pipeline.fit_transaction_model(model, summary)
    gg = pipeline.fit_spend_model(summary)
    columns = pipeline.score(transactions, gg, summary, months, 0.01)
    return pipeline.fit_report(model, summary, transactions, gg), columns


def assert_same_params(report, expected):
    assert report["customers"] == expected["customers"]
    for key in expected:
        if isinstance(expected[key], dict) and "params" in expected[key]:
            got, want = report[key]["params"], expected[key]["params"]
            assert got.keys() == want.keys()
            for name in want:
                assert got[name] == pytest.approx(want[name], rel=PARAMS_RTOL, abs=0), (key, name)


def assert_same_scores(folder, expected):
    table = pq.read_table(folder)
    assert table.column_names == list(pipeline.SCORE_COLUMNS)
    ids = table.column("customer_id").to_numpy(zero_copy_only=False)
    assert ids.dtype == expected["customer_id"].dtype or ids.dtype == object
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    assert len(ids) == len(expected["customer_id"])
    assert (ids == expected["customer_id"]).all()
    for name in pipeline.SCORE_COLUMNS[1:]:
        got = table.column(name).to_numpy()[order]
        np.testing.assert_allclose(got, expected[name], rtol=SCORES_RTOL, atol=1e-12,
                                   err_msg=name)


def heavy_buyers(tmp_path):
    """Customers buying several times a week, often twice a day."""
    log = simulate_transactions(300, params={"r": 3.0, "alpha": 0.8, "a": 0.4, "b": 30.0},
                                seed=7)
    ids = np.char.add("C", np.char.zfill(log.customer_id.astype(str), 5))
    table = pa.table({"customer": ids, "day": log.date.astype(str), "amount": log.amount})
    parquet = tmp_path / "heavy.parquet"
    pq.write_table(table, parquet)
    csv_path = tmp_path / "heavy.csv"
    with csv_path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["customer", "day", "amount"])
        # Here the ids are plain numbers, which both engines write back as numbers.
        writer.writerows(zip(log.customer_id, log.date.astype(str), log.amount.round(2),
                             strict=True))
    return parquet, csv_path, len(log)


def test_spark_engine_agrees_with_the_local_one(spark_session, tmp_path, capsys):
    from kehu.value import spark

    def score(path, cols, out, header=True, **options):
        source = spark.Source(str(path), *cols, header=header)
        options = {"as_of": "1997-09-30", "time_unit": "W", "model_name": "bgnbd",
                   "months": 12, "monthly_discount": 0.01, **options}
        return spark.score(spark_session, source, str(out), **options)

    # Heavy buyers, Parquet and CSV, in days, Pareto/NBD, 6 months.
    parquet, csv_path, rows = heavy_buyers(tmp_path)
    cols = ("customer", "day", "amount")
    options = {"as_of": "2021-12-31", "time_unit": "D", "model_name": "pareto-nbd",
               "months": 6}
    report, columns = local_engine(parquet, cols, "2021-12-31", "D", "pareto-nbd", 6)
    assert rows > 20 * len(columns["customer_id"])  # many purchases each
    assert (columns["frequency"] > 100).sum() > 30
    for path, out in ((parquet, "heavy_pq"), (csv_path, "heavy_csv")):
        report, columns = local_engine(path, cols, "2021-12-31", "D", "pareto-nbd", 6)
        result = score(path, cols, tmp_path / out, **options)
        assert_same_params(result.report, report)
        assert_same_scores(tmp_path / out, columns)

    # The command line: the local options plus --engine spark, with a Parquet folder where
    # the CSV was. CDNOW as published: whitespace-separated, no header, ids "00004", dates
    # YYYYMMDD. A folder of scores written before is replaced.
    out = tmp_path / "cli"
    out.mkdir()
    (out / "_SUCCESS").touch()
    (out / "part-00009-old.snappy.parquet").write_bytes(b"old")
    cli = run("score", CDNOW, *CDNOW_ARGS, "--out", out, "--engine", "spark", "--json")
    assert cli.exit_code == 0, cli.output
    local_csv = tmp_path / "local.csv"
    local = run("score", CDNOW, *CDNOW_ARGS, "--out", local_csv, "--json")
    assert json.loads(cli.stdout)["customers"] == 2357
    assert_same_params(json.loads(cli.stdout), json.loads(local.stdout))
    assert not (out / "part-00009-old.snappy.parquet").exists()
    expected = {name: np.array(values) for name, values in
                zip(pipeline.SCORE_COLUMNS, zip(*csv.reader(local_csv.open()), strict=True),
                    strict=True)}
    expected = {name: values[1:] if name == "customer_id" else values[1:].astype(float)
                for name, values in expected.items()}
    assert_same_scores(out, expected)

    # A value Spark cannot read is named, as the local engine names it; dates are read
    # strictly (no rolling 30 February over into March).
    bad = tmp_path / "bad.csv"
    bad.write_text("customer,day,amount\nA,2021-01-02,3.5\nB,2021-02-30,4\n")
    with pytest.raises(InputError, match=r"column 'day' \(2\): cannot read '2021-02-30' as a "
                                         r"date"):
        score(bad, cols, tmp_path / "bad_out", as_of="2021-12-31")
    # A URI no file system of Spark's can open is named too.
    with pytest.raises(InputError, match=r"nosuch://lake/log.csv: Spark cannot open it: "):
        score("nosuch://lake/log.csv", cols, tmp_path / "bad_out")


def test_bad_input_is_refused_before_spark_runs(tmp_path):
    """Wrong columns, a missing file, a file where the Parquet folder goes: one line each."""
    result = run("score", CDNOW, *CDNOW_ARGS[:-1], "1997-02-30", "--out", tmp_path / "o",
                 "--engine", "spark")
    assert result.exit_code == 2 and "--as-of must be a date" in result.stderr
    taken = tmp_path / "scores.csv"
    taken.write_text("x\n")
    result = run("score", CDNOW, *CDNOW_ARGS, "--out", taken, "--engine", "spark")
    assert result.exit_code == 2
    assert "--out is a file; with --engine spark it names the folder" in result.stderr
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    result = run("score", CDNOW, *CDNOW_ARGS, "--out", tmp_path / "mine", "--engine", "spark")
    assert result.exit_code == 2 and "holding other files" in result.stderr
    assert (tmp_path / "mine" / "notes.txt").exists()


def test_columns_and_paths_are_checked_before_spark_starts(tmp_path):
    from kehu.value import spark

    header = tmp_path / "t.csv"
    header.write_text("客户,日期,金额\nA,2021-01-02,3.5\n", encoding="utf-8")
    with pytest.raises(InputError, match="no amount column 'amount' in the header; the "
                                         "columns are: 客户, 日期, 金额"):
        spark.check_source(spark.Source(str(header), "客户", "日期", "amount"))
    with pytest.raises(InputError, match="no such file"):
        spark.check_source(spark.Source(str(tmp_path / "missing.csv"), "1", "2", "3"))
    with pytest.raises(InputError, match="--customer-col and --amount-col name the same"):
        spark.check_source(spark.Source(str(header), "1", "2", "1"))
    parquet = tmp_path / "log.parquet"
    pq.write_table(pa.table({"id": [1], "day": ["2021-01-02"], "amount": [3.5]}), parquet)
    with pytest.raises(InputError, match="no date column 'date' in the header; the columns "
                                         "are: id, day, amount"):
        spark.check_source(spark.Source(str(parquet), "id", "date", "amount"))
    spark.check_source(spark.Source(str(parquet), "id", "day", "3"))  # numbers count too


def test_missing_java_is_one_line_saying_how_to_install(monkeypatch, tmp_path):
    from kehu.value import spark

    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(spark.SparkUnavailable, match="apt-get install openjdk-17-jre-headless"):
        spark.check_java()
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(spark.SparkUnavailable, match="holds no bin/java"):
        spark.check_java()

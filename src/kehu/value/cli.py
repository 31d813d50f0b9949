"""`kehu value fit|score|evaluate`: the value engine on a transaction file.

Runs before (and without) Django. Exit status: 0 done, 2 bad input (file, column, date,
option; the message names file, line and column), 1 the data do not fit the model.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from kehu.value.errors import ValueModelError
from kehu.value.readers import InputError

HELP = """Customer value from a transaction file (one row per purchase: customer, date, amount).

FILE is CSV (delimiter and encoding, UTF-8 or GBK, are detected) or Parquet; dates are
YYYY-MM-DD or YYYYMMDD. Columns are given by header name or by number, counting from 1;
a file without a header line needs --no-header and numbers. For example, CDNOW
(whitespace separated: customer, sample, date, CDs, dollars):

\b
  kehu value fit CDNOW_sample.txt --no-header \\
      --customer-col 1 --date-col 3 --amount-col 5 --as-of 1997-09-30

Exit status: 0 done, 1 the data do not fit the model, 2 bad input.

The CRM's own customers are scored by `kehu value refresh [--as-of YYYY-MM-DD]
[--if-stale]` (see docs/customer-value.md).
"""

app = typer.Typer(help=HELP, add_completion=False, no_args_is_help=True,
                  rich_markup_mode=None, pretty_exceptions_enable=False)
stderr = Console(stderr=True, soft_wrap=True)  # never break a message across lines
stdout = Console(soft_wrap=True)


class TimeUnit(StrEnum):
    W = "W"
    D = "D"


class Engine(StrEnum):
    local = "local"
    spark = "spark"


class ModelName(StrEnum):
    bgnbd = "bgnbd"
    mbgnbd = "mbgnbd"
    pareto_nbd = "pareto-nbd"


FileArg = Annotated[Path, typer.Argument(
    help="Transactions: CSV (any delimiter, UTF-8/GBK) or Parquet.", show_default=False)]
CustomerCol = Annotated[str, typer.Option(
    "--customer-col", help="Customer id column (header name, or number from 1).",
    show_default=False)]
DateCol = Annotated[str, typer.Option(
    "--date-col", help="Purchase date column (YYYY-MM-DD or YYYYMMDD).", show_default=False)]
AmountCol = Annotated[str, typer.Option(
    "--amount-col", help="Amount column (a number; purchases on one day add up).",
    show_default=False)]
AsOf = Annotated[str, typer.Option(
    "--as-of", help="End of observation, YYYY-MM-DD; later transactions are ignored.",
    show_default=False)]
TimeUnitOpt = Annotated[TimeUnit, typer.Option(
    "--time-unit", case_sensitive=False, help="W: weeks (days / 7), D: days.")]
ModelOpt = Annotated[ModelName, typer.Option("--model", help="Transaction model.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the fit as one JSON object.")]
NoHeader = Annotated[bool, typer.Option(
    "--no-header", help="The file has no header line; give columns by number (1 = first).")]
DelimiterOpt = Annotated[str | None, typer.Option(
    "--delimiter", help="Column separator if detection guesses wrong: , ; tab | or space "
    "(runs of spaces).", show_default=False)]


@contextmanager
def _errors() -> Iterator[None]:
    """Turn the engine's exceptions into a message on stderr and the exit status."""
    try:
        yield
    except InputError as exc:
        stderr.print(f"kehu value: error: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    except ValueModelError as exc:
        message = str(exc)
        # Option values (dates, units) are input errors too; model failures are not.
        status = 2 if message.startswith("--") or "must be" in message else 1
        stderr.print(f"kehu value: {'error' if status == 2 else 'model error'}: {message}",
                     markup=False, highlight=False)
        raise typer.Exit(status) from None
    except OSError as exc:
        stderr.print(f"kehu value: error: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None


class _Steps:
    """A Rich progress bar over the pipeline's steps, on a terminal only."""

    def __init__(self, total: int) -> None:
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.enabled = stderr.is_terminal
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 TimeElapsedColumn(), console=stderr, transient=True,
                                 disable=not self.enabled)
        self.task = self.progress.add_task("", total=total)
        self.started = False

    def step(self, description: str) -> None:
        if not self.started:
            self.progress.start()
            self.started = True
        else:
            self.progress.advance(self.task)
        self.progress.update(self.task, description=description)

    def close(self) -> None:
        if self.started:
            self.progress.stop()


@contextmanager
def _steps(total: int) -> Iterator[_Steps]:
    steps = _Steps(total)
    try:
        yield steps
    finally:
        steps.close()


def _load(steps: _Steps, file: Path, customer_col: str, date_col: str, amount_col: str,
          as_of: str, time_unit: TimeUnit, no_header: bool, delimiter: str | None,
          calibration_end: str | None = None):
    from kehu.value.readers import read_transactions
    from kehu.value.rfm import to_day

    to_day(as_of, "--as-of")  # refuse a bad date before reading a big file
    if calibration_end is not None:
        to_day(calibration_end, "--calibration-end")
    steps.step(f"Reading {file.name}")
    with ThreadPoolExecutor(1) as pool:
        reading = pool.submit(read_transactions, file, customer_col, date_col, amount_col,
                              header=not no_header, delimiter=delimiter)
        # Arrow reads without holding the GIL: load the models (scipy.special alone takes
        # as long as reading 100k customers' purchases) meanwhile.
        from kehu.value.pipeline import summarise

        table = reading.result()
    steps.step("Summarising customers")
    return summarise(table, as_of, time_unit.value, calibration_end)


def _check_out(out: Path) -> None:
    """--out must be a file kehu may create or replace: not a folder, not a device."""
    if out.is_dir():
        raise InputError(out, "--out is a folder; give the name of the CSV file to write")
    if out.exists() and not out.is_file():
        raise InputError(out, "--out is not a regular file; give the name of a CSV file")
    if not out.parent.is_dir():
        raise InputError(out, "the folder to write the scores in does not exist")
    if not os.access(out.parent, os.W_OK | os.X_OK):
        raise InputError(out, "cannot write in this folder (permission denied)")
    if out.exists() and not os.access(out, os.W_OK):
        raise InputError(out, "the file exists and cannot be replaced (permission denied)")


def _print_json(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def _print_fit(report: dict[str, Any]) -> None:
    from rich.table import Table

    out = stdout
    table = Table(title=f"kehu value: {report['model']} on {report['customers']:,} customers "
                  f"(time unit {report['time_unit']})")
    table.add_column("model")
    table.add_column("parameters")
    table.add_column("log-likelihood", justify="right")
    table.add_column("customers", justify="right")
    for key in ("bgnbd", "mbgnbd", "pareto_nbd", "gamma_gamma"):
        if key in report:
            part = report[key]
            params = ", ".join(f"{k} = {v:.4g}" for k, v in part["params"].items())
            table.add_row(key, params, f"{part['loglik']:.2f}",
                          f"{part.get('customers', report['customers']):,}")
    out.print(table)


@app.command()
def fit(file: FileArg, customer_col: CustomerCol, date_col: DateCol, amount_col: AmountCol,
        as_of: AsOf, time_unit: TimeUnitOpt = TimeUnit.W, model: ModelOpt = ModelName.bgnbd,
        json_output: JsonOpt = False, no_header: NoHeader = False,
        delimiter: DelimiterOpt = None) -> None:
    """Fit the transaction model and Gamma-Gamma; print their parameters."""
    with _errors(), _steps(3) as steps:
        summary = _load(steps, file, customer_col, date_col, amount_col, as_of, time_unit,
                        no_header, delimiter)
        from kehu.value.pipeline import fit_models, fit_report

        steps.step(f"Fitting {model.value} and Gamma-Gamma")
        transactions, gg = fit_models(model.value, summary)
        report = fit_report(model.value, summary, transactions, gg)
    _print_json(report) if json_output else _print_fit(report)


@app.command()
def score(file: Annotated[str, typer.Argument(
              help="Transactions: CSV (any delimiter, UTF-8/GBK) or Parquet; with --engine "
              "spark also a folder of them or any URI Spark reads (hdfs://, s3a://, ...).",
              show_default=False)],
          customer_col: CustomerCol, date_col: DateCol, amount_col: AmountCol,
          as_of: AsOf,
          out: Annotated[str, typer.Option("--out", help="Scores CSV to write (one row per "
                                           "customer); with --engine spark, the folder of "
                                           "Parquet files to write.", show_default=False)],
          time_unit: TimeUnitOpt = TimeUnit.W, model: ModelOpt = ModelName.bgnbd,
          months: Annotated[int, typer.Option("--months", min=1, max=1200,
                                              help="CLV horizon.")] = 12,
          monthly_discount: Annotated[float, typer.Option(
              "--monthly-discount", help="Discount rate per month.")] = 0.01,
          json_output: JsonOpt = False, no_header: NoHeader = False,
          delimiter: DelimiterOpt = None,
          engine: Annotated[Engine, typer.Option(
              "--engine", case_sensitive=False,
              help="local: this machine, in memory; spark: Apache Spark (local mode, or the "
              "cluster under spark-submit; see docs/value-on-spark.md).")] = Engine.local
          ) -> None:
    """Write P(alive), expected purchases, expected spend and CLV per customer to --out."""
    if engine == Engine.spark:
        _score_on_spark(file, customer_col, date_col, amount_col, as_of, out, time_unit,
                        model, months, monthly_discount, json_output, no_header, delimiter)
        return
    file, out = Path(file), Path(out)
    with _errors(), _steps(4) as steps:
        _check_out(out)
        summary = _load(steps, file, customer_col, date_col, amount_col, as_of, time_unit,
                        no_header, delimiter)
        from kehu.value import pipeline

        steps.step(f"Fitting {model.value} and Gamma-Gamma")
        transactions, gg = pipeline.fit_models(model.value, summary)
        steps.step(f"Scoring customers into {out.name}")
        clv = pipeline.score_and_write(out, transactions, gg, summary, months,
                                       monthly_discount)
        report = pipeline.fit_report(model.value, summary, transactions, gg)
    if json_output:
        _print_json(report)
    else:
        stdout.print(f"Wrote {len(summary):,} customers to {out} (total {months}-month CLV "
                        f"{clv.sum():,.2f}).", highlight=False)


def _score_on_spark(file: str, customer_col: str, date_col: str, amount_col: str, as_of: str,
                    out: str, time_unit: TimeUnit, model: ModelName, months: int,
                    monthly_discount: float, json_output: bool, no_header: bool,
                    delimiter: str | None) -> None:
    """`score --engine spark`: the same options, the same scores, as Parquet (kehu.value.spark)."""
    from kehu.value import spark
    from kehu.value.rfm import to_day

    with _errors(), _steps(2) as steps:
        to_day(as_of, "--as-of")  # refuse a bad date before starting Spark
        spark.check_out(out)
        source = spark.Source(file, customer_col, date_col, amount_col, header=not no_header,
                              delimiter=delimiter)
        spark.check_source(source)
        steps.step("Starting Spark")
        try:
            session = spark.session()
        except spark.SparkUnavailable as exc:
            stderr.print(f"kehu value: error: {exc}", markup=False, highlight=False)
            raise typer.Exit(2) from None
        steps.step("Scoring customers on Spark")
        try:
            result = spark.score(session, source, out, as_of=as_of,
                                 time_unit=time_unit.value, model_name=model.value,
                                 months=months, monthly_discount=monthly_discount,
                                 total=not json_output)
        except (InputError, ValueModelError, OSError):
            raise
        except Exception as exc:
            if not type(exc).__module__.startswith(("pyspark", "py4j")):
                raise
            # A job that failed on the cluster: its first line, not a JVM stack trace.
            stderr.print(f"kehu value: error: Spark failed: {spark.first_line(exc)}",
                         markup=False, highlight=False)
            raise typer.Exit(1) from None
    if json_output:
        _print_json(result.report)
    else:
        stdout.print(f"Wrote {result.customers:,} customers to {out} (total {months}-month "
                     f"CLV {result.clv_total:,.2f}).", highlight=False)


@app.command()
def evaluate(file: FileArg, customer_col: CustomerCol, date_col: DateCol,
             amount_col: AmountCol, as_of: AsOf,
             calibration_end: Annotated[str, typer.Option(
                 "--calibration-end", help="Fit on purchases up to this date (YYYY-MM-DD) and "
                 "predict the rest, up to --as-of.", show_default=False)],
             time_unit: TimeUnitOpt = TimeUnit.W, model: ModelOpt = ModelName.bgnbd,
             json_output: JsonOpt = False, no_header: NoHeader = False,
             delimiter: DelimiterOpt = None) -> None:
    """Holdout check: fit up to --calibration-end, compare predictions with what happened."""
    with _errors(), _steps(4) as steps:
        summary = _load(steps, file, customer_col, date_col, amount_col, as_of, time_unit,
                        no_header, delimiter, calibration_end)
        from kehu.value.holdout import evaluate_holdout
        from kehu.value.pipeline import fit_report, fit_transaction_model

        steps.step(f"Fitting {model.value}")
        transactions = fit_transaction_model(model.value, summary)
        steps.step("Predicting the holdout")
        holdout = evaluate_holdout(transactions, summary)
        report = fit_report(model.value, summary, transactions, None)
        report.update({"calibration_end": calibration_end, "as_of": as_of,
                       "holdout": holdout.to_dict()})
    if json_output:
        _print_json(report)
        return
    _print_fit(report)
    from rich.table import Table

    table = Table(title=f"Holdout {calibration_end} to {as_of} "
                  f"({holdout.holdout_duration:.4g} {time_unit.value}): repeat purchases")
    for name in ("calibration frequency", "customers", "actual (mean)", "predicted (mean)"):
        table.add_column(name, justify="right")
    for g in holdout.by_frequency:
        table.add_row(f"{g['frequency']}{'+' if g['plus'] else ''}", f"{g['customers']:,}",
                      f"{g['actual_mean']:.3f}", f"{g['predicted_mean']:.3f}")
    stdout.print(table)
    stdout.print(
        f"All customers: actual {holdout.actual:,.0f}, predicted {holdout.predicted:,.1f} "
        f"({_pct(holdout.relative_error)}). Cumulative repeat purchases to {as_of}: actual "
        f"{holdout.cumulative_actual:,.0f}, predicted {holdout.cumulative_predicted:,.1f} "
        f"({_pct(holdout.cumulative_relative_error)}).", highlight=False)


def _pct(share: float) -> str:
    """A relative error, or why there is none (nothing happened to compare with)."""
    return f"{share:+.1%}" if share == share else "no actual purchases to compare with"

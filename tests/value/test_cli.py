"""`kehu value fit|score|evaluate` on files as analysts have them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from kehu.value.cli import app

from .conftest import CDNOW, read_cdnow

CDNOW_ARGS = ["--no-header", "--customer-col", "1", "--date-col", "3", "--amount-col", "5",
              "--as-of", "1997-09-30"]
HEADER_ARGS = ["--customer-col", "客户编号", "--date-col", "日期", "--amount-col", "金额",
               "--as-of", "1997-09-30"]
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def cdnow_rows():
    ids, dates, amounts = read_cdnow()
    return ids, dates, amounts


def write_csv(path, sep=",", encoding="utf-8", date_format="iso", header=True):
    ids, dates, amounts = cdnow_rows()
    lines = [sep.join(["客户编号", "日期", "金额"])] if header else []
    for i, d, a in zip(ids, dates, amounts, strict=True):
        day = str(d) if date_format == "iso" else str(d).replace("-", "")
        lines.append(sep.join([f"客户{i}", day, f"{a:.2f}"]))
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def assert_cdnow_fit(report):
    assert report["customers"] == 2357
    assert report["bgnbd"]["params"]["r"] == pytest.approx(0.2426, abs=1e-4)
    assert report["gamma_gamma"]["customers"] == 946


def test_fit_json_has_the_agreed_shape():
    result = run("fit", CDNOW, *CDNOW_ARGS, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["model"] == "bgnbd"
    assert set(report["bgnbd"]) == {"params", "loglik"}
    assert set(report["bgnbd"]["params"]) == {"r", "alpha", "a", "b"}
    assert set(report["gamma_gamma"]) == {"params", "loglik", "customers"}
    assert set(report["gamma_gamma"]["params"]) == {"p", "q", "v"}
    assert_cdnow_fit(report)


def test_fit_mbgnbd_json():
    result = run("fit", CDNOW, *CDNOW_ARGS, "--model", "mbgnbd", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["model"] == "mbgnbd"
    assert report["mbgnbd"]["params"]["b"] == pytest.approx(1.614, abs=1e-3)
    assert "bgnbd" not in report


def test_fit_pareto_nbd_json():
    result = run("fit", CDNOW, *CDNOW_ARGS, "--model", "pareto-nbd", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["model"] == "pareto-nbd"
    assert report["pareto_nbd"]["params"]["s"] == pytest.approx(0.606, abs=1e-3)


def test_fit_prints_a_table_without_json():
    result = run("fit", CDNOW, *CDNOW_ARGS)
    assert result.exit_code == 0
    assert "gamma_gamma" in result.stdout and "r = 0.2426" in result.stdout


def test_it_reads_a_utf8_csv_with_bom_and_chinese_header(tmp_path):
    path = tmp_path / "交易.csv"
    path.write_bytes(b"\xef\xbb\xbf" + write_csv(tmp_path / "plain.csv").read_bytes())
    result = run("fit", path, *HEADER_ARGS, "--json")
    assert result.exit_code == 0, result.output
    assert_cdnow_fit(json.loads(result.stdout))


def test_it_reads_a_gbk_file_with_semicolons(tmp_path):
    path = write_csv(tmp_path / "gbk.csv", sep=";", encoding="gbk", date_format="yyyymmdd")
    result = run("fit", path, *HEADER_ARGS, "--json")
    assert result.exit_code == 0, result.output
    assert_cdnow_fit(json.loads(result.stdout))


def test_it_reads_parquet(tmp_path):
    ids, dates, amounts = cdnow_rows()
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"cust": ids, "day": dates, "amount": amounts}), path)
    result = run("fit", path, "--customer-col", "cust", "--date-col", "day",
                 "--amount-col", "amount", "--as-of", "1997-09-30", "--json")
    assert result.exit_code == 0, result.output
    assert_cdnow_fit(json.loads(result.stdout))


def test_score_writes_one_row_per_customer(tmp_path):
    out = tmp_path / "scores.csv"
    result = run("score", CDNOW, *CDNOW_ARGS, "--months", "6", "--out", out, "--json")
    assert result.exit_code == 0, result.output
    assert_cdnow_fit(json.loads(result.stdout))
    lines = out.read_text().splitlines()
    assert lines[0] == ("customer_id,frequency,recency,T,monetary_value,p_alive,"
                        "predicted_purchases,predicted_avg_value,clv")
    assert len(lines) == 2357 + 1
    first = lines[1].split(",")
    assert first[0] == "00004" and first[1] == "2"  # ids keep their leading zeros
    table = np.genfromtxt(out, delimiter=",", skip_header=1)
    assert np.all((table[:, 5] >= 0) & (table[:, 5] <= 1))
    assert np.all(table[:, 8] >= 0)
    assert not list(tmp_path.glob(".*tmp"))  # no temporary file left behind


def test_evaluate_compares_the_holdout():
    result = run("evaluate", CDNOW, *CDNOW_ARGS[:-1], "1998-06-30",
                 "--calibration-end", "1997-09-30", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    holdout = report["holdout"]
    assert holdout["actual"] == 1882 and holdout["customers"] == 2357
    assert abs(holdout["cumulative_relative_error"]) < 0.05
    assert report["calibration_end"] == "1997-09-30"


def bad_file(tmp_path, line3: str):
    path = tmp_path / "bad.csv"
    path.write_text("customer,date,amount\nc1,2024-01-02,10.5\n" + line3 + "\n"
                    "c1,2024-02-01,3\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("line3, message", [
    ("c2,2024-13-45,7", "bad.csv:3, column 'date' (2): cannot read '2024-13-45' as a date"),
    ("c2,2024-01-05,seven", "bad.csv:3, column 'amount' (3): 'seven' is not a number"),
    ("c2,,7", "bad.csv:3, column 'date' (2): the date is missing"),
    ("c2,2024-01-05", "bad.csv:3: expected 3 columns"),
])
def test_bad_values_exit_2_naming_file_line_and_column(tmp_path, line3, message):
    out = tmp_path / "scores.csv"
    out.write_text("previous scores\n")
    result = run("score", bad_file(tmp_path, line3), "--customer-col", "customer",
                 "--date-col", "date", "--amount-col", "amount", "--as-of", "2024-06-30",
                 "--out", out)
    assert result.exit_code == 2
    assert message in result.stderr
    assert out.read_text() == "previous scores\n"  # nothing written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "scores.csv"]


def test_a_missing_column_is_named_with_the_columns_there_are(tmp_path):
    out = tmp_path / "scores.csv"
    result = run("score", bad_file(tmp_path, "c2,2024-01-05,7"), "--customer-col", "client",
                 "--date-col", "date", "--amount-col", "amount", "--as-of", "2024-06-30",
                 "--out", out)
    assert result.exit_code == 2
    assert "bad.csv:1: no customer column 'client' in the header" in result.stderr
    assert "customer, date, amount" in result.stderr
    assert not out.exists()


def test_a_headerless_file_needs_no_header(tmp_path):
    result = run("fit", CDNOW, "--customer-col", "1", "--date-col", "3", "--amount-col", "5",
                 "--as-of", "1997-09-30")
    assert result.exit_code == 2
    assert "CDNOW_sample.txt:1: the first line holds only numbers" in result.stderr
    assert "--no-header" in result.stderr


def test_a_bad_yyyymmdd_date_is_refused_with_its_line(tmp_path):
    lines = CDNOW.read_text().splitlines()
    lines[40] = re.sub(r" 199[78][0-9]{4} ", " 19970231 ", lines[40])
    path = tmp_path / "cdnow.txt"
    path.write_text("\n".join(lines) + "\n")
    result = run("fit", path, *CDNOW_ARGS)
    assert result.exit_code == 2
    assert "cdnow.txt:41, column 3: cannot read 19970231 as a date" in result.stderr


def test_a_bad_option_is_an_input_error(tmp_path):
    result = run("fit", CDNOW, *CDNOW_ARGS[:-1], "1997-02-30")
    assert result.exit_code == 2 and "--as-of" in result.stderr
    result = run("fit", tmp_path / "missing.csv", *CDNOW_ARGS)
    assert result.exit_code == 2 and "missing.csv: no such file" in result.stderr


def test_data_the_model_cannot_fit_exit_1(tmp_path):
    path = tmp_path / "once.csv"
    rows = [f"c{i},2024-01-{1 + i % 28:02d},5" for i in range(40)]  # nobody repeats
    path.write_text("customer,date,amount\n" + "\n".join(rows) + "\n")
    result = run("fit", path, "--customer-col", "customer", "--date-col", "date",
                 "--amount-col", "amount", "--as-of", "2024-06-30")
    assert result.exit_code == 1
    assert "model error: BG/NBD: nobody made a repeat purchase" in result.stderr


def test_spend_with_q_at_most_one_is_a_model_error_not_a_fit(tmp_path):
    from kehu.value.datasets import simulate_transactions

    log = simulate_transactions(500, spend={"p": 4.0, "q": 0.6, "v": 10.0}, seed=7)
    path = tmp_path / "heavy.csv"
    path.write_text("customer,date,amount\n" + "".join(
        f"{c},{d},{a:.2f}\n" for c, d, a in zip(log.customer_id, log.date, log.amount,
                                               strict=True)))
    result = run("fit", path, "--customer-col", "customer", "--date-col", "date",
                 "--amount-col", "amount", "--as-of", "2021-12-31", "--json")
    assert result.exit_code == 1, result.output
    assert "model error: Gamma-Gamma: the fit gives q = 0." in result.stderr
    assert result.stdout == ""


def test_the_kehu_command_dispatches_value_without_django(tmp_path):
    out = tmp_path / "s.csv"
    # Nor pandas, which pyarrow imports on some calls when it is installed (as it is here,
    # for lifetimes): that alone costs more than scoring 100k customers.
    code = ("import sys; from kehu.cli import main\ntry: main(sys.argv[1:])\n"
            "except SystemExit as e: assert not e.code, e.code\n"
            "assert not [m for m in sys.modules if m.split('.')[0] in ('django', 'pandas')]")
    result = subprocess.run([sys.executable, "-c", code, "value", "score", str(CDNOW),
                             *CDNOW_ARGS, "--out", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Wrote 2,357 customers" in result.stdout
    assert result.stderr == ""  # no progress bar when not on a terminal


def test_score_refuses_an_out_that_is_not_a_file_it_may_write(tmp_path):
    folder = run("score", CDNOW, *CDNOW_ARGS, "--out", tmp_path)
    assert folder.exit_code == 2 and "--out is a folder" in folder.output
    device = run("score", CDNOW, *CDNOW_ARGS, "--out", "/dev/null")
    assert device.exit_code == 2 and "not a regular file" in device.output
    assert Path("/dev/null").is_char_device()
    huge = run("score", CDNOW, *CDNOW_ARGS, "--out", tmp_path / "s.csv", "--months",
               "100000000")
    assert huge.exit_code == 2 and not (tmp_path / "s.csv").exists()


def test_one_column_cannot_be_both_date_and_amount(tmp_path):
    path = write_csv(tmp_path / "t.csv")
    result = run("fit", path, "--customer-col", "客户编号", "--date-col", "日期",
                 "--amount-col", "2", "--as-of", "1997-09-30")
    assert result.exit_code == 2
    assert "--date-col and --amount-col name the same column" in result.output


def test_a_fit_that_runs_to_infinity_is_refused_not_reported(tmp_path):
    # Purchases at uniformly random days, nobody ever leaving: BG/NBD's dropout Beta runs
    # off to a and b in the millions. That is a model error (status 1), not a fit.
    rng = np.random.default_rng(7)
    lines = ["customer,date,amount"]
    for c in range(150):
        for day in sorted(rng.integers(0, 365, rng.integers(1, 9))):
            date = np.datetime64("2021-01-01") + int(day)
            lines.append(f"C{c:04d},{date},{rng.uniform(5, 90):.2f}")
    path = tmp_path / "uniform.csv"
    path.write_text("\n".join(lines) + "\n")
    result = run("fit", path, "--customer-col", "customer", "--date-col", "date",
                 "--amount-col", "amount", "--as-of", "2021-12-31", "--json")
    assert result.exit_code == 1, result.output
    assert "cannot identify the model" in result.output and "heading to infinity" in result.output


def test_evaluate_with_nothing_in_the_holdout_says_so_and_prints_valid_json(tmp_path):
    path = write_csv(tmp_path / "t.csv")
    args = ["evaluate", path, *HEADER_ARGS[:-1], "1999-12-31", "--calibration-end",
            "1998-12-31"]
    table = run(*args)
    assert table.exit_code == 0, table.output
    assert "no actual purchases to compare with" in table.stdout and "nan" not in table.stdout
    report = json.loads(run(*args, "--json").stdout)  # strict JSON: no NaN
    assert report["holdout"]["relative_error"] is None

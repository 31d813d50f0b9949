"""Time `kehu value score` against lifetimes, and against reading the file alone.

Usage: python bench/value_bench.py [--sizes 100000,1000000] [--lifetimes-max 100000]
                                   [--variants users,shuffled,parquet] [--repeat 3]
                                   [--keep DIR]

For each size, generates a transaction log with kehu.value.datasets (about 17 purchases
per customer over two years: 100k customers ~ 1.7M rows, 1M ~ 17M rows) and writes it as
users' exports look (variants):
  users:    CSV, ids like C0000000, ISO dates, rows grouped by customer, dates in order;
  shuffled: CSV, integer ids, rows in random order (the general path: one sort);
  parquet:  the users file as Parquet.
Then runs, alternating, each as a fresh process and --repeat times:
  kehu:      kehu value score FILE ... --out SCORES.csv
  read:      pyarrow.csv.read_csv(FILE) (or pyarrow.parquet.read_table) alone: the floor
  lifetimes: pandas.read_csv -> summary_data_from_transaction_data -> BetaGeoFitter ->
             GammaGammaFitter -> P(alive) -> 12-month CLV -> to_csv (users file only, up
             to --lifetimes-max customers: it takes minutes beyond)
and prints the median wall time and the peak memory (max RSS of the process) of each,
kehu's ratio to lifetimes and to the floor, and how far apart kehu's and lifetimes' answers
are; then, for the users file at lifetimes' sizes, the same two pipelines inside one process
after a first run (imports and start-up left out: a notebook or a service scoring again).
Figures only: it never fails on time. The machine may be shared: compare figures of
one run (they alternate), not across runs.
Targets: >= 10x faster than lifetimes at 100k, CLV within 1% for 99% of customers; 1M
customers / 17M rows in <= 3 s and <= 1 GiB on 2 cores, within 2x of reading the file
alone, for CSV and for Parquet.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2021-12-31"
KEHU = [sys.executable, "-c", "from kehu.cli import main; main()", "value", "score"]
COLUMNS = ["--customer-col", "customer_id", "--date-col", "date", "--amount-col", "amount",
           "--as-of", AS_OF]

LIFETIMES = r"""
import sys, warnings
warnings.simplefilter("ignore")
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import summary_data_from_transaction_data

source, as_of, out = sys.argv[1:4]
frame = pd.read_csv(source, parse_dates=["date"])
s = summary_data_from_transaction_data(frame, "customer_id", "date",
                                       monetary_value_col="amount",
                                       observation_period_end=as_of, freq="D",
                                       freq_multiplier=7)
bg = BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
repeat = s[s["frequency"] > 0]
gg = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
s["p_alive"] = bg.conditional_probability_alive(s["frequency"], s["recency"], s["T"])
s["clv"] = gg.customer_lifetime_value(bg, s["frequency"], s["recency"], s["T"],
                                      s["monetary_value"], time=12, discount_rate=0.01,
                                      freq="W")
s.to_csv(out)
"""

# The same two pipelines, timed inside one process after their imports and a first run (as
# in a notebook or a service that scores again and again): what is left is the work itself.
WARM = r"""
import json, sys, time
engine, source, as_of, out = sys.argv[1:5]
repeat = int(sys.argv[5])
if engine == "kehu":
    from kehu.value import pipeline
    from kehu.value.readers import read_transactions

    def once():
        table = read_transactions(source, "customer_id", "date", "amount")
        summary = pipeline.summarise(table, as_of, "W")
        model, gg = pipeline.fit_models("bgnbd", summary)
        pipeline.score_and_write(out, model, gg, summary, 12, 0.01)
else:
    LIFETIMES_BODY = open(sys.argv[6]).read()

    def once():
        sys.argv[1:4] = [source, as_of, out]
        exec(LIFETIMES_BODY, {"__name__": "__warm__"})
once()
timings = []
for _ in range(repeat):
    started = time.perf_counter()
    once()
    timings.append(time.perf_counter() - started)
print(json.dumps(timings))
"""

GENERATE = r"""
import sys
import numpy as np
import pyarrow as pa, pyarrow.csv as pacsv, pyarrow.parquet as pq
from kehu.value.datasets import simulate_transactions
folder, customers, as_of = sys.argv[1], int(sys.argv[2]), sys.argv[3]
variants = sys.argv[4].split(",")
log = simulate_transactions(customers, as_of=as_of, seed=customers)
who, days = log.customer_id - 1, log.date.astype(np.int64)
plain = pacsv.WriteOptions(quoting_style="none")
if {"users", "parquet"} & set(variants):
    # Grouped by customer, dates in order, ids like C0000000, as exports customer by customer.
    order = np.lexsort((days, who))
    names = np.char.add("C", np.char.zfill(np.arange(customers).astype(str), 7))
    users = pa.table({"customer_id": pa.array(names).take(pa.array(who[order])),
                      "date": pa.array(days[order].astype(np.int32), pa.date32()),
                      "amount": pa.array(log.amount[order])})
    if "users" in variants:
        pacsv.write_csv(users, f"{folder}/users_{customers}.csv", write_options=plain)
    if "parquet" in variants:
        pq.write_table(users, f"{folder}/users_{customers}.parquet")
    del users
if "shuffled" in variants:
    order = np.random.default_rng(customers).permutation(who.size)
    pacsv.write_csv(pa.table({"customer_id": pa.array(who[order] + 1),
                              "date": pa.array(days[order].astype(np.int32), pa.date32()),
                              "amount": pa.array(log.amount[order])}),
                    f"{folder}/shuffled_{customers}.csv", write_options=plain)
print(len(log))
"""

FILES = {"users": "users_{}.csv", "shuffled": "shuffled_{}.csv", "parquet": "users_{}.parquet"}
TITLES = {"users": "CSV as users export it (ids C0000000, ISO dates, grouped by customer)",
          "shuffled": "CSV with integer ids, rows shuffled",
          "parquet": "Parquet (the users file)"}

READ = r"""
import sys
path = sys.argv[1]
if path.endswith(".parquet"):
    import pyarrow.parquet as pq
    pq.read_table(path)
else:
    import pyarrow.csv as pacsv
    pacsv.read_csv(path)
"""


def generate(folder: Path, customers: int, variants: list[str]) -> int:
    """Write the logs in a child process: this process must stay small, because a child's
    peak memory as the kernel reports it starts from its parent's size at fork."""
    out = subprocess.run([sys.executable, "-c", GENERATE, str(folder), str(customers), AS_OF,
                          ",".join(variants)], check=True, capture_output=True, text=True)
    return int(out.stdout)


def run(command: list[str]) -> tuple[float, float]:
    """Wall time (s) and peak resident memory (MiB) of one process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    stderr = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(command)}\n{stderr}")
    return elapsed, usage.ru_maxrss / 1024  # Linux reports KiB


AGREEMENT = r"""
import sys
import numpy as np
import pyarrow.csv as pacsv
ours = pacsv.read_csv(sys.argv[1]).to_pydict()
theirs = pacsv.read_csv(sys.argv[2]).to_pydict()
a = np.argsort(np.array(ours["customer_id"], dtype=str))
b = np.argsort(np.array(theirs["customer_id"], dtype=str))
assert len(a) == len(b), (len(a), len(b))
p_alive = np.abs(np.array(ours["p_alive"])[a] - np.array(theirs["p_alive"])[b]).max()
clv_a, clv_b = np.array(ours["clv"])[a], np.array(theirs["clv"])[b]
# Relative difference, with a cent of slack for customers worth (almost) nothing.
close = np.abs(clv_a - clv_b) <= 0.01 * np.abs(clv_b) + 0.01
print(f"CLV within 1% for {close.mean():.2%} of customers (target 99%); max |P(alive) kehu - "
      f"lifetimes| = {p_alive:.2g}; total CLV kehu {clv_a.sum():,.0f} vs lifetimes "
      f"{clv_b.sum():,.0f} ({clv_a.sum() / clv_b.sum() - 1:+.2%})")
"""


def agreement(kehu_csv: Path, lifetimes_csv: Path) -> str:
    out = subprocess.run([sys.executable, "-c", AGREEMENT, str(kehu_csv), str(lifetimes_csv)],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def warm(engine: str, source: Path, out: Path, repeat: int) -> float:
    """Median seconds of one pipeline run inside a process that has already run it once."""
    import json

    with tempfile.NamedTemporaryFile("w", suffix=".py") as body:
        body.write(LIFETIMES)
        body.flush()
        done = subprocess.run([sys.executable, "-c", WARM, engine, str(source), AS_OF, str(out),
                               str(repeat), body.name], check=True, capture_output=True,
                              text=True)
    return statistics.median(json.loads(done.stdout.strip().splitlines()[-1]))


def median(runs: list[tuple[float, float]]) -> tuple[float, float]:
    """Median time and highest peak memory of some runs."""
    return statistics.median(t for t, _ in runs), max(m for _, m in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000",
                        help="customers per generated log, comma separated")
    parser.add_argument("--lifetimes-max", type=int, default=100_000,
                        help="run lifetimes only up to this many customers")
    parser.add_argument("--variants", default="users,shuffled,parquet",
                        help=f"files to time, comma separated, of: {', '.join(FILES)}")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, alternating")
    parser.add_argument("--keep", type=Path, help="keep the generated files in this folder")
    args = parser.parse_args()
    variants = [v.strip() for v in args.variants.split(",")]
    if unknown := set(variants) - set(FILES):
        parser.error(f"unknown variants: {', '.join(sorted(unknown))}")

    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        print(f"kehu value benchmark on {os.cpu_count()} cores (Python {sys.version.split()[0]}); "
              f"median of {args.repeat} runs, peak = highest max RSS")
        for customers in (int(s) for s in args.sizes.split(",")):
            started = time.perf_counter()
            rows = generate(folder, customers, variants)
            print(f"\n{customers:,} customers, {rows:,} rows "
                  f"(generated in {time.perf_counter() - started:.1f} s)")
            for variant in variants:
                source = folder / FILES[variant].format(customers)
                print(f" {TITLES[variant]}: {source.stat().st_size / 2**20:,.0f} MiB")
                kehu_out = folder / f"kehu_{variant}_{customers}.csv"
                lifetimes_out = folder / f"lifetimes_{customers}.csv"
                with_lifetimes = variant == "users" and customers <= args.lifetimes_max
                timings: dict[str, list[tuple[float, float]]] = {
                    "kehu": [], "read": [], "lifetimes": []}
                for i in range(args.repeat):
                    timings["kehu"].append(run([*KEHU, str(source), *COLUMNS, "--out",
                                                str(kehu_out)]))
                    timings["read"].append(run([sys.executable, "-c", READ, str(source)]))
                    line = (f"  run {i + 1}: kehu {timings['kehu'][-1][0]:.2f} s, "
                            f"read alone {timings['read'][-1][0]:.2f} s")
                    if with_lifetimes:
                        timings["lifetimes"].append(run([sys.executable, "-c", LIFETIMES,
                                                         str(source), AS_OF,
                                                         str(lifetimes_out)]))
                        line += f", lifetimes {timings['lifetimes'][-1][0]:.2f} s"
                    print(line, flush=True)
                kehu_time, kehu_mem = median(timings["kehu"])
                read_time, read_mem = median(timings["read"])
                print(f"  kehu value score: {kehu_time:.2f} s, peak {kehu_mem:,.0f} MiB "
                      f"(target 3 s / 1,024 MiB at 1M)")
                print(f"  pyarrow reading the file alone: {read_time:.2f} s, peak "
                      f"{read_mem:,.0f} MiB; kehu takes {kehu_time / read_time:.2f}x that "
                      f"(target <= 2x)")
                if with_lifetimes:
                    lt_time, lt_mem = median(timings["lifetimes"])
                    print(f"  lifetimes 0.11.3: {lt_time:.2f} s, peak {lt_mem:,.0f} MiB")
                    print(f"  kehu is {lt_time / kehu_time:.1f}x faster (target 10x), with "
                          f"{kehu_mem / lt_mem:.2f}x its memory")
                    print(f"  {agreement(kehu_out, lifetimes_out)}")
                    kehu_warm = warm("kehu", source, kehu_out, args.repeat)
                    lifetimes_warm = warm("lifetimes", source, lifetimes_out, args.repeat)
                    print(f"  warm, in one process after a first run (imports and start-up "
                          f"left out): kehu {kehu_warm:.2f} s, lifetimes {lifetimes_warm:.2f} s,"
                          f" {lifetimes_warm / kehu_warm:.1f}x")


if __name__ == "__main__":
    main()

"""Time `kehu value score` against the same pipeline in lifetimes.

Usage: python bench/value_bench.py [--sizes 100000,1000000] [--lifetimes-max 100000]
                                   [--repeat 3] [--keep DIR]

For each size, generates a transaction log with kehu.value.datasets (about 17 purchases
per customer over two years: 100k customers ~ 1.7M rows, 1M ~ 17M rows) as CSV, then runs,
alternating, each as a fresh process:
  kehu:      kehu value score FILE ... --out SCORES.csv
  lifetimes: pandas.read_csv -> summary_data_from_transaction_data -> BetaGeoFitter ->
             GammaGammaFitter -> P(alive) -> 12-month CLV -> to_csv
and prints wall time and peak memory (max RSS of the process) of each, their ratio, and
how far apart the two answers are. lifetimes runs only up to --lifetimes-max customers
(it takes minutes beyond). Figures only: it never fails on time.
Targets: >= 5x faster than lifetimes at 100k (goal 10x); 1M in <= 10 s and <= 1.5 GiB
(goal 5 s, 1 GiB) on 2 cores.
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


GENERATE = r"""
import sys
import pyarrow as pa, pyarrow.csv as pacsv
from kehu.value.datasets import simulate_transactions
path, customers, as_of = sys.argv[1], int(sys.argv[2]), sys.argv[3]
log = simulate_transactions(customers, as_of=as_of, seed=customers)
pacsv.write_csv(pa.table({"customer_id": log.customer_id, "date": log.date,
                          "amount": log.amount}), path)
print(len(log))
"""


def generate(path: Path, customers: int) -> int:
    """Write the log in a child process: this process must stay small, because a child's
    peak memory as the kernel reports it starts from its parent's size at fork."""
    out = subprocess.run([sys.executable, "-c", GENERATE, str(path), str(customers), AS_OF],
                         check=True, capture_output=True, text=True)
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
a = np.array(ours["p_alive"])[np.argsort(ours["customer_id"])]
b = np.array(theirs["p_alive"])[np.argsort(theirs["customer_id"])]
clv_ours, clv_theirs = sum(ours["clv"]), sum(theirs["clv"])
print(f"max |P(alive) kehu - lifetimes| = {np.abs(a - b).max():.2g}; total CLV kehu "
      f"{clv_ours:,.0f} vs lifetimes {clv_theirs:,.0f} ({clv_ours / clv_theirs - 1:+.2%})")
"""


def agreement(kehu_csv: Path, lifetimes_csv: Path) -> str:
    out = subprocess.run([sys.executable, "-c", AGREEMENT, str(kehu_csv), str(lifetimes_csv)],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000",
                        help="customers per generated log, comma separated")
    parser.add_argument("--lifetimes-max", type=int, default=100_000,
                        help="run lifetimes only up to this many customers")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, alternating")
    parser.add_argument("--keep", type=Path, help="keep the generated files in this folder")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        print(f"kehu value benchmark on {os.cpu_count()} cores (Python {sys.version.split()[0]})")
        for customers in (int(s) for s in args.sizes.split(",")):
            source = folder / f"transactions_{customers}.csv"
            started = time.perf_counter()
            rows = generate(source, customers)
            print(f"\n{customers:,} customers, {rows:,} rows, "
                  f"{source.stat().st_size / 2**20:,.0f} MiB CSV "
                  f"(generated in {time.perf_counter() - started:.1f} s)")
            kehu_out = folder / f"kehu_{customers}.csv"
            lifetimes_out = folder / f"lifetimes_{customers}.csv"
            with_lifetimes = customers <= args.lifetimes_max
            timings: dict[str, list[tuple[float, float]]] = {"kehu": [], "lifetimes": []}
            for i in range(args.repeat):
                timings["kehu"].append(run([*KEHU, str(source), *COLUMNS, "--out",
                                            str(kehu_out)]))
                print(f"  run {i + 1}: kehu {timings['kehu'][-1][0]:.2f} s", end="", flush=True)
                if with_lifetimes:
                    timings["lifetimes"].append(run([sys.executable, "-c", LIFETIMES,
                                                     str(source), AS_OF, str(lifetimes_out)]))
                    print(f", lifetimes {timings['lifetimes'][-1][0]:.2f} s", end="", flush=True)
                print()
            kehu_time = statistics.median(t for t, _ in timings["kehu"])
            kehu_mem = max(m for _, m in timings["kehu"])
            print(f"  kehu value score: median {kehu_time:.2f} s, peak {kehu_mem:,.0f} MiB")
            if with_lifetimes:
                lt_time = statistics.median(t for t, _ in timings["lifetimes"])
                lt_mem = max(m for _, m in timings["lifetimes"])
                print(f"  lifetimes 0.11.3: median {lt_time:.2f} s, peak {lt_mem:,.0f} MiB")
                print(f"  kehu is {lt_time / kehu_time:.1f}x faster")
                print(f"  {agreement(kehu_out, lifetimes_out)}")
            else:
                print("  lifetimes: not run at this size (see --lifetimes-max)")


if __name__ == "__main__":
    main()

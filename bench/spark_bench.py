"""Time `kehu value score --engine spark` in Spark's local mode on a big simulated log.

Usage: python bench/spark_bench.py [--customers 10000000] [--cores 2] [--memory 12g]
                                   [--partitions N] [--keep DIR]

Generates a transaction log with kehu.value.datasets (about 17 purchases per customer over
two years: 10M customers ~ 170M rows), in a child process, one Parquet file per million
customers; then scores it in another child process with Spark's local mode (local[cores],
the driver's JVM holding `--memory`) and prints the time of each step: the per-customer
summary and the counted triples on the executors (aggregation), the fits on the driver
(fit), the scoring with mapInPandas and the writing of the Parquet scores (scoring), with
the start of the JVM apart; and the peak memory of the whole process tree (the Python
driver, the JVM and its Python workers, sampled every 0.2 s). Figures only: it never
fails on time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

AS_OF = "2021-12-31"
CHUNK = 1_000_000

GENERATE = r"""
import sys
import numpy as np
import pyarrow as pa, pyarrow.parquet as pq
from kehu.value.datasets import simulate_transactions
folder, customers, chunk, as_of = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rows = 0
for k, first in enumerate(range(0, customers, chunk)):
    n = min(chunk, customers - first)
    log = simulate_transactions(n, as_of=as_of, seed=k)
    pq.write_table(pa.table({"customer_id": log.customer_id + first, "date": log.date,
                             "amount": log.amount}), f"{folder}/part-{k:05d}.parquet")
    rows += len(log)
print(rows)
"""

SCORE = r"""
import json, sys, time
start = time.perf_counter()
from kehu.value import spark
source, out, cores, memory, partitions = sys.argv[1:6]
session = spark.session(f"local[{cores}]", {
    "spark.driver.memory": memory, "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": partitions})
jvm = time.perf_counter() - start
result = spark.score(session, spark.Source(source, "customer_id", "date", "amount"), out,
                     as_of=sys.argv[6], time_unit="W", model_name="bgnbd", months=12,
                     monthly_discount=0.01)
print(json.dumps({"jvm": jvm, **result.seconds, "customers": result.customers,
                  "clv": result.clv_total, "params": result.report["bgnbd"]["params"]}))
"""


def tree_rss(root: int) -> int:
    """Resident memory of a process and all its descendants, in bytes."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def run_sampled(command: list[str]) -> tuple[str, float, int]:
    """(stdout, wall seconds, peak resident memory of the process tree)."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss(proc.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    wall = time.perf_counter() - start
    sampler.join()
    if proc.returncode:
        sys.exit(f"spark_bench: scoring failed (exit {proc.returncode})")
    return out, wall, peak[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000_000)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--memory", default="12g", help="the driver JVM's heap")
    parser.add_argument("--partitions", type=int, default=0,
                        help="shuffle partitions (default: one per 100k customers, >= 4)")
    parser.add_argument("--keep", type=Path, help="reuse/keep the generated log here")
    args = parser.parse_args()
    partitions = args.partitions or max(4, args.customers // 100_000)
    with tempfile.TemporaryDirectory(prefix="kehu-spark-bench-") as tmp:
        folder = args.keep or Path(tmp) / "log"
        folder.mkdir(parents=True, exist_ok=True)
        if not any(folder.glob("part-*.parquet")):
            start = time.perf_counter()
            rows = int(subprocess.run(
                [sys.executable, "-c", GENERATE, str(folder), str(args.customers), str(CHUNK),
                 AS_OF], check=True, capture_output=True, text=True).stdout)
            print(f"generated {args.customers:,} customers / {rows:,} rows as Parquet in "
                  f"{time.perf_counter() - start:.1f} s "
                  f"({sum(p.stat().st_size for p in folder.iterdir()) / 2**20:,.0f} MiB)")
        out = Path(tmp) / "scores"
        stdout, wall, peak = run_sampled(
            [sys.executable, "-c", SCORE, str(folder), str(out), str(args.cores), args.memory,
             str(partitions), AS_OF])
        result = json.loads(stdout.strip().splitlines()[-1])
        written = sum(p.stat().st_size for p in out.glob("part-*")) / 2**20
    print(f"kehu value score --engine spark, local[{args.cores}], {args.customers:,} "
          f"customers, {partitions} shuffle partitions, driver heap {args.memory}:")
    for step in ("jvm", "aggregation", "fit", "scoring"):
        label = {"jvm": "JVM start", "scoring": "scoring + writing"}.get(step, step)
        print(f"  {label:<18} {result[step]:8.1f} s")
    print(f"  {'total (wall)':<18} {wall:8.1f} s")
    print(f"  peak memory (driver, JVM and workers together): {peak / 2**30:.2f} GiB")
    print(f"  {result['customers']:,} customers scored, {written:,.0f} MiB of Parquet, "
          f"total 12-month CLV {result['clv']:,.0f}; BG/NBD "
          + ", ".join(f"{k} = {v:.4g}" for k, v in result["params"].items()))


if __name__ == "__main__":
    main()

"""Time `kehu import transactions` on a generated file of a million orders.

Usage: python bench/import_bench.py [--rows N] [--customers N] [--keep DIR]
Runs against a fresh database: SQLite in a temporary folder, or PostgreSQL when
DATABASE_URL is set (e.g. under scripts/with_postgres.py). Prints rows/s, the total time and
the peak memory of the import process, for a first million orders and for a second million
imported on top of them (whose order numbers are checked against the first). Goals: 1M rows
in ≤ 60 s on SQLite, ≤ 30 s on PostgreSQL. It prints figures; it never fails on time.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEHU = [sys.executable, "-c", "from kehu.cli import main; main()"]


def write_files(folder: Path, rows: int, customers: int) -> tuple[Path, Path, Path]:
    rng = random.Random(7)
    cust_path, txn_path = folder / "customers.csv", folder / "transactions.csv"
    with cust_path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["客户编号", "客户名称", "手机", "城市"])
        for i in range(customers):
            w.writerow([f"C{i:07d}", f"客户{i}贸易有限公司", f"138{i:08d}",
                        rng.choice(["上海", "北京", "杭州", "广州"])])
    start = date(2019, 1, 1)
    next_path = folder / "transactions-next.csv"
    for path, prefix in ((txn_path, "SO"), (next_path, "SP")):
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["客户编号", "下单日期", "金额", "成本", "单号"])
            for i in range(rows):
                amount = rng.randint(100, 500_000) / 100
                w.writerow([f"C{rng.randrange(customers):07d}",
                            (start + timedelta(days=rng.randrange(2000))).strftime("%Y%m%d"),
                            f"{amount:.2f}", f"{amount * 0.6:.2f}", f"{prefix}{i:08d}"])
    return cust_path, txn_path, next_path


def run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time and peak RSS (MiB) of one kehu command."""
    global last_cpu
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    t0 = time.perf_counter()
    result = subprocess.run([*KEHU, *args], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if result.returncode != 0:
        sys.exit(f"kehu {' '.join(args)} failed ({result.returncode}):\n"
                 f"{result.stdout}\n{result.stderr}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    last_cpu = usage.ru_utime + usage.ru_stime - cpu
    return elapsed, max(usage.ru_maxrss, before) / 1024


last_cpu = 0.0  # CPU seconds of the last command (the import process, not the database)


def fresh_postgres_database(url: str) -> tuple[str, object]:
    """A new, empty database on the server of `url`; returns its URL and a function that
    drops it."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url)
    name = f"kehu_bench_{os.getpid()}"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')

    return urlunsplit(parts._replace(path="/" + name)), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--keep", help="keep the generated files and database in this folder")
    opts = parser.parse_args()

    folder = Path(opts.keep) if opts.keep else Path(tempfile.mkdtemp(prefix="kehu-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, KEHU_VAR_DIR=str(folder), KEHU_HTTPS="0",
               DJANGO_SETTINGS_MODULE="kehu.settings")
    engine = "PostgreSQL" if env.get("DATABASE_URL") else "SQLite"
    drop = None
    if engine == "PostgreSQL":
        env["DATABASE_URL"], drop = fresh_postgres_database(env["DATABASE_URL"])
    print(f"kehu import bench on {engine}: {opts.rows:,} transactions for "
          f"{opts.customers:,} customers")
    t0 = time.perf_counter()
    cust_path, txn_path, next_path = write_files(folder, opts.rows, opts.customers)
    print(f"  generated files in {time.perf_counter() - t0:.1f} s "
          f"({txn_path.stat().st_size / 2**20:.0f} MiB of transactions)")
    run(["migrate", "-v0"], env)
    setup = ("from kehu.accounts.models import User; "
             "User.objects.filter(username='bench').exists() or "
             "User.objects.create_superuser('bench', 'bench@example.com', 'bench-password')")
    run(["shell", "-c", setup], env)
    elapsed, _peak = run(["import", "customers", str(cust_path), "--as", "bench"], env)
    print(f"  customers: {opts.customers:,} rows in {elapsed:.1f} s")
    elapsed, peak = run(["import", "transactions", str(txn_path), "--as", "bench"], env)
    print(f"  transactions: {opts.rows:,} rows in {elapsed:.1f} s = "
          f"{opts.rows / elapsed:,.0f} rows/s; peak memory {peak:.0f} MiB; "
          f"{last_cpu:.1f} s of CPU in the import process")
    goal = 30 if engine == "PostgreSQL" else 60
    scaled = elapsed * 1_000_000 / opts.rows
    # The next file goes into a database that already holds orders: each of its order
    # numbers is looked up among them (an import run twice would be refused).
    again, again_peak = run(["import", "transactions", str(next_path), "--as", "bench"], env)
    print(f"  next {opts.rows:,} transactions (order numbers checked against the first): "
          f"{again:.1f} s = {opts.rows / again:,.0f} rows/s; peak memory {again_peak:.0f} MiB")
    print(f"  machine load during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  goal for 1M rows on {engine}: ≤ {goal} s; this run scales to {scaled:.0f} s "
          f"({'met' if scaled <= goal else 'NOT met'})")
    if drop is not None and not opts.keep:
        drop()
    if not opts.keep:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

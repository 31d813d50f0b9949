"""The value refresh at scale: every customer scored from the database.

Usage: python bench/refresh_bench.py [--customers N] [--transactions N] [--activities N]
                                     [--db sqlite|postgres|both] [--sqlite-dir DIR]

Fills a fresh database (default 1,000,000 customers, 10,000,000 transactions, 1,000,000
activities; see bench/fill.py), then runs `kehu value refresh` twice in a child process —
the first refresh (every lifecycle state set; every customer is new, so each owner gets
their capped share of tasks and the rest is counted) and a repeat (scores replaced, moves
turned into tasks) — and prints each one's wall time, the child's peak memory and the
longest of the refresh's write transactions (the scores are written in batches of
KEHU_REFRESH_WRITE_BATCH customers, so that on SQLite people keep saving while it
runs). Goals at 1M customers: first refresh 60 s and repeat 30 s on PostgreSQL, peak
1.5 GiB; no write transaction over 2 s on SQLite. It prints figures; it never fails on time.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# `kehu value refresh`, in a child process of its own, saying what it did and how long its
# longest write transaction held the database (on SQLite: the one write lock).
# It ends with its own peak memory (VmHWM): the peak the kernel reports to the parent
# (os.wait4) starts at the parent's own peak, which the fill of a million customers in this
# process sets above the refresh's.
REFRESH = [sys.executable, "-c", (
    "import django; django.setup()\n"
    "from kehu.analytics.refresh import refresh_values\n"
    "run = refresh_values(None, via='cli')\n"
    "print(f'{run.customers:,} customers scored; longest write transaction "
    "{run.longest_write:.2f} s')\n"
    "import pathlib\n"
    "status = pathlib.Path('/proc/self/status')\n"
    "peak = [line.split()[1] for line in status.read_text().splitlines()\n"
    "        if line.startswith('VmHWM:')] if status.exists() else []\n"
    "print('peak KiB', *peak)")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--activities", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both", "current"], default="both")
    parser.add_argument("--sqlite-dir", help="keep the SQLite database here and reuse it")
    args = parser.parse_args()
    if args.db == "current":
        run(args)
        return 0
    me = [sys.executable, __file__, "--customers", str(args.customers), "--transactions",
          str(args.transactions), "--activities", str(args.activities), "--db", "current"]
    from databases import run_per_database

    return run_per_database(me, args.db, sqlite_dir=args.sqlite_dir)


def run(args) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from fill import fill, fill_activities

    from kehu.customers.models import Customer
    from kehu.sales.models import Activity

    call_command("migrate", verbosity=0)
    if not Customer.objects.exists():
        started = time.monotonic()
        fill(args.customers, args.transactions, args.activities)
        print(f"filled in {time.monotonic() - started:.0f} s", flush=True)
    elif args.activities and not Activity.objects.exists():
        fill_activities(args.activities)
    print(f"{Customer.objects.count():,} customers, {Activity.objects.count():,} activities",
          flush=True)
    from django.db import connection

    connection.close()  # the refresh runs in a child process of its own
    for label in ("first refresh", "repeat refresh"):
        started = time.monotonic()
        with tempfile.TemporaryFile(mode="w+") as err:
            child = subprocess.Popen(REFRESH, stdout=subprocess.PIPE, stderr=err, text=True)
            out = child.stdout.read()
            _pid, status, usage = os.wait4(child.pid, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
            err.seek(0)
            err = err.read()
        wall = time.monotonic() - started
        if child.returncode:
            print(out, err)
            raise SystemExit(f"{label} failed")
        said, _, own = out.strip().rpartition("peak KiB")
        # Without /proc: the kernel's figure, an upper bound (see REFRESH).
        peak = int(own) / 1024 if own.strip() else usage.ru_maxrss / 1024
        out = said
        print(f"{label:16} {wall:7.1f} s wall   peak RSS {peak:7.0f} MiB   {out.strip()}",
              flush=True)


if __name__ == "__main__":
    sys.exit(main())

"""The value dashboard (/value/): p50/p95 and page size, at the demo's size and at 1M.

Usage: python bench/dashboard_bench.py [--size demo|1m|both] [--customers N]
                                       [--transactions N] [--db sqlite|postgres]
                                       [--requests N] [--sqlite-dir DIR]
                                       [--ways both|snapshot]

For each size it builds a fresh database — the demo firm (`kehu demo load`, about 24,000
customers) or a firm filled by bench/fill.py (default 1,000,000 customers and 10,000,000
transactions, 100 sales users in ten teams) — runs a value refresh, and requests /value/
through Django's test client (view, queries, template: what a user waits for) as an
administrator (the firm), a manager (a team) and a sales user (their own customers): first
with the figures computed on the spot (no stored snapshot: the page before a refresh has
stored them, and as it was before snapshots), then read from the snapshot the refresh
stored. Prints p50/p95 in ms and the page's size in KiB for each. Goal: p50 ≤ 300 ms at the
demo's size and ≤ 500 ms at 1M. It prints figures; it never fails on time.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEHU = [sys.executable, "-c", "from kehu.cli import main; main()"]
USERS = {"demo": ("admin", "manager1", "sales1"), "fill": ("admin", "manager3", "sales3_4")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["demo", "1m", "both"], default="both")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgres", "current"], default="sqlite")
    parser.add_argument("--requests", type=int, default=20, help="per user and way")
    parser.add_argument("--sqlite-dir", help="keep the SQLite database in this folder and "
                        "reuse it on the next run (one size at a time)")
    parser.add_argument("--ways", choices=["both", "snapshot"], default="both",
                        help="snapshot: only the page read from the stored snapshot (computed "
                        "on the spot, an administrator's page takes most of a minute at 1M)")
    parser.add_argument("--kind", choices=["demo", "fill"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.db == "current":
        run(args)
        return 0
    from databases import run_per_database

    status = 0
    for size in ["demo", "1m"] if args.size == "both" else [args.size]:
        kind = "demo" if size == "demo" else "fill"
        me = [sys.executable, __file__, "--customers", str(args.customers), "--transactions",
              str(args.transactions), "--requests", str(args.requests), "--db", "current",
              "--ways", args.ways, "--kind", kind]
        status |= run_per_database(me, args.db, sqlite_dir=args.sqlite_dir,
                                   heading=f"{size}, ")
    return status


def run(args) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from kehu.analytics.models import RefreshStatus, ValueRefresh
    from kehu.customers.models import Customer

    call_command("migrate", verbosity=0)
    if not Customer.objects.exists():
        started = time.monotonic()
        if args.kind == "demo":
            call_command("demo", "load", verbosity=0)
        else:
            sys.path.insert(0, str(Path(__file__).parent))
            from fill import fill

            fill(args.customers, args.transactions)
        print(f"filled in {time.monotonic() - started:.0f} s", flush=True)
    print(f"{Customer.objects.count():,} customers", flush=True)
    if not ValueRefresh.objects.filter(status=RefreshStatus.DONE).exists():
        connection.close()  # the refresh runs in a child process of its own
        started = time.monotonic()
        result = subprocess.run([*KEHU, "value", "refresh"], capture_output=True, text=True)
        if result.returncode:
            print(result.stdout[-2000:], result.stderr[-2000:], file=sys.stderr)
            raise SystemExit(result.returncode)
        print(f"value refresh (with the dashboard's snapshots): "
              f"{time.monotonic() - started:.0f} s", flush=True)
    measure(USERS[args.kind], args.requests, args.ways)


def measure(usernames, requests: int, ways: str = "both") -> None:
    from django.test import Client
    from django.test.utils import setup_test_environment

    from kehu.accounts.models import User
    from kehu.analytics import dashboard, selectors
    from kehu.analytics.models import DashboardSnapshot

    setup_test_environment()  # host "testserver"
    run = selectors.latest_refresh()
    clients = {}
    for username in usernames:
        client = Client()
        client.force_login(User.objects.get(username=username))
        clients[username] = client

    def timed(client) -> tuple[list[float], int]:
        client.get("/value/")  # warm: templates, translations, the connection
        timings, size = [], 0
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get("/value/")
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
            size = len(response.content)
        return timings, size

    print(f"{'way':24} {'user':10} {'p50 ms':>8} {'p95 ms':>8} {'page KiB':>9}", flush=True)
    for way in ("computed on the spot", "stored snapshot")[1 if ways == "snapshot" else 0:]:
        if way == "computed on the spot":
            DashboardSnapshot.objects.all().delete()
        else:
            started = time.monotonic()
            scopes = dashboard.store(run)
            print(f"(storing {scopes} snapshots took {time.monotonic() - started:.1f} s)",
                  flush=True)
        for username, client in clients.items():
            timings, size = timed(client)
            timings.sort()
            p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
            print(f"{way:24} {username:10} {statistics.median(timings):8.0f} {p95:8.0f} "
                  f"{size / 1024:9.0f}", flush=True)


if __name__ == "__main__":
    sys.exit(main())

"""Customer list and search at scale: p50/p95 of the list page as users see it.

Usage: python bench/list_bench.py [--customers N] [--transactions N] [--db sqlite|postgres|both]
                                  [--requests N]

Fills a fresh database with N customers (default 1,000,000) owned by 100 sales users in ten
teams, and N transactions (default 10,000,000), then requests the customer list page through
Django's test client (selector, query, template: what a user waits for) as an admin, a
manager, a sales user and a sales user with a customer of another team on loan: first pages
in every sort order, following pages, filters, and searches by Chinese name, pinyin,
initials, phone digits, e-mail and a term that matches nothing. Prints p50/p95 per kind of
request and overall, and the time of the list's exact count (all customers, a team, a sales
user's own, by state, common search fragments) on its own: counted afresh, and remembered
(kehu.customers.list_counts). Goal: p95 ≤ 150 ms on SQLite and on PostgreSQL. SQLite lives in a
temporary folder; PostgreSQL is a throwaway cluster started by scripts/with_postgres.py. It
prints figures; it never fails on time.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEAMS, SALES_PER_TEAM = 10, 10


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both", "current"], default="both")
    parser.add_argument("--requests", type=int, default=40, help="per kind of request")
    parser.add_argument("--counts-only", action="store_true",
                        help="time only the lists' exact counts, not the pages")
    parser.add_argument(
        "--sqlite-dir",
        help="keep the SQLite database in this folder and "
        "reuse it on the next run instead of filling again",
    )
    args = parser.parse_args()
    if args.db == "current":
        run(args)
        return 0
    me = [
        sys.executable,
        __file__,
        "--customers",
        str(args.customers),
        "--transactions",
        str(args.transactions),
        "--requests",
        str(args.requests),
        *(["--counts-only"] if args.counts_only else []),
        "--db",
        "current",
    ]
    from databases import run_per_database

    return run_per_database(me, args.db, sqlite_dir=args.sqlite_dir)


def run(args) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from fill import fill

    from kehu.customers.models import Customer

    call_command("migrate", verbosity=0)
    if Customer.objects.exists():
        print(f"reusing {Customer.objects.count():,} customers", flush=True)
    else:
        started = time.monotonic()
        fill(args.customers, args.transactions)
        print(
            f"filled {args.customers:,} customers and {args.transactions:,} transactions in "
            f"{time.monotonic() - started:.0f} s",
            flush=True,
        )
    measure_counts()
    if not args.counts_only:
        measure(args.requests)


def measure_counts(repeat: int = 7) -> None:
    """The exact count a list page shows, timed alone for the scopes, filters and searches
    lists are opened with: counted afresh (median of `repeat`, each right after a customer
    changed, as after any edit) and remembered (kehu.customers.list_counts: the same list
    asked again while no customer changed)."""
    from django.db.models import F

    from kehu.accounts.models import User
    from kehu.customers.list_counts import exact_count
    from kehu.customers.models import Customer
    from kehu.customers.selectors import CustomerFilters, filter_customers

    cases = [("all customers", "admin", CustomerFilters()),
             ("a team's", "manager3", CustomerFilters()),
             ("a sales user's own", "sales3_4", CustomerFilters()),
             ("state = churned", "admin", CustomerFilters(state="churned")),
             ("state = loyal", "admin", CustomerFilters(state="loyal")),
             ("team, state = churned", "manager3", CustomerFilters(state="churned")),
             ("search 上海", "admin", CustomerFilters(q="上海")),
             ("search shangh", "admin", CustomerFilters(q="shangh")),
             ("team, search shangh", "manager3", CustomerFilters(q="shangh"))]
    touched = Customer.objects.order_by("pk").values_list("pk", flat=True).first()

    def change_a_customer():
        Customer.objects.filter(pk=touched).update(version=F("version") + 1)

    print(f"{'exact count':28} {'user':10} {'rows':>9} {'afresh ms':>10} {'cached ms':>10}")
    for label, username, filters in cases:
        user = User.objects.get(username=username)
        fresh, cached, count = [], [], 0
        for i in range(repeat + 1):
            change_a_customer()
            started = time.perf_counter()
            count = exact_count(filter_customers(user, filters))
            if i:
                fresh.append((time.perf_counter() - started) * 1000)
        for _ in range(repeat):
            started = time.perf_counter()
            exact_count(filter_customers(user, filters))
            cached.append((time.perf_counter() - started) * 1000)
        print(f"{label:28} {username:10} {count:9,} {statistics.median(fresh):10.1f} "
              f"{statistics.median(cached):10.1f}", flush=True)


# Measuring -----------------------------------------------------------------------------------


def measure(per_kind: int) -> None:
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from kehu.accounts.models import User
    from kehu.customers.models import Customer

    setup_test_environment()  # the test client's response.context, and host "testserver"
    url = reverse("customers:list")  # "/" is the workbench, which sends list queries here
    rng = random.Random(2)
    sample = list(
        Customer.objects.filter(pk__in=[rng.randrange(1, 200_000) for _ in range(400)]).values(
            "name", "mobile", "phone", "email", "search_text"
        )
    )
    _lend_one_customer("sales3_5")
    clients = {}
    for username in ("admin", "manager3", "sales3_4", "sales3_5"):
        client = Client()
        client.force_login(User.objects.get(username=username))
        clients[username] = client

    def pinyin(row):
        return row["search_text"].split(" ")[1]

    def initials(row):
        return row["search_text"].split(" ")[2]

    kinds = {
        "first page, by name": lambda: {},
        "first page, other sort": lambda: {
            "sort": rng.choice(["created", "updated", "state", "city"]),
            "dir": rng.choice(["asc", "desc"]),
        },
        "filter state": lambda: {"state": rng.choice(["loyal", "churned", "first"])},
        "search Chinese name": lambda: {"q": rng.choice(sample)["name"][: rng.choice([2, 3, 4])]},
        "search pinyin": lambda: {"q": pinyin(rng.choice(sample))[: rng.randrange(5, 12)]},
        "search initials": lambda: {"q": initials(rng.choice(sample))},
        "search phone": lambda: {
            "q": next(
                r["mobile"] or r["phone"]
                for r in rng.sample(sample, 5)
                if r["mobile"] or r["phone"]
            )
        },
        "search e-mail": lambda: {
            "q": next(r["email"] for r in rng.sample(sample, 20) if r["email"])
        },
        "search, no match": lambda: {"q": f"zzq{rng.randrange(10**6)}"},
    }
    overall = []
    print(f"{'request':28} {'user':10} {'p50 ms':>8} {'p95 ms':>8}")
    for kind, params in kinds.items():
        for username, client in clients.items():
            timings = []
            for i in range(per_kind + 3):
                query = params()
                started = time.perf_counter()
                response = client.get(url, query)
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, (kind, query, response.status_code)
                if i >= 3:  # the first requests warm the caches
                    timings.append(elapsed)
            overall += timings
            print(
                f"{kind:28} {username:10} {statistics.median(timings):8.1f} {_p95(timings):8.1f}",
                flush=True,
            )
    # Following pages: walk five pages deep by the "next" cursor.
    for username, client in clients.items():
        timings = []
        for _ in range(per_kind // 5 + 1):
            query = {"sort": rng.choice(["name", "created"])}
            for _page in range(5):
                started = time.perf_counter()
                response = client.get(url, query)
                timings.append((time.perf_counter() - started) * 1000)
                cursor = response.context["page"].next_cursor
                if not cursor:
                    break
                query = {**query, "cursor": cursor}
        overall += timings
        print(
            f"{'next pages':28} {username:10} {statistics.median(timings):8.1f} "
            f"{_p95(timings):8.1f}",
            flush=True,
        )
    print(f"{'all requests':28} {'':10} {statistics.median(overall):8.1f} {_p95(overall):8.1f}")


def _lend_one_customer(username: str) -> None:
    """A customer of another team lent to `username` (kehu.loans): their list is their own
    customers plus that one."""
    from kehu.accounts.models import User
    from kehu.customers.models import Customer
    from kehu.loans.models import Loan
    from kehu.loans.services import approve_loan, request_loan

    borrower = User.objects.get(username=username)
    if Loan.objects.active().filter(borrower=borrower).exists():
        return
    lent = Customer.objects.exclude(team=borrower.team_id).order_by("pk").first()
    # Asked for by its external id: its name is shared by customers the borrower sees
    # already (a million customers have about 20,000 names), which a request refuses.
    if not lent.external_id:
        lent.external_id = f"BENCH-{lent.pk}"
        lent.save(update_fields=["external_id"])
    loan = request_loan(borrower, lent.external_id, "Benchmark")
    approve_loan(User.objects.get(username="admin"), loan, days=30)


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


if __name__ == "__main__":
    sys.exit(main())

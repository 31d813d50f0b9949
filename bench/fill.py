"""Filling a benchmark database fast: a firm of N customers owned by 100 sales users in ten
teams, about N transactions simulated from the BG/NBD process, and N activities, written with
COPY (PostgreSQL) or executemany (SQLite) instead of model instances. Used by list_bench and
refresh_bench."""

from __future__ import annotations

import datetime as dt
import functools
import random
import time

TEAMS, SALES_PER_TEAM = 10, 10


def _defaults(model) -> dict:
    """Column defaults for raw inserts, as the model would fill them."""
    out = {}
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        if field.has_default():
            out[field.column] = field.get_default()
        elif field.null:
            out[field.column] = None
        else:
            out[field.column] = ""
    return out


def _insert(model, rows, columns: list[str], batch: int = 20_000) -> None:
    from django.db import connection

    table = connection.ops.quote_name(model._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # psycopg's own cursor: COPY is the fast path
            with raw.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608 - names from the models
        chunk = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= batch:
                cursor.executemany(sql, chunk)
                chunk.clear()
        if chunk:
            cursor.executemany(sql, chunk)


def fill(n_customers: int, n_transactions: int, n_activities: int = 0) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from kehu.accounts.models import Team, User
    from kehu.core.roles import Role
    from kehu.customers import search
    from kehu.customers.models import Customer, LifecycleState, Transaction
    from kehu.demo import names

    # ~20k distinct names over a million customers, as in a real base: memoise their pinyin.
    search.pinyin_keys = functools.lru_cache(maxsize=None)(search.pinyin_keys)
    search.char_pinyin = functools.lru_cache(maxsize=None)(search.char_pinyin)
    search.sort_key = functools.lru_cache(maxsize=None)(search.sort_key)
    rng = random.Random(1)
    now = timezone.now()
    started = time.monotonic()
    owners = []
    with transaction.atomic():
        # No passwords: the benchmark signs in with force_login, and hashing costs seconds.
        User.objects.create(username="admin", role=Role.ADMIN, is_superuser=True)
        for t in range(TEAMS):
            team = Team.objects.create(name=f"Team {t}")
            User.objects.create(username=f"manager{t}", role=Role.MANAGER, team=team)
            for s in range(SALES_PER_TEAM):
                owners.append(
                    User.objects.create(username=f"sales{t}_{s}", role=Role.SALES, team=team)
                )
    states = LifecycleState.values
    defaults = _defaults(Customer)
    columns = list(defaults) + ["id"]

    def customers():
        for i in range(1, n_customers + 1):
            province, city, _team = rng.choice(names.PLACES)
            if rng.random() < 0.6:
                name, kind, mobile, phone = (
                    names.chinese_person(rng),
                    "person",
                    names.mobile(rng),
                    "",
                )
            else:
                name, _industry = names.chinese_company(rng, city)
                kind, mobile, phone = "organisation", "", names.landline(rng, city)
            email = f"c{i}@example.cn" if rng.random() < 0.5 else ""
            owner = owners[i % len(owners)]
            created = now - dt.timedelta(minutes=rng.randrange(5 * 365 * 24 * 60))
            row = dict(
                defaults,
                name=name,
                kind=kind,
                mobile=mobile,
                phone=phone,
                email=email,
                province=province,
                city=city,
                external_id=f"B{i:08d}",
                lifecycle_state=rng.choice(states),
                owner_id=owner.pk,
                team_id=owner.team_id,
                created_at=created,
                updated_at=created,
                name_sort=search.sort_key(name, person=kind == "person"),
                search_text=search.search_text(
                    name=name, phones=(phone, mobile), email=email, external_id=f"B{i:08d}"
                ),
            )
            row["id"] = i
            yield tuple(row[c] for c in columns)

    with transaction.atomic():
        _insert(Customer, customers(), columns)
    print(f"  customers in: {time.monotonic() - started:.0f} s", flush=True)

    tdefaults = _defaults(Transaction)
    template = dict(tdefaults, kind="order", created_at=now, updated_at=now)
    varying = ["customer_id", "number", "date", "amount", "cost"]
    tcolumns = varying + [c for c in template if c not in varying]
    constant = tuple(template[c] for c in tcolumns[len(varying) :])
    log = _purchases(n_customers, n_transactions, timezone.localdate())

    def transactions():
        dates = log.date.astype(object)
        for i, (customer, day, amount) in enumerate(
            zip(log.customer_id.tolist(), dates, log.amount.tolist(), strict=True)
        ):
            yield (customer, f"SO{i:09d}", day, f"{amount:.2f}", f"{amount * 0.6:.2f}", *constant)

    with transaction.atomic():
        _insert(Transaction, transactions(), tcolumns)
    if n_activities:
        fill_activities(n_activities)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('customers_customer', 'id'), "
                "(SELECT max(id) FROM customers_customer))"
            )
        cursor.execute("ANALYZE")


def fill_activities(n_activities: int) -> None:
    """Calls, e-mails, notes, visits and meetings spread over the customers and 3 years."""
    from django.db import transaction
    from django.utils import timezone

    from kehu.customers.models import Customer
    from kehu.sales.models import Activity

    rng = random.Random(3)
    randrange = rng.randrange
    now = timezone.now()
    owners = dict(Customer.objects.values_list("pk", "owner_id"))
    ids = list(owners)
    adefaults = _defaults(Activity)
    kinds = ["call", "email", "note", "visit", "meeting", "call", "email"]
    avary = ["customer_id", "kind", "subject", "occurred_at", "author_id"]
    acolumns = avary + [c for c in adefaults if c not in avary]
    aconstant = tuple(
        dict(adefaults, created_at=now, updated_at=now)[c] for c in acolumns[len(avary) :]
    )

    def activities():
        for _i in range(n_activities):
            customer = ids[randrange(len(ids))]
            yield (
                customer,
                kinds[randrange(len(kinds))],
                "回访",
                now - dt.timedelta(minutes=randrange(3 * 365 * 24 * 60)),
                owners[customer],
                *aconstant,
            )

    with transaction.atomic():
        _insert(Activity, activities(), acolumns)


def _purchases(n_customers: int, n_transactions: int, today: dt.date):
    """Purchases as customers make them — buying at their own rate until they drop out
    (BG/NBD), which is what the value models are made for — about n_transactions in all,
    the customers arriving over two years before the last one."""
    from kehu.value.datasets import simulate_transactions

    # The simulator's default rates give about 17 purchases per customer over this span.
    scale = 17.0 * n_customers / max(n_transactions, 1)
    log = simulate_transactions(
        n_customers,
        params={"r": 2.0, "alpha": 5.3 * scale, "a": 0.8, "b": 12.0},
        start=(today - dt.timedelta(days=3 * 365)).isoformat(),
        acquisition_days=2 * 365,
        as_of=today.isoformat(),
        seed=5,
    )
    print(f"  {len(log):,} purchases simulated", flush=True)
    return log

"""Time the duplicate scan (`kehu dedup`) on generated customers, some of them entered twice
in another spelling.

Usage: python bench/dedup_bench.py [--customers N] [--duplicates FRACTION]
Runs against a fresh SQLite database in a temporary folder, or a fresh PostgreSQL database
when DATABASE_URL is set (e.g. under scripts/with_postgres.py). Prints the time of a first
scan, of a second one with nothing changed, how many candidate pairs were compared and how
many of the planted duplicates the queue holds. It prints figures; it never fails on time.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def respell(rng: random.Random, name: str, phone: str) -> tuple[str, str]:
    """The same firm as somebody else typed it."""
    choice = rng.randrange(4)
    if choice == 0:
        name = name.replace("有限公司", "").replace("有限责任公司", "")
    elif choice == 1 and len(name) > 4:
        i = rng.randrange(2, len(name) - 2)
        name = name[:i] + name[i + 1:]  # a character left out
    elif choice == 2:
        name = name + "（集团）"
    digits = phone.replace("-", "")
    phone = rng.choice([f"+86 {digits}", f"{digits[:3]} {digits[3:7]} {digits[7:]}", digits])
    return name, phone


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--duplicates", type=float, default=0.02)
    opts = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="kehu-dedup-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
    os.environ["KEHU_VAR_DIR"] = str(folder)
    drop = None
    if os.environ.get("DATABASE_URL"):
        sys.path.insert(0, str(ROOT / "bench"))
        from import_bench import fresh_postgres_database

        os.environ["DATABASE_URL"], drop = fresh_postgres_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from kehu.accounts.models import User
    from kehu.customers.models import Customer
    from kehu.customers.search import search_text
    from kehu.dataio.models import CustomerPair
    from kehu.dataio.quality import dedup
    from kehu.demo import names

    call_command("migrate", verbosity=0)
    owner = User.objects.create_user("bench", password="bench-password", role="admin")
    rng = random.Random(11)
    cities = [city for _province, city, _team in names.PLACES]
    rows, planted = [], []
    for _i in range(opts.customers):
        city = rng.choice(cities)
        name, _en = names.chinese_company(rng, city)
        # A person's name in the middle makes firms as various as real ones.
        name = name.replace(city, city + names.chinese_person(rng), 1) if city in name else \
            names.chinese_person(rng) + name
        rows.append((name, names.mobile(rng)))
        if rng.random() < opts.duplicates:
            rows.append(respell(rng, *rows[-1]))
            planted.append((len(rows) - 2, len(rows) - 1))
    engine = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
    print(f"kehu duplicate scan bench on {engine}: {len(rows):,} customers, "
          f"{len(planted):,} of them entered twice")
    ids = []
    for start in range(0, len(rows), 10_000):
        ids += [c.pk for c in Customer.objects.bulk_create([
            Customer(name=n, mobile=p, owner=owner, search_text=search_text(name=n, phones=(p,)))
            for n, p in rows[start:start + 10_000]])]
    for label in ("first scan", "second scan, nothing changed"):
        t0 = time.perf_counter()
        result = dedup.scan(kinds=("customers",))["customers"]
        print(f"  {label}: {time.perf_counter() - t0:.1f} s; {result['keys_refreshed']:,} "
              f"records' keys computed, {result['candidates']:,} candidate pairs scored, "
              f"{result['pairs']:,} likely duplicates")
    queue = set(CustomerPair.objects.values_list("a_id", "b_id"))
    found = sum((ids[a], ids[b]) in queue for a, b in planted)
    print(f"  of the {len(planted):,} customers entered twice, {found:,} are in the queue "
          f"({found / max(1, len(planted)):.1%}); the other pairs in it are generated firms "
          "that happen to share a name")
    connection.close()
    if drop is not None:
        drop()


if __name__ == "__main__":
    main()

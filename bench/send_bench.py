"""Time a bulk marketing send: N personalised e-mails to the console e-mail backend, as a
background job with progress (kehu.marketing.consent.sending.start_bulk_send, run by the
worker loop in this process), consent checked at send time for every batch.

Usage: python bench/send_bench.py [--customers N] [--opted-out FRACTION]
Runs against a fresh SQLite database in a temporary folder, or a fresh PostgreSQL database
when DATABASE_URL is set (e.g. under scripts/with_postgres.py). The console backend writes
the e-mails to a file in that folder (its size is printed), not to the terminal. Prints the
time and rate of the send, what was held back and why, and the job's progress as it ran.
It prints figures; it never fails on time.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--opted-out", type=float, default=0.05)
    opts = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="kehu-send-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
    os.environ["KEHU_VAR_DIR"] = str(folder)
    os.environ.pop("KEHU_EMAIL_HOST", None)  # the console backend
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
    from kehu.core import jobs, worker
    from kehu.customers.models import Customer
    from kehu.demo import names
    from kehu.marketing.consent.models import Channel, Consent, ConsentSource, ConsentStatus
    from kehu.marketing.consent.sending import start_bulk_send

    call_command("migrate", verbosity=0)
    sender = User.objects.create_user("bench", password="bench-password", role="admin")
    rng = random.Random(14)
    n = opts.customers
    ids: list[int] = []
    for start in range(0, n, 10_000):
        batch = []
        for i in range(start, min(n, start + 10_000)):
            person = names.chinese_person(rng)
            batch.append(Customer(name=person, email=f"c{i}@example.com", owner=sender))
        ids += [c.pk for c in Customer.objects.bulk_create(batch)]
    now = django.utils.timezone.now()
    refused = set(rng.sample(ids, int(n * opts.opted_out)))
    for start in range(0, n, 10_000):
        Consent.objects.bulk_create([
            Consent(customer_id=pk, channel=Channel.EMAIL, at=now,
                    source=ConsentSource.FORM, status=(ConsentStatus.REFUSED if pk in refused
                                                       else ConsentStatus.GIVEN))
            for pk in ids[start:start + 10_000]])
    engine = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
    print(f"kehu bulk marketing send bench on {engine}: {n:,} customers, "
          f"{len(refused):,} of them opted out of e-mail")

    out = folder / "console-mail.txt"
    sys_stdout = sys.stdout
    t0 = time.perf_counter()
    job = start_bulk_send(
        sender, [[pk, None] for pk in ids], subject="{{ name }}，春季新品目录",
        body="尊敬的{{ name }}：\n\n春季新品已到，附上为您准备的目录。\n\n客户服务部",
        origin="bench", title="Bench send")
    queued = time.perf_counter() - t0
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(10):
            seen = jobs.get(job.pk)
            sys_stdout.write(f"  … {seen.done:,} of {seen.total or 0:,} "
                             f"({time.perf_counter() - t0:.0f} s)\n")
            sys_stdout.flush()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    with out.open("w") as mails:
        sys.stdout = mails  # the console backend writes to sys.stdout
        try:
            worker.run_pending()
        finally:
            sys.stdout = sys_stdout
    stop.set()
    elapsed = time.perf_counter() - t0
    done = jobs.get(job.pk)
    result = done.result or {}
    print(f"  queued in {queued:.1f} s; job {done.status} after {elapsed:.1f} s: "
          f"{result.get('sent', 0):,} sent ({result.get('sent', 0) / elapsed:,.0f} e-mails/s), "
          f"held back: {({k: v for k, v in result.get('counts', {}).items() if k != 'sent'})}")
    if done.error:
        print(f"  error: {done.error}")
    print(f"  console output: {out.stat().st_size / 1e6:,.1f} MB in {out}")
    connection.close()
    if drop is not None:
        drop()


if __name__ == "__main__":
    main()

"""`kehu backup` and `kehu restore`, on the database the suite runs on (SQLite, then
PostgreSQL under make test): consistent while users write, identical after a restore, and
refusing what would lose data or make no sense."""

from __future__ import annotations

import datetime
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
import tarfile
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections

from kehu.core import backup as backup_module
from tests.dbhash import table_hashes

pytestmark = pytest.mark.usefixtures("committed_db")

RESTORED = "restored"


@pytest.fixture
def empty_database(committed_db, tmp_path):
    """A second database of the same kind, fresh (nothing in it), as the alias 'restored'.

    Its connection is made here rather than declared in the settings: the test database
    refuses connections to declared databases that a test did not ask for."""
    from django.db.utils import load_backend

    default = connections["default"].settings_dict
    if connection.vendor == "sqlite":
        name = str(tmp_path / "restored.sqlite3")
    else:
        name = f"kehu_restore_{uuid.uuid4().hex[:12]}"
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
    settings_dict = {**default, "NAME": name}
    connections[RESTORED] = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(
        settings_dict, RESTORED)
    try:
        yield RESTORED
    finally:
        connections[RESTORED].close()
        del connections[RESTORED]
        if connection.vendor != "sqlite":
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def firm(customers, users):
    """Customers with contacts, orders with lines, activities, edits and audit events: text
    in Chinese, money, dates, empty values and history rows."""
    from kehu.customers.services import create_contact, create_transaction, update_customer
    from kehu.sales.services import log_activity

    admin = users["admin"]
    for n, customer in enumerate(customers.values()):
        create_contact(admin, customer, {"name": f"联系人{n}", "phone": f"1380000000{n}"})
        for day in (1, 15):
            create_transaction(admin, customer, date=datetime.date(2024, 3, day),
                               amount=f"{1200 + n}.50", cost="800.25", number=f"SO-{n}-{day}")
        log_activity(admin, customer, kind="call", subject=f"回访 {n}", body="谈了新订单")
    update_customer(admin, customers["east"], {"city": "苏州"},
                    expected_version=customers["east"].version)
    return customers


def run(command: str, *args, **options) -> str:
    out = io.StringIO()
    call_command(command, *map(str, args), stdout=out, **options)
    return out.getvalue()


def manifest_of(path: Path) -> dict:
    with tarfile.open(path, "r:*") as tar:
        return json.loads(tar.extractfile(backup_module.MANIFEST).read())


def rewrite_manifest(path: Path, target: Path, **changes) -> None:
    """A copy of the backup at `path` whose manifest says something else."""
    with tarfile.open(path, "r:*") as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    manifest = json.loads(members.pop(backup_module.MANIFEST))
    manifest.update(changes)
    with tarfile.open(target, "w") as tar:
        for name, data in [(backup_module.MANIFEST, json.dumps(manifest).encode()),
                           (changes.get("payload", manifest["payload"]),
                            next(iter(members.values())))]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_a_restored_backup_holds_the_same_rows_value_for_value(firm, tmp_path, empty_database):
    before = table_hashes()
    out = run("backup", tmp_path / "kehu.backup")
    assert "Backed up" in out and str(tmp_path / "kehu.backup") in out
    assert (tmp_path / "kehu.backup").stat().st_mode & 0o077 == 0  # personal data inside
    manifest = manifest_of(tmp_path / "kehu.backup")
    assert manifest["database"] == connection.vendor
    assert manifest["tables"]["customers_customer"] == 3

    generation = "SELECT SUM(n) FROM customers_customer_generation"
    with connection.cursor() as cursor:
        cursor.execute(generation)
        backed_up_at = cursor.fetchone()[0]

    out = run("restore", tmp_path / "kehu.backup", database=empty_database)

    assert "every table has the rows of the backup" in out
    after = table_hashes(empty_database)
    assert after == before
    # Counts remembered at the original's generations are not taken for the restored ones.
    with connections[empty_database].cursor() as cursor:
        cursor.execute(generation)
        assert cursor.fetchone()[0] != backed_up_at
    assert after["customers_transaction"][0] == 6
    # The restored database goes on numbering where the original stopped.
    from kehu.accounts.models import Team

    team = Team.objects.using(empty_database).create(name="After the restore")
    assert team.pk > max(Team.objects.values_list("pk", flat=True))


@pytest.mark.slow
def test_a_backup_restores_into_a_just_migrated_database(firm, tmp_path, empty_database):
    before = table_hashes()
    run("backup", tmp_path / "kehu.backup")
    call_command("migrate", database=empty_database, verbosity=0)

    run("restore", tmp_path / "kehu.backup", database=empty_database)

    assert table_hashes(empty_database) == before


def test_a_backup_taken_while_customers_are_created_is_one_instant(users, tmp_path,
                                                                   empty_database):
    from kehu.customers.models import Customer
    from kehu.customers.services import create_customer

    admin, owner = users["admin"], users["sales1"]
    stop, made, errors = threading.Event(), [], []

    def keep_creating():
        try:
            while not stop.is_set():
                create_customer(admin, {"name": f"并发客户 {len(made)}"}, owner=owner)
                made.append(1)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    writer = threading.Thread(target=keep_creating)
    writer.start()
    try:
        deadline = time.monotonic() + 60
        while len(made) < 10 and not errors and time.monotonic() < deadline:
            time.sleep(0.02)
        paths = [tmp_path / f"kehu-{n}.backup" for n in range(5)]
        for path in paths:
            run("backup", path)
    finally:
        stop.set()
        writer.join(120)
    assert not errors, errors

    counted = []
    for path in paths:
        tables = manifest_of(path)["tables"]
        customers = tables["customers_customer"]
        counted.append(customers)
        # Each customer is created with its owner, its first lifecycle state and its first
        # history row in one transaction: all of them are in the backup, or none.
        assert tables["customers_ownerassignment"] == customers, path.name
        assert tables["customers_lifecycletransition"] == customers, path.name
        assert tables["customers_historicalcustomer"] == customers, path.name
    assert len(set(counted)) > 1, "the writer should have gone on between the backups"
    assert counted[-1] < len(made)

    run("restore", paths[-1], database=empty_database)
    restored = Customer.objects.using(empty_database)
    assert restored.count() == counted[-1]
    assert not restored.filter(owner_assignments__isnull=True).exists()


def test_restore_refuses_a_database_in_use_and_says_what_force_would_replace(
        firm, users, tmp_path, empty_database):
    from kehu.accounts.models import User

    run("backup", tmp_path / "kehu.backup")
    run("restore", tmp_path / "kehu.backup", database=empty_database)
    User.objects.using(empty_database).create(username="only-here")
    before = table_hashes()

    with pytest.raises(CommandError) as refused:
        run("restore", tmp_path / "kehu.backup", database=empty_database)

    message = str(refused.value)
    assert "is in use" in message and "--force" in message
    # Users first, then the largest tables, and how much there is in all.
    assert f"It holds {len(users) + 1} users, " in message
    assert re.search(r"\([\d,]+ rows in \d+ tables\)", message)
    assert User.objects.using(empty_database).filter(username="only-here").exists()

    out = run("restore", tmp_path / "kehu.backup", database=empty_database, force=True)

    assert "Replaced what was there" in out and f"{len(users) + 1} users" in out
    assert not User.objects.using(empty_database).filter(username="only-here").exists()
    assert table_hashes(empty_database) == before


def _not_a_tar(path: Path) -> None:
    path.write_bytes(os.urandom(4096))


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _tar_without_manifest(path: Path) -> None:
    with tarfile.open(path, "w") as tar:
        data = b"id,name\n1,x\n"
        info = tarfile.TarInfo("customers.csv")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def _sqlite_file(path: Path) -> None:
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.commit()


@pytest.mark.parametrize("make", [_not_a_tar, _empty, _tar_without_manifest, _sqlite_file])
def test_restore_refuses_a_file_that_is_not_a_kehu_backup(make, tmp_path, empty_database):
    path = tmp_path / "something.backup"
    make(path)
    with pytest.raises(CommandError, match="is not a kehu backup"):
        run("restore", path, database=empty_database)
    assert connections[empty_database].introspection.table_names() == []


def test_restore_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="There is no file"):
        run("restore", tmp_path / "nowhere.backup")


def test_restore_refuses_a_backup_of_the_other_kind_of_database(firm, tmp_path,
                                                                empty_database):
    run("backup", tmp_path / "kehu.backup")
    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    rewrite_manifest(tmp_path / "kehu.backup", tmp_path / "other.backup", database=other,
                     payload=backup_module.PAYLOADS[other])

    with pytest.raises(CommandError) as refused:
        run("restore", tmp_path / "other.backup", database=empty_database)

    message = str(refused.value)
    mine = backup_module.KIND_NAMES[connection.vendor]
    assert f"backup of a {backup_module.KIND_NAMES[other]} database" in message
    assert f"into the {mine} database" in message
    assert connections[empty_database].introspection.table_names() == []


def test_restore_refuses_a_backup_from_a_newer_kehu(firm, tmp_path, empty_database):
    run("backup", tmp_path / "kehu.backup")
    manifest = manifest_of(tmp_path / "kehu.backup")
    rewrite_manifest(tmp_path / "kehu.backup", tmp_path / "newer.backup",
                     migrations=[*manifest["migrations"], ["customers", "9999_from_the_future"]])

    with pytest.raises(CommandError, match=r"newer kehu.*customers\.9999_from_the_future"):
        run("restore", tmp_path / "newer.backup", database=empty_database)


def test_restore_refuses_a_damaged_backup_and_changes_nothing(firm, tmp_path, empty_database):
    run("backup", tmp_path / "kehu.backup")
    with tarfile.open(tmp_path / "kehu.backup", "r:*") as tar:
        manifest = json.loads(tar.extractfile(backup_module.MANIFEST).read())
        payload = bytearray(tar.extractfile(manifest["payload"]).read())
    payload[len(payload) // 2] ^= 0xFF
    with tarfile.open(tmp_path / "damaged.backup", "w") as tar:
        for name, data in [(backup_module.MANIFEST, json.dumps(manifest).encode()),
                           (manifest["payload"], bytes(payload))]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

    with pytest.raises(CommandError, match="is damaged"):
        run("restore", tmp_path / "damaged.backup", database=empty_database)
    assert connections[empty_database].introspection.table_names() == []


def test_restoring_an_older_backup_says_to_migrate(tmp_path, empty_database):
    # A backup of a database that was never migrated is as old as a backup gets.
    connections[empty_database].ensure_connection()
    run("backup", tmp_path / "empty.backup", database=empty_database)

    out = run("restore", tmp_path / "empty.backup", database=empty_database)

    assert "run `kehu migrate`" in out


def test_backup_keeps_an_existing_file_unless_forced(firm, tmp_path):
    path = tmp_path / "kehu.backup"
    path.write_text("yesterday's backup")
    with pytest.raises(CommandError, match="exists already"):
        run("backup", path)
    assert path.read_text() == "yesterday's backup"

    run("backup", path, force=True)
    assert manifest_of(path)["tables"]["customers_customer"] == 3


def test_the_postgresql_password_goes_to_the_tools_in_the_environment(monkeypatch, tmp_path):
    calls = []

    def fake_run(argv, **kwargs):
        calls.append((argv, kwargs["env"]))
        return subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr(backup_module.subprocess, "run", fake_run)
    settings_dict = {"NAME": "kehu", "USER": "kehu", "PASSWORD": "pa55 w0rd!", "HOST": "db",
                     "PORT": 5433, "OPTIONS": {"sslmode": "require"}}
    backup_module._run_pg_dump("pg_dump", settings_dict, "00000003-1", tmp_path / "x.pgdump")

    argv, env = calls[0]
    assert not any("pa55" in arg for arg in argv)
    assert env["PGPASSWORD"] == "pa55 w0rd!"
    assert (env["PGHOST"], env["PGPORT"], env["PGDATABASE"], env["PGSSLMODE"]) == (
        "db", "5433", "kehu", "require")


def test_the_kehu_command_reports_a_refused_restore(tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(KEHU_VAR_DIR=str(tmp_path / "var"), DJANGO_SETTINGS_MODULE="kehu.settings")

    result = subprocess.run([sys.executable, "-m", "kehu.cli", "restore", str(junk)], env=env,
                            capture_output=True, text=True, timeout=240)

    assert result.returncode == 1
    assert "is not a kehu backup" in result.stderr
    assert "Traceback" not in result.stderr

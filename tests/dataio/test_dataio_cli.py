"""`kehu import` / `kehu export` as a user runs them, in a real process on a database of its
own (an SQLite file, or a fresh database on the suite's PostgreSQL server): exit codes, the
error listing, and a killed import that leaves nothing behind."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

KEHU = [sys.executable, "-c", "from kehu.cli import main; main()"]


class _Database:
    """The site's database, read from outside kehu."""

    def __init__(self, sqlite_path=None, url=None):
        self.sqlite_path, self.url = sqlite_path, url

    def query(self, sql):
        if self.sqlite_path:
            with sqlite3.connect(self.sqlite_path) as conn:
                return conn.execute(sql).fetchall()
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description else []

    def write_locked(self) -> bool:
        """Whether another process is inside a write transaction."""
        if self.sqlite_path:
            conn = sqlite3.connect(self.sqlite_path, timeout=0, isolation_level=None)
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
                return False
            except sqlite3.OperationalError:
                return True
            finally:
                conn.close()
        rows = self.query("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                          "current_database() AND pid <> pg_backend_pid() AND backend_xid "
                          "IS NOT NULL")
        return rows[0][0] > 0


def _fresh_postgres(url: str) -> tuple[str, object]:
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url)
    name = f"kehu_cli_{os.getpid()}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urlunsplit(parts._replace(path="/" + name)), drop


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A kehu installation with its own database, one admin and one customer."""
    tmp_path = tmp_path_factory.mktemp("site")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(KEHU_VAR_DIR=str(tmp_path / "var"), KEHU_HTTPS="0",
               DJANGO_SETTINGS_MODULE="kehu.settings")
    drop = None
    if os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"], drop = _fresh_postgres(os.environ["DATABASE_URL"])
        database = _Database(url=env["DATABASE_URL"])
    else:
        database = _Database(sqlite_path=tmp_path / "var" / "kehu.sqlite3")

    def kehu(*args, **kw):
        return subprocess.run([*KEHU, *args], env=env, capture_output=True, text=True,
                              timeout=120, **kw)

    assert kehu("migrate", "-v0").returncode == 0
    setup = ("from kehu.accounts.models import User; "
             "User.objects.create_user('boss', password='x', role='admin')")
    assert kehu("shell", "-c", setup).returncode == 0
    customers = tmp_path / "customers.csv"
    customers.write_text("客户编号,客户名称\nC1,上海华东贸易有限公司\n", encoding="utf-8")
    assert kehu("import", "customers", str(customers)).returncode == 0
    kehu.env = env
    kehu.db = database
    yield kehu
    if drop is not None:
        drop()


@pytest.fixture(autouse=True)
def _no_transactions(site):
    yield
    site.db.query("DELETE FROM customers_transaction")


def _count(db, table):
    return db.query(f"SELECT COUNT(*) FROM {table}")[0][0]  # noqa: S608


def _orders(path, n, bad_line=None):
    lines = ["客户编号,下单日期,金额,单号"]
    lines += [f"C1,2024-01-01,{i},SO{i}" for i in range(n)]
    if bad_line:
        lines[bad_line - 1] = "C1,2024-02-30,12x,SO-bad"
    path.write_text("\n".join(lines) + "\n", encoding="gbk")
    return path


def test_a_refused_file_exits_2_and_lists_every_bad_row_on_stderr(site, tmp_path):
    result = site("import", "transactions", str(_orders(tmp_path / "o.csv", 50, bad_line=20)))
    assert result.returncode == 2
    assert "line 20, column “下单日期”: “2024-02-30” is not a date" in result.stderr
    assert "line 20, column “金额”: “12x” is not a number." in result.stderr
    assert "nothing was imported" in result.stderr
    assert _count(site.db, "customers_transaction") == 0


def test_a_good_file_exits_0_and_undo_by_batch_id(site, tmp_path):
    result = site("import", "transactions", str(_orders(tmp_path / "o.csv", 30)), "--as", "boss")
    assert result.returncode == 0, result.stderr
    match = re.search(r"Imported 30 rows as batch (\d+): 30 created", result.stdout)
    assert match, result.stdout
    assert _count(site.db, "customers_transaction") == 30
    result = site("import", "undo", match[1], "--as", "boss")
    assert result.returncode == 0 and "undone" in result.stdout
    assert _count(site.db, "customers_transaction") == 0
    result = site("import", "undo", match[1], "--as", "nobody")
    assert result.returncode == 1 and "no active user" in result.stderr


def test_a_killed_import_leaves_nothing_and_a_rerun_succeeds(site, tmp_path):
    orders = _orders(tmp_path / "o.csv", 400)
    batches = _count(site.db, "dataio_importbatch")
    # 8 chunks of 50 rows with a pause after each: the write takes about 8 seconds.
    env = dict(site.env, KEHU_IMPORT_PAUSE_AFTER_CHUNK="1")
    proc = subprocess.Popen([*KEHU, "import", "transactions", str(orders), "--chunk-size", "50"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not site.db.write_locked() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(2.5)  # a couple of chunks are written, inside the open transaction
    assert proc.poll() is None, "the import finished before it could be killed"
    assert site.db.write_locked()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert _count(site.db, "customers_transaction") == 0
    assert _count(site.db, "dataio_importbatch") == batches
    result = site("import", "transactions", str(orders))
    assert result.returncode == 0, result.stderr
    assert _count(site.db, "customers_transaction") == 400


def test_export_writes_the_file_and_counts_rows(site, tmp_path):
    out = tmp_path / "c.xlsx"
    result = site("export", "customers", "--as", "boss", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "Exported 1 rows" in result.stdout
    from openpyxl import load_workbook

    ws = load_workbook(out).active
    assert ws.cell(2, [c.value for c in ws[1]].index("name") + 1).value == "上海华东贸易有限公司"

"""`kehu import` / `kehu export` as a user runs them, in a real process on a file database:
exit codes, the error listing, and a killed import that leaves nothing behind."""

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


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A kehu installation with its own SQLite file, one admin and one customer."""
    tmp_path = tmp_path_factory.mktemp("site")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(KEHU_VAR_DIR=str(tmp_path / "var"), KEHU_HTTPS="0",
               DJANGO_SETTINGS_MODULE="kehu.settings")

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
    kehu.db = tmp_path / "var" / "kehu.sqlite3"
    return kehu


@pytest.fixture(autouse=True)
def _no_transactions(site):
    yield
    with sqlite3.connect(site.db) as conn:
        conn.execute("DELETE FROM customers_transaction")


def _count(db, table):
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608


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


def _write_locked(db) -> bool:
    """Whether another process holds SQLite's write lock, i.e. is inside a write transaction."""
    conn = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        conn.close()


def test_a_killed_import_leaves_nothing_and_a_rerun_succeeds(site, tmp_path):
    orders = _orders(tmp_path / "o.csv", 400)
    batches = _count(site.db, "dataio_importbatch")
    # 8 chunks of 50 rows with a pause after each: the write takes about 8 seconds.
    env = dict(site.env, KEHU_IMPORT_PAUSE_AFTER_CHUNK="1")
    proc = subprocess.Popen([*KEHU, "import", "transactions", str(orders), "--chunk-size", "50"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not _write_locked(site.db) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(2.5)  # a couple of chunks are written, inside the open transaction
    assert proc.poll() is None, "the import finished before it could be killed"
    assert _write_locked(site.db)
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

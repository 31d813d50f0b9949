"""The installation a user gets: SQLite in WAL mode with waiting writers, and a deployment
configuration that passes Django's own security checks."""

from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

# Each command runs in a user's shell without the suite's database: checked once.
pytestmark = pytest.mark.one_database

KEHU = [sys.executable, "-m", "kehu.cli"]


def run_kehu(args, env, **kw):
    return subprocess.run([*KEHU, *args], env=env, capture_output=True, text=True, timeout=240,
                          **kw)


@pytest.fixture
def fresh_env(tmp_path):
    # A user's shell: no test database, and none of the browser tests' async override.
    dropped = {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(KEHU_VAR_DIR=str(tmp_path / "var"), KEHU_DEBUG="0", KEHU_HTTPS="0",
               DJANGO_SETTINGS_MODULE="kehu.settings")
    return env


@pytest.mark.slow
def test_the_default_database_is_sqlite_under_var_in_wal_mode_and_writers_wait(fresh_env,
                                                                               tmp_path):
    result = run_kehu(["migrate", "-v", "0"], fresh_env)
    assert result.returncode == 0, result.stderr
    db = Path(fresh_env["KEHU_VAR_DIR"]) / "kehu.sqlite3"
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert (Path(fresh_env["KEHU_VAR_DIR"]) / "secret_key").stat().st_mode & 0o077 == 0

    # Two processes writing at the same moment: with IMMEDIATE transactions the second waits
    # for the first instead of failing with "database is locked".
    script = (
        "import django; django.setup()\n"
        "from kehu.accounts.models import User\n"
        "from kehu.customers.services import create_customer\n"
        "import sys\n"
        "u, _ = User.objects.get_or_create(username='w'+sys.argv[1], defaults={'role': 'admin'})\n"
        "for i in range(40):\n"
        "    create_customer(u, {'name': f'c{sys.argv[1]}-{i}'})\n"
    )

    def writer(n):
        return subprocess.run([sys.executable, "-c", script, str(n)], env=fresh_env,
                              capture_output=True, text=True, timeout=240)

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(writer, range(3)))
    assert all(r.returncode == 0 for r in results), [r.stderr[-500:] for r in results]
    count = sqlite3.connect(db).execute("select count(*) from customers_customer").fetchone()[0]
    assert count == 120


@pytest.mark.slow
def test_the_deployment_check_is_clean_when_debug_is_off(fresh_env):
    fresh_env.update(KEHU_SECRET_KEY=secrets.token_urlsafe(60), KEHU_HTTPS="1",
                     KEHU_ALLOWED_HOSTS="crm.example.com")
    result = run_kehu(["check", "--deploy", "--fail-level", "WARNING"], fresh_env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_deployment_check_complains_when_https_is_off(fresh_env):
    fresh_env.update(KEHU_SECRET_KEY=secrets.token_urlsafe(60))
    result = run_kehu(["check", "--deploy", "--fail-level", "WARNING"], fresh_env)
    assert result.returncode != 0
    assert "SECURE_SSL_REDIRECT" in result.stdout + result.stderr

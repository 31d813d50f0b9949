"""Running a bench against fresh databases: the bench runs itself again as a child process
(`--db current`) once per database, so that each child starts on an empty database of its
own — SQLite in a temporary folder (or a kept one, to reuse its fill), PostgreSQL as a
throwaway cluster started by scripts/with_postgres.py."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_per_database(me: list[str], db: str, *, sqlite_dir: str | None = None,
                     heading: str = "") -> int:
    """Run the command `me` on SQLite and/or PostgreSQL (`db`: sqlite, postgres or both),
    each under a heading; returns the children's exit statuses or-ed together."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(KEHU_DEBUG="0", KEHU_HTTPS="0", DJANGO_SETTINGS_MODULE="kehu.settings")
    status = 0
    if db in {"sqlite", "both"}:
        print(f"== {heading}SQLite ==", flush=True)
        if sqlite_dir:
            status |= subprocess.run(me, env={**env, "KEHU_VAR_DIR": sqlite_dir}).returncode
        else:
            with tempfile.TemporaryDirectory(prefix="kehu-bench-") as var:
                status |= subprocess.run(me, env={**env, "KEHU_VAR_DIR": var}).returncode
    if db in {"postgres", "both"}:
        print(f"== {heading}PostgreSQL ==", flush=True)
        with tempfile.TemporaryDirectory(prefix="kehu-bench-") as var:
            status |= subprocess.run([sys.executable, str(ROOT / "scripts/with_postgres.py"),
                                      *me], env={**env, "KEHU_VAR_DIR": var}).returncode
    return status

"""Run a command against a throwaway PostgreSQL cluster.

The cluster lives in a temporary folder, listens only on a Unix socket, and is removed
afterwards, so the test suite needs no running server and leaves nothing behind.
Usage: python scripts/with_postgres.py COMMAND [ARGS...]
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile


def _pg_bin(name: str) -> str:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    found = candidates[0] if candidates else shutil.which(name)
    if not found:
        sys.exit(f"with_postgres: {name} not found; install the Debian package 'postgresql'")
    return found


def _as_cluster_owner(argv: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; the Debian package provides the 'postgres' user.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


def main() -> int:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    root = tempfile.mkdtemp(prefix="kehu-pg-")
    data, sock = os.path.join(root, "data"), os.path.join(root, "sock")
    os.makedirs(sock)
    if os.geteuid() == 0:
        pg = pwd.getpwnam("postgres")
        for path in (root, sock):
            os.chown(path, pg.pw_uid, pg.pw_gid)
    log = os.path.join(root, "server.log")
    try:
        subprocess.run(
            _as_cluster_owner([_pg_bin("initdb"), "-D", data, "-U", "kehu", "--auth=trust",
                               "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"]),
            check=True, stdout=subprocess.DEVNULL,
        )
        # A throwaway cluster: durability is worth nothing here, speed is.
        options = (f"-k {sock} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off")
        subprocess.run(
            _as_cluster_owner([_pg_bin("pg_ctl"), "-D", data, "-l", log, "-o", options, "-w",
                               "start"]),
            check=True, stdout=subprocess.DEVNULL,
        )
        # The database the command is pointed at; test runs make their own test_ copy.
        subprocess.run([_pg_bin("createdb"), "-h", sock, "-U", "kehu", "kehu"], check=True)
        env = dict(os.environ, DATABASE_URL=f"postgres://kehu@/kehu?host={sock}")
        return subprocess.run(sys.argv[1:], env=env).returncode
    finally:
        subprocess.run(
            _as_cluster_owner([_pg_bin("pg_ctl"), "-D", data, "-m", "immediate", "stop"]),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

"""Backups of kehu's database, and their restore into an empty database.

A backup is a tar file of two members:

  kehu-backup.json   what it holds: the format, the kind of database it came from (sqlite or
                     postgresql), when, which kehu, the migrations applied, the rows of every
                     table, and the SHA-256 of the payload
  database.sqlite3   SQLite: a copy made with SQLite's online backup API, or
  database.pgdump    PostgreSQL: an archive of pg_dump --format=custom

Both are consistent while users keep writing. SQLite copies every page in one step under one
read transaction (in WAL mode writers go on meanwhile), and the rows are counted in the copy.
On PostgreSQL a read-only REPEATABLE READ transaction exports its snapshot to pg_dump and
counts the rows in that same snapshot. So a customer is in the backup with its owner history
or not at all, and the counts describe exactly what was saved.

A restore checks the file (a kehu backup, of the same kind of database, whole, not from a
newer kehu) before it touches the database, refuses a database in use unless forced, and
counts the rows afterwards against the backup. SQLite is restored with the same backup API,
page for page; PostgreSQL by pg_restore's SQL run in one psql transaction together with the
removal of what was there, so a failed restore leaves the database as it was.

The PostgreSQL tools are found as Debian installs them (the newest /usr/lib/postgresql/*/bin)
or on PATH, and get the connection from the environment (PGHOST, PGPASSWORD, ...), so no
password shows on a command line.

This module is kehu's alone: it knows tables by name, never by importing another kehu app.
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.dispatch import Signal

import kehu

FORMAT = "kehu-backup"
FORMAT_VERSION = 1
MANIFEST = "kehu-backup.json"
PAYLOADS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
KIND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# Tables that `kehu migrate` fills by itself: their rows say nothing about a database in use.
BOOKKEEPING = {"django_migrations", "django_content_type", "auth_permission"}
CHUNK = 1 << 20

# progress(description, done, total): total None for a step of unknown length.
Progress = Callable[[str, int, int | None], None]
# Sent with `alias` once a restore's rows are checked: apps that keep something derived
# from the data outside it (counts remembered by a table's generation) make it new.
restored = Signal()


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass
class Manifest:
    database: str
    created_at: str
    kehu_version: str
    server_version: str
    migrations: list[list[str]]
    tables: dict[str, int]
    payload: str
    payload_bytes: int = 0
    payload_sha256: str = ""
    source: str = ""

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def to_json(self) -> bytes:
        data = {"format": FORMAT, "format_version": FORMAT_VERSION, **self.__dict__}
        return json.dumps(data, indent=2, ensure_ascii=False).encode()


@dataclass
class BackupResult:
    path: Path
    manifest: Manifest
    seconds: float


@dataclass
class RestoreResult:
    manifest: Manifest
    seconds: float
    replaced: dict[str, int]
    pending_migrations: list[str]


def _no_progress(description: str, done: int, total: int | None) -> None:
    pass


def database_kind(alias: str = "default") -> str:
    vendor = connections[alias].vendor
    if vendor not in PAYLOADS:
        raise BackupError(f"kehu backs up SQLite and PostgreSQL databases, not {vendor}.")
    return vendor


def describe_database(alias: str = "default") -> str:
    conn = connections[alias]
    if conn.vendor == "sqlite":
        return f"the SQLite database {conn.settings_dict['NAME']}"
    s = conn.settings_dict
    where = s.get("HOST") or "the local socket"
    return f"the PostgreSQL database {s.get('NAME') or '(from the service file)'} on {where}"


# --- backup ------------------------------------------------------------------------------

def backup(path: str | os.PathLike, *, alias: str = "default", overwrite: bool = False,
           progress: Progress = _no_progress) -> BackupResult:
    """Write a consistent backup of the database `alias` to `path`."""
    started = time.monotonic()
    kind = database_kind(alias)
    path = Path(path)
    if path.is_dir():
        raise BackupError(f"{path} is a folder; give the name of the backup file to write.")
    if path.exists() and not overwrite:
        raise BackupError(f"{path} exists already; give another name, or --force to replace it.")
    if not path.parent.is_dir():
        raise BackupError(f"The folder {path.parent} does not exist.")
    with tempfile.TemporaryDirectory(prefix=".kehu-backup-", dir=path.parent) as tmp:
        payload = Path(tmp) / PAYLOADS[kind]
        if kind == "sqlite":
            manifest = _backup_sqlite(alias, payload, progress)
        else:
            manifest = _backup_postgresql(alias, payload, progress)
        manifest.source = describe_database(alias)
        partial = Path(tmp) / "backup.tar"
        _write_archive(partial, manifest, payload, progress)
        partial.chmod(0o600)  # personal data and password hashes
        os.replace(partial, path)
    return BackupResult(path=path, manifest=manifest, seconds=time.monotonic() - started)


def _backup_sqlite(alias: str, payload: Path, progress: Progress) -> Manifest:
    conn = connections[alias]
    name = str(conn.settings_dict["NAME"])
    if name == ":memory:" or "mode=memory" in name or not Path(name).is_file():
        raise BackupError(f"There is no SQLite database file at {name}.")
    progress("Copying the SQLite database", 0, None)
    source = sqlite3.connect(name, timeout=60)
    target = sqlite3.connect(payload)
    try:
        # pages=-1: every page in one step, under one read transaction, so the copy is one
        # instant of the database. WAL lets writers go on while it reads.
        source.backup(target, pages=-1)
    finally:
        source.close()
    try:
        # A self-contained file, without -wal and -shm beside it.
        target.execute("PRAGMA journal_mode=DELETE")
        tables = _sqlite_counts(target)
        migrations = _applied_migrations(target.cursor(), tables)
        version = sqlite3.sqlite_version
    finally:
        target.close()
    return Manifest(database="sqlite", created_at=_now(), kehu_version=kehu.__version__,
                    server_version=version, migrations=migrations, tables=tables,
                    payload=PAYLOADS["sqlite"])


def _backup_postgresql(alias: str, payload: Path, progress: Progress) -> Manifest:
    conn = connections[alias]
    pg_dump = pg_tool("pg_dump")
    # A connection of its own, whatever Django's connection is doing.
    raw = conn.get_new_connection(conn.get_connection_params())
    try:
        with raw.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
            snapshot, version = cursor.fetchone()
            progress("Counting rows", 0, None)
            tables = _postgres_counts(cursor)
            migrations = _applied_migrations(cursor, tables)
            progress("pg_dump", 0, None)
            # pg_dump reads the snapshot that the rows were counted in.
            _run_pg_dump(pg_dump, conn.settings_dict, snapshot, payload)
    finally:
        raw.close()
    return Manifest(database="postgresql", created_at=_now(), kehu_version=kehu.__version__,
                    server_version=version, migrations=migrations, tables=tables,
                    payload=PAYLOADS["postgresql"])


def _run_pg_dump(pg_dump: str, settings_dict: dict, snapshot: str, payload: Path) -> None:
    argv = [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={payload}",
            "--no-password"]
    result = subprocess.run(argv, env=pg_environment(settings_dict), capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {_tool_message(result.stderr)}")


def _write_archive(path: Path, manifest: Manifest, payload: Path, progress: Progress) -> None:
    size = payload.stat().st_size
    digest = hashlib.sha256()
    with payload.open("rb") as f:
        done = 0
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            done += len(chunk)
            progress("Checking the copy", done, size)
    manifest.payload_bytes, manifest.payload_sha256 = size, digest.hexdigest()

    class Counting:
        """The payload as tarfile reads it, for the progress bar."""

        def __init__(self, f):
            self.f, self.done = f, 0

        def read(self, n: int = -1) -> bytes:
            chunk = self.f.read(n)
            self.done += len(chunk)
            progress("Writing the backup file", self.done, size)
            return chunk

    # The manifest first, so that a restore knows what it has before reading further.
    # SQLite's pages shrink to about a third with the fastest gzip; pg_dump's custom format
    # is compressed already.
    compress = {"compresslevel": 1} if manifest.database == "sqlite" else {}
    mode = "w:gz" if compress else "w"
    with tarfile.open(path, mode, format=tarfile.PAX_FORMAT, **compress) as tar:
        data = manifest.to_json()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
        tar.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo(manifest.payload)
        info.size, info.mtime, info.mode = size, int(time.time()), 0o600
        with payload.open("rb") as f:
            tar.addfile(info, Counting(f))


# --- reading a backup --------------------------------------------------------------------

def read_manifest(path: str | os.PathLike) -> Manifest:
    """The manifest of a kehu backup; BackupError for anything else."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"There is no file {path}.")
    not_kehu = (f"{path} is not a kehu backup (a file written by `kehu backup`: a tar "
                f"archive that starts with {MANIFEST}).")
    try:
        with tarfile.open(path, "r:*") as tar:
            first = tar.next()
            if (first is None or first.name != MANIFEST or not first.isfile()
                    or first.size > 16 * CHUNK):
                raise BackupError(not_kehu)
            data = json.loads(tar.extractfile(first).read().decode())
    except (tarfile.TarError, OSError, EOFError, zlib.error, UnicodeDecodeError,
            json.JSONDecodeError):
        raise BackupError(not_kehu) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BackupError(not_kehu)
    if not isinstance(data.get("format_version"), int) or data["format_version"] > FORMAT_VERSION:
        raise BackupError(f"{path} was written by a newer kehu (backup format "
                          f"{data.get('format_version')}); restore it with that kehu.")
    fields = set(Manifest.__dataclass_fields__)
    try:
        manifest = Manifest(**{k: v for k, v in data.items() if k in fields})
    except TypeError:
        raise BackupError(not_kehu) from None
    if manifest.database not in PAYLOADS or manifest.payload != PAYLOADS[manifest.database]:
        raise BackupError(not_kehu)
    return manifest


def _extract_payload(path: Path, manifest: Manifest, target: Path, progress: Progress) -> None:
    digest = hashlib.sha256()
    done = 0
    damaged = (f"{path} is damaged: its database does not match the checksum written with "
               "it. Nothing was restored.")
    try:
        with tarfile.open(path, "r:*") as tar, target.open("wb") as out:
            member = tar.next()
            while member is not None and member.name != manifest.payload:
                member = tar.next()
            if member is None or not member.isfile():
                raise BackupError(f"{path} is an incomplete kehu backup: its database is "
                                  "missing. Nothing was restored.")
            source = tar.extractfile(member)
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                done += len(chunk)
                progress("Reading the backup", done, manifest.payload_bytes or None)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile):
        raise BackupError(damaged) from None
    except OSError as exc:
        raise BackupError(f"Could not read {path} or write beside the database: {exc}") \
            from None
    if done != manifest.payload_bytes or digest.hexdigest() != manifest.payload_sha256:
        raise BackupError(damaged)


# --- restore -----------------------------------------------------------------------------

def restore(path: str | os.PathLike, *, alias: str = "default", force: bool = False,
            progress: Progress = _no_progress) -> RestoreResult:
    """Replace the database `alias` with the backup at `path`."""
    started = time.monotonic()
    path = Path(path)
    manifest = read_manifest(path)
    kind = database_kind(alias)
    if manifest.database != kind:
        raise BackupError(
            f"{path} is a backup of a {KIND_NAMES[manifest.database]} database and cannot be "
            f"restored into {describe_database(alias)}: kehu restores a backup into the same "
            f"kind of database it came from. Point DATABASE_URL at a "
            f"{KIND_NAMES[manifest.database]} database to restore it there.")
    unknown = _unknown_migrations(manifest)
    if unknown:
        raise BackupError(
            f"{path} was made by a newer kehu: it has migrations this kehu does not know "
            f"({', '.join(unknown[:5])}{', ...' if len(unknown) > 5 else ''}). Upgrade kehu, "
            "then restore.")
    in_use = data_in_database(alias)
    if in_use and not force:
        raise BackupError(
            f"Not restored: {describe_database(alias)} is in use. It holds "
            f"{summarise_tables(in_use)}. Restoring replaces all of it with the backup of "
            f"{when(manifest.created_at)} ({manifest.rows:,} rows); add --force to do that.")
    if kind == "sqlite":
        _restore_sqlite(path, manifest, alias, progress)
    else:
        _restore_postgresql(path, manifest, alias, progress)
    progress("Checking the restored rows", 0, None)
    _check_counts(manifest, alias)
    restored.send(sender=None, alias=alias)
    return RestoreResult(manifest=manifest, seconds=time.monotonic() - started,
                         replaced=in_use, pending_migrations=_pending_migrations(alias))


def _restore_sqlite(path: Path, manifest: Manifest, alias: str, progress: Progress) -> None:
    conn = connections[alias]
    name = Path(conn.settings_dict["NAME"])
    name.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".kehu-restore-", dir=name.parent) as tmp:
        copy = Path(tmp) / PAYLOADS["sqlite"]
        _extract_payload(path, manifest, copy, progress)
        source = sqlite3.connect(copy)
        try:
            ok = source.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{path} holds a damaged SQLite database ({exc}).") from None
        if ok != "ok":
            raise BackupError(f"{path} holds a damaged SQLite database ({ok}).")
        conn.close()
        progress("Restoring the SQLite database", 0, None)
        target = sqlite3.connect(name, timeout=60)
        try:
            source.backup(target, pages=-1)
            target.execute("PRAGMA journal_mode=WAL")
            target.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            target.close()
            source.close()


def _restore_postgresql(path: Path, manifest: Manifest, alias: str, progress: Progress) -> None:
    conn = connections[alias]
    pg_restore, psql = pg_tool("pg_restore"), pg_tool("psql")
    env = pg_environment(conn.settings_dict)
    with tempfile.TemporaryDirectory(prefix="kehu-restore-") as tmp:
        archive = Path(tmp) / PAYLOADS["postgresql"]
        _extract_payload(path, manifest, archive, progress)
        listing = subprocess.run([pg_restore, "--list", str(archive)], capture_output=True,
                                 text=True)
        if listing.returncode != 0:
            raise BackupError(f"{path} holds a damaged pg_dump archive: "
                              f"{_tool_message(listing.stderr)}")
        # Whatever is there goes, in the same transaction that restores the backup.
        clear = Path(tmp) / "clear.sql"
        clear.write_text(_postgres_clear_script(alias))
        conn.close()
        progress("Restoring the PostgreSQL database", 0, None)
        # pg_restore writes the SQL, psql runs it; pg_restore's messages go to a file, so
        # that neither can stall the other.
        with (Path(tmp) / "pg_restore.log").open("w+") as dump_log:
            dump = subprocess.Popen(
                [pg_restore, "--no-owner", "--no-privileges", "--no-comments", "--file=-",
                 str(archive)], stdout=subprocess.PIPE, stderr=dump_log)
            load = subprocess.run(
                [psql, "--no-psqlrc", "--quiet", "--no-password", "--set=ON_ERROR_STOP=1",
                 "--single-transaction", f"--file={clear}", "--file=-"],
                stdin=dump.stdout, env=env, capture_output=True, text=True)
            dump.stdout.close()
            dump.wait()
            dump_log.seek(0)
            dump_err = dump_log.read()
    if load.returncode != 0:
        message = _tool_message(load.stderr)
        if "lock timeout" in message:
            raise BackupError(
                "Another connection is using the database (the web server or the worker?): "
                "stop them (systemctl stop kehu-web kehu-worker) and restore again. Nothing "
                "was changed.")
        raise BackupError(f"The restore failed and changed nothing: {message}")
    if dump.returncode != 0:
        raise BackupError(f"pg_restore failed: {_tool_message(dump_err)}")


def _postgres_clear_script(alias: str) -> str:
    """SQL that removes kehu's tables, views, sequences and functions from the schema it uses
    (objects of extensions such as pg_trgm stay), so that the dump can recreate them."""
    not_extension = ("NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = {cat}::regclass "
                     "AND d.objid = {oid} AND d.deptype = 'e')")
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT c.relkind, quote_ident(n.nspname) || '.' || quote_ident(c.relname) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
            "AND " + not_extension.format(cat="'pg_class'", oid="c.oid"))
        relations = cursor.fetchall()
        cursor.execute(
            "SELECT p.oid::regprocedure::text FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = current_schema() "
            "AND " + not_extension.format(cat="'pg_proc'", oid="p.oid"))
        functions = [row[0] for row in cursor.fetchall()]
    # Wait a little for the web server or the worker to let go, not for ever.
    lines = ["SET lock_timeout = '15s';"]
    statements = {"v": "VIEW", "m": "MATERIALIZED VIEW", "r": "TABLE", "p": "TABLE",
                  "f": "FOREIGN TABLE", "S": "SEQUENCE"}
    for relkind in ("v", "m", "r", "p", "f", "S"):
        names = [name for kind, name in relations if kind == relkind]
        if names:
            lines.append(f"DROP {statements[relkind]} IF EXISTS {', '.join(names)} CASCADE;")
    lines += [f"DROP FUNCTION IF EXISTS {name} CASCADE;" for name in functions]
    lines.append("RESET lock_timeout;")
    return "\n".join(lines) + "\n"


def _check_counts(manifest: Manifest, alias: str) -> None:
    now = table_counts(alias)
    wrong = [f"{table}: {now.get(table, 0):,} rows instead of {rows:,}"
             for table, rows in manifest.tables.items() if now.get(table) != rows]
    if wrong:
        raise BackupError("The restored database differs from the backup: "
                          + "; ".join(wrong[:5]))


# --- facts about a database --------------------------------------------------------------

def table_counts(alias: str = "default") -> dict[str, int]:
    """Rows of every table of the database, by table name."""
    conn = connections[alias]
    if conn.vendor == "sqlite":
        conn.ensure_connection()
        return _sqlite_counts(conn.connection)
    with conn.cursor() as cursor:
        return _postgres_counts(cursor)


def _sqlite_counts(db: sqlite3.Connection) -> dict[str, int]:
    names = [row[0] for row in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name")]
    counts = {}
    for name in names:
        quoted = '"' + name.replace('"', '""') + '"'
        counts[name] = db.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0]
    return counts


def _postgres_counts(cursor) -> dict[str, int]:
    cursor.execute("SELECT tablename, quote_ident(tablename) FROM pg_tables "
                   "WHERE schemaname = current_schema() ORDER BY tablename")
    counts = {}
    for name, quoted in cursor.fetchall():
        cursor.execute(f"SELECT count(*) FROM {quoted}")
        counts[name] = cursor.fetchone()[0]
    return counts


def _applied_migrations(cursor, tables: dict[str, int]) -> list[list[str]]:
    if "django_migrations" not in tables:  # never migrated
        return []
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    return [list(row) for row in cursor.fetchall()]


def data_in_database(alias: str = "default") -> dict[str, int]:
    """What a restore would replace: the tables with rows, if the database is in use; empty
    when it is fresh or just migrated.

    In use means kehu has users (every customer, order or note is someone's), or it holds
    tables that are not kehu's (restoring would remove them)."""
    counts = table_counts(alias)
    users = apps.get_model(settings.AUTH_USER_MODEL)._meta.db_table
    ours = _kehu_tables()
    foreign = [t for t in counts if not _is_kehu_table(t, ours)]
    if counts.get(users, 0) == 0 and not foreign:
        return {}
    return {t: n for t, n in counts.items()
            if t not in BOOKKEEPING and (n > 0 or t in foreign)}


def _kehu_tables() -> set[str]:
    tables = {m._meta.db_table for m in apps.get_models(include_auto_created=True)}
    return tables | BOOKKEEPING


def _is_kehu_table(table: str, ours: set[str]) -> bool:
    # Tables an app keeps beside its model's own (SQLite's full-text indexes and their
    # shadow tables) carry the model table's name as prefix.
    return table in ours or any(table.startswith(t + "_") for t in ours)


def summarise_tables(counts: dict[str, int], limit: int = 6) -> str:
    """'9 users, 69,659 transactions, 24,170 customers, ... (395,592 rows in 25 tables)'."""
    models = {m._meta.db_table: str(m._meta.verbose_name_plural)
              for m in apps.get_models(include_auto_created=True)}
    users = apps.get_model(settings.AUTH_USER_MODEL)._meta.db_table
    named = sorted(((t, n) for t, n in counts.items() if t in models and n > 0),
                   key=lambda item: (item[0] != users, -item[1], item[0]))
    shown = [f"{n:,} {models[t]}" for t, n in named[:limit]]
    if len(named) > limit:
        shown.append("...")
    ours = _kehu_tables()
    foreign = sorted(t for t in counts if not _is_kehu_table(t, ours))
    if foreign:
        more = ", ..." if len(foreign) > limit else ""
        shown.append(f"tables that are not kehu's ({', '.join(foreign[:limit])}{more})")
    total = sum(counts.values())
    return f"{', '.join(shown) or 'nothing'} ({total:,} rows in {len(counts)} tables)"


def when(created_at: str) -> str:
    """A manifest's time for people: '2026-12-06 07:30 UTC'."""
    try:
        return datetime.fromisoformat(created_at).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return created_at


def _unknown_migrations(manifest: Manifest) -> list[str]:
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    return [f"{app}.{name}" for app, name in manifest.migrations
            if (app, name) not in known and app in apps.app_configs]


def _pending_migrations(alias: str) -> list[str]:
    loader = MigrationLoader(connections[alias], ignore_no_migrations=True)
    return sorted(f"{app}.{name}" for app, name in loader.graph.nodes
                  if (app, name) not in loader.applied_migrations)


# --- PostgreSQL tools --------------------------------------------------------------------

def pg_tool(name: str) -> str:
    """The newest installed PostgreSQL client tool `name` (pg_dump reads servers up to its
    own version), from Debian's /usr/lib/postgresql/N/bin or PATH."""
    def version(path: str) -> tuple[int, ...]:
        found = re.search(r"/postgresql/([\d.]+)/bin/", path)
        return tuple(int(p) for p in found.group(1).split(".") if p) if found else (0,)

    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=version,
                        reverse=True)
    found = candidates[0] if candidates else shutil.which(name)
    if not found:
        raise BackupError(f"{name} is not installed; install the Debian package "
                          "postgresql-client (of the server's version or newer).")
    return found


# libpq's connection parameters and the environment variables that give them.
LIBPQ_ENVIRONMENT = {
    "host": "PGHOST", "hostaddr": "PGHOSTADDR", "port": "PGPORT", "dbname": "PGDATABASE",
    "user": "PGUSER", "password": "PGPASSWORD", "passfile": "PGPASSFILE",
    "service": "PGSERVICE", "options": "PGOPTIONS", "application_name": "PGAPPNAME",
    "connect_timeout": "PGCONNECT_TIMEOUT", "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY",
    "sslcrl": "PGSSLCRL", "gssencmode": "PGGSSENCMODE",
    "target_session_attrs": "PGTARGETSESSIONATTRS", "channel_binding": "PGCHANNELBINDING",
}


def pg_environment(settings_dict: dict) -> dict[str, str]:
    """The connection of Django's settings as libpq's environment variables: the password
    goes to the tool in PGPASSWORD, never on its command line."""
    # As Django connects: OPTIONS first, then NAME, USER, PASSWORD, HOST and PORT where set.
    params = {k: v for k, v in (settings_dict.get("OPTIONS") or {}).items()
              if k in LIBPQ_ENVIRONMENT}
    for key, param in (("NAME", "dbname"), ("USER", "user"), ("PASSWORD", "password"),
                       ("HOST", "host"), ("PORT", "port")):
        if settings_dict.get(key):
            params[param] = settings_dict[key]
    env = dict(os.environ)
    env.update({LIBPQ_ENVIRONMENT[k]: str(v) for k, v in params.items()
                if v not in (None, "")})
    return env


def _tool_message(stderr: str) -> str:
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    return " / ".join(lines[-3:]) or "no message"


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()

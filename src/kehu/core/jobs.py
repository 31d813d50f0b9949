"""Background jobs: long work run by `kehu worker`, with progress the UI polls.

Starting a job::

    from kehu.core import jobs

    def refresh_values(progress, team_id):            # module level: the worker imports it
        ids = list(...)
        progress.report(0, total=len(ids), message=_("Scoring customers"))
        for i, pk in enumerate(ids, 1):
            ...
            progress.report(i)                        # cheap: call it as often as you like
        return {"scored": len(ids)}                   # JSON-serialisable, kept in Job.result

    job = jobs.start("value.refresh", refresh_values, args=(team.pk,), user=request.user,
                     title=_("Refresh customer value"))

``start`` records a Job and, in the same transaction, puts one task on django-tasks' database
queue: ``run_job`` with the job's id, the target's dotted path, its arguments and the language
that is active. The worker sees both once the caller commits, or neither. So the target must
be a function defined at module level (a lambda, a closure or a method is refused at once,
before anything is queued), and its arguments must be JSON: pass ids, not model instances.

`kehu worker` (kehu.core.worker; one process or several, on any host that reaches the
database and the upload folder) takes the task and calls ``target(progress, *args,
**kwargs)`` in the language of the request that started it. What the target returns becomes
``Job.result``. If it raises, the job fails: a ``ServiceError``'s message is shown to the user
as the reason; anything else is logged with its traceback and shown as a short generic
reason. Queued and running jobs live in the database and the worker, so a restart of the web
process does not touch them.

The Job row is what users see of a job: its status, progress, result and error. django-tasks'
own row for the task (``Job.task_id``, a ``DBTaskResult``) only gets the job to a worker; it
ends as the job ends (successful, or failed with the traceback), and is marked failed along
with a job found interrupted. ``kehu prune_db_task_results`` deletes old ones.

Reading a job: ``jobs.get(pk)`` returns the Job with the freshest progress (``status``,
``done``, ``total``, ``percent``, ``message``, ``result``, ``error``, ``finished``). A job
still queued also says what it waits for (``waiting_for``: "worker", "busy" when the workers
are running other jobs, or "none" when no worker has taken a job for a while, with
``worker_seen_at``). In a template, ``{% include "core/_job.html" with job=job %}`` shows a
progress bar that polls itself every second with htmx and stops when the job has finished;
add ``refresh=True`` to reload the whole page at that moment (so that it can show the result).
``jobs.wait(pk)`` blocks until a job finishes (it needs a worker running);
``jobs.run_inline(...)`` runs a target in the calling thread with the same bookkeeping
(commands such as `kehu dedup`, which want a Job record and no worker), and
``kehu.core.worker.run_pending()`` runs every queued job in the calling thread (tests).

Why the job's own thread never writes its progress to the database: on SQLite, a job that
writes in one long transaction (an all-or-nothing import) holds the database's only write
lock until it commits. An UPDATE of the Job row from another connection would wait for that
lock; issued from the job's own thread, it would wait for itself until the busy timeout
fails it. So ``report()`` only updates an in-memory record, and a flusher thread of the
process running the job copies it out about once a second: on PostgreSQL into the Job row
through its own connection (row locks do not conflict, so every process sees it at once); on
SQLite into a small file beside the database file (``<database>-jobs/<id>.json``), which
needs no lock, because the Job row could not be updated until the job commits. Readers put
that file, or in the process running the job its memory, over the row.

Interrupted jobs: a job whose worker died (kill -9, crash, power cut) would stay "running" in
the table. When a job is read, when a worker starts and before each job is started,
unfinished jobs whose process is gone are marked failed as interrupted, and their task too:
a runner on this host is checked by its process id and heartbeat; on another host, a job with
no heartbeat for ``KEHU_JOB_STALE_SECONDS`` (default 600) is given up, and so is a job that a
worker took from the queue but never started. A job's own transaction dies with its process,
so an interrupted job has written nothing and can simply be run again.
"""

from __future__ import annotations

import inspect
import json
import logging
import math
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from kehu.core.errors import ServiceError
from kehu.core.models import Job, JobStatus

logger = logging.getLogger(__name__)

FLUSH_INTERVAL = 1.0  # seconds between copies of progress out of memory
HEARTBEAT_INTERVAL = 15.0  # a job whose progress does not move still beats this often
NO_WORKER_AFTER = 30.0  # seconds a job may wait, no other job running, before we say so
_FINAL_WRITE_ATTEMPTS = 20  # each waits up to the database's busy timeout
UNFINISHED = (JobStatus.QUEUED, JobStatus.RUNNING)

UNCHANGED: Any = object()

Target = Callable[..., Any]


class JobFailed(Exception):
    """Raised in the worker once a job has failed and said why, so that its task fails too."""


@dataclass
class _Live:
    created: str  # the Job's created_at, to tell its progress file from an older job's
    status: str = JobStatus.RUNNING
    done: int = 0
    total: int | None = None
    message: str = ""
    dirty: bool = True
    flushed_at: float = 0.0


_lock = threading.Lock()
_file_lock = threading.Lock()
_live: dict[int, _Live] = {}
_flusher: threading.Thread | None = None
_runner: tuple[int, str] | None = None


class Progress:
    """What a job's target reports through. Only touches memory; see the module docstring."""

    def __init__(self, job_id: int):
        self.job_id = job_id

    def report(self, done: int, total: int | None = UNCHANGED,
               message: str | None = UNCHANGED) -> None:
        """`done` units of work so far, out of `total` (None: not known yet), doing
        `message`. Arguments left out keep their previous value."""
        with _lock:
            live = _live.get(self.job_id)
            if live is None:
                return
            live.done = int(done)
            if total is not UNCHANGED:
                live.total = None if total is None else int(total)
            if message is not UNCHANGED:
                live.message = str(message or "")[:300]
            live.dirty = True


# Starting -----------------------------------------------------------------------------------

def start(kind: str, target: Target, *, args: tuple | list = (), kwargs: dict | None = None,
          user=None, title: str = "") -> Job:
    """Create a job and queue it for `kehu worker`, which calls
    `target(progress, *args, **kwargs)`. TypeError, before anything is written, if the target
    is not a module-level function or the arguments are not JSON."""
    path = target_path(target)
    args = json_arguments(list(args), "args")
    kwargs = json_arguments(dict(kwargs or {}), "kwargs")
    reap_interrupted()
    with transaction.atomic():
        job = Job.objects.create(kind=kind, title=str(title or kind)[:200],
                                 user=user if getattr(user, "pk", None) else None)
        queued = run_job.enqueue(job.pk, path, args, kwargs, translation.get_language())
        job.task_id = uuid.UUID(str(queued.id))
        job.save(update_fields=["task_id"])
    return job


def run_inline(kind: str, target: Target | str, *, args: tuple | list = (),
               kwargs: dict | None = None, user=None, title: str = "") -> Job:
    """Run a job in the calling thread (a command), recorded like a background job."""
    reap_interrupted()
    job = Job.objects.create(kind=kind, title=str(title or kind)[:200],
                             user=user if getattr(user, "pk", None) else None,
                             runner=runner_id(), heartbeat_at=timezone.now())
    _work(job.pk, target, list(args), dict(kwargs or {}), translation.get_language(),
          close=False)
    return get(job.pk)


def target_path(target: Target) -> str:
    """The dotted path the worker imports `target` by; TypeError if it has none."""
    qualname = getattr(target, "__qualname__", "")
    module = getattr(target, "__module__", "")
    if not inspect.isfunction(target) or "." in qualname or "<" in qualname \
            or module == "__main__":
        raise TypeError(f"A job's target must be a function defined at module level, so that "
                        f"the worker can import it by name; {target!r} is not.")
    path = f"{module}.{qualname}"
    try:
        found = import_string(path)
    except ImportError:
        found = None
    if found is not target:
        raise TypeError(f"A job's target must be importable as {path}; something else, or "
                        f"nothing, has that name.")
    return path


def json_arguments(value: Any, where: str) -> Any:
    """`value` as the worker will receive it (tuples become lists); TypeError naming the
    first part that is not JSON."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"A job's {where} must be JSON; {value!r} is not a JSON number.")
        return value
    if isinstance(value, (list, tuple)):
        return [json_arguments(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for key, v in value.items():
            if not isinstance(key, str):
                raise TypeError(f"A job's {where} must be JSON; the key {key!r} is not a "
                                f"string.")
            out[key] = json_arguments(v, f"{where}[{key!r}]")
        return out
    raise TypeError(f"A job's {where} must be JSON (pass ids, not objects); "
                    f"{type(value).__name__} is not.")


@task()
def run_job(job_id: int, target: str, args: list, kwargs: dict, language: str | None
            ) -> dict[str, Any]:
    """The one task kehu queues: run job `job_id` in this worker."""
    ok, value = _work(job_id, target, args, kwargs, language)
    if not ok:
        raise JobFailed(value)
    return {"job": job_id}


def _work(job_id: int, target: Target | str, args: list, kwargs: dict, language: str | None,
          close: bool = True) -> tuple[bool, Any]:
    """Run a queued job here: (True, result), or (False, the reason it failed)."""
    began = time.monotonic()
    # In memory first: a reader in this process must never see the job running here but
    # not in memory, which is how it tells a job whose process is gone.
    with _lock:
        _live[job_id] = _Live(created="")
    try:
        job = _begin(job_id)
    except BaseException:
        with _lock:
            _live.pop(job_id, None)
        raise
    if job is None:
        with _lock:
            _live.pop(job_id, None)
        return False, f"job {job_id} is no longer queued"
    logger.info("job #%d %s: started", job_id, job.title)
    with _lock:
        _live[job_id].created = job.created_at.isoformat()
    _ensure_flusher()
    try:
        with translation.override(language):
            try:
                func = import_string(target) if isinstance(target, str) else target
                result = func(Progress(job_id), *args, **kwargs)
                result = json.loads(json.dumps(result, cls=DjangoJSONEncoder))
            except Exception as exc:  # noqa: BLE001 - any failure fails the job, never the worker
                reason = _reason(exc)
                if close:
                    # The target's transaction is rolled back; start from a clean connection.
                    connection.close()
                _finish(job_id, JobStatus.FAILED, error=reason)
                logger.info("job #%d %s: failed after %.1f s: %s", job_id, job.title,
                            time.monotonic() - began, reason)
                return False, reason
            _finish(job_id, JobStatus.DONE, result=result)
            logger.info("job #%d %s: done in %.1f s", job_id, job.title,
                        time.monotonic() - began)
            return True, result
    finally:
        with _file_lock:
            with _lock:
                _live.pop(job_id, None)
            _remove_progress_file(job_id)
        if close:
            connection.close()


def _begin(job_id: int) -> Job | None:
    """Mark a queued job running in this process; None if it is not queued (any more)."""
    now = timezone.now()
    if not _write(job_id, only_queued=True, status=JobStatus.RUNNING, runner=runner_id(),
                  started_at=now, heartbeat_at=now):
        return None
    return Job.objects.filter(pk=job_id).first()


def _reason(exc: Exception) -> str:
    if isinstance(exc, ServiceError):
        return exc.message
    logger.exception("background job failed")
    return _("The job stopped because of an unexpected error (%(error)s); the details are in "
             "the server log.") % {"error": type(exc).__name__}


def _finish(job_id: int, status: str, *, result: Any = None, error: str = "") -> None:
    with _lock:
        live = replace(_live.get(job_id) or _Live(created=""))
    fields = {"status": status, "finished_at": timezone.now(), "result": result,
              "error": error, "done": live.done, "total": live.total,
              "message": live.message, "heartbeat_at": timezone.now()}
    if status == JobStatus.DONE and live.total is not None:
        fields["done"] = live.total
    _write(job_id, **fields)


def _write(job_id: int, *, only_queued: bool = False, **fields: Any) -> int:
    """A status change must not be lost because another writer held SQLite's lock for
    longer than the busy timeout: try again."""
    rows = Job.objects.filter(pk=job_id)
    if only_queued:
        rows = rows.filter(status=JobStatus.QUEUED)
    for attempt in range(_FINAL_WRITE_ATTEMPTS):
        try:
            return rows.update(**fields)
        except DatabaseError:
            if attempt == _FINAL_WRITE_ATTEMPTS - 1:
                raise
            connection.close()
            time.sleep(0.5)
    return 0


# The flusher --------------------------------------------------------------------------------

def _ensure_flusher() -> None:
    global _flusher
    with _lock:
        if _flusher is None or not _flusher.is_alive():
            _flusher = threading.Thread(target=_flush_loop, name="kehu-job-flusher",
                                        daemon=True)
            _flusher.start()


def _flush_loop() -> None:
    global _flusher
    try:
        while True:
            time.sleep(FLUSH_INTERVAL)
            with _lock:
                if not _live:
                    _flusher = None
                    return
                now = time.monotonic()
                due = []
                for pk, live in _live.items():
                    if live.dirty or now - live.flushed_at >= HEARTBEAT_INTERVAL:
                        due.append((pk, replace(live)))
                        live.dirty, live.flushed_at = False, now
            directory = _progress_dir()
            for pk, state in due:
                if directory is not None:
                    _write_progress_file(directory, pk, state)
                    continue
                try:
                    Job.objects.filter(pk=pk, status__in=UNFINISHED).update(
                        done=state.done, total=state.total, message=state.message,
                        heartbeat_at=timezone.now())
                except DatabaseError:
                    # Could not write for longer than the busy timeout: again next round.
                    connection.close()
                    with _lock:
                        if pk in _live:
                            _live[pk].dirty = True
    finally:
        connection.close()


# Progress files (SQLite) --------------------------------------------------------------------

def _progress_dir() -> Path | None:
    """Where the progress of running jobs is kept on SQLite: beside the database file, so
    that every process using the database finds it. None on other databases."""
    if connection.vendor != "sqlite" or connection.is_in_memory_db():
        return None
    return Path(f"{connection.settings_dict['NAME']}-jobs")


def _write_progress_file(directory: Path, job_id: int, state: _Live) -> None:
    data = {"created": state.created, "runner": runner_id(), "done": state.done,
            "total": state.total, "message": state.message,
            "beat": timezone.now().isoformat()}
    with _file_lock:
        with _lock:
            if job_id not in _live:
                return  # finished meanwhile: its file is gone and must stay gone
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            scratch = directory / f".{job_id}.{os.getpid()}.tmp"
            scratch.write_text(json.dumps(data), encoding="utf-8")
            os.replace(scratch, directory / f"{job_id}.json")
        except OSError:
            logger.warning("could not write the progress of job %d", job_id, exc_info=True)


def _read_progress_file(job: Job) -> dict[str, Any] | None:
    directory = _progress_dir()
    if directory is None:
        return None
    try:
        data = json.loads((directory / f"{job.pk}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("created") != job.created_at.isoformat():
        return None  # left by a job of an earlier database with the same id
    return data


def _remove_progress_file(job_id: int) -> None:
    directory = _progress_dir()
    if directory is not None:
        (directory / f"{job_id}.json").unlink(missing_ok=True)


def _sweep_progress_files() -> None:
    """Forget the progress files of jobs that have finished (their worker died)."""
    directory = _progress_dir()
    if directory is None or not directory.is_dir():
        return
    ids = {int(p.stem): p for p in directory.glob("*.json") if p.stem.isdigit()}
    if not ids:
        return
    unfinished = set(Job.objects.filter(pk__in=ids, status__in=UNFINISHED)
                     .values_list("pk", flat=True))
    for pk, path in ids.items():
        if pk not in unfinished:
            path.unlink(missing_ok=True)


# Reading ------------------------------------------------------------------------------------

def get(job_id: int) -> Job:
    """The job with the freshest progress; Job.DoesNotExist if there is none."""
    job = Job.objects.get(pk=job_id)
    return overlay(job)


def overlay(job: Job) -> Job:
    """Put the freshest progress of `job` onto it (from memory if it runs in this process,
    from its progress file on SQLite), or mark it failed if its process is gone; a queued
    job also says what it waits for."""
    with _lock:
        live = replace(_live[job.pk]) if job.pk in _live else None
    if live is not None:
        if not job.finished:
            job.done, job.total, job.message = live.done, live.total, live.message
            job.status = JobStatus.RUNNING
        return job
    if job.finished:
        return job
    beat = None
    data = _read_progress_file(job)
    if data is not None:
        job.done, job.total = int(data.get("done") or 0), data.get("total")
        job.message = str(data.get("message") or "")
        job.status = JobStatus.RUNNING
        beat = _parse_time(data.get("beat"))
    if _is_dead(job, beat):
        _mark_interrupted(job.pk, job.task_id)
        job.refresh_from_db()
    elif job.status == JobStatus.QUEUED:
        _note_waiting(job)
    return job


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _note_waiting(job: Job) -> None:
    job.waiting_for, job.worker_seen_at = "worker", None
    if DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).exists():
        job.waiting_for = "busy"
    elif (timezone.now() - job.created_at).total_seconds() >= NO_WORKER_AFTER:
        job.waiting_for = "none"
        job.worker_seen_at = DBTaskResult.objects.aggregate(seen=Max("started_at"))["seen"]


def wait(job_id: int, timeout: float = 60.0, interval: float = 0.1) -> Job:
    """Block until the job has finished; TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        job = get(job_id)
        if job.finished:
            return job
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} still {job.status} after {timeout} s")
        time.sleep(interval)


# Interrupted jobs ---------------------------------------------------------------------------

def runner_id() -> str:
    """host:pid:token of this process; the token tells a new process from an old one that
    had the same pid."""
    global _runner
    pid = os.getpid()
    with _lock:
        if _runner is None or _runner[0] != pid:  # recomputed after a fork
            _runner = (pid, f"{socket.gethostname()}:{pid}:{uuid.uuid4().hex[:12]}")
        return _runner[1]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OverflowError:
        return False
    return True


def _stale_after() -> float:
    return float(getattr(settings, "KEHU_JOB_STALE_SECONDS", 600))


def _is_dead(job: Job, beat: datetime | None = None) -> bool:
    if job.status == JobStatus.QUEUED and job.task_id is not None:
        return _task_lost(job)
    host, _sep, rest = job.runner.partition(":")
    pid_text, _sep, token = rest.partition(":")
    my_host, _sep, my_rest = runner_id().partition(":")
    my_pid, _sep, my_token = my_rest.partition(":")
    beats = [b for b in (job.heartbeat_at, beat) if b] or [job.created_at]
    stale = (timezone.now() - max(beats)).total_seconds() > _stale_after()
    if host != my_host or not pid_text.isdigit():
        return stale
    if pid_text == my_pid:
        if token != my_token:
            return True  # an earlier process that had this pid
        with _lock:
            return job.pk not in _live
    return not _pid_alive(int(pid_text)) or stale


def _task_lost(job: Job) -> bool:
    """A queued job is waiting as long as its task is; a worker that took the task starts
    the job at once, unless it died in between."""
    task = DBTaskResult.objects.filter(pk=job.task_id).values_list("status",
                                                                   "started_at").first()
    if task is None:
        return True
    status, started_at = task
    if status == TaskResultStatus.READY:
        return False
    if status == TaskResultStatus.RUNNING:
        return started_at is None or \
            (timezone.now() - started_at).total_seconds() > _stale_after()
    return True  # the task ended without ever starting the job


def _interrupted_reason() -> str:
    return _("Interrupted: the process running this job stopped before it finished. Nothing "
             "it was writing was kept; run it again.")


def _mark_interrupted(job_id: int, task_id: uuid.UUID | None) -> int:
    reason = _interrupted_reason()
    count = Job.objects.filter(pk=job_id, status__in=UNFINISHED).update(
        status=JobStatus.FAILED, finished_at=timezone.now(), error=reason)
    if task_id is not None:
        _end_tasks([task_id], TaskResultStatus.FAILED, reason)
    _remove_progress_file(job_id)
    if count:
        logger.warning("job #%d was interrupted: its process is gone", job_id)
    return count


def _end_tasks(task_ids: list, status: str, reason: str = "") -> None:
    DBTaskResult.objects.filter(
        pk__in=task_ids, status__in=(TaskResultStatus.READY, TaskResultStatus.RUNNING)
    ).update(status=status, finished_at=timezone.now(), return_value=None,
             exception_class_path="" if status == TaskResultStatus.SUCCESSFUL
             else "kehu.core.jobs.JobFailed", traceback=reason)


def reap_interrupted() -> int:
    """Mark failed every unfinished job whose process is gone, and end the tasks that
    workers left running; returns how many jobs were marked."""
    count = 0
    for job in Job.objects.filter(status__in=UNFINISHED):
        data = _read_progress_file(job)
        beat = _parse_time(data.get("beat")) if data else None
        if _is_dead(job, beat):
            count += _mark_interrupted(job.pk, job.task_id)
    # A worker that died between a job's last write and its task's leaves the task running.
    running = list(DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING)
                   .values_list("pk", flat=True))
    if running:
        ended = dict(Job.objects.filter(task_id__in=running).exclude(status__in=UNFINISHED)
                     .values_list("task_id", "status"))
        _end_tasks([t for t, s in ended.items() if s == JobStatus.DONE],
                   TaskResultStatus.SUCCESSFUL)
        _end_tasks([t for t, s in ended.items() if s != JobStatus.DONE],
                   TaskResultStatus.FAILED, _interrupted_reason())
    _sweep_progress_files()
    return count


_reaped_at_start = False


def reap_on_first_request(**_kwargs: Any) -> None:
    """request_started receiver: a (re)started web process cleans up after workers and
    commands that died while it was down."""
    global _reaped_at_start
    if _reaped_at_start:
        return
    _reaped_at_start = True
    try:
        reap_interrupted()
    except DatabaseError:
        # Not migrated yet, or the database is busy: the next job start tries again.
        logger.warning("could not check for interrupted jobs", exc_info=True)

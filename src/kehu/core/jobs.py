"""Background jobs: long work run in a thread of the web process, with progress the UI polls.

Starting a job::

    from kehu.core import jobs

    def refresh_values(progress, team_id):            # runs in a worker thread
        ids = list(...)
        progress.report(0, total=len(ids), message=_("Scoring customers"))
        for i, pk in enumerate(ids, 1):
            ...
            progress.report(i)                        # cheap: call it as often as you like
        return {"scored": len(ids)}                   # JSON-serialisable, kept in Job.result

    job = jobs.start("value.refresh", refresh_values, args=(team.pk,), user=request.user,
                     title=_("Refresh customer value"))

The target is called as ``target(progress, *args, **kwargs)`` in a worker thread with its
own database connection and the language that was active when the job was started, after the
transaction that started it commits. What it returns becomes ``Job.result``. If it raises, the
job fails: a ``ServiceError``'s message is shown to the user as the reason; anything else is
logged with its traceback and shown as a short generic reason.

Reading a job: ``jobs.get(pk)`` returns the Job with the freshest progress (``status``,
``done``, ``total``, ``percent``, ``message``, ``result``, ``error``, ``finished``). In a
template, ``{% include "core/_job.html" with job=job %}`` shows a progress bar that polls
itself every second with htmx and stops when the job has finished; add ``refresh=True`` to
reload the whole page at that moment (so that it can show the result). ``jobs.wait(pk)``
blocks until a job finishes (commands, tests); ``jobs.run_inline(...)`` runs a target in the
calling thread with the same bookkeeping (commands that want a Job record and no thread).

At most ``KEHU_JOB_WORKERS`` jobs (default 2) run at once per process; the others wait as
"queued".

Why the job's own thread never writes its progress to the database: on SQLite, a job that
writes in one long transaction (an all-or-nothing import) holds the database's only write
lock until it commits. An UPDATE of the Job row from another connection would wait for that
lock; issued from the job's own thread, it would wait for itself until the busy timeout
fails it. So ``report()`` only updates an in-memory record. A flusher thread copies it to the
Job row about once a second through its own connection — there, waiting for the lock harms
nobody — and readers in this process get the in-memory progress directly. On PostgreSQL the
flush goes through at once (row locks do not conflict), so every process sees progress.

Interrupted jobs: a job whose process died (kill -9, crash, restart) would stay "running" in
the table. On the first request a process serves, before each job starts, and whenever a job
is read, jobs whose process is gone are marked failed as interrupted: a runner on this host
is checked by its process id; on another host, a job with no heartbeat for
``KEHU_JOB_STALE_SECONDS`` (default 600) is given up. A job's own transaction dies with its
process, so an interrupted job has written nothing and can simply be run again.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kehu.core.errors import ServiceError
from kehu.core.models import Job, JobStatus

logger = logging.getLogger(__name__)

FLUSH_INTERVAL = 1.0  # seconds between copies of progress to the Job row
HEARTBEAT_INTERVAL = 15.0  # a job whose progress does not move still beats this often
_FINAL_WRITE_ATTEMPTS = 20  # each waits up to the database's busy timeout

UNCHANGED: Any = object()

Target = Callable[..., Any]


@dataclass
class _Live:
    status: str = JobStatus.QUEUED
    done: int = 0
    total: int | None = None
    message: str = ""
    dirty: bool = True
    flushed_at: float = 0.0


_lock = threading.Lock()
_live: dict[int, _Live] = {}
_flusher: threading.Thread | None = None
_slots: threading.BoundedSemaphore | None = None
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

def start(kind: str, target: Target, *, args: tuple = (), kwargs: dict | None = None,
          user=None, title: str = "") -> Job:
    """Create a job and run `target(progress, *args, **kwargs)` in a worker thread."""
    reap_interrupted()
    job = _create(kind, user, title)
    language = translation.get_language()
    thread = threading.Thread(target=_work, args=(job.pk, target, args, kwargs or {}, language),
                              name=f"kehu-job-{job.pk}", daemon=True)
    # The thread reads the Job row (and whatever the caller wrote with it) through its own
    # connection, so it may start only once the caller's transaction is committed.
    transaction.on_commit(thread.start)
    return job


def run_inline(kind: str, target: Target, *, args: tuple = (), kwargs: dict | None = None,
               user=None, title: str = "") -> Job:
    """Run a job in the calling thread (a command), recorded like a background job."""
    reap_interrupted()
    job = _create(kind, user, title)
    _work(job.pk, target, args, kwargs or {}, translation.get_language(), close=False)
    return get(job.pk)


def _create(kind: str, user, title: str) -> Job:
    job = Job.objects.create(kind=kind, title=str(title or kind)[:200],
                             user=user if getattr(user, "pk", None) else None,
                             runner=runner_id(), heartbeat_at=timezone.now())
    with _lock:
        _live[job.pk] = _Live()
    _ensure_flusher()
    return job


def _work(job_id: int, target: Target, args: tuple, kwargs: dict, language: str | None,
          close: bool = True) -> None:
    slots = _get_slots()
    try:
        with slots, translation.override(language):
            now = timezone.now()
            _write(job_id, status=JobStatus.RUNNING, started_at=now, heartbeat_at=now)
            with _lock:
                _live[job_id].status = JobStatus.RUNNING
            try:
                result = target(Progress(job_id), *args, **kwargs)
                result = json.loads(json.dumps(result, cls=DjangoJSONEncoder))
            except Exception as exc:  # noqa: BLE001 - any failure fails the job, never the process
                reason = _reason(exc)
                if close:
                    # The target's transaction is rolled back; start from a clean connection.
                    connection.close()
                _finish(job_id, JobStatus.FAILED, error=reason)
            else:
                _finish(job_id, JobStatus.DONE, result=result)
    finally:
        with _lock:
            _live.pop(job_id, None)
        if close:
            connection.close()


def _reason(exc: Exception) -> str:
    if isinstance(exc, ServiceError):
        return exc.message
    logger.exception("background job failed")
    return _("The job stopped because of an unexpected error (%(error)s); the details are in "
             "the server log.") % {"error": type(exc).__name__}


def _finish(job_id: int, status: str, *, result: Any = None, error: str = "") -> None:
    with _lock:
        live = replace(_live.get(job_id) or _Live())
    fields = {"status": status, "finished_at": timezone.now(), "result": result,
              "error": error, "done": live.done, "total": live.total,
              "message": live.message, "heartbeat_at": timezone.now()}
    if status == JobStatus.DONE and live.total is not None:
        fields["done"] = live.total
    _write(job_id, **fields)


def _write(job_id: int, **fields: Any) -> None:
    """A status change must not be lost because another writer held SQLite's lock for
    longer than the busy timeout: try again."""
    for attempt in range(_FINAL_WRITE_ATTEMPTS):
        try:
            Job.objects.filter(pk=job_id).update(**fields)
            return
        except DatabaseError:
            if attempt == _FINAL_WRITE_ATTEMPTS - 1:
                raise
            connection.close()
            time.sleep(0.5)


def _get_slots() -> threading.BoundedSemaphore:
    global _slots
    with _lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(max(1, int(getattr(settings, "KEHU_JOB_WORKERS",
                                                                   2))))
        return _slots


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
            for pk, state in due:
                try:
                    Job.objects.filter(pk=pk, status__in=(JobStatus.QUEUED, JobStatus.RUNNING)
                                       ).update(done=state.done, total=state.total,
                                                message=state.message,
                                                heartbeat_at=timezone.now())
                except DatabaseError:
                    # Locked for longer than the busy timeout: try again on the next round.
                    connection.close()
                    with _lock:
                        if pk in _live:
                            _live[pk].dirty = True
    finally:
        connection.close()


# Reading ------------------------------------------------------------------------------------

def get(job_id: int) -> Job:
    """The job with the freshest progress; Job.DoesNotExist if there is none."""
    job = Job.objects.get(pk=job_id)
    return overlay(job)


def overlay(job: Job) -> Job:
    """Put the in-memory progress of a job running in this process onto `job`, or mark it
    failed if its process is gone."""
    with _lock:
        live = replace(_live[job.pk]) if job.pk in _live else None
    if live is not None:
        if not job.finished:
            job.done, job.total, job.message = live.done, live.total, live.message
            if live.status == JobStatus.RUNNING:
                job.status = JobStatus.RUNNING
        return job
    if not job.finished and _is_dead(job):
        _mark_interrupted(job.pk)
        job.refresh_from_db()
    return job


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


def _is_dead(job: Job) -> bool:
    host, _sep, rest = job.runner.partition(":")
    pid_text, _sep, token = rest.partition(":")
    my_host, _sep, my_rest = runner_id().partition(":")
    my_pid, _sep, my_token = my_rest.partition(":")
    stale_after = float(getattr(settings, "KEHU_JOB_STALE_SECONDS", 600))
    beat = job.heartbeat_at or job.created_at
    stale = beat is None or (timezone.now() - beat).total_seconds() > stale_after
    if host != my_host or not pid_text.isdigit():
        return stale
    if pid_text == my_pid:
        if token != my_token:
            return True  # an earlier process that had this pid
        with _lock:
            return job.pk not in _live
    return not _pid_alive(int(pid_text)) or stale


def _mark_interrupted(job_id: int) -> int:
    return Job.objects.filter(pk=job_id, status__in=(JobStatus.QUEUED, JobStatus.RUNNING)
                              ).update(status=JobStatus.FAILED, finished_at=timezone.now(),
                                       error=_("Interrupted: the process running this job "
                                               "stopped before it finished. Nothing it was "
                                               "writing was kept; run it again."))


def reap_interrupted() -> int:
    """Mark failed every unfinished job whose process is gone; returns how many."""
    count = 0
    for job in Job.objects.filter(status__in=(JobStatus.QUEUED, JobStatus.RUNNING)):
        if _is_dead(job):
            count += _mark_interrupted(job.pk)
    return count


_reaped_at_start = False


def reap_on_first_request(**_kwargs: Any) -> None:
    """request_started receiver: a (re)started web process cleans up after its predecessor."""
    global _reaped_at_start
    if _reaped_at_start:
        return
    _reaped_at_start = True
    try:
        reap_interrupted()
    except DatabaseError:
        # Not migrated yet, or the database is busy: the next job start tries again.
        logger.warning("could not check for interrupted jobs", exc_info=True)

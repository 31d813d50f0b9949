"""`kehu worker`: takes the queued background jobs from the database and runs them.

The loop is django-tasks-db's own worker: each of the worker's threads claims one task at a
time in a short transaction of its own (SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL, an
exclusive transaction on SQLite), so that several threads, and several worker processes on
one host or many, never take the same job twice. The task is kehu.core.jobs.run_job, which
runs the job with its progress and its Job record.

Stopping: the first SIGTERM or SIGINT (Ctrl-C) stops taking jobs and lets the running ones
finish; a second one abandons them at once. An abandoned job's transaction dies with the
process, and the job is reported as interrupted (kehu.core.jobs), like one whose worker was
killed.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from typing import Any

from django.db import connection
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME
from django_tasks_db.management.commands.db_worker import Worker

from kehu.core import jobs

logger = logging.getLogger(__name__)


class Loop(Worker):
    """One thread's loop; counts the jobs it ran."""

    def __init__(self, *, name: str, interval: float = 1.0, once: bool = False):
        super().__init__(queue_names=[DEFAULT_TASK_QUEUE_NAME], interval=interval, batch=once,
                         backend_name=DEFAULT_TASK_BACKEND_ALIAS, startup_delay=False,
                         max_tasks=None, worker_id=name, excluded_queue_names=[])
        self.ran = 0

    def run_task(self, db_task_result: Any) -> None:
        try:
            super().run_task(db_task_result)
        finally:
            self.ran += 1

    def stop(self) -> None:
        self.running = False


def serve(loop: Loop) -> None:
    """Run `loop` until it is stopped (or, with `once`, until the queue is empty). A lost
    database connection is logged and the loop starts again, as a web request would."""
    try:
        while True:
            try:
                loop.run()
                return
            except Exception:  # noqa: BLE001 - the worker outlives a database hiccup
                if not loop.running:
                    return
                logger.exception("the worker's loop failed; it starts again in a moment")
                connection.close()
                time.sleep(max(loop.interval, 1.0))
    finally:
        connection.close()


def run_pending() -> int:
    """Run every job waiting in the queue in this thread, one by one, and return how many
    ran. For `kehu worker --once` and tests; the data must be committed (the jobs run as
    they would in the worker), so it refuses to run inside a transaction."""
    if connection.in_atomic_block:
        raise RuntimeError("run_pending() runs jobs as the worker would, outside any "
                           "transaction; the jobs' data must be committed first.")
    jobs.reap_interrupted()
    loop = Loop(name=worker_name(0), interval=0, once=True)
    serve(loop)
    return loop.ran


def worker_name(thread: int) -> str:
    """What django-tasks records as the worker of a task: this process and thread."""
    return f"{jobs.runner_id()}:{thread}"[-64:]


class WorkerProcess:
    """The threads of one `kehu worker`, and how it stops."""

    def __init__(self, *, threads: int, interval: float, once: bool):
        self.loops = [Loop(name=worker_name(i), interval=interval, once=once)
                      for i in range(max(1, threads))]
        self.stopping = False

    def stop(self, signum: int, _frame: Any = None) -> None:
        if self.stopping:
            logger.warning("%s again: abandoning the running jobs; they will show as "
                           "interrupted", signal.Signals(signum).name)
            os._exit(1)
        self.stopping = True
        busy = sum(1 for loop in self.loops if loop.running_task)
        logger.warning("%s: stopping%s", signal.Signals(signum).name,
                       f" once the {busy} running job(s) finish; send it again to abandon them"
                       if busy else "")
        for loop in self.loops:
            loop.stop()

    def run(self) -> None:
        before = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                before[signum] = signal.signal(signum, self.stop)
        try:
            jobs.reap_interrupted()
            threads = [threading.Thread(target=serve, args=(loop,), name=f"kehu-worker-{i}")
                       for i, loop in enumerate(self.loops)]
            for thread in threads:
                thread.start()
            # Join with a timeout, so that the main thread stays free to handle signals.
            while any(thread.is_alive() for thread in threads):
                for thread in threads:
                    thread.join(0.2)
        finally:
            for signum, handler in before.items():
                signal.signal(signum, handler)

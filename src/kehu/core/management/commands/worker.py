"""`kehu worker`: run the background jobs (imports, scans, value refreshes) that the web
pages and the API queue; see kehu.core.worker."""

from __future__ import annotations

import logging
import os
import socket
import sys
from argparse import ArgumentTypeError
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from kehu.core.worker import WorkerProcess


def _positive_int(value: str) -> int:
    n = int(value)
    if n < 1:
        raise ArgumentTypeError("must be 1 or more")
    return n


def _interval(value: str) -> float:
    n = float(value)
    if not 0 < n <= 60:
        raise ArgumentTypeError("must be more than 0 and at most 60 seconds")
    return n


class Command(BaseCommand):
    help = ("Run the background jobs that kehu's pages and API queue (imports, duplicate "
            "scans, value refreshes) until stopped with SIGTERM or Ctrl-C, which lets the "
            "running jobs finish (a second one abandons them). Run one or more beside the "
            "web server, with the same settings.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--threads", type=_positive_int, default=None,
                            help="jobs run at once (default KEHU_JOB_WORKERS: 1 on SQLite, "
                                 "2 otherwise)")
        parser.add_argument("--interval", type=_interval, default=1.0,
                            help="seconds between looks at the queue when it is empty "
                                 "(default 1)")
        parser.add_argument("--once", action="store_true",
                            help="run the jobs waiting now, then stop")

    def handle(self, *args: Any, **options: Any) -> None:
        self._logging(options["verbosity"])
        threads = options["threads"] or settings.KEHU_JOB_WORKERS
        log = logging.getLogger("kehu.core.worker")
        log.info("kehu worker %d on %s: %d thread(s), %s", os.getpid(), socket.gethostname(),
                 threads, "until the queue is empty" if options["once"]
                 else "until SIGTERM or Ctrl-C")
        WorkerProcess(threads=threads, interval=options["interval"],
                      once=options["once"]).run()
        log.info("kehu worker %d stopped", os.getpid())

    def _logging(self, verbosity: int) -> None:
        level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
        kehu = logging.getLogger("kehu")
        if not kehu.handlers:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
            kehu.addHandler(handler)
        kehu.setLevel(level)
        # kehu logs each job itself, with its reason; django-tasks' own line for each task
        # says the same without one.
        logging.getLogger("django_tasks").setLevel(logging.CRITICAL)
        logging.getLogger("django_tasks_db").setLevel(max(level, logging.WARNING))

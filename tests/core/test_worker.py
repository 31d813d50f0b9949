"""`kehu worker` as a real process beside this one (the web process, here): it takes an
import queued through the wizard, its progress shows while the import's transaction is still
open, SIGTERM lets the job finish, and a worker killed with kill -9 leaves its job failed as
interrupted with nothing written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from kehu.core import jobs
from kehu.core.models import JobStatus
from kehu.core.worker import run_pending
from kehu.customers.models import Customer
from kehu.dataio.imports import wizard
from kehu.dataio.models import ImportBatch
from tests.conftest import kehu_env

pytestmark = [pytest.mark.usefixtures("committed_db"), pytest.mark.slow]

ROWS = 6_000  # two chunks of the import's 5,000 rows: a pause inside its transaction
PROGRESS = {"Writing", "Checking and writing"}  # SQLite checks first; PostgreSQL at once


@pytest.fixture
def upload(users):
    lines = ["客户编号,客户名称,负责人"] + [f"W{i},上海客户{i}有限公司,sales1" for i in range(ROWS)]
    content = ("\n".join(lines) + "\n").encode()
    return wizard.store_upload(users["manager1"], "customers",
                               SimpleUploadedFile("客户.csv", content))


def start_worker(tmp_path, pause: float) -> subprocess.Popen:
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 - the process writes it
    # A pause after each written chunk, inside the import's transaction: time to look.
    env = kehu_env(tmp_path, KEHU_IMPORT_PAUSE_AFTER_CHUNK=str(pause))
    return subprocess.Popen([sys.executable, "-c", "from kehu.cli import main; main()",
                             "worker", "--interval", "0.2"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)


def worker_log(tmp_path) -> str:
    return (tmp_path / "worker.log").read_text()


def until(condition, tmp_path, timeout=90.0):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out; the worker said:\n" + worker_log(tmp_path))
        time.sleep(0.05)


def in_progress(job_id):
    job = jobs.get(job_id)
    return job if job.status == JobStatus.RUNNING and job.done and job.message in PROGRESS \
        else None


def test_the_worker_runs_a_queued_import_with_progress_and_finishes_it_on_sigterm(
        users, upload, tmp_path):
    job = wizard.start_import(users["manager1"], upload)
    assert jobs.get(job.pk).status == JobStatus.QUEUED
    worker = start_worker(tmp_path, pause=0.6)
    try:
        seen = until(lambda: in_progress(job.pk), tmp_path)
        # Progress from the worker's open transaction, of which nothing is visible yet.
        assert 0 < seen.done <= ROWS and not Customer.objects.exists()
        # A web process starting meanwhile (it looks for interrupted jobs) leaves the
        # worker's job alone.
        assert jobs.reap_interrupted() == 0
        assert jobs.get(job.pk).status == JobStatus.RUNNING
        # Stop the worker: it takes no new job but finishes this one.
        worker.send_signal(signal.SIGTERM)
        job = jobs.wait(job.pk, timeout=120)
        assert worker.wait(60) == 0, worker_log(tmp_path)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert job.status == JobStatus.DONE, job.error
    assert (job.result["created"], job.result["rows"], job.done, job.total) == (ROWS, ROWS,
                                                                                ROWS, ROWS)
    assert Customer.objects.count() == ROWS
    assert DBTaskResult.objects.get(pk=job.task_id).status == TaskResultStatus.SUCCESSFUL
    assert f"job #{job.pk} Import of 客户.csv: done" in worker_log(tmp_path)


def test_a_worker_killed_mid_import_leaves_the_job_interrupted_and_nothing_written(
        users, upload, tmp_path):
    job = wizard.start_import(users["manager1"], upload)
    worker = start_worker(tmp_path, pause=2)
    try:
        until(lambda: in_progress(job.pk), tmp_path)
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    job = jobs.get(job.pk)  # reading the job notices that its worker is gone
    assert job.status == JobStatus.FAILED and job.error.startswith("Interrupted")
    assert not Customer.objects.exists() and not ImportBatch.objects.exists()
    assert DBTaskResult.objects.get(pk=job.task_id).status == TaskResultStatus.FAILED
    # Nothing was kept, so the same file can simply be imported again.
    upload.refresh_from_db()
    again = wizard.start_import(users["manager1"], upload)
    assert again.pk != job.pk
    assert run_pending() == 1
    assert jobs.get(again.pk).status == JobStatus.DONE
    assert Customer.objects.count() == ROWS

"""Background jobs: threads with their own connections, progress that readers see while the
job holds a long write transaction, failures with reasons, and interrupted jobs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from kehu.accounts.models import Team
from kehu.core import jobs
from kehu.core.errors import ServiceError
from kehu.core.models import Job, JobStatus

pytestmark = pytest.mark.usefixtures("committed_db")


def _until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def test_the_test_database_is_a_file_so_threads_share_it():
    # Threads on Django's shared in-memory SQLite would meet table locks, not WAL.
    assert connection.vendor != "sqlite" or not connection.is_in_memory_db()


def test_a_job_runs_in_a_thread_and_keeps_its_result():
    def count(progress, n):
        for i in range(1, n + 1):
            Team.objects.create(name=f"team {i}")
            progress.report(i, total=n, message="counting")
        return {"made": n, "thread": threading.current_thread().name}

    job = jobs.start("test.count", count, args=(3,), title="Count")
    assert job.status == JobStatus.QUEUED
    job = jobs.wait(job.pk)
    assert job.status == JobStatus.DONE, job.error
    assert job.result == {"made": 3, "thread": f"kehu-job-{job.pk}"}
    assert (job.done, job.total, job.percent, job.message) == (3, 3, 100, "counting")
    assert job.started_at and job.finished_at and job.finished
    assert Team.objects.count() == 3


def test_a_failing_job_says_why_and_keeps_nothing_of_its_transaction():
    def refuse(progress):
        with transaction.atomic():
            Team.objects.create(name="half-done")
            raise ServiceError("The file has no header row.")

    def crash(progress):
        raise ZeroDivisionError

    refused = jobs.wait(jobs.start("test.refuse", refuse).pk)
    crashed = jobs.wait(jobs.start("test.crash", crash).pk)
    assert (refused.status, refused.error) == (JobStatus.FAILED, "The file has no header row.")
    assert crashed.status == JobStatus.FAILED
    assert "unexpected error (ZeroDivisionError)" in crashed.error
    assert not Team.objects.exists()


def test_progress_is_seen_while_the_job_holds_a_long_write_transaction():
    """On SQLite the job holds the only write lock for the whole transaction: progress must
    still reach readers, and nothing may wait for the lock the job itself holds."""
    release = threading.Event()
    written = threading.Event()

    def long_import(progress):
        with transaction.atomic():
            for i in range(1, 6):
                Team.objects.create(name=f"chunk {i}")
                progress.report(i, total=10, message="writing")
            written.set()
            assert release.wait(30)
            for i in range(6, 11):
                progress.report(i)
        return {"ok": True}

    job = jobs.start("test.long", long_import)
    assert written.wait(15)
    # A reader in this process sees the live progress although nothing is committed.
    seen = jobs.get(job.pk)
    assert (seen.status, seen.done, seen.total, seen.percent) == (JobStatus.RUNNING, 5, 10, 50)
    assert not Team.objects.exists()
    if connection.vendor == "postgresql":
        # Row locks do not conflict: the flusher writes the progress for every process.
        _until(lambda: Job.objects.get(pk=job.pk).done == 5)
    release.set()
    job = jobs.wait(job.pk, timeout=30)
    assert (job.status, job.done, job.result) == (JobStatus.DONE, 10, {"ok": True})
    assert Team.objects.count() == 5


def test_jobs_beyond_the_worker_limit_wait_queued(settings, monkeypatch):
    monkeypatch.setattr(jobs, "_slots", threading.BoundedSemaphore(1))
    gate = threading.Event()
    first = jobs.start("test.block", lambda progress: gate.wait(20))
    second = jobs.start("test.next", lambda progress: "second")
    _until(lambda: jobs.get(first.pk).status == JobStatus.RUNNING)
    time.sleep(0.3)
    assert jobs.get(second.pk).status == JobStatus.QUEUED
    gate.set()
    assert jobs.wait(second.pk).result == "second"


def _job(runner, beat_seconds_ago=0):
    return Job.objects.create(kind="test", title="t", status=JobStatus.RUNNING, runner=runner,
                              heartbeat_at=timezone.now() - timezone.timedelta(
                                  seconds=beat_seconds_ago))


def test_jobs_whose_process_is_gone_are_marked_interrupted(settings):
    settings.KEHU_JOB_STALE_SECONDS = 600
    host, pid, _token = jobs.runner_id().split(":")
    dead_pid = _job(f"{host}:999999999:abc")
    recycled_pid = _job(f"{host}:{pid}:not-this-process")
    elsewhere_alive = _job("other-host:123:abc", beat_seconds_ago=30)
    elsewhere_silent = _job("other-host:123:abc", beat_seconds_ago=3600)
    alive_here = _job(f"{host}:{os.getppid()}:abc")
    assert jobs.reap_interrupted() == 3
    status = dict(Job.objects.values_list("pk", "status"))
    assert status[dead_pid.pk] == status[recycled_pid.pk] == status[elsewhere_silent.pk] \
        == JobStatus.FAILED
    assert status[elsewhere_alive.pk] == status[alive_here.pk] == JobStatus.RUNNING
    assert "Interrupted" in Job.objects.get(pk=dead_pid.pk).error


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    # The server's address from the suite's own URL, with the test database's name.
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + s["NAME"]))


def test_a_killed_process_leaves_its_job_interrupted_and_nothing_written(tmp_path):
    script = (
        "from django.db import transaction\n"
        "from kehu.accounts.models import Team\n"
        "from kehu.core import jobs\n"
        "import time\n"
        "def work(progress):\n"
        "    with transaction.atomic():\n"
        "        Team.objects.create(name='never committed')\n"
        "        progress.report(1, total=2)\n"
        "        print('writing', flush=True)\n"
        "        time.sleep(60)\n"
        "jobs.run_inline('test.killed', work, title='killed')\n"
    )
    env = dict(os.environ, DATABASE_URL=_database_url(), DJANGO_SETTINGS_MODULE="kehu.settings",
               KEHU_VAR_DIR=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-c",
                             "from kehu.cli import main; main()", "shell", "--no-imports",
                             "-c", script],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:  # Django's shell may print notes before
            if line.strip() == "writing":
                break
        else:
            raise AssertionError(proc.stderr.read())
        job = Job.objects.get(kind="test.killed")
        assert job.status == JobStatus.RUNNING
        assert jobs.reap_interrupted() == 0  # the process is alive: the job is only slow
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    job = jobs.get(job.pk)  # reading a job also notices that its process died
    assert job.status == JobStatus.FAILED and "Interrupted" in job.error
    assert not Team.objects.filter(name="never committed").exists()


def test_the_status_partial_polls_until_the_job_finishes(client, users):
    client.force_login(users["sales1"])
    gate = threading.Event()

    def half_way(progress):
        progress.report(2, total=4, message="half")
        gate.wait(20)

    job = jobs.start("test.view", half_way, user=users["sales1"], title="Half way")
    _until(lambda: jobs.get(job.pk).done == 2)
    body = client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in body and 'value="2"' in body and "half" in body
    assert client.get(f"/jobs/{job.pk}/?refresh=1").get("HX-Refresh") is None
    gate.set()
    jobs.wait(job.pk)
    response = client.get(f"/jobs/{job.pk}/?refresh=1")
    assert "hx-trigger" not in response.content.decode()
    assert response["HX-Refresh"] == "true"
    # Somebody else's job does not exist for this user.
    client.force_login(users["sales2"])
    assert client.get(f"/jobs/{job.pk}/").status_code == 404

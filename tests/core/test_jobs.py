"""Background jobs: queued in the database for the worker, progress that readers see while
the job holds a long write transaction, failures with reasons, targets and arguments the
worker can take, several workers, and interrupted jobs. (A real `kehu worker` process:
tests/core/test_worker.py.)"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from kehu.accounts.models import Team
from kehu.core import jobs
from kehu.core.errors import ServiceError
from kehu.core.models import Job, JobStatus
from kehu.core.worker import Loop, run_pending, serve, worker_name
from tests.conftest import kehu_env

pytestmark = pytest.mark.usefixtures("committed_db")


def _until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


# Targets: module-level functions, as the worker imports them by name.

def count(progress, n):
    for i in range(1, n + 1):
        Team.objects.create(name=f"team {i}")
        progress.report(i, total=n, message="counting")
    return {"made": n, "thread": threading.current_thread().name}


def refuse(progress):
    with transaction.atomic():
        Team.objects.create(name="half-done")
        raise ServiceError("The file has no header row.")


def crash(progress):
    raise ZeroDivisionError


def echo(progress, *args, **kwargs):
    return {"args": args, "kwargs": kwargs}


def make_team(progress, name):
    Team.objects.create(name=name)
    time.sleep(0.05)


RELEASE = threading.Event()
WRITTEN = threading.Event()


def long_import(progress):
    with transaction.atomic():
        for i in range(1, 6):
            Team.objects.create(name=f"chunk {i}")
            progress.report(i, total=10, message="writing")
        WRITTEN.set()
        assert RELEASE.wait(30)
        for i in range(6, 11):
            progress.report(i)
    return {"ok": True}


def half_way(progress):
    progress.report(2, total=4, message="half")
    assert RELEASE.wait(30)


@pytest.fixture
def gates():
    RELEASE.clear()
    WRITTEN.clear()
    yield
    RELEASE.set()


def test_the_test_database_is_a_file_so_threads_share_it():
    # Threads on Django's shared in-memory SQLite would meet table locks, not WAL.
    assert connection.vendor != "sqlite" or not connection.is_in_memory_db()


def test_a_job_waits_queued_until_a_worker_runs_it_and_keeps_its_result():
    job = jobs.start("test.count", count, args=(3,), title="Count")
    job = jobs.get(job.pk)
    assert (job.status, job.waiting_for) == (JobStatus.QUEUED, "worker")
    assert not Team.objects.exists()
    assert run_pending() == 1
    job = jobs.get(job.pk)
    assert job.status == JobStatus.DONE, job.error
    assert job.result == {"made": 3, "thread": threading.current_thread().name}
    assert (job.done, job.total, job.percent, job.message) == (3, 3, 100, "counting")
    assert job.started_at and job.finished_at and job.finished
    assert Team.objects.count() == 3
    assert DBTaskResult.objects.get(pk=job.task_id).status == TaskResultStatus.SUCCESSFUL
    assert run_pending() == 0  # nothing runs twice


def test_a_job_started_in_a_transaction_that_rolls_back_never_runs():
    with pytest.raises(RuntimeError), transaction.atomic():
        jobs.start("test.count", count, args=(1,))
        raise RuntimeError
    assert run_pending() == 0
    assert not Job.objects.exists() and not Team.objects.exists()


def test_a_failing_job_says_why_and_keeps_nothing_of_its_transaction():
    refused = jobs.start("test.refuse", refuse)
    crashed = jobs.start("test.crash", crash)
    assert run_pending() == 2
    refused, crashed = jobs.get(refused.pk), jobs.get(crashed.pk)
    assert (refused.status, refused.error) == (JobStatus.FAILED, "The file has no header row.")
    assert crashed.status == JobStatus.FAILED
    assert "unexpected error (ZeroDivisionError)" in crashed.error
    assert not Team.objects.exists()
    # The queue's own record agrees, with the traceback for whoever looks in the admin site.
    task = DBTaskResult.objects.get(pk=crashed.task_id)
    assert task.status == TaskResultStatus.FAILED and "JobFailed" in task.traceback


def test_only_module_level_functions_and_json_arguments_are_queued():
    def closure(progress):
        return 1

    class Holder:
        @staticmethod
        def method(progress):
            return 1

    for target in (lambda progress: 1, closure, Holder.method, functools.partial(echo, 1),
                   print):
        with pytest.raises(TypeError, match="module level"):
            jobs.start("test.bad", target)
    for args, kwargs, where in [((Team(name="x"),), {}, "args\\[0\\]"),
                                ((), {"upload": uuid.uuid4()}, "kwargs\\['upload'\\]"),
                                (([1, {2: "a"}],), {}, "key 2"),
                                ((float("nan"),), {}, "JSON number")]:
        with pytest.raises(TypeError, match=where):
            jobs.start("test.bad", echo, args=args, kwargs=kwargs)
    assert not Job.objects.exists() and not DBTaskResult.objects.exists()
    # Tuples arrive as lists, as JSON has them.
    job = jobs.start("test.echo", echo, args=((1, 2), "二"), kwargs={"ip": None, "x": 1.5})
    run_pending()
    assert jobs.get(job.pk).result == {"args": [[1, 2], "二"], "kwargs": {"ip": None, "x": 1.5}}


def test_a_job_runs_in_the_language_it_was_started_in():
    from django.utils import translation

    with translation.override("zh-hans"):
        job = jobs.start("test.crash", crash)
    run_pending()
    assert "意外错误" in jobs.get(job.pk).error


def test_progress_is_seen_while_the_job_holds_a_long_write_transaction(job_worker, gates):
    """On SQLite the job holds the only write lock for the whole transaction: progress must
    still reach readers, and nothing may wait for the lock the job itself holds."""
    job = jobs.start("test.long", long_import)
    assert WRITTEN.wait(15)
    seen = jobs.get(job.pk)
    assert (seen.status, seen.done, seen.total, seen.percent) == (JobStatus.RUNNING, 5, 10, 50)
    assert not Team.objects.exists()
    if connection.vendor == "postgresql":
        # Row locks do not conflict: the flusher writes the progress into the row.
        _until(lambda: Job.objects.get(pk=job.pk).done == 5)
    RELEASE.set()
    _until(lambda: jobs.get(job.pk).finished, timeout=30)
    job = jobs.get(job.pk)
    assert (job.status, job.done, job.result) == (JobStatus.DONE, 10, {"ok": True})
    assert Team.objects.count() == 5


def test_several_workers_never_take_the_same_job_twice():
    started = [jobs.start("test.team", make_team, args=(f"t{i}",)) for i in range(8)]
    loops = [Loop(name=worker_name(i), interval=0, once=True) for i in range(3)]
    threads = [threading.Thread(target=serve, args=(loop,)) for loop in loops]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(loop.ran for loop in loops) == 8
    assert sorted(Team.objects.values_list("name", flat=True)) == [f"t{i}" for i in range(8)]
    assert {jobs.get(j.pk).status for j in started} == {JobStatus.DONE}


def test_kehu_worker_once_runs_what_waits_on_its_threads_and_stops():
    from django.core.management import call_command

    started = [jobs.start("test.team", make_team, args=(f"w{i}",)) for i in range(4)]
    call_command("worker", "--once", "--threads", "2", verbosity=0)
    assert {jobs.get(j.pk).status for j in started} == {JobStatus.DONE}
    assert Team.objects.count() == 4
    # django-tasks records which worker (process and thread) ran each task.
    assert all(ids[-1].startswith(jobs.runner_id())
               for ids in DBTaskResult.objects.values_list("worker_ids", flat=True))


def test_a_queued_job_says_what_it_waits_for(client, users):
    job = jobs.start("test.count", count, args=(1,), user=users["sales1"], title="Count")
    client.force_login(users["sales1"])
    body = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "Waiting for the worker…" in body and "No worker" not in body
    # Half a minute on, with no worker anywhere in sight, the page says so plainly.
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timezone.timedelta(
        seconds=jobs.NO_WORKER_AFTER + 1))
    body = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "No worker has taken a job yet." in body and "kehu worker" in body
    assert jobs.get(job.pk).waiting_for == "none"
    # A worker that took a job at 10:00 and was not seen again.
    seen = timezone.now().replace(hour=10, minute=0, second=0, microsecond=0)
    other = jobs.start("test.count", count, args=(1,))
    DBTaskResult.objects.filter(pk=other.task_id).update(
        status=TaskResultStatus.SUCCESSFUL, started_at=seen, finished_at=seen)
    body = client.get(f"/jobs/{job.pk}/").content.decode()
    assert f"No worker has taken a job since {timezone.localtime(seen):%Y-%m-%d %H:%M}." in body
    # A worker busy with another job is not missing.
    DBTaskResult.objects.filter(pk=other.task_id).update(status=TaskResultStatus.RUNNING,
                                                         started_at=timezone.now())
    body = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "which is running other jobs" in body and "No worker" not in body


def _job(runner, beat_seconds_ago=0, **fields):
    return Job.objects.create(kind="test", title="t", status=fields.pop("status",
                                                                       JobStatus.RUNNING),
                              runner=runner, heartbeat_at=timezone.now() - timezone.timedelta(
                                  seconds=beat_seconds_ago), **fields)


def test_jobs_whose_process_is_gone_are_marked_interrupted(settings):
    settings.KEHU_JOB_STALE_SECONDS = 600
    # Queued jobs live as long as their task: waiting, or taken by a worker a moment ago;
    # not taken by a worker that died before it could start the job, nor with a task gone.
    waiting, taken, never_started, task_gone = (jobs.start("test.count", count, args=(1,))
                                                for _i in range(4))
    DBTaskResult.objects.filter(pk=taken.task_id).update(status=TaskResultStatus.RUNNING,
                                                         started_at=timezone.now())
    DBTaskResult.objects.filter(pk=never_started.task_id).update(
        status=TaskResultStatus.RUNNING,
        started_at=timezone.now() - timezone.timedelta(seconds=3600))
    DBTaskResult.objects.filter(pk=task_gone.task_id).delete()
    host, pid, _token = jobs.runner_id().split(":")
    dead_pid = _job(f"{host}:999999999:abc")
    recycled_pid = _job(f"{host}:{pid}:not-this-process")
    elsewhere_alive = _job("other-host:123:abc", beat_seconds_ago=30)
    elsewhere_silent = _job("other-host:123:abc", beat_seconds_ago=3600)
    alive_here = _job(f"{host}:{os.getppid()}:abc")
    assert jobs.reap_interrupted() == 5
    status = dict(Job.objects.values_list("pk", "status"))
    for job in (dead_pid, recycled_pid, elsewhere_silent, never_started, task_gone):
        assert status[job.pk] == JobStatus.FAILED
    assert status[elsewhere_alive.pk] == status[alive_here.pk] == JobStatus.RUNNING
    assert status[waiting.pk] == status[taken.pk] == JobStatus.QUEUED
    assert "Interrupted" in Job.objects.get(pk=dead_pid.pk).error
    # The queue's record of an interrupted job does not stay "running" either.
    assert DBTaskResult.objects.get(pk=never_started.task_id).status == TaskResultStatus.FAILED
    assert DBTaskResult.objects.get(pk=waiting.task_id).status == TaskResultStatus.READY


def test_a_task_left_running_after_its_job_finished_is_ended_too():
    job = jobs.start("test.count", count, args=(1,))
    run_pending()
    DBTaskResult.objects.filter(pk=job.task_id).update(status=TaskResultStatus.RUNNING)
    jobs.reap_interrupted()
    assert DBTaskResult.objects.get(pk=job.task_id).status == TaskResultStatus.SUCCESSFUL


def test_a_killed_command_leaves_its_job_interrupted_and_nothing_written(tmp_path):
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
    proc = subprocess.Popen([sys.executable, "-c",
                             "from kehu.cli import main; main()", "shell", "--no-imports",
                             "-c", script],
                            env=kehu_env(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
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


def test_the_status_partial_polls_until_the_job_finishes(client, users, job_worker, gates):
    client.force_login(users["sales1"])
    job = jobs.start("test.view", half_way, user=users["sales1"], title="Half way")
    _until(lambda: jobs.get(job.pk).done == 2)
    body = client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in body and 'value="2"' in body and "half" in body
    assert client.get(f"/jobs/{job.pk}/?refresh=1").get("HX-Refresh") is None
    RELEASE.set()
    _until(lambda: jobs.get(job.pk).finished, timeout=30)
    response = client.get(f"/jobs/{job.pk}/?refresh=1")
    assert "hx-trigger" not in response.content.decode()
    assert response["HX-Refresh"] == "true"
    # Somebody else's job does not exist for this user.
    client.force_login(users["sales2"])
    assert client.get(f"/jobs/{job.pk}/").status_code == 404

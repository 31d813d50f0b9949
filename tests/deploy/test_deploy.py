"""deploy/ as docs/operations.md installs it: the environment file names every setting kehu
reads and passes Django's deployment check, the systemd units are valid, and gunicorn serves
kehu behind the proxy with the static files the proxy is to serve."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

# Each command runs in a user's environment of its own (its own database or none), whatever
# the suite runs on: checked once.
pytestmark = pytest.mark.one_database

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
EXAMPLE = DEPLOY / "kehu.env.example"
VENV_BIN = Path(sys.executable).parent


def documented_names() -> set[str]:
    return set(re.findall(r"^#?\s*(KEHU_[A-Z0-9_]+)=", EXAMPLE.read_text(), re.M))


def production_env_file(tmp_path: Path, **changes: str) -> Path:
    """The example as the operator installs it: the secret key generated with the command the
    file gives, and `changes` made to it."""
    path = tmp_path / "kehu.env"
    shutil.copy(EXAMPLE, path)
    command = re.search(r"^#\s+(sed -i .*)$", EXAMPLE.read_text(), re.M).group(1)
    command = command.replace("/etc/kehu/kehu.env", str(path)).replace(
        "python3 ", f"{sys.executable} ")
    subprocess.run(["sh", "-c", command], check=True)
    text = path.read_text()
    for name, value in changes.items():
        text, n = re.subn(rf"^{name}=.*$", f"{name}='{value}'", text, flags=re.M)
        assert n == 1, name
    path.write_text(text)
    return path


def user_env(env_file: Path) -> dict[str, str]:
    # An operator's shell: nothing of the test run's own settings.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("KEHU_", "DJANGO_")) and k != "DATABASE_URL"}
    env["KEHU_ENV_FILE"] = str(env_file)
    return env


def test_the_environment_example_names_every_setting_kehu_reads():
    read = set()
    for path in (ROOT / "src" / "kehu").rglob("*.py"):
        read |= set(re.findall(r"[\"'](KEHU_[A-Z0-9_]+)[\"']", path.read_text()))
    assert read, "the scan should find kehu's settings"
    assert read <= documented_names(), sorted(read - documented_names())


def test_the_secret_key_command_of_the_example_generates_a_key(tmp_path):
    text = production_env_file(tmp_path).read_text()
    key = re.search(r"^KEHU_SECRET_KEY=(.*)$", text, re.M).group(1)
    assert len(key) >= 50 and not key.startswith("django-insecure")


def test_the_documented_production_settings_pass_the_deployment_check(tmp_path):
    env_file = production_env_file(tmp_path)
    result = subprocess.run(
        [str(DEPLOY / "kehu"), "check", "--deploy", "--fail-level", "WARNING"],
        env=user_env(env_file), capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_command_wrapper_says_when_it_cannot_read_the_settings(tmp_path):
    result = subprocess.run([str(DEPLOY / "kehu"), "check"],
                            env=user_env(tmp_path / "missing.env"), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    assert "cannot read" in result.stderr and "sudo -u kehu" in result.stderr


def test_the_systemd_units_are_valid(tmp_path):
    verify = shutil.which("systemd-analyze")
    assert verify, "systemd-analyze (Debian package systemd) checks the units"
    units = []
    for name in ("kehu-web.service", "kehu-worker.service"):
        text = (DEPLOY / name).read_text().replace("/srv/kehu/.venv/bin", str(VENV_BIN))
        text = text.replace("/srv/kehu", str(ROOT))
        (tmp_path / name).write_text(text)
        units.append(str(tmp_path / name))
    result = subprocess.run([verify, "verify", *units], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ExecStart=/srv/kehu/.venv/bin/kehu worker" in (
        DEPLOY / "kehu-worker.service").read_text()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str, headers: dict[str, str]):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response, response.read().decode(errors="replace")
    finally:
        conn.close()


@pytest.mark.slow
def test_gunicorn_serves_kehu_behind_the_proxy_and_the_static_files_are_collected(tmp_path):
    var = tmp_path / "var"
    env_file = production_env_file(
        tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'kehu.sqlite3'}", KEHU_VAR_DIR=str(var),
        KEHU_UPLOAD_DIR=str(var / "uploads"))
    env = user_env(env_file)
    # The sign-in page needs no table, so the database stays unmigrated here.
    result = subprocess.run([str(DEPLOY / "kehu"), "collectstatic", "--no-input", "-v", "0"],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr

    port = _free_port()
    server = subprocess.Popen(
        ["sh", "-c", f'set -a; . "{env_file}"; set +a; exec "$0" "$@"',
         str(VENV_BIN / "gunicorn"), "--config", str(DEPLOY / "gunicorn.conf.py"),
         "--bind", f"127.0.0.1:{port}", "--workers", "1", "kehu.wsgi"],
        env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        path = "/accounts/login/"
        proxied = {"Host": "crm.example.com", "X-Forwarded-Proto": "https",
                   "X-Forwarded-For": "203.0.113.5"}
        deadline = time.monotonic() + 60
        while True:
            try:
                status, headers, body = _get(port, path, proxied)
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.3)

        assert status == 200
        assert headers.getheader("Strict-Transport-Security").startswith("max-age=31536000")
        assert "Secure" in headers.getheader("Set-Cookie")
        # Every script, style sheet and picture of the page is in STATIC_ROOT, where the
        # proxy serves it from.
        assets = re.findall(r'(?:href|src)="/static/([^"?#]+)', body)
        assert assets
        missing = [a for a in assets if not (var / "static" / a).is_file()]
        assert not missing
        # ninja's interactive API docs load from the same place.
        assert (var / "static" / "ninja").is_dir()

        # Plain HTTP is sent to HTTPS; a host kehu does not serve is refused.
        status, headers, _ = _get(port, path, {"Host": "crm.example.com"})
        assert status == 301
        assert headers.getheader("Location") == "https://crm.example.com/accounts/login/"
        status, _, _ = _get(port, path, {**proxied, "Host": "evil.example"})
        assert status == 400
    finally:
        server.terminate()
        server.wait(30)

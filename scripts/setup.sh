#!/usr/bin/env bash
# Idempotent install of what kehu needs, in two sets:
#   scripts/setup.sh          the runtime set (make setup, make demo): the .venv with the
#                             hashed pins of requirements/runtime.txt and the kehu command
#   scripts/setup.sh dev      the development set (make test, lint, ...): requirements/dev.txt
#                             and the system packages the tests use (via apt-get, as root)
# Each set keeps a stamp in .venv; a second run with unchanged lock files returns at once.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
SET=${1:-runtime}
case "$SET" in
  runtime) LOCK=requirements/runtime.txt; SYSTEM_PACKAGES=() ;;
  # Chromium and the CJK fonts for the browser tests, PostgreSQL for the second test run,
  # gettext for make messages, systemd-analyze for the tests of deploy/, Java 17 for the
  # Spark engine (kehu value score --engine spark) and its tests.
  dev) LOCK=requirements/dev.txt
       SYSTEM_PACKAGES=(chromium fonts-noto-cjk postgresql gettext systemd openjdk-17-jre-headless) ;;
  *) echo "kehu setup: unknown set '$SET' (runtime or dev)" >&2; exit 2 ;;
esac

missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "kehu setup: installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "kehu setup: please install these Debian packages (as root): ${missing[*]}" >&2
    echo "kehu setup: continuing; the tests need all of them." >&2
  fi
fi

# One stamp per set, holding the digest of the lock files it was installed from.
digest() { cat requirements/runtime.txt "requirements/$1.txt" pyproject.toml | sha256sum | cut -d' ' -f1; }
want=$(digest "$SET")
if [ -f ".venv/.kehu-$SET" ] && [ "$(cat ".venv/.kehu-$SET")" = "$want" ] && [ -x .venv/bin/kehu ]; then
  exit 0
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
# Every package (setuptools too) comes from the lock file and must match its hash.
.venv/bin/python -m pip install -q --require-hashes -r "$LOCK"
.venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
echo "$want" > ".venv/.kehu-$SET"
if [ "$SET" = dev ]; then
  # The dev set holds the runtime set at the same versions (scripts/lock.sh): both are in.
  digest runtime > .venv/.kehu-runtime
fi
echo "kehu setup: .venv ready ($SET set)"

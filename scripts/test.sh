#!/usr/bin/env bash
# The whole suite: everything on SQLite (unit, integration, browser), then the data layer
# again on a throwaway PostgreSQL cluster (not the browser, the pure value models, nor the
# tests marked one_database, which do not depend on the database). The old data migrations
# (postgresql_only) are checked on PostgreSQL, where firms upgrade. The slowest tests of each
# run are listed at its end.
# Two workers: CI machines have two cores. A worker that runs out of tests takes some of
# the other's (worksteal), so that a few long tests at the end do not leave a core idle.
set -euo pipefail
cd "$(dirname "$0")/.."
export KEHU_DEBUG=0 KEHU_HTTPS=0 PYTHONDONTWRITEBYTECODE=1
# The browser tests fail instead of skipping when Chromium or Playwright is missing.
export KEHU_REQUIRE_BROWSER=1
unset DATABASE_URL
WORKERS=${KEHU_TEST_WORKERS:-2}

echo "== kehu tests on SQLite =="
.venv/bin/python -m pytest -n "$WORKERS" --dist worksteal -m "not postgresql_only" --durations=25 "$@"

echo "== kehu tests on PostgreSQL =="
.venv/bin/python scripts/with_postgres.py .venv/bin/python -m pytest -n "$WORKERS" --dist worksteal \
  -m "not browser and not one_database" --ignore=tests/value --durations=25 "$@"

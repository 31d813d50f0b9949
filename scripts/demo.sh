#!/usr/bin/env bash
# The demo firm on SQLite under var/, served on loopback, with the background worker beside
# the server (stopped with it). A second run reuses the database and starts in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
# Plain HTTP on 127.0.0.1 only; no debug pages, no secure-cookie redirect.
export KEHU_DEBUG=0 KEHU_HTTPS=0
unset DATABASE_URL
ADDR=${KEHU_DEMO_ADDR:-127.0.0.1:8000}

.venv/bin/kehu migrate --no-input -v 0
.venv/bin/kehu demo load
# Value scores for the demo firm; a later run refreshes only when they have gone stale.
.venv/bin/kehu value refresh --if-stale

# The worker runs what the pages queue (imports, scans, Refresh now); it stops when the
# server does, however the server stops.
.venv/bin/kehu worker &
worker=$!
trap 'kill "$worker" 2>/dev/null; wait "$worker" 2>/dev/null || true' EXIT

cat <<TXT

kehu demo: http://$ADDR/
  users (password kehu-demo): admin, manager1 (East 华东), manager2 (North 华北),
  sales1 (East), sales2 (North), service1, marketing1, analyst1
  background jobs: kehu worker (pid $worker), beside the server
  stop with Ctrl-C; the data stays in var/kehu.sqlite3 (delete it to start afresh)

TXT
# --insecure: let the development server hand out the CSS and scripts with debug off.
.venv/bin/kehu runserver "$ADDR" --insecure --noreload

.PHONY: setup setup-dev lock demo test lint format messages bench bench-list bench-value bench-import bench-refresh bench-dedup bench-send bench-spark bench-dashboard bench-load

# The runtime set (requirements/runtime.txt) for the demo and production; the development
# set (requirements/dev.txt) for everything else.
setup:
	@bash scripts/setup.sh

setup-dev:
	@bash scripts/setup.sh dev

# Regenerate both hashed lock files from pyproject.toml (UPGRADE=1 or UPGRADE=name,...).
lock: setup-dev
	@bash scripts/lock.sh

demo: setup
	@bash scripts/demo.sh

test: setup-dev
	@bash scripts/test.sh

lint: setup-dev
	.venv/bin/ruff check src tests bench scripts

format: setup-dev
	.venv/bin/ruff format src tests bench scripts

messages: setup-dev
	cd src/kehu && ../../.venv/bin/kehu makemessages -l zh_Hans --no-obsolete && ../../.venv/bin/kehu compilemessages

# Benchmarks print figures (never pass/fail on time); each takes minutes at full size.
bench: bench-value bench-import bench-refresh bench-list bench-dedup bench-send bench-dashboard bench-load

bench-list: setup-dev
	.venv/bin/python bench/list_bench.py

bench-refresh: setup-dev
	.venv/bin/python bench/refresh_bench.py

bench-import: setup-dev
	.venv/bin/python bench/import_bench.py
	.venv/bin/python scripts/with_postgres.py .venv/bin/python bench/import_bench.py

bench-dedup: setup-dev
	.venv/bin/python bench/dedup_bench.py

# 100k personalised marketing e-mails to the console backend as a background job.
bench-send: setup-dev
	.venv/bin/python bench/send_bench.py

# kehu value score --engine spark on 10M customers in local mode: aggregation / fit / scoring.
bench-spark: setup-dev
	.venv/bin/python bench/spark_bench.py

# kehu value score vs lifetimes at 100k customers, kehu alone at 1M (figures, never fails).
bench-value: setup-dev
	.venv/bin/python bench/value_bench.py

# /value/ at the demo's size and at 1M: p50/p95 for an admin, a manager and a sales user.
bench-dashboard: setup-dev
	.venv/bin/python bench/dashboard_bench.py

# gunicorn + PostgreSQL under locust: the request rate held with p99 ≤ 250 ms, no error.
bench-load: setup-dev
	.venv/bin/python bench/load_bench.py

.PHONY: setup demo test lint format messages bench bench-list bench-value bench-import bench-refresh bench-dedup

setup:
	@bash scripts/setup.sh

demo: setup
	@bash scripts/demo.sh

test: setup
	@bash scripts/test.sh

lint: setup
	.venv/bin/ruff check src tests bench scripts

format: setup
	.venv/bin/ruff format src tests bench scripts

messages: setup
	cd src/kehu && ../../.venv/bin/kehu makemessages -l zh_Hans --no-obsolete && ../../.venv/bin/kehu compilemessages

# Benchmarks print figures (never pass/fail on time); each takes minutes at full size.
bench: bench-value bench-import bench-refresh bench-list bench-dedup

bench-list: setup
	.venv/bin/python bench/list_bench.py

bench-refresh: setup
	.venv/bin/python bench/refresh_bench.py

bench-import: setup
	.venv/bin/python bench/import_bench.py
	.venv/bin/python scripts/with_postgres.py .venv/bin/python bench/import_bench.py

bench-dedup: setup
	.venv/bin/python bench/dedup_bench.py

# kehu value score vs lifetimes at 100k customers, kehu alone at 1M (figures, never fails).
bench-value: setup
	.venv/bin/python bench/value_bench.py

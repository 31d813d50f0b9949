.PHONY: setup demo test lint format messages bench bench-value

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

bench: setup
	.venv/bin/python bench/list_bench.py

# kehu value score vs lifetimes at 100k customers, kehu alone at 1M (figures, never fails).
bench-value: setup
	.venv/bin/python bench/value_bench.py

#!/usr/bin/env bash
# Regenerate the hashed lock files from pyproject.toml:
#   requirements/runtime.txt  what kehu needs to run (make setup, make demo, production)
#   requirements/dev.txt      all of that at the same versions, plus the tests' and tools'
# Pins already in the files are kept where they still fit; `make lock UPGRADE=1` moves every
# package to its newest release, `make lock UPGRADE=django-ninja` only that one.
set -euo pipefail
cd "$(dirname "$0")/.."

# Only the index named here, so that every hash is one that the index publishes.
INDEX=${KEHU_LOCK_INDEX:-https://pypi.org/simple}
export PIP_CONFIG_FILE=/dev/null
unset PIP_FIND_LINKS PIP_EXTRA_INDEX_URL PIP_INDEX_URL PIP_CONSTRAINT

upgrade=()
case "${UPGRADE:-}" in
  "") ;;
  1) upgrade=(--upgrade) ;;
  *) for pkg in ${UPGRADE//,/ }; do upgrade+=(--upgrade-package "$pkg"); done ;;
esac

compile=(.venv/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras
         --build-deps-for=editable --index-url="$INDEX" --no-emit-index-url
         --custom-compile-command="make lock" "${upgrade[@]}")
"${compile[@]}" --output-file=requirements/runtime.txt pyproject.toml
# The development set is constrained to the runtime pins: tests run what production runs.
"${compile[@]}" --extra=test --constraint=requirements/runtime.txt \
  --output-file=requirements/dev.txt pyproject.toml
echo "kehu lock: requirements/runtime.txt and requirements/dev.txt written"

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

# The files' header then says to regenerate them with `make lock`.
export CUSTOM_COMPILE_COMMAND="make lock"
compile=(.venv/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras
         --build-deps-for=editable --index-url="$INDEX" --no-emit-index-url "${upgrade[@]}")
# What the file is and how it is made, above pip-compile's own header.
describe() {
  { cat <<TXT
# $2
# Every package is pinned with the SHA-256 hashes that the index publishes for each file of
# the release; scripts/setup.sh installs the set with pip --require-hashes. Do not edit by
# hand: change pyproject.toml and run \`make lock\` (scripts/lock.sh: pip-compile
# --generate-hashes; \`make lock UPGRADE=1\`, or \`UPGRADE=name,...\`, moves pins forward).
TXT
    cat "$1"; } > "$1.new"
  mv "$1.new" "$1"
}

"${compile[@]}" --output-file=requirements/runtime.txt pyproject.toml
describe requirements/runtime.txt \
  "kehu's runtime set: what kehu needs to run (make setup, make demo, production)."
# The development set is constrained to the runtime pins: tests run what production runs.
"${compile[@]}" --extra=test --constraint=requirements/runtime.txt \
  --output-file=requirements/dev.txt pyproject.toml
describe requirements/dev.txt \
  "kehu's development set: the runtime set at its versions, the tests' and tools' too (make test)."
echo "kehu lock: requirements/runtime.txt and requirements/dev.txt written"

#!/usr/bin/env bash
# Rebuild src/kehu/static/vendor/echarts/echarts.min.js: ECharts with only the series types
# and components kehu's charts use (scripts/echarts/entry.js), from the npm registry.
# Run it after changing entry.js, or to move to another ECharts version (package.json);
# the built file, its LICENSE and NOTICE are committed, so nothing of this runs at deploy.
set -euo pipefail
here="$(cd "$(dirname "$0")/echarts" && pwd)"
out="$(cd "$here/../.." && pwd)/src/kehu/static/vendor/echarts"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$here/entry.js" "$here/package.json" "$work/"
cd "$work"
npm install --no-audit --no-fund --silent
version="$(node -p 'require("echarts/package.json").version')"
npx esbuild entry.js --bundle --minify --format=iife --global-name=echarts \
  --legal-comments=none --target=es2017 \
  --banner:js="/*! Apache ECharts $version (https://echarts.apache.org), a subset built for kehu by scripts/build_echarts.sh. Licensed under the Apache License 2.0: see LICENSE and NOTICE beside this file. */" \
  --outfile="$out/echarts.min.js"
cp node_modules/echarts/LICENSE "$out/LICENSE"
cp node_modules/echarts/NOTICE "$out/NOTICE"
ls -l "$out/echarts.min.js"

#!/usr/bin/env bash
# npm test: installs what is missing, brings up the local stack (Temporal, Kubernetes with kwok, CSI, S3,
# kopia, database pods) and runs every test with node's test runner. A stack this script started is stopped
# again at the end; one that was already running is left as it was.
#   CAIRN_TEST_SCOPE=unit npm test   runs only the unit tests (no stack)
#   npm test -- test/unit/cli.test.ts   runs the named files
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure-deps.sh
ensure_node_deps
NODE=node_modules/.bin/node

files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  if [ "${CAIRN_TEST_SCOPE:-all}" = unit ]; then
    files=('test/unit/**/*.test.ts')
  else
    files=('test/**/*.test.ts')
  fi
fi

needs_stack=0
for pattern in "${files[@]}"; do
  case "$pattern" in test/unit/*) ;; *) needs_stack=1 ;; esac
done

if [ "$needs_stack" = 1 ]; then
  started_here=0
  if ! "$NODE" --import tsx scripts/stack/status.ts >/dev/null 2>&1; then
    started_here=1
  fi
  echo "[cairn] bringing up the local stack (first run builds it from Go modules: allow 20-30 minutes)…"
  "$NODE" --import tsx scripts/stack/up.ts
  if [ "$started_here" = 1 ] && [ "${CAIRN_KEEP_STACK:-0}" != 1 ]; then
    trap '"$NODE" --import tsx scripts/stack/down.ts || true' EXIT
  fi
fi

# Two files at a time: the machines have two cores, and integration tests share one stack.
"$NODE" --import tsx --test --test-concurrency=2 --test-timeout=600000 "${files[@]}"

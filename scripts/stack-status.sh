#!/usr/bin/env bash
# npm run stack:status — see scripts/stack/status.ts and docs/dev-stack.md.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci
exec node_modules/.bin/node --import tsx scripts/stack/status.ts "$@"

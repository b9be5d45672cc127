#!/usr/bin/env bash
# npm run stack:down — see scripts/stack/down.ts and docs/dev-stack.md.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci
exec node_modules/.bin/node --import tsx scripts/stack/down.ts "$@"

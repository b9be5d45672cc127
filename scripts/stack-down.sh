#!/usr/bin/env bash
# npm run stack:down — see scripts/stack/down.ts and docs/dev-stack.md.
set -euo pipefail
cd "$(dirname "$0")/.."
# Installs node_modules (Node 24 included) when missing; `npm ci` would refuse this lock file (see there).
source scripts/lib/ensure-deps.sh
ensure_node_deps
exec node_modules/.bin/node --import tsx scripts/stack/down.ts "$@"

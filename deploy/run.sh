#!/usr/bin/env bash
# Installs what the build needs, builds the server and starts it on
# 127.0.0.1:8003 with defaults (flags given here are passed on). The README's
# run command.
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/install-deps.sh --build-only
build_dir=${ACTOREXEC_BUILD_DIR:-build}
# The options keep their defaults (everything on), so that test.sh finds the
# same tree configured as it wants it; only the server is built here.
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build_dir" -j2 --target actorexec
exec "$build_dir/app/actorexec" "$@"

#!/usr/bin/env bash
# Installs what the build needs, builds the server and starts it on
# 127.0.0.1:8003 with defaults (flags given here are passed on). The README's
# run command.
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/install-deps.sh --build-only
build_dir=${ACTOREXEC_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DACTOREXEC_BUILD_TESTS=OFF -DACTOREXEC_BUILD_LOADTEST=OFF
cmake --build "$build_dir" -j2 --target actorexec
exec "$build_dir/app/actorexec" "$@"

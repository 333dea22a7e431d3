#!/usr/bin/env bash
# Installs what the build and tests need, builds everything and runs the whole
# test suite through ctest. The README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/install-deps.sh
build_dir=${ACTOREXEC_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build_dir" -j2
cd "$build_dir"
ctest --output-on-failure -j2 --timeout 600

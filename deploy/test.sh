#!/usr/bin/env bash
# Installs what the build and tests need, builds everything and runs the whole
# test suite through ctest. The README's test command.
#
# Then the sanitizer job (issue 8, item 8): a second build with
# AddressSanitizer and UndefinedBehaviorSanitizer (-fno-sanitize-recover=
# undefined) runs the unit tests (protocol_, actors_, net_) and the
# integration tests again. Findings go to log files as well as failing the
# test, because the server under test is a child of the Python harness: a
# report it prints at exit (a leak, say) would otherwise fail no test. The
# job runs by default, so CI (.ci/run) runs it; ACTOREXEC_SANITIZERS=0 skips
# it. It is built -O1 -g1 (line tables only) without the load test, to keep
# its cold build short; docs/architecture.md (Testing) has its times and
# why there are no suppressions.
set -euo pipefail
cd "$(dirname "$0")/.."
src_dir=$PWD
./deploy/install-deps.sh
# The MCP tests' npm packages (npm ci, skipped when already installed).
./tests/mcp/install.sh
build_dir=${ACTOREXEC_BUILD_DIR:-build}
# Every option is set here: CMake keeps cached options, and a tree
# configured earlier without the tests (by hand, or an older run.sh) would
# otherwise run none.
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DACTOREXEC_BUILD_TESTS=ON -DACTOREXEC_BUILD_LOADTEST=ON \
  -DACTOREXEC_SANITIZE=OFF
cmake --build "$build_dir" -j2
# A failing test runs once more before it counts: the integration tests
# drive real processes and sockets on a shared two-core machine. A run that
# finds no test fails.
(cd "$build_dir" && ctest --output-on-failure -j2 --timeout 600 \
  --repeat until-pass:2 --no-tests=error)

if [[ "${ACTOREXEC_SANITIZERS:-1}" == 0 ]]; then
  echo "test.sh: sanitizer job skipped (ACTOREXEC_SANITIZERS=0)"
  exit 0
fi

san_dir=${ACTOREXEC_SAN_BUILD_DIR:-${build_dir}-san}
san_start=$SECONDS
# No load test: it measures throughput, which means nothing under ASan.
# -O1 -g1: reports keep function names and lines, and the build costs far
# less than with full debug info.
cmake -S . -B "$san_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DACTOREXEC_SANITIZE=ON -DACTOREXEC_BUILD_TESTS=ON \
  -DACTOREXEC_BUILD_LOADTEST=OFF
cmake --build "$san_dir" -j2
san_built=$SECONDS

supp=$src_dir/tests/sanitizers
san_logs=$(cd "$san_dir" && pwd)/sanitizer-logs
rm -rf "$san_logs"
mkdir -p "$san_logs"
# halt/abort: a finding fails the process that has it. log_path: every
# process (servers started by the Python tests included) writes its ASan
# and LSan reports to $san_logs/asan.<pid>, checked below. GCC's UBSan
# runtime ignores UBSAN_OPTIONS for non-recoverable checks: it prints to
# stderr and exits 1, so the test fails; the integration harness also fails
# a test whose server printed such a report.
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:suppressions=$supp/asan.supp:log_path=$san_logs/asan"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$supp/ubsan.supp:log_path=$san_logs/ubsan"
# The Python tests skip their memory bounds: ASan's quarantine and redzones
# are what a resident size would measure (tests/integration/harness.py).
export ACTOREXEC_TEST_SANITIZERS=1
status=0
# Retrying a failed test once, as above, hides no finding: ASan and LSan
# reports are in $san_logs, and a UBSan report ("runtime error:") is in the
# output of the failed attempt; either fails the job by itself.
ctest_log=$san_dir/sanitizer-ctest.log
(cd "$san_dir" && ctest --output-on-failure -j2 --timeout 900 \
  --repeat until-pass:2 --no-tests=error \
  -R '^(protocol_|actors_|net_|integration_)') 2>&1 |
  tee "$ctest_log" || status=$?
if compgen -G "$san_logs/*" >/dev/null; then
  echo "test.sh: sanitizer reports:"
  for f in "$san_logs"/*; do
    echo "=== $f"
    cat "$f"
  done
  status=1
fi
if grep -q ': runtime error: ' "$ctest_log"; then
  echo "test.sh: UndefinedBehaviorSanitizer reports in $ctest_log:"
  grep ': runtime error: ' "$ctest_log"
  status=1
fi
echo "test.sh: sanitizer job: build $((san_built - san_start)) s," \
  "tests $((SECONDS - san_built)) s"
exit "$status"

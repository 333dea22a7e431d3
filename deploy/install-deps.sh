#!/usr/bin/env bash
# Installs exactly the Debian 12 packages actorexec needs to build, test and benchmark.
# Idempotent: packages already present are left alone; safe to run again.
# Never installs the unversioned Boost (1.74, no Boost.JSON): every Boost package is 1.81.
set -euo pipefail

build_pkgs=(
  g++ cmake ninja-build ccache pkg-config
  libcaf-dev
  libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev
  libboost-test1.81-dev
  libjemalloc-dev
)
# Tools used only by tests and benchmarks: a foreign WebSocket client for the
# interoperability test, websocketd as the comparison peer, procps for ps/pgrep,
# prometheus for `promtool check metrics|config`, python3-yaml for the
# deployment manifest tests, gnuplot-nox for loadtest/plot.sh. The image
# test (tests/deploy/test_image.py) builds deploy/Dockerfile without a Docker
# daemon: podman and buildah (chroot isolation), runc to run the container,
# uidmap for podman's user namespaces, mmdebstrap and Debian's archive keyring
# to make the debian:bookworm-slim base here (no image registry is reached).
test_pkgs=(python3 python3-websockets procps websocketd prometheus python3-yaml gnuplot-nox
  podman buildah runc uidmap mmdebstrap debian-archive-keyring)

# npm installs the MCP tests' pinned packages (tests/mcp/install.sh: the MCP
# SDK, the conformance suite and the Node 22 they run on). Debian's npm, only
# when no npm is there: a machine whose Node came from elsewhere has its own
# npm, which Debian's package would conflict with.
want=("${build_pkgs[@]}")
if [[ "${1:-}" != "--build-only" ]]; then
  want+=("${test_pkgs[@]}")
  command -v npm >/dev/null 2>&1 || want+=(npm)
fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#want[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"

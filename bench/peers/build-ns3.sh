#!/usr/bin/env bash
# Build bench/peers/ns3-bulk.cc against Debian's ns-3 (libns3-dev, ns-3.37):
#   apt-get install libns3-dev libgsl-dev   (as root; pulls in g++; ns-3's
#   pkg-config files name GSL's libraries)
# The binary goes to target/peers/ns3-bulk (or $1).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../target/peers/ns3-bulk}
if ! pkg-config --exists ns3-core 2>/dev/null; then
  echo "build-ns3.sh: ns-3 not found (pkg-config ns3-core); install Debian's libns3-dev" >&2
  exit 1
fi
mkdir -p "$(dirname "$out")"
# shellcheck disable=SC2046
g++ -O2 -std=c++17 -o "$out" "$here/ns3-bulk.cc" \
  $(pkg-config --cflags --libs ns3-core ns3-network ns3-internet ns3-point-to-point ns3-applications ns3-traffic-control)
echo "$out"

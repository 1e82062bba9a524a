#!/usr/bin/env bash
# Benchmark: converts generated 250,000- and 1,000,000-character books with `recital convert`
# (release build) against the fake TTS server with a fixed latency, and prints backend utilisation
# (busy time / (wall x concurrency)), peak memory of the converter, and the cost of one checkpoint.
# Usage: scripts/bench-synthesis.sh [--chars N] [--latency-ms N] [--concurrency N]
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
dpkg-query -W -f='${Status}' time 2>/dev/null | grep -q "install ok installed" || {
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >&2; }
swift build -c release --product recital >&2
swift build -c release --product synthesis-benchmark >&2
.build/release/synthesis-benchmark "$PWD/.build/release/recital" "$@"

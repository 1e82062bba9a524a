#!/usr/bin/env bash
# Benchmark: `recital serve` (release build) converting a generated book alone, then again under
# load (50 event-stream clients, 200 status requests a second): latency percentiles, events seen,
# and the loaded conversion's time against the one alone.
# Usage: scripts/bench-serve.sh [--chars N] [--latency-ms N] [--clients N] [--rate N]
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
swift build -c release --scratch-path .build-release --product recital >&2
swift build -c release --scratch-path .build-release --product serve-benchmark >&2
.build-release/release/serve-benchmark "$PWD/.build-release/release/recital" "$@"

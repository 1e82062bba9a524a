#!/usr/bin/env bash
# Benchmark: a cluster on a loopback PostgreSQL (release build): claims and completions per second
# with 1, 2 and 4 processes, enqueue-to-claim latency with LISTEN/NOTIFY, and 3 workers beside 3
# fake TTS servers against 1 and 1. Starts a throwaway PostgreSQL unless RECITAL_POSTGRES_URL is set.
# Usage: scripts/bench-cluster.sh [--tasks N] [--latency-ms N] [--books N]
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
url="${RECITAL_POSTGRES_URL:-}"
if [ -z "$url" ]; then
    url="$(./scripts/start-postgres.sh 55433 | tail -1)"
    trap './scripts/stop-postgres.sh 55433' EXIT
fi
swift build -c release --scratch-path .build-release --product recital >&2
swift build -c release --scratch-path .build-release --product cluster-benchmark >&2
.build-release/release/cluster-benchmark "$PWD/.build-release/release/recital" "$url" "$@"

#!/usr/bin/env bash
# Benchmark: `recital status --json` (release build) on a library of 1,000 books of 50 chapters,
# against the same command on an empty table in the same run.
# Usage: scripts/bench-status.sh [--books N] [--chapters N] [--runs N]
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
swift build -c release --scratch-path .build-release --product recital >&2
swift build -c release --scratch-path .build-release --product status-benchmark >&2
.build-release/release/status-benchmark "$PWD/.build-release/release/recital" "$@"

#!/usr/bin/env bash
# Benchmark (issue 21): a generated book converted against the fake TTS server at a GPU-like speed
# (default: 10 hours of audio at 45× realtime, one request at a time, into M4B and MP3; release
# build). Prints the server's busy time, the whole wall time and their ratio, and how long the
# finished files take after the server's last answer.
# Usage: scripts/bench-finish.sh [--hours H] [--speed S] [--formats m4b,mp3] [--concurrency N]
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
swift build -c release --scratch-path .build-release --product recital >&2
swift build -c release --scratch-path .build-release --product finish-benchmark >&2
.build-release/release/finish-benchmark "$PWD/.build-release/release/recital" "$@"

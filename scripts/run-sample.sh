#!/usr/bin/env bash
# Runs Recital's main job on a sample book on a fresh Debian 12 machine with Swift installed:
# installs the Debian packages it needs when missing, builds, and reads a bundled book.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
swift build -c release --product recital
.build/release/recital inspect "${1:-fixtures/epub3-fragments.epub}"

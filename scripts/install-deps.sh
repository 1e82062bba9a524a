#!/usr/bin/env bash
# Installs the Debian packages Recital builds and tests against, only when some are missing.
# Safe to run repeatedly: a machine that has everything does no network work.
set -euo pipefail

packages=(
  pkg-config
  libsqlite3-dev
  libxml2-dev
  libzip-dev
  libpoppler-glib-dev
  libavformat-dev libavcodec-dev libavutil-dev libswresample-dev
  libespeak-ng-dev espeak-ng-data
  # OCR of scanned PDFs: the library and the English model; the German one reads the German scan
  # fixture (tesseract-ocr-LANG adds any other language).
  libtesseract-dev tesseract-ocr-eng tesseract-ocr-deu
  zip
)
if [ "${1:-}" = "--test" ]; then
  # Tools the tests use as independent referees (ffprobe reads our output; curl is the HTTP
  # client that talks to `recital serve`; socat relays the job table's port into the network
  # namespaces that stand for separate machines in the cluster test).
  packages+=(ffmpeg curl socat iproute2)
fi
if [ "${1:-}" = "--test" ] || [ "${1:-}" = "--natural" ]; then
  # `recital voices install piper` makes a private Python environment for Piper.
  packages+=(python3 python3-venv)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "recital: installing ${missing[*]}" >&2
$SUDO apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2

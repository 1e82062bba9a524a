#!/usr/bin/env bash
# Installs what the dashboard's browser test drives: Debian's Chromium, and Playwright (from PyPI)
# in a virtualenv of its own. Safe to run repeatedly; prints the virtualenv's python on stdout.
set -euo pipefail
venv="${RECITAL_BROWSER_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/recital-browser}"
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >&2
fi
if ! "$venv/bin/python" -c "import playwright" >/dev/null 2>&1; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q playwright >&2
fi
echo "$venv/bin/python"

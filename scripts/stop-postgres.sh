#!/usr/bin/env bash
# Stops a server started by scripts/start-postgres.sh and removes its data directory.
# Usage: scripts/stop-postgres.sh [PORT]
set -euo pipefail
port=${1:-55432}
data=/tmp/recital-postgres-$port
bin=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -1)")
if [ -d "$data/db" ]; then
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$bin/pg_ctl" -D "$data/db" -m fast stop >/dev/null 2>&1 || true
  else sudo -u postgres "$bin/pg_ctl" -D "$data/db" -m fast stop >/dev/null 2>&1 || true; fi
fi
rm -rf "$data" 2>/dev/null || sudo rm -rf "$data"

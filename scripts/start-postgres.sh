#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the tests and benchmarks on a loopback port, installing
# Debian's package when it is missing, and prints its URL (postgres://recital@127.0.0.1:PORT/recital).
# PostgreSQL refuses to run as root, so the server runs as the unprivileged `postgres` user the
# package creates, on a temporary data directory. Safe to run again: a server already answering
# on the port is reused. Stop it with scripts/stop-postgres.sh PORT.
# Usage: scripts/start-postgres.sh [PORT]
set -euo pipefail
port=${1:-55432}
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "recital: installing postgresql" >&2
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >&2
fi
bin=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
data=/tmp/recital-postgres-$port
url="postgres://recital@127.0.0.1:$port/recital"
as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"; elif [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}
if as_postgres "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
  echo "$url"
  exit 0
fi
$SUDO rm -rf "$data"
$SUDO mkdir -p "$data"
$SUDO chown postgres:postgres "$data"
as_postgres "$bin/initdb" -D "$data/db" -U recital --auth=trust -E UTF8 --locale=C.UTF-8 >"$data/../recital-postgres-$port.init.log" 2>&1 \
  || as_postgres "$bin/initdb" -D "$data/db" -U recital --auth=trust -E UTF8 >>"$data/../recital-postgres-$port.init.log" 2>&1
# Tests kill workers, not the server: durability across power cuts is not what they measure.
as_postgres "$bin/pg_ctl" -D "$data/db" -l "$data/server.log" -w -t 60 \
  -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >&2
as_postgres "$bin/createdb" -h 127.0.0.1 -p "$port" -U recital recital
echo "$url"

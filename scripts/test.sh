#!/usr/bin/env bash
# Runs Recital's whole test suite on a fresh Debian 12 machine with Swift installed:
# installs the Debian packages it needs when missing, checks formatting, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --test
# The dashboard's browser test drives Debian's Chromium through Playwright.
RECITAL_BROWSER_PYTHON="$(./scripts/install-browser.sh)"
export RECITAL_BROWSER_PYTHON
# Every job-store test runs on PostgreSQL too: a throwaway server on a loopback port.
if [ -z "${RECITAL_POSTGRES_URL:-}" ]; then
  RECITAL_POSTGRES_URL="$(./scripts/start-postgres.sh 55432)"
  export RECITAL_POSTGRES_URL
  trap './scripts/stop-postgres.sh 55432' EXIT
fi
swift format lint --strict --recursive Sources Tests Package.swift
swift build --build-tests
# In three runs: the library tests (in-process servers whose deadlines need the test process's two
# cooperative threads), then the tests of the `recital` process, which load both cores with child
# processes, the heaviest of them (clusters, managed voices, the browser) apart. All at once they
# overloaded a 2-core machine into missed deadlines.
heavy='^recitalTests\.(WorkerCommandTests|DatabaseCommandTests|ManagedVoiceTests|PiperProcessTests|DashboardBrowserTests)/'
swift test --skip-build --disable-xctest --skip '^recitalTests\.'
swift test --skip-build --disable-xctest --filter "$heavy"
swift test --skip-build --disable-xctest --filter '^recitalTests\.' --skip "$heavy"

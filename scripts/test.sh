#!/usr/bin/env bash
# Runs Recital's whole test suite on a fresh Debian 12 machine with Swift installed:
# installs the Debian packages it needs when missing, checks formatting, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --test
swift format lint --strict --recursive Sources Tests Package.swift
swift build --build-tests
swift test --skip-build --disable-xctest

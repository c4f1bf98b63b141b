#!/usr/bin/env bash
# The one test command: vet, then every test with the race detector.
# Installs babeltrace2 and jq (the --help examples use it) when they are
# missing and we are root (CI, fresh machines).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v babeltrace2 >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing babeltrace2" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq babeltrace2 >/dev/null
  else
    echo "test.sh: babeltrace2 not found; tests that need it will skip" >&2
  fi
fi
if ! command -v jq >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing jq" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq >/dev/null
  else
    echo "test.sh: jq not found; the examples tests will skip" >&2
  fi
fi

go vet ./...
go test -race -count=1 -timeout 20m "$@" ./...
# The race detector swaps shm's assembly 16-byte CAS for a mutex: run the
# lock-free packages once more without it, so the real write path is tested.
go test -count=1 "$@" ./shm/ ./hypervisor/

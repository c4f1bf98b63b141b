#!/usr/bin/env bash
# The one test command: vet, then every test with the race detector.
# Installs what the tests use from the machine when it is missing and we are
# root (CI, fresh machines): babeltrace2 (every trace is read by it),
# chromium (the timeline page is tested in a real browser), lttng-tools (a
# real lttng-relayd on loopback), jq (the --help examples use it). Without
# them those tests skip, unless the LTTNG_XEN_REQUIRE_* variables that
# .ci/run sets make them fail.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
need() { # need COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 || missing+=("$2")
}
need babeltrace2 babeltrace2
need chromium chromium
need lttng-relayd lttng-tools
need jq jq
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing ${missing[*]}" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "test.sh: not installed: ${missing[*]}; the tests that need them will skip" >&2
  fi
fi

go vet ./...
go test -race -count=1 -timeout 20m "$@" ./...
# The race detector swaps shm's assembly 16-byte CAS for a mutex: run the
# lock-free packages once more without it, so the real write path is tested.
go test -count=1 "$@" ./shm/ ./hypervisor/

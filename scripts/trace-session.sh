#!/usr/bin/env bash
# A whole lttng-xen trace session on the built-in defaults:
# build the commands into ./bin, start the hypervisor and dom0 in a private
# run directory, create a session writing to the output directory (dom0
# starts its lttd-xen), start it, trace for a while, stop and destroy it
# (destroy returns once the trace is on disk), then show what was recorded.
# Everything it started is stopped on any exit.
# With --flight-recorder: no lttd-xen; an overwrite-mode trace runs for the
# duration, then "lttctl-xen snapshot" writes the newest data to the output.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: scripts/trace-session.sh [options]

  --duration D     how long to trace (Go duration or seconds; default 3s)
  --output DIR     trace directory (default ./trace-out, overwritten)
  --cpus N         simulated pCPUs (default 4)
  --rate R         events per second per pCPU, 0 = flat out (default 100000)
  --subbuf-size S  sub-buffer size (default 256KiB)
  --num-subbuf N   sub-buffer count (default 8)
  --wakeup KIND    how dom0 wakes lttd-xen: eventfd or pipe (default eventfd)
  --timeline       also write DIR.html, the trace's timeline page (lttv-xen timeline),
                   and print its summary (lttv-xen summary)
  --flight-recorder  overwrite mode, no consumer: snapshot the newest data
                   into the output at the end (while still tracing)
  -h, --help       this text
USAGE
}

duration=3s output=./trace-out cpus=4 rate=100000 subbuf=256KiB nsubbuf=8 wakeup=eventfd timeline=no flight=
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=${2:?--duration needs a value}; shift 2 ;;
    --output) output=${2:?--output needs a value}; shift 2 ;;
    --cpus) cpus=${2:?--cpus needs a value}; shift 2 ;;
    --rate) rate=${2:?--rate needs a value}; shift 2 ;;
    --subbuf-size) subbuf=${2:?--subbuf-size needs a value}; shift 2 ;;
    --num-subbuf) nsubbuf=${2:?--num-subbuf needs a value}; shift 2 ;;
    --wakeup) wakeup=${2:?--wakeup needs a value}; shift 2 ;;
    --timeline) timeline=yes; shift ;;
    --flight-recorder) flight=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "trace-session.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
# A bare number of seconds is accepted too.
case "$duration" in *[0-9]) duration="${duration}s" ;; esac
secs=$(awk -v d="$duration" 'BEGIN {
  n = d + 0; u = d; sub(/^[0-9.]+/, "", u)
  if (u == "ms") n /= 1000; else if (u == "m") n *= 60; else if (u != "s") { print "bad"; exit }
  print n }')
if [ "$secs" = bad ]; then echo "trace-session.sh: --duration $duration: use e.g. 3s, 500ms, 1m" >&2; exit 2; fi

cd "$(dirname "$0")/.."
echo "==> building into ./bin"
go build -o bin/ ./cmd/...

run=$(mktemp -d "${TMPDIR:-/tmp}/lttng-xen-run.XXXXXX")
logs="$run/logs"; mkdir -p "$logs"
export LTTNG_XEN_RUN_DIR="$run/sock"
pids=()
cleanup() {
  local rc=$?
  for ((i=${#pids[@]}-1; i>=0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ $rc -ne 0 ]; then
    echo "trace-session.sh: failed (exit $rc); daemon logs:" >&2
    tail -n 20 "$logs"/*.log >&2 2>/dev/null || true
  fi
  rm -rf "$run"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for FILE PATTERN: wait (at most 30 s) until a daemon logs that it
# is ready; fail at once if it has already exited.
wait_for() {
  local i
  for ((i = 0; i < 600; i++)); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.05
  done
  echo "trace-session.sh: $(basename "$1" .log) did not start" >&2
  exit 1
}

echo "==> starting hypervisor (--cpus $cpus --rate $rate) and dom0 (--wakeup $wakeup)"
./bin/hypervisor --cpus "$cpus" --rate "$rate" 2>"$logs/hypervisor.log" & pids+=($!)
wait_for "$logs/hypervisor.log" "hypervisor ready"
./bin/dom0 --wakeup "$wakeup" 2>"$logs/dom0.log" & pids+=($!)
wait_for "$logs/dom0.log" "bound VIRQ_TBUF"

# The trace files of an earlier run are overwritten (lttd-xen refuses a
# directory holding anything else).
rm -f -- "$output/metadata" "$output"/channel*_*
if [ -n "$flight" ]; then
  # The flight recorder: the rings wrap, nothing is written until the
  # snapshot, which copies the newest packets while the pCPUs keep writing.
  ./bin/lttctl-xen create trace-session --overwrite --subbuf-size "$subbuf" --num-subbuf "$nsubbuf"
  echo "==> flight recorder: tracing for $duration, no consumer"
  ./bin/lttctl-xen start
  sleep "$secs"
  ./bin/lttctl-xen snapshot --output "$output" --force
  ./bin/lttctl-xen status
  ./bin/lttctl-xen destroy
else
  ./bin/lttctl-xen create trace-session --output "$output" --subbuf-size "$subbuf" --num-subbuf "$nsubbuf"
  echo "==> tracing for $duration"
  ./bin/lttctl-xen start --duration "$duration"
  ./bin/lttctl-xen status
  ./bin/lttctl-xen destroy # returns once the trace is on disk
fi

echo "==> lttv-xen stats $output"
./bin/lttv-xen stats "$output"
echo "==> the first events (lttv-xen dump)"
./bin/lttv-xen dump "$output" | head -n 8
if command -v babeltrace2 >/dev/null 2>&1; then
  echo "==> babeltrace2 $output (first events)"
  # head closes the pipe early: babeltrace2's SIGPIPE is expected, not a failure.
  { babeltrace2 "$output" || true; } | head -n 5
fi
if [ "$timeline" = yes ]; then
  echo "==> lttv-xen summary $output"
  ./bin/lttv-xen summary "$output"
  echo "==> lttv-xen timeline $output --output ${output%/}.html"
  ./bin/lttv-xen timeline "$output" --output "${output%/}.html"
  echo "==> open ${output%/}.html in a browser: a lane per pCPU; wheel zooms, drag pans, hover for details"
fi
echo "==> trace written to $output"

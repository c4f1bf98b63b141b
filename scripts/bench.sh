#!/usr/bin/env bash
# The benchmark command: build the commands and the bench driver, run every
# benchmark and print one table (figure, baseline measured in the same run,
# ratio, target). docs/PERFORMANCE.md explains each row and keeps the last
# table this printed.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: scripts/bench.sh [options]

  --quick            fewer and shorter runs (about 45 s; the full run takes about 2 min)
  --json FILE        also write the report as JSON to FILE
  --peer lttng-ust   also measure an LTTng-UST tracepoint with the same event, in the same
                     run (needs lttng-tools, liblttng-ust-dev and gcc: see docs/PERFORMANCE.md)
  --only LIST        run only these sections: producer,e2e,consumer,wakeup,idle
  --clock CLOCK      the trace clock (auto, monotonic or tsc): the hypervisor's --clock and the
                     clock of its write-path benchmarks (default: the hypervisor's default, auto)
  --work DIR         scratch directory for traces; lttd-xen and the cp baseline write
                     there (default: a new directory under ${TMPDIR:-/tmp})
  -h, --help         this text

Each figure is the median of several runs, with min and max. The machine is
assumed shared and noisy: compare ratios, not absolute figures.
USAGE
}

command_line="scripts/bench.sh${*:+ $*}"
args=()
json=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) args+=(-quick); shift ;;
    --json) json=${2:?--json needs a file}; shift 2 ;;
    --peer) args+=(-peer "${2:?--peer needs a value}"); shift 2 ;;
    --only) args+=(-only "${2:?--only needs a list}"); shift 2 ;;
    --clock) args+=(-clock "${2:?--clock needs a value}"); shift 2 ;;
    --work) args+=(-work "${2:?--work needs a directory}"); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

cd "$(dirname "$0")/.."
if [ -n "$json" ]; then
  case "$json" in /*) ;; *) json="$OLDPWD/$json" ;; esac
  args+=(-json "$json")
fi
bin=$(mktemp -d "${TMPDIR:-/tmp}/lttng-xen-bench-bin.XXXXXX")
trap 'rm -rf "$bin"' EXIT
echo "bench.sh: building into $bin" >&2
go build -o "$bin/" ./cmd/...
go test -c -o "$bin/hypervisor.test" ./hypervisor
LTTNG_XEN_BENCH_COMMAND="$command_line" "$bin/lttng-xen-bench" -bin "$bin" -src . "${args[@]+"${args[@]}"}"

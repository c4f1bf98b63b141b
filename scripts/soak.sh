#!/usr/bin/env bash
# Soak: cycles whole trace sessions against one hypervisor and one dom0 for
# a while, with a hostile client hammering both sockets beside them, and
# checks that nothing leaks and every trace reads.
#
#   scripts/soak.sh --duration 10m      # what docs/RELIABILITY.md reports
#   scripts/soak.sh --duration 2m --keep
#
# Each cycle: create (sizes vary), lttd-xen, start, event add (a new type
# per cycle), emit, enable/disable, cpu offline/online, on odd cycles
# SIGKILL lttd-xen mid-trace and lttd-xen --resume, stop, destroy; then
# babeltrace2 must read the trace (warnings only about discarded events or
# packets) and lttd-xen must have exited 0. Passing traces are deleted as
# they are checked (--keep keeps them); failing ones are kept and named.
#
# At the end (hostile client stopped, idle connections expired) the
# daemons' SIGUSR1 "debug counters" (goroutines, descriptors) must be back
# to their values before the first cycle. Not run in CI (it takes minutes).
# Needs babeltrace2; the raw-socket half of the hostile client needs
# python3 (without it only the lttctl-xen half runs).
# Exit 0 when clean, 1 on any failure, 2 on usage.
set -uo pipefail

usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
duration=10m keep=0 cpus=4 rate=20000
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=${2:?--duration needs a value}; shift 2 ;;
    --duration=*) duration=${1#--duration=}; shift ;;
    --keep) keep=1; shift ;;
    --cpus) cpus=${2:?}; shift 2 ;;
    --rate) rate=${2:?}; shift 2 ;;
    -h|--help) usage ;;
    *) echo "soak.sh: unknown argument $1" >&2; usage ;;
  esac
done
case "$duration" in *[0-9]) duration="${duration}s" ;; esac
secs=$(awk -v d="$duration" 'BEGIN { n = d + 0; u = d; sub(/^[0-9.]+/, "", u)
  if (u == "m") n *= 60; else if (u == "h") n *= 3600; else if (u != "s") { print "bad"; exit }
  print int(n) }')
if [ "$secs" = bad ] || [ "$secs" -lt 1 ]; then echo "soak.sh: --duration $duration: use e.g. 90s, 10m" >&2; exit 2; fi
command -v babeltrace2 >/dev/null || { echo "soak.sh: babeltrace2 is required (apt-get install babeltrace2)" >&2; exit 1; }

cd "$(dirname "$0")/.."
echo "==> building into ./bin"
go build -o bin/ ./cmd/... || exit 1

work=$(mktemp -d "${TMPDIR:-/tmp}/lttng-xen-soak.XXXXXX")
# A home of its own: nothing the daemons or tools write lands in the real one.
export HOME="$work/home"; mkdir -p "$HOME"
logs="$work/logs" traces="$work/traces"; mkdir -p "$logs" "$traces"
export LTTNG_XEN_RUN_DIR="$work/run"
pids=() failures=0
fail() { echo "soak.sh: FAIL: $*" >&2; failures=$((failures + 1)); }
cleanup() {
  local rc=$?
  for ((i=${#pids[@]}-1; i>=0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$keep" = 1 ] || [ "$failures" -gt 0 ] || [ $rc -ne 0 ]; then
    echo "soak.sh: logs and kept traces in $work"
  else
    rm -rf "$work"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_log FILE PATTERN PID: wait (at most 30 s) for a line; fail if PID exits.
wait_log() {
  local i
  for ((i = 0; i < 600; i++)); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || break
    sleep 0.05
  done
  return 1
}

# counters PID LOG: SIGUSR1 the daemon and print "goroutines fds" from the
# debug counters line it logs.
counters() {
  local before after i
  before=$(grep -c "debug counters" "$2" 2>/dev/null)
  kill -USR1 "$1"
  for ((i = 0; i < 100; i++)); do
    after=$(grep -c "debug counters" "$2" 2>/dev/null)
    [ "$after" -gt "$before" ] && break
    sleep 0.05
  done
  grep "debug counters" "$2" | tail -n 1 |
    sed -E 's/.*goroutines=([0-9]+).* fds=([0-9]+).*/\1 \2/'
}

ctl() { ./bin/lttctl-xen "$@" >>"$logs/lttctl.log" 2>&1; }

echo "==> hypervisor (--cpus $cpus --rate $rate) and dom0 in $LTTNG_XEN_RUN_DIR"
./bin/hypervisor --cpus "$cpus" --rate "$rate" 2>"$logs/hypervisor.log" & hv=$!; pids+=($hv)
wait_log "$logs/hypervisor.log" "hypervisor ready" $hv || { fail "the hypervisor did not start"; exit 1; }
./bin/dom0 2>"$logs/dom0.log" & d0=$!; pids+=($d0)
wait_log "$logs/dom0.log" "bound VIRQ_TBUF" $d0 || { fail "dom0 did not bind"; exit 1; }
read -r hv_g0 hv_f0 < <(counters $hv "$logs/hypervisor.log")
read -r d0_g0 d0_f0 < <(counters $d0 "$logs/dom0.log")
echo "    start: hypervisor $hv_g0 goroutines, $hv_f0 fds; dom0 $d0_g0 goroutines, $d0_f0 fds"

# The hostile client: garbage, oversized and truncated messages, silence and
# bad requests on both sockets, and abusive but well-formed lttctl-xen calls.
hostile() {
  local n=0
  while :; do
    n=$((n + 1))
    if command -v python3 >/dev/null; then
      python3 - "$LTTNG_XEN_RUN_DIR" "$n" <<'PY' 2>/dev/null >>"$logs/hostile.log"
import os, random, socket, sys
run, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(n)
served = 0
for name in ("dom0.sock", "hypervisor.sock"):
    for kind in range(6):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(0.5)
        try:
            s.connect(os.path.join(run, name))
            if kind == 0: s.send(os.urandom(rng.randrange(1, 4000)))
            elif kind == 1: s.send(b'{"op":"status"' )
            elif kind == 2: s.send(b'{"op":"' + b'x' * 70000 + b'"}')
            elif kind == 3: s.send(b'{"op":"emit","emit":{"cpu":99999999999999999999,"name":"a"}}')
            elif kind == 4: s.send(b'{"op":"trace_destroy"}')  # not the binder: refused
            else: pass  # silence, then close
            try:
                if s.recv(65536): served += 1
            except Exception: pass
        except Exception:
            pass
        finally:
            s.close()
print(served)
PY
    fi
    ./bin/lttctl-xen event add "bad name(u8 x)" >/dev/null 2>&1
    ./bin/lttctl-xen event add "h(bytes x, u8 x_length)" >/dev/null 2>&1
    ./bin/lttctl-xen enable-event "no_such_event_*" >/dev/null 2>&1
    ./bin/lttctl-xen enable-event "$(printf 'a%.0s' $(seq 300))*" >/dev/null 2>&1
    ./bin/lttctl-xen emit --cpu 77 printk msg=x >/dev/null 2>&1
    ./bin/lttctl-xen status --json >/dev/null 2>&1
    ./bin/lttctl-xen event list >/dev/null 2>&1
    sleep 0.2
  done
}
hostile & hostile_pid=$!; pids+=($hostile_pid)

echo "==> cycling for $duration"
end=$((SECONDS + secs))
cycles=0 kills=0 emitted=0 checked=0 events_read=0
sizes=(4KiB 16KiB 64KiB) counts=(2 4 8)
while [ $SECONDS -lt $end ]; do
  c=$cycles; cycles=$((cycles + 1))
  out="$traces/cycle$c"
  if ! ctl create --no-output --subbuf-size "${sizes[c % 3]}" --num-subbuf "${counts[c % 3]}"; then
    fail "cycle $c: create"; tail -n 3 "$logs/lttctl.log" >&2; continue
  fi
  ./bin/lttd-xen --output "$out" >"$logs/lttd.out" 2>"$logs/lttd.log" & lttd=$!
  if ! wait_log "$logs/lttd.log" "consuming" $lttd; then fail "cycle $c: lttd-xen did not start"; ctl destroy; wait $lttd; continue; fi
  ctl start || fail "cycle $c: start"
  ctl event add "soak$c(u32 n, string s, bytes b)" || fail "cycle $c: event add"
  for k in 1 2 3 4 5; do
    if msg=$(./bin/lttctl-xen emit --cpu $((k % cpus)) "soak$c" n=$k s="cycle $c" b=de:ad:be:ef 2>&1); then
      emitted=$((emitted + 1))
    else
      case "$msg" in *"buffer is full"*) ;; *) fail "cycle $c: emit: $msg" ;; esac
    fi
  done
  ctl disable-event 'irq_*' || fail "cycle $c: disable-event"
  ctl enable-event 'irq_*' || fail "cycle $c: enable-event"
  if [ "$cpus" -gt 1 ]; then
    ctl cpu offline $((cpus - 1)) || fail "cycle $c: cpu offline"
    ctl cpu online $((cpus - 1)) || fail "cycle $c: cpu online"
  fi
  if [ $((c % 2)) = 1 ]; then
    sleep 0.2
    kill -KILL $lttd; wait $lttd 2>/dev/null; kills=$((kills + 1))
    ./bin/lttd-xen --output "$out" --resume >"$logs/lttd.out" 2>"$logs/lttd.log" & lttd=$!
    wait_log "$logs/lttd.log" "consuming" $lttd || fail "cycle $c: lttd-xen --resume did not start"
  fi
  sleep 0.3
  ctl stop || fail "cycle $c: stop"
  ctl destroy || fail "cycle $c: destroy"
  wait $lttd; rc=$?
  [ $rc = 0 ] || { fail "cycle $c: lttd-xen exited $rc"; tail -n 5 "$logs/lttd.log" >&2; }
  if babeltrace2 "$out" >"$work/bt.out" 2>"$work/bt.err" && ! grep -v "discarded" "$work/bt.err" | grep -q .; then
    checked=$((checked + 1))
    events_read=$((events_read + $(wc -l <"$work/bt.out")))
    [ "$keep" = 1 ] || rm -rf "$out"
  else
    fail "cycle $c: babeltrace2 cannot read $out"; head -n 5 "$work/bt.err" >&2
  fi
done

echo "==> $cycles cycles done; stopping the hostile client, letting idle connections expire"
kill $hostile_pid; wait $hostile_pid 2>/dev/null
# dom0 closes an idle tool connection after 30 s, the hypervisor an unbound one after 2 s.
for ((i = 0; i < 45; i++)); do
  read -r hv_g hv_f < <(counters $hv "$logs/hypervisor.log")
  read -r d0_g d0_f < <(counters $d0 "$logs/dom0.log")
  [ "$hv_g" = "$hv_g0" ] && [ "$hv_f" = "$hv_f0" ] && [ "$d0_g" = "$d0_g0" ] && [ "$d0_f" = "$d0_f0" ] && break
  sleep 1
done
echo "    end:   hypervisor $hv_g goroutines, $hv_f fds; dom0 $d0_g goroutines, $d0_f fds"
[ "$hv_g" = "$hv_g0" ] && [ "$hv_f" = "$hv_f0" ] || fail "hypervisor counters $hv_g0/$hv_f0 -> $hv_g/$hv_f (goroutines/fds)"
[ "$d0_g" = "$d0_g0" ] && [ "$d0_f" = "$d0_f0" ] || fail "dom0 counters $d0_g0/$d0_f0 -> $d0_g/$d0_f (goroutines/fds)"
for p in $hv $d0; do kill -0 $p 2>/dev/null || fail "daemon $p died"; done

hostile_replies=$(awk '{ s += $1 } END { print s + 0 }' "$logs/hostile.log" 2>/dev/null)
echo "soak: $duration, $cycles cycles, $kills consumer kills and resumes, $emitted emits, $checked traces read by babeltrace2 ($events_read events), $hostile_replies replies to hostile messages, $failures failures"
[ $failures = 0 ]

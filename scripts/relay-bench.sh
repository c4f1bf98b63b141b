#!/usr/bin/env bash
# Relay sink against directory sink (issue 14): for each per-pCPU rate in
# $RATES, the same 3-second session (hypervisor --cpus 2 --rate R, 1 MiB x 8
# per pCPU) consumed by lttd-xen --output DIR, then by lttd-xen --url to a
# local lttng-relayd; prints events written and lost, events/s and
# lttd-xen's CPU per MB sent. The highest rate with no loss, per sink, is the
# sustained zero-loss rate docs/PERFORMANCE.md compares. Needs lttng-tools
# (lttng-relayd) and jq; not in CI.
#
#   RATES="4000000 6000000 7000000 8000000" scripts/relay-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d "${TMPDIR:-/tmp}/lttng-xen-relay-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
bin=$work/bin; mkdir -p $bin; go build -o $bin/ ./cmd/... >/dev/null
rate=0
run() { # run dir|relay
  local kind=$1 rd; rd=$(mktemp -d $work/run.XXXX); export LTTNG_XEN_RUN_DIR=$rd HOME=$rd
  $bin/hypervisor --cpus 2 --rate $rate --clock tsc 2>$rd/hv.log & local hv=$!
  until grep -q "hypervisor ready" $rd/hv.log 2>/dev/null; do sleep 0.05; done
  $bin/dom0 2>$rd/d0.log & local d0=$!
  until grep -q "bound VIRQ_TBUF" $rd/d0.log 2>/dev/null; do sleep 0.05; done
  $bin/lttctl-xen create --no-output --subbuf-size 1MiB --num-subbuf 8 >/dev/null
  if [ $kind = dir ]; then
    /usr/bin/time -o $rd/time -f "%U %S" $bin/lttd-xen --output $rd/trace >$rd/lttd.out 2>$rd/lttd.log & 
  else
    /usr/bin/time -o $rd/time -f "%U %S" $bin/lttd-xen --url net://127.0.0.1:$CTRL:$DATA --session s$RANDOM --hostname bench >$rd/lttd.out 2>$rd/lttd.log &
  fi
  local lttd=$!
  until grep -q "consuming" $rd/lttd.log 2>/dev/null; do sleep 0.05; done
  $bin/lttctl-xen start >/dev/null; sleep 3; $bin/lttctl-xen stop >/dev/null
  local st; st=$($bin/lttctl-xen status --json)
  $bin/lttctl-xen destroy >/dev/null; wait $lttd
  local cpu; cpu=$(awk '{print $1+$2}' $rd/time)
  local w l b; w=$(echo "$st" | jq .events_written); l=$(echo "$st" | jq .events_lost); b=$(echo "$st" | jq .consumer_sent_bytes)
  echo "$kind written=$w lost=$l rec_per_s=$((w/3)) loss_pct=$(awk -v w=$w -v l=$l 'BEGIN{printf "%.2f", 100*l/(w+l)}') bytes=$b lttd_cpu_s=$cpu cpu_ms_per_MB=$(awk -v c=$cpu -v b=$b 'BEGIN{printf "%.2f", 1000*c/(b/1048576)}')"
  kill $hv $d0; wait $hv $d0 2>/dev/null || true; rm -rf $rd
}
CTRL=25342 DATA=25343 LIVE=25344
mkdir -p $work/relayhome
LTTNG_HOME=$work/relayhome lttng-relayd -C tcp://127.0.0.1:$CTRL -D tcp://127.0.0.1:$DATA -L tcp://127.0.0.1:$LIVE -o $work/relayout >$work/relay.log 2>&1 & relay=$!
sleep 1
for r in ${RATES:-1000000 2000000 3000000 4000000}; do rate=$r; echo "rate $r per pCPU"; run dir; run relay; done
kill $relay; wait $relay 2>/dev/null || true

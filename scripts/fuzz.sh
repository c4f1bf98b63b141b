#!/usr/bin/env bash
# Runs every Fuzz* target of the module for a short while each.
#
#   scripts/fuzz.sh                 # about 20 s of fuzzing per target
#   scripts/fuzz.sh --time 60       # about 60 s per target
#   scripts/fuzz.sh --only FuzzDecode
#
# Each target runs for -fuzztime=--time seconds. Go's fuzzing coordinator can
# fail such a run at its own deadline with "context deadline exceeded" and no
# crasher (golang/go#75804); the script tolerates exactly that failure (the
# message, no failing input written, no new corpus file, no panic) and
# nothing else. (An execution count, -fuzztime=Nx, has no deadline, but its
# duration cannot be calibrated well: a target's rate grows with its corpus
# and its first seconds go to gathering baseline coverage.)
#
# A crasher is written by go test itself under PKG/testdata/fuzz/TARGET/,
# where it stays as a regression case that every later `go test` replays.
# The script exits 1 if any target failed, naming each one and its crasher.
set -uo pipefail
cd "$(dirname "$0")/.."

budget=20   # seconds of fuzzing per target
only=""
usage() {
  sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --time) budget="${2:?--time needs seconds}"; shift 2 ;;
    --time=*) budget="${1#--time=}"; shift ;;
    --only) only="${2:?--only needs a target name}"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "fuzz.sh: unknown argument $1" >&2; usage ;;
  esac
done
case "$budget" in ''|*[!0-9]*) echo "fuzz.sh: --time wants whole seconds, got $budget" >&2; exit 2 ;; esac

log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

# now: microseconds since the epoch (bash 5).
now() { echo $(( ${EPOCHREALTIME/./} )); }

# fuzz PKGDIR TARGET SECONDS: one go test -fuzz run; sets rc and out.
fuzz() {
  out="$log/$2.out"
  go test -run '^$' -fuzz "^$2\$" -fuzztime "${3}s" "./$1" >"$out" 2>&1
  rc=$?
}

# crashers PKGDIR TARGET: the files of the target's corpus directory.
crashers() { ls "$1/testdata/fuzz/$2" 2>/dev/null | sort; }

# report PKGDIR TARGET BEFORE: prints why the run in $out failed.
report() {
  echo "fuzz.sh: FAIL $2 in ./$1" >&2
  local new
  new=$(comm -13 <(echo "$3") <(crashers "$1" "$2"))
  if [ -n "$new" ]; then
    for f in $new; do echo "fuzz.sh:   crasher kept: $1/testdata/fuzz/$2/$f" >&2; done
    echo "fuzz.sh:   reproduce: go test -run '$2/' ./$1" >&2
  fi
  sed 's/^/    /' "$out" | tail -n 40 >&2
}

targets=$(grep -rlE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' . |
  while read -r f; do
    d=$(dirname "$f"); d=${d#./}
    grep -oE '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' "$f" | sed -E "s|^func (Fuzz[A-Za-z0-9_]*).*|$d \1|"
  done | sort)
if [ -n "$only" ]; then
  targets=$(echo "$targets" | awk -v t="$only" '$2 == t')
fi
if [ -z "$targets" ]; then
  echo "fuzz.sh: no Fuzz target found${only:+ named $only}" >&2
  exit 2
fi

passed=0 failed=0 failures=""
start=$(now)
while read -r dir target; do
  before=$(crashers "$dir" "$target")
  t0=$(now)
  fuzz "$dir" "$target" "$budget"
  took=$(( $(now) - t0 ))
  status=ok
  if [ "$rc" -ne 0 ]; then
    status=fail
    # golang/go#75804: the coordinator's own -fuzztime deadline can fail a
    # run that found nothing. Tolerate exactly that: the deadline message,
    # no "Failing input written", no new file in the corpus, no panic.
    if grep -q 'context deadline exceeded' "$out" &&
      ! grep -qE 'Failing input written|panic:|fuzzing process hung' "$out" &&
      [ "$(crashers "$dir" "$target")" = "$before" ]; then
      status=deadline
    fi
  fi
  execs=$(grep -oE 'execs: [0-9]+' "$out" | tail -n 1 | tr -dc '0-9')
  case $status in
    ok|deadline)
      passed=$((passed + 1))
      note=""
      [ "$status" = deadline ] && note="  (deadline race of golang/go#75804 tolerated)"
      printf 'fuzz.sh: ok   %-20s ./%-16s %10s execs in %3d.%01ds%s\n' "$target" "$dir" "${execs:-?}" \
        $((took / 1000000)) $((took / 100000 % 10)) "$note"
      ;;
    *)
      failed=$((failed + 1))
      failures="$failures $target"
      report "$dir" "$target" "$before"
      ;;
  esac
done <<<"$targets"

echo "fuzz.sh: $(( ($(now) - start) / 1000000 ))s in all"
echo "$passed passed, $failed failed"
if [ "$failed" -gt 0 ]; then
  echo "fuzz.sh: failed targets:$failures (crashers stay under testdata/fuzz/ as regression cases)" >&2
  exit 1
fi

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// The producer figures are the hypervisor's own benchmarks
// (hypervisor/write_bench_test.go), which call its real write path on real
// per-pCPU rings: scripts/bench.sh builds them into BIN/hypervisor.test
// (go test -c) and the bench runs that binary and reads its output.

// benchResult is one result line of a Go benchmark binary.
type benchResult struct {
	name    string             // without the -GOMAXPROCS suffix
	n       int                // iterations
	metrics map[string]float64 // by unit: "ns/op", "cpu-ns/event", ...
}

// procsSuffix is the -GOMAXPROCS suffix the testing package appends to a
// benchmark's name when GOMAXPROCS is not 1.
var procsSuffix = regexp.MustCompile(`-[0-9]+$`)

// parseBenchOutput returns the result lines of a benchmark binary's
// output ("BenchmarkX/sub-2  1000  31.2 ns/op  30.9 cpu-ns/event ...").
func parseBenchOutput(out []byte) ([]benchResult, error) {
	var res []benchResult
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			continue // a benchmark's log line, not a result
		}
		if len(f)%2 != 0 {
			return nil, fmt.Errorf("benchmark line %q: a value without its unit", sc.Text())
		}
		r := benchResult{name: procsSuffix.ReplaceAllString(f[0], ""), n: n, metrics: map[string]float64{}}
		for i := 2; i < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("benchmark line %q: %q is not a number", sc.Text(), f[i])
			}
			r.metrics[f[i+1]] = v
		}
		res = append(res, r)
	}
	if len(res) == 0 {
		return nil, fmt.Errorf("no benchmark results in:\n%s", tail(out))
	}
	return res, nil
}

// goBench runs the hypervisor's benchmarks matching pattern, each for n
// iterations, once, and returns their results by name.
func goBench(o *options, pattern string, n int) (map[string]benchResult, error) {
	bin := filepath.Join(o.bin, "hypervisor.test")
	cmd := exec.Command(bin, "-test.run", "^$", "-test.bench", pattern,
		"-test.benchtime", fmt.Sprintf("%dx", n), "-test.count", "1")
	cmd.Env = append(os.Environ(), "LTTNG_XEN_BENCH_CLOCK="+o.clock) // "": the default
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s -test.bench %s: %w: %s", bin, pattern, err, tail(out))
	}
	res, err := parseBenchOutput(out)
	if err != nil {
		return nil, fmt.Errorf("%s -test.bench %s: %w", bin, pattern, err)
	}
	byName := map[string]benchResult{}
	for _, r := range res {
		byName[r.name] = r
	}
	return byName, nil
}

// metric returns the named result's metric, or an error naming what is
// missing (a benchmark renamed without the bench following it).
func metric(res map[string]benchResult, name, unit string) (float64, error) {
	r, ok := res[name]
	if !ok {
		return 0, fmt.Errorf("benchmark %s did not run", name)
	}
	v, ok := r.metrics[unit]
	if !ok {
		return 0, fmt.Errorf("benchmark %s reported no %s", name, unit)
	}
	return v, nil
}

package main

import (
	"strings"
	"testing"
)

// TestParseBenchOutput: the result lines of a benchmark binary become
// metrics by unit, the -GOMAXPROCS suffix goes, log lines are skipped.
func TestParseBenchOutput(t *testing.T) {
	out := `goos: linux
goarch: amd64
pkg: github.com/lttng-xen/lttng-xen/hypervisor
BenchmarkWriters/two-int/writers=1-2         	 2000000	        34.76 ns/op	 805.48 MB/s	         1.004 busy-cpus	        34.90 cpu-ns/event	         0 lost/op	         1.000 tsc	        34.76 wall-ns/event	       0 B/op	       0 allocs/op
BenchmarkWriters/two-int/writers=4           	 1000	        17.78 ns/op	        35.49 cpu-ns/event
BenchmarkCopyTwoInts    some log line from the benchmark
PASS
`
	res, err := parseBenchOutput([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]benchResult{}
	for _, r := range res {
		byName[r.name] = r
	}
	if len(res) != 2 {
		t.Fatalf("%d results, want 2: %+v", len(res), res)
	}
	for _, c := range []struct {
		name, unit string
		want       float64
	}{
		{"BenchmarkWriters/two-int/writers=1", "cpu-ns/event", 34.90},
		{"BenchmarkWriters/two-int/writers=1", "busy-cpus", 1.004},
		{"BenchmarkWriters/two-int/writers=1", "tsc", 1},
		{"BenchmarkWriters/two-int/writers=4", "cpu-ns/event", 35.49},
	} {
		got, err := metric(byName, c.name, c.unit)
		if err != nil || got != c.want {
			t.Errorf("%s %s = %v, %v; want %v", c.name, c.unit, got, err, c.want)
		}
	}
	if r := byName["BenchmarkWriters/two-int/writers=1"]; r.n != 2000000 {
		t.Errorf("iterations %d, want 2000000", r.n)
	}
	if _, err := metric(byName, "BenchmarkWriters/two-int/writers=2", "cpu-ns/event"); err == nil || !strings.Contains(err.Error(), "did not run") {
		t.Errorf("missing benchmark: err %v, want one saying it did not run", err)
	}
	if _, err := metric(byName, "BenchmarkWriters/two-int/writers=4", "busy-cpus"); err == nil || !strings.Contains(err.Error(), "reported no busy-cpus") {
		t.Errorf("missing metric: err %v, want one naming it", err)
	}
}

// TestParseBenchOutputBad: a binary that printed no result, or a result
// with a value that is not a number, is an error naming what was wrong.
func TestParseBenchOutputBad(t *testing.T) {
	for _, c := range []struct{ name, out, want string }{
		{"no results", "PASS\nok\n", "no benchmark results"},
		{"not a number", "BenchmarkX-2  10  abc ns/op\n", `"abc" is not a number`},
		{"value without unit", "BenchmarkX-2  10  1.5 ns/op 2\n", "without its unit"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseBenchOutput([]byte(c.out))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestStat: median of odd and even counts, extremes, and NaN for none.
func TestStat(t *testing.T) {
	if s := stat([]float64{3, 1, 2}); s.Median != 2 || s.Min != 1 || s.Max != 3 || s.Runs != 3 {
		t.Errorf("stat(3,1,2) = %+v", s)
	}
	if s := stat([]float64{4, 1, 2, 3}); s.Median != 2.5 {
		t.Errorf("stat(4,1,2,3).Median = %v, want 2.5", s.Median)
	}
	if s := stat(nil); s.Median == s.Median {
		t.Errorf("stat(nil).Median = %v, want NaN", s.Median)
	}
}

// Command lttng-xen-bench runs lttng-xen's benchmarks and prints one
// table: each figure is the median of several runs (min–max shown) next to
// a baseline measured in the same run, with their ratio and the target.
// scripts/bench.sh builds the commands and the hypervisor's benchmark
// binary (BIN/hypervisor.test) and runs it; docs/PERFORMANCE.md explains
// every row.
//
// Every figure comes from the product's own code: the producer figures
// from the hypervisor's benchmarks of its write path, the end-to-end,
// consumer and idle figures from the real daemons, the wakeup figures from
// the consumer package (lttd-xen's engine) in this process. What the bench
// has of its own is the measuring and the baselines.
//
//	lttng-xen-bench [-quick] [-json FILE] [-bin DIR] [-work DIR] [-peer lttng-ust] [-only SECTIONS]
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

type options struct {
	quick bool
	json  string
	bin   string // directory of hypervisor, dom0, lttd-xen and hypervisor.test
	src   string // the repository (for cmd/lttng-xen-bench/ust)
	work  string // scratch directory for traces (the cp baseline runs there too)
	peer  string
	only  map[string]bool
	self  string // this executable, for child modes

	hvArgs []string // extra hypervisor arguments (-clock tsc: --clock tsc)
	clock  string   // -clock: also the hypervisor benchmarks' clock (LTTNG_XEN_BENCH_CLOCK)
}

var sections = []struct {
	name string
	run  func(*options, *Report) error
}{
	{"producer", producerFigures},
	{"e2e", e2eFigures},
	{"consumer", consumerFigures},
	{"wakeup", wakeupFigures},
	{"idle", idleFigures},
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "poll-reader" {
		os.Exit(pollReaderMain(os.Args[2:]))
	}
	var o options
	var only string
	flag.BoolVar(&o.quick, "quick", false, "fewer and shorter runs (under 45 s)")
	flag.StringVar(&o.json, "json", "", "also write the report as JSON to `FILE`")
	flag.StringVar(&o.bin, "bin", "bin", "`DIR` holding hypervisor, dom0, lttd-xen and hypervisor.test (go test -c ./hypervisor)")
	flag.StringVar(&o.src, "src", ".", "the repository's `DIR` (the LTTng-UST peer is built from DIR/cmd/lttng-xen-bench/ust)")
	flag.StringVar(&o.work, "work", "", "scratch `DIR` for traces (default: a new directory under $TMPDIR)")
	flag.StringVar(&o.peer, "peer", "", "also measure `PEER` (lttng-ust) in the same run")
	flag.StringVar(&only, "only", "", "comma-separated `SECTIONS` to run: "+sectionNames())
	flag.StringVar(&o.clock, "clock", "", "the trace `CLOCK` (auto, monotonic or tsc): --clock for the hypervisor, and the clock of its write-path benchmarks (default: the hypervisor's default, auto)")
	flag.Parse()
	if o.peer != "" && o.peer != "lttng-ust" {
		fmt.Fprintf(os.Stderr, "bench: -peer %q: only lttng-ust is known\n", o.peer)
		os.Exit(2)
	}
	switch o.clock {
	case "":
	case "auto", "monotonic", "tsc":
		o.hvArgs = append(o.hvArgs, "--clock", o.clock)
	default:
		fmt.Fprintf(os.Stderr, "bench: -clock %q: want auto, monotonic or tsc\n", o.clock)
		os.Exit(2)
	}
	if only != "" {
		o.only = map[string]bool{}
		for _, s := range strings.Split(only, ",") {
			o.only[strings.TrimSpace(s)] = true
		}
	}
	var err error
	if o.self, err = os.Executable(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if o.work == "" {
		if o.work, err = os.MkdirTemp("", "lttng-xen-bench."); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer os.RemoveAll(o.work)
	}
	rep := &Report{
		Command: commandLine(),
		Date:    time.Now().UTC().Format(time.RFC3339),
		Machine: machine(),
		Quick:   o.quick,
	}
	t0 := time.Now()
	for _, s := range sections {
		if o.only != nil && !o.only[s.name] {
			continue
		}
		fmt.Fprintf(os.Stderr, "bench: %s (%.0f s so far)\n", s.name, time.Since(t0).Seconds())
		if err := s.run(&o, rep); err != nil {
			rep.fail(s.name, err)
		}
	}
	rep.Machine["bench duration"] = fmt.Sprintf("%.0f s", time.Since(t0).Seconds())
	rep.writeTable(os.Stdout)
	if o.json != "" {
		if err := rep.writeJSON(o.json); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
	}
	if len(rep.Errors) > 0 {
		os.Exit(1)
	}
}

func sectionNames() string {
	var n []string
	for _, s := range sections {
		n = append(n, s.name)
	}
	return strings.Join(n, ",")
}

func commandLine() string {
	if c := os.Getenv("LTTNG_XEN_BENCH_COMMAND"); c != "" {
		return c // scripts/bench.sh passes its own command line
	}
	return strings.Join(os.Args, " ")
}

// machine describes where the figures were made.
func machine() map[string]string {
	m := map[string]string{
		"go":   runtime.Version(),
		"cpus": fmt.Sprint(runtime.NumCPU()),
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m["cpu"] = strings.TrimSpace(v)
				break
			}
		}
		var flags []string
		for _, f := range []string{"constant_tsc", "nonstop_tsc", "tsc_known_freq", "hypervisor"} {
			if strings.Contains(string(b), " "+f) {
				flags = append(flags, f)
			}
		}
		m["cpu flags"] = strings.Join(flags, " ")
	}
	if b, err := os.ReadFile("/sys/devices/system/clocksource/clocksource0/current_clocksource"); err == nil {
		m["clocksource"] = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m["kernel"] = strings.TrimSpace(string(b))
	}
	var si struct{ total uint64 }
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		fmt.Sscanf(string(b), "MemTotal: %d kB", &si.total)
		m["memory"] = fmt.Sprintf("%.1f GiB", float64(si.total)/(1<<20))
	}
	return m
}

package analysis

import (
	"fmt"
	"io"
	"strconv"
	"time"
)

// WriteText prints s as a report like xenalyze --summary's: the window,
// then a section per pCPU, domain and vCPU, hypercall op, IRQ, page faults
// and lost records. wall converts a time in ns of the trace clock to wall
// clock.
func (s *Summary) WriteText(w io.Writer, wall func(ns uint64) time.Time) error {
	ew := &errWriter{w: w}
	ew.printf("trace     %s\n", s.Trace)
	if s.DurationNS == 0 && s.Events == 0 {
		ew.printf("window    empty: no event in it\n")
	} else {
		ew.printf("window    %s to %s (%s)\n", wall(s.BeginNS).Format(time.RFC3339Nano), wall(s.EndNS).Format(time.RFC3339Nano), dur(s.DurationNS))
	}
	ew.printf("events    %d\n", s.Events)
	if s.SkippedBytes > 0 || s.SkippedPackets > 0 {
		ew.printf("PARTIAL   damaged trace: %d bytes (%d packets) skipped; figures are those of the rest\n", s.SkippedBytes, s.SkippedPackets)
	}

	ew.printf("\npCPUs:\n")
	rows := [][]string{{"pCPU", "events", "switches", "busy", "busy%", "idle", "offline", "unknown"}}
	for _, p := range s.PCPUs {
		rows = append(rows, []string{"cpu" + u(uint64(p.CPU)), u(p.Events), u(p.SchedSwitches), dur(p.BusyNS), pct(p.BusyNS, s.DurationNS),
			dur(p.IdleNS), dur(p.OfflineNS), dur(p.UnknownNS)})
	}
	ew.table(rows)

	ew.printf("\nDomains and vCPUs (wake: from vcpu_wake to the sched_switch that runs it):\n")
	rows = [][]string{{"domain/vCPU", "runtime", "run%", "wakeups", "wake p50", "wake p99", "wake max", "blocked", "faults"}}
	fig := func(name string, f VCPUFigures) []string {
		return []string{name, dur(f.RuntimeNS), pct(f.RuntimeNS, s.DurationNS), u(f.Wakeups), dur(f.WakeP50NS), dur(f.WakeP99NS), dur(f.WakeMaxNS), dur(f.BlockedNS), u(f.PageFaults)}
	}
	for _, d := range s.Domains {
		rows = append(rows, fig(DomainLabel(d.Domain), d.VCPUFigures))
		for _, v := range d.VCPUs {
			rows = append(rows, fig("  "+DomainLabel(d.Domain)+"v"+u(uint64(v.VCPU)), v.VCPUFigures))
		}
	}
	ew.table(rows)

	ew.printf("\nHypercalls (latency: entry to exit on the same pCPU):\n")
	rows = [][]string{{"op  name", "count", "p50", "p99", "max"}}
	for _, h := range s.Hypercalls {
		name := h.Name
		if name == "" {
			name = "?"
		}
		rows = append(rows, []string{fmt.Sprintf("%-3d %s", h.Op, name), u(h.Count), dur(h.P50NS), dur(h.P99NS), dur(h.MaxNS)})
	}
	ew.table(rows)

	ew.printf("\nIRQs (handler time: entry to exit on the same pCPU):\n")
	rows = [][]string{{"irq", "vector", "count", "p50", "p99", "max"}}
	for _, q := range s.IRQs {
		rows = append(rows, []string{u(uint64(q.IRQ)), fmt.Sprintf("%#x", q.Vector), u(q.Count), dur(q.P50NS), dur(q.P99NS), dur(q.MaxNS)})
	}
	ew.table(rows)

	ew.printf("\nPage faults:\n")
	rows = [][]string{{"domain", "count"}}
	for _, f := range s.PageFaults {
		rows = append(rows, []string{DomainLabel(f.Domain), u(f.Count)})
	}
	ew.table(rows)

	ew.printf("\nRecords lost (buffer full), whole trace:\n")
	rows = [][]string{{"pCPU", "lost"}}
	for _, l := range s.Lost {
		rows = append(rows, []string{"cpu" + u(uint64(l.CPU)), u(l.Events)})
	}
	ew.table(rows)
	return ew.err
}

// errWriter keeps the first write error and writes nothing after it.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

func (e *errWriter) table(rows [][]string) {
	if e.err == nil {
		e.err = WriteTable(e.w, rows)
	}
}

func u(n uint64) string { return strconv.FormatUint(n, 10) }

// dur formats ns as a duration ("1.5ms"), "0" for none.
func dur(ns uint64) string {
	if ns == 0 {
		return "0"
	}
	return time.Duration(min(ns, 1<<63-1)).String()
}

// pct formats n as a share of total.
func pct(n, total uint64) string {
	if total == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(total))
}

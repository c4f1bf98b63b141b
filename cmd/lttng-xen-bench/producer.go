package main

import (
	"fmt"
	"runtime"
	"time"
)

// The producer figures: hypervisor.BenchmarkWriters, the pCPUs' write
// path (Trace.writeBatched with the hypervisor's default clock, batches
// flushed as pcpu.trace flushes them) with 1, 2 and 4 writers, each
// writing as its own pCPU into its own ring; next to the hypervisor's
// BenchmarkCopy* (the same bytes stored into a plain ring) and, with
// -peer lttng-ust, LTTng-UST with 1, 2 and 4 threads. Each repetition
// runs every case once, so a noisy moment hits all of them alike.

// prodEvent is one of the two events measured, as BenchmarkWriters and
// BenchmarkCopy* name it.
type prodEvent struct {
	name string // BenchmarkWriters' sub-benchmark
	copy string // the BenchmarkCopy* baseline
	size int    // bytes per record
}

var prodEvents = []prodEvent{
	{"two-int", "BenchmarkCopyTwoInts", 28},
	{"string64", "BenchmarkCopyString64", 80},
}

var writerCounts = []int{1, 2, 4}

func writersName(e prodEvent, w int) string {
	return fmt.Sprintf("BenchmarkWriters/%s/writers=%d", e.name, w)
}

// prodRuns are the figures of every repetition.
type prodRuns struct {
	cpu, busy map[string][]float64 // by benchmark name: cpu-ns/event, busy-cpus
	copyNS    map[string][]float64 // by BenchmarkCopy* name: ns/event
	ust       map[int][]float64    // LTTng-UST CPU ns/event by thread count
	tsc       bool                 // the default clock was the TSC
}

func producerFigures(o *options, rep *Report) error {
	reps, n := 5, 3_000_000
	if o.quick {
		reps, n = 3, 1_000_000
	}
	var ust *ustPeer
	if o.peer == "lttng-ust" {
		var err error
		if ust, err = startUSTPeer(o); err != nil {
			rep.fail("peer lttng-ust", err)
		} else {
			defer ust.close()
		}
	}
	runs := prodRuns{cpu: map[string][]float64{}, busy: map[string][]float64{}, copyNS: map[string][]float64{}, ust: map[int][]float64{}}
	for range reps {
		res, err := goBench(o, "^(BenchmarkWriters|BenchmarkCopyTwoInts|BenchmarkCopyString64)$", n)
		if err != nil {
			return err
		}
		for _, e := range prodEvents {
			for _, w := range writerCounts {
				name := writersName(e, w)
				cpu, err := metric(res, name, "cpu-ns/event")
				if err != nil {
					return err
				}
				busy, _ := metric(res, name, "busy-cpus")
				lost, _ := metric(res, name, "lost/op")
				tsc, _ := metric(res, name, "tsc")
				if lost > 0 {
					return fmt.Errorf("%s: %.3g records dropped per event: a dropped record is cheaper than a written one, the figure would flatter", name, lost)
				}
				runs.cpu[name] = append(runs.cpu[name], cpu)
				runs.busy[name] = append(runs.busy[name], busy)
				runs.tsc = tsc == 1
			}
			c, err := metric(res, e.copy, "ns/event")
			if err != nil {
				return err
			}
			runs.copyNS[e.copy] = append(runs.copyNS[e.copy], c)
		}
		if ust != nil {
			for _, w := range writerCounts {
				cpu, err := ust.run(1_000_000, w)
				if err != nil {
					rep.fail("peer lttng-ust", err)
					ust.close()
					ust = nil
					break
				}
				runs.ust[w] = append(runs.ust[w], cpu)
			}
		}
	}
	rep.add(producerRows(runs)...)
	if ust != nil {
		rep.add(peerRows(runs)...)
	}
	if runtime.NumCPU() >= 2 {
		var xfer []float64
		for range reps {
			xfer = append(xfer, lineTransfer(0, 1, 50*time.Millisecond))
		}
		rep.add(Figure{Section: prodSection, Name: "one cache-line transfer between CPU 0 and CPU 1 (ping-pong)", Unit: "ns", Value: stat(xfer),
			Note: "what each event would pay if the writers shared one head, as before Channel v2"})
	}
	return nil
}

const prodSection = "1. producer"

// clockName says which clock the benchmark used.
func (r prodRuns) clockName() string {
	if r.tsc {
		return "clock: tsc"
	}
	return "clock: monotonic"
}

// producerRows: per event, 1 writer next to the copy; 2 and 4 writers next
// to 1 writer (the ratio is the per-event cost's growth with pCPUs).
func producerRows(r prodRuns) []Figure {
	var figs []Figure
	for _, e := range prodEvents {
		one := stat(r.cpu[writersName(e, 1)])
		for _, w := range writerCounts {
			name := writersName(e, w)
			v, busy := stat(r.cpu[name]), stat(r.busy[name]).Median
			row := fmt.Sprintf("%s %d B, %d writer%s, each on its own pCPU ring", e.name, e.size, w, plural(w))
			note := r.clockName()
			if w == 1 {
				f := Figure{Section: prodSection, Name: row, Unit: "CPU ns/event", Value: v, Note: note}.
					withBase("plain copy of the same bytes (hypervisor."+e.copy+")", stat(r.copyNS[e.copy]))
				if e.name == "two-int" {
					f = f.check("≤ 40 ns", v.Median <= 40)
				}
				figs = append(figs, f)
				continue
			}
			note += fmt.Sprintf(", %.2f CPUs busy on average", busy)
			f := Figure{Section: prodSection, Name: row, Unit: "CPU ns/event", Value: v, Note: note}.withBase("1 writer", one)
			if w == 4 {
				// The target is about pCPUs writing at once: it is met only
				// if the writers really ran on two CPUs at once.
				if busy < 1.5 {
					f.Note += ": the writers did not run in parallel, the ratio says nothing"
				}
				f = f.check("ratio ≤ 1.5", f.Ratio != nil && *f.Ratio <= 1.5 && busy >= 1.5)
			}
			figs = append(figs, f)
		}
	}
	return figs
}

// peerRows: our two-int figure with 1, 2 and 4 writers next to LTTng-UST's
// with as many threads, and LTTng-UST's own 4-vs-1 ratio.
func peerRows(r prodRuns) []Figure {
	var figs []Figure
	e := prodEvents[0]
	for _, w := range writerCounts {
		f := Figure{Section: prodSection, Name: fmt.Sprintf("%s, %d writer%s vs LTTng-UST (same event, same run)", e.name, w, plural(w)), Unit: "CPU ns/event",
			Value: stat(r.cpu[writersName(e, w)]), Note: r.clockName()}.
			withBase(fmt.Sprintf("LTTng-UST 2.13 tracepoint, %d thread%s", w, plural(w)), stat(r.ust[w]))
		if w == 1 {
			f = f.check("ratio ≤ 0.5", f.Ratio != nil && *f.Ratio <= 0.5)
		}
		figs = append(figs, f)
	}
	figs = append(figs, Figure{Section: prodSection, Name: "LTTng-UST 2.13, 4 threads vs 1", Unit: "CPU ns/event", Value: stat(r.ust[4])}.
		withBase("LTTng-UST, 1 thread", stat(r.ust[1])))
	return figs
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

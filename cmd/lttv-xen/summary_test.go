package main

import (
	"encoding/json"
	"maps"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/lttng-xen/lttng-xen/analysis"
	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/internal/testenv"
	"github.com/lttng-xen/lttng-xen/record"
)

// knownTrace writes a two-pCPU trace whose summary is worked out by hand
// in TestSummaryKnown (times in ns of the trace clock):
//
//	cpu0: idle -> d1v0 at 1000; sched_op 1100-1150; page fault 1200;
//	      d1v0 blocks at 1300 (idle from then); IRQ 40 vector 0x48
//	      1500-1530; d1v0 runs again at 2000; mmu_update 2100-2400; a
//	      printk at 2500, the last event.
//	cpu1: idle -> d2v1 at 1010; 3 records lost; wakes d1v0 at 1800;
//	      sched_op 1900-1990; goes offline at 2200.
func knownTrace(t *testing.T) *streamsBuilder {
	s := newStreamsBuilder(t, 2, 0)
	u, i := record.Uint, record.Int
	const idle = analysis.IdleDomain
	s.addAt(1000, 0, "sched_switch", u(idle), u(0), i(0), u(1), u(0))
	s.addAt(1010, 1, "sched_switch", u(idle), u(1), i(0), u(2), u(1))
	s.addAt(1100, 0, "hypercall_entry", u(29), u(0))
	s.addAt(1150, 0, "hypercall_exit", u(29), i(0))
	s.addAt(1200, 0, "page_fault", u(1), u(0), u(0xdeadb000), u(6))
	s.addAt(1300, 0, "vcpu_block", u(1), u(0))
	s.addAt(1300, 0, "sched_switch", u(1), u(0), i(1), u(idle), u(0))
	s.addAt(1500, 0, "irq_entry", u(40), u(0x48))
	s.addAt(1530, 0, "irq_exit", u(40))
	s.streams[1].lose(3)
	s.addAt(1800, 1, "vcpu_wake", u(1), u(0))
	s.addAt(1900, 1, "hypercall_entry", u(29), u(1))
	s.addAt(1990, 1, "hypercall_exit", u(29), i(-22))
	s.addAt(2000, 0, "sched_switch", u(idle), u(0), i(0), u(1), u(0))
	s.addAt(2100, 0, "hypercall_entry", u(1), u(0))
	s.addAt(2200, 1, "cpu_offline", u(1))
	s.addAt(2400, 0, "hypercall_exit", u(1), i(0))
	s.addAt(2500, 0, "printk", record.Str("end"))
	return s
}

// summaryJSON runs summary --json with args and decodes its output.
func summaryJSON(t *testing.T, args ...string) analysis.Summary {
	t.Helper()
	r := run(t, append([]string{"summary", "--json"}, args...)...)
	if slices.Contains(args, "--salvage") {
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
	} else {
		r.wantOK(t)
	}
	var got analysis.Summary
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &keys); err != nil {
		t.Fatal(err)
	}
	want := []string{"begin_ns", "domains", "duration_ns", "end_ns", "events", "hypercalls", "irqs", "lost", "page_faults", "pcpus", "skipped_bytes", "skipped_packets", "trace"}
	if got := slices.Sorted(maps.Keys(keys)); !slices.Equal(got, want) {
		t.Errorf("summary --json keys %q, want %q", got, want)
	}
	return got
}

func fig(runtime, wakeups, p50, p99, maxv, blocked, faults uint64) analysis.VCPUFigures {
	return analysis.VCPUFigures{RuntimeNS: runtime, Wakeups: wakeups, WakeP50NS: p50, WakeP99NS: p99, WakeMaxNS: maxv, BlockedNS: blocked, PageFaults: faults}
}

func TestSummaryKnown(t *testing.T) {
	s := knownTrace(t)
	dir := s.write()
	got := summaryJSON(t, dir)
	want := analysis.Summary{
		Trace: dir, BeginNS: 1000, EndNS: 2500, DurationNS: 1500, Events: 17,
		PCPUs: []analysis.PCPU{
			{CPU: 0, Events: 12, SchedSwitches: 3, BusyNS: 300 + 500, IdleNS: 700},
			{CPU: 1, Events: 5, SchedSwitches: 1, BusyNS: 1190, OfflineNS: 300, UnknownNS: 10},
		},
		Domains: []analysis.Domain{
			{Domain: 1, VCPUFigures: fig(800, 1, 200, 200, 200, 500, 1), VCPUs: []analysis.VCPU{{VCPU: 0, VCPUFigures: fig(800, 1, 200, 200, 200, 500, 1)}}},
			{Domain: 2, VCPUFigures: fig(1190, 0, 0, 0, 0, 0, 0), VCPUs: []analysis.VCPU{{VCPU: 1, VCPUFigures: fig(1190, 0, 0, 0, 0, 0, 0)}}},
		},
		Hypercalls: []analysis.Hypercall{
			{Op: 1, Name: "mmu_update", Count: 1, P50NS: 300, P99NS: 300, MaxNS: 300},
			{Op: 29, Name: "sched_op", Count: 2, P50NS: 50, P99NS: 90, MaxNS: 90},
		},
		IRQs:       []analysis.IRQ{{IRQ: 40, Vector: 0x48, Count: 1, P50NS: 30, P99NS: 30, MaxNS: 30}},
		PageFaults: []analysis.PageFault{{Domain: 1, Count: 1}},
		Lost: []analysis.Lost{
			{CPU: 0, File: dir + "/channel0_0", Events: 0},
			{CPU: 1, File: dir + "/channel0_1", Events: 3},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("summary --json gave\n%+v\nwant\n%+v", got, want)
	}

	// The window [1500, 2000): cpu0 idle throughout, cpu1 running d2v1;
	// d1v0 blocked from the window's start to its wakeup at 1800.
	got = summaryJSON(t, dir, "--begin", "500ns", "--end=1000ns")
	want = analysis.Summary{
		Trace: dir, BeginNS: 1500, EndNS: 2000, DurationNS: 500, Events: 5,
		PCPUs: []analysis.PCPU{
			{CPU: 0, Events: 2, IdleNS: 500},
			{CPU: 1, Events: 3, BusyNS: 500},
		},
		Domains: []analysis.Domain{
			{Domain: 1, VCPUFigures: fig(0, 1, 0, 0, 0, 300, 0), VCPUs: []analysis.VCPU{{VCPU: 0, VCPUFigures: fig(0, 1, 0, 0, 0, 300, 0)}}},
			{Domain: 2, VCPUFigures: fig(500, 0, 0, 0, 0, 0, 0), VCPUs: []analysis.VCPU{{VCPU: 1, VCPUFigures: fig(500, 0, 0, 0, 0, 0, 0)}}},
		},
		Hypercalls: []analysis.Hypercall{{Op: 29, Name: "sched_op", Count: 1, P50NS: 90, P99NS: 90, MaxNS: 90}},
		IRQs:       []analysis.IRQ{{IRQ: 40, Vector: 0x48, Count: 1, P50NS: 30, P99NS: 30, MaxNS: 30}},
		PageFaults: []analysis.PageFault{},
		Lost:       want.Lost,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("summary --json --begin 500ns --end 1000ns gave\n%+v\nwant\n%+v", got, want)
	}

	// The text report says the same.
	r := run(t, "summary", dir)
	r.wantOK(t)
	for _, w := range []string{
		"window    2023-11-14T22:13:20.123457789Z to 2023-11-14T22:13:20.123459289Z (1.5µs)",
		"events    17",
		"   pCPU  events  switches     busy  busy%   idle  offline  unknown\n",
		"   cpu0      12         3    800ns  53.3%  700ns        0        0\n",
		"   cpu1       5         1  1.19µs  79.3%      0    300ns     10ns\n",
		"   d1             800ns  53.3%        1     200ns     200ns     200ns    500ns       1\n",
		"     d1v0         800ns  53.3%        1     200ns     200ns     200ns    500ns       1\n",
		"   1   mmu_update      1  300ns  300ns  300ns\n",
		"   29  sched_op        2   50ns   90ns   90ns\n",
		"   40     0x48      1  30ns  30ns  30ns\n",
		"   d1          1\n",
		"   cpu1     3\n",
	} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("summary does not contain %q", w)
		}
	}
}

// TestSummaryBabeltrace: the events the summary counts are babeltrace2's,
// per pCPU too, on a four-stream trace.
func TestSummaryBabeltrace(t *testing.T) {
	bt := testenv.Babeltrace(t)
	s := sampleStreams(t, 4, 300)
	dir := s.write()
	out, err := exec.Command(bt, dir).Output()
	if err != nil {
		t.Fatal(err)
	}
	btCPU := map[uint32]uint64{}
	var total uint64
	for line := range strings.Lines(string(out)) {
		_, rest, ok := strings.Cut(line, "cpu_id = ")
		if !ok {
			t.Fatalf("babeltrace2 line without cpu_id: %q", line)
		}
		var cpu uint32
		for _, c := range rest {
			if c < '0' || c > '9' {
				break
			}
			cpu = cpu*10 + uint32(c-'0')
		}
		btCPU[cpu]++
		total++
	}
	got := summaryJSON(t, dir)
	if got.Events != total {
		t.Errorf("summary: %d events, babeltrace2: %d", got.Events, total)
	}
	for _, p := range got.PCPUs {
		if p.Events != btCPU[p.CPU] {
			t.Errorf("summary: cpu%d %d events, babeltrace2: %d", p.CPU, p.Events, btCPU[p.CPU])
		}
	}
	if len(got.PCPUs) != len(btCPU) {
		t.Errorf("summary: %d pCPUs, babeltrace2: %d", len(got.PCPUs), len(btCPU))
	}
}

func TestSummaryBadInput(t *testing.T) {
	dir := knownTrace(t).write()
	r := run(t, "summary", "--begin", "1s", dir)
	r.wantFail(t, cmdline.ExitError, dir+": the window holds no event: the trace spans 1.5µs after its first event")
	r = run(t, "summary", "--begin", "1ms", "--end", "1us", dir)
	r.wantFail(t, cmdline.ExitUsage, "summary: --end 1us is not after --begin 1ms")
	r = run(t, "summary", dir, "--begin", "soon")
	r.wantFail(t, cmdline.ExitUsage, `summary: --begin "soon": want a positive duration`)
	r = run(t, "summary", dir, "--end")
	r.wantFail(t, cmdline.ExitUsage, "summary: flag needs an argument: --end")
	empty := newTraceBuilder(t).write()
	r = run(t, "summary", empty)
	r.wantFail(t, cmdline.ExitError, empty+": the trace holds no event")

	// No sched_switch: the figures there are, no crash.
	b := newTraceBuilder(t)
	b.add("irq_entry", 0, record.Uint(3), record.Uint(0x23))
	b.add("irq_exit", 0, record.Uint(3))
	got := summaryJSON(t, b.write())
	if got.Events != 2 || len(got.Domains) != 0 || len(got.IRQs) != 1 || got.PCPUs[0].UnknownNS != got.DurationNS {
		t.Errorf("summary of a trace without sched_switch: %+v", got)
	}
}

// TestSummarySalvage: on a damaged trace summary stops at the damage;
// with --salvage it sums up the events that can be recovered, labelled
// PARTIAL, and reports the damage on stderr.
func TestSummarySalvage(t *testing.T) {
	b := sampleTrace(t, 600)
	d := damages(t, b)[0]
	dir, file := writeDamaged(b, d.stream)
	r := run(t, "summary", dir)
	r.wantFail(t, cmdline.ExitError, file+": offset ")

	got := summaryJSON(t, "--salvage", dir)
	if got.Events != uint64(len(d.recovered)) || got.SkippedBytes != d.skipped {
		t.Errorf("summary --salvage: %d events, %d bytes skipped; want %d and %d", got.Events, got.SkippedBytes, len(d.recovered), d.skipped)
	}
	r = run(t, "summary", "--salvage", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "PARTIAL   damaged trace: ") || !strings.Contains(r.stderr, name+": salvage: "+file) {
		t.Errorf("summary --salvage: exit %d, want 0, a PARTIAL line and the damage on stderr", r.code)
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/record"
)

// wantStats computes what stats must report for the stream files
// channel0_0, channel0_1, … of dir that bs wrote, one builder each.
func wantStats(dir string, bs ...*traceBuilder) stats {
	st := stats{
		Trace:     dir,
		PerEvent:  map[string]uint64{},
		PerCPU:    map[string]uint64{},
		PerStream: []streamStats{},
		Skipped:   []skipped{},
	}
	for _, e := range bs[0].tab.Events() {
		st.PerEvent[e.Name] = 0
	}
	first, last := ^uint64(0), uint64(0)
	for i, b := range bs {
		st.Events += uint64(len(b.records))
		st.Packets += uint64(len(b.packets))
		st.EventsLost += b.totalLost()
		cpu := uint32(i)
		st.PerStream = append(st.PerStream, streamStats{File: filepath.Join(dir, fmt.Sprintf("channel0_%d", i)), CPU: &cpu,
			Packets: uint64(len(b.packets)), Events: uint64(len(b.records)), EventsLost: b.totalLost()})
		for _, w := range b.records {
			st.PerEvent[w.e.Name]++
			st.PerCPU[strconv.Itoa(int(w.cpu))]++
			first, last = min(first, w.ts), max(last, w.ts)
		}
	}
	if st.Events > 0 {
		st.FirstNS, st.LastNS, st.DurationNS = first, last, last-first
		st.FirstTime = time.Unix(testOffsetSec, testOffsetNS+int64(first)).UTC().Format(timeLayout)
		st.LastTime = time.Unix(testOffsetSec, testOffsetNS+int64(last)).UTC().Format(timeLayout)
		st.EventsPerSec = float64(st.Events) / (float64(last-first) / 1e9)
	}
	return st
}

// statsJSON runs stats --json on dir and decodes its output.
func statsJSON(t *testing.T, dir string) stats {
	t.Helper()
	r := run(t, "stats", "--json", dir)
	r.wantOK(t)
	var got stats
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	// The keys are the documented ones, no more, no fewer.
	var fields map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &fields); err != nil {
		t.Fatal(err)
	}
	keys := slices.Sorted(maps.Keys(fields))
	want := []string{"duration_ns", "events", "events_lost", "events_per_sec", "first_ns", "first_time",
		"last_ns", "last_time", "packets", "per_cpu", "per_event", "per_stream", "skipped", "skipped_bytes", "skipped_packets", "trace"}
	if !slices.Equal(keys, want) {
		t.Errorf("stats --json keys %q, want %q", keys, want)
	}
	return got
}

func TestStatsJSON(t *testing.T) {
	b := sampleTrace(t, 600)
	dir := b.write()
	got := statsJSON(t, dir)
	want := wantStats(dir, b)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stats --json gave\n%+v\nwant\n%+v", got, want)
	}
	// What was written, spelt out.
	if got.Events != 600 || got.EventsLost != 12 || got.PerCPU["0"] != 150 || got.PerCPU["3"] != 150 ||
		got.PerEvent["printk"] != 100 || got.PerEvent["page_fault"] != 0 {
		t.Errorf("stats --json gave %+v", got)
	}
}

func TestStatsEmpty(t *testing.T) {
	dir := newTraceBuilder(t).write()
	got := statsJSON(t, dir)
	want := wantStats(dir, newTraceBuilder(t))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stats --json gave\n%+v\nwant\n%+v", got, want)
	}
}

// TestStatsStreams: a trace of four streams, one per pCPU, and one of the
// same stream copied (stats counts what is there; check refuses it).
func TestStatsStreams(t *testing.T) {
	s := sampleStreams(t, 4, 300)
	dir := s.write()
	got := statsJSON(t, dir)
	want := wantStats(dir, s.streams...)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stats --json gave\n%+v\nwant\n%+v", got, want)
	}
	if got.Events != 1200 || got.EventsLost != 13 || got.PerStream[1].EventsLost != 13 || got.PerCPU["3"] != 300 {
		t.Errorf("stats --json gave %+v", got)
	}

	b := sampleTrace(t, 600)
	dir = b.write()
	writeFile(t, filepath.Join(dir, "channel0_1"), b.stream)
	got = statsJSON(t, dir)
	if want := wantStats(dir, b, b); !reflect.DeepEqual(got, want) {
		t.Errorf("stats --json gave\n%+v\nwant\n%+v", got, want)
	}
}

func TestStatsTable(t *testing.T) {
	b := newTraceBuilder(t)
	for i := range 10 {
		if i == 6 {
			b.lose(3)
		}
		b.add("irq_entry", uint32(i/4), record.Uint(uint64(i)), record.Uint(32))
	}
	b.add("printk", 10, record.Str("done"))
	dir := b.write()
	r := run(t, "stats", dir)
	r.wantOK(t)
	want := `trace        ` + dir + `
events       11
packets      5
events lost  3
first        2023-11-14T22:13:20.123457799Z (1010 ns)
last         2023-11-14T22:13:20.123457899Z (1110 ns)
duration     100ns
rate         110000000.0 events/s

per event:
   irq_entry        10   90.9%
   printk            1    9.1%
   blob              0    0.0%
   cpu_offline       0    0.0%
   cpu_online        0    0.0%
   domain_create     0    0.0%
   domain_destroy    0    0.0%
   hypercall_entry   0    0.0%
   hypercall_exit    0    0.0%
   irq_exit          0    0.0%
   page_fault        0    0.0%
   sched_switch      0    0.0%
   timer             0    0.0%
   vcpu_block        0    0.0%
   vcpu_wake         0    0.0%

per pCPU:
   cpu0   4   36.4%
   cpu1   4   36.4%
   cpu2   2   18.2%
   cpu10  1    9.1%

per stream:
   file        pCPU  packets  events  lost
   channel0_0     0        5      11     3
`
	if r.stdout != want {
		t.Errorf("stats printed\n%s\nwant\n%s", r.stdout, want)
	}
}

func TestStatsCorrupt(t *testing.T) {
	b := sampleTrace(t, 600)
	for _, c := range corruptions(t, b) {
		for _, args := range [][]string{{"stats"}, {"stats", "--json"}} {
			t.Run(c.name+"/"+fmt.Sprint(args), func(t *testing.T) {
				dir, file := writeDamaged(b, c.stream)
				r := run(t, append(args, dir)...)
				r.wantFail(t, cmdline.ExitError, fmt.Sprintf("%s: %s: offset %d: %s", name, file, c.off, c.want))
				if r.stdout != "" {
					t.Errorf("stdout %q, want nothing", r.stdout)
				}
			})
		}
	}
}

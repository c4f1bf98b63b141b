package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
)

// tefEvent is one element of a Trace Event Format traceEvents array.
type tefEvent struct {
	Ph   string         `json:"ph"`
	Name string         `json:"name"`
	Cat  string         `json:"cat"`
	PID  int            `json:"pid"`
	TID  int            `json:"tid"`
	TS   float64        `json:"ts"`
	Dur  float64        `json:"dur"`
	Args map[string]any `json:"args"`
}

// TestExportChrome exports knownTrace and checks the tracks, the slices
// (nested), the instants and the loss, as Perfetto would read them.
func TestExportChrome(t *testing.T) {
	dir := knownTrace(t).write()
	out := filepath.Join(t.TempDir(), "trace.json")
	r := run(t, "export", "--format", "chrome", "--output", out, dir)
	r.wantOK(t)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		DisplayTimeUnit string         `json:"displayTimeUnit"`
		OtherData       map[string]any `json:"otherData"`
		TraceEvents     []tefEvent     `json:"traceEvents"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, data)
	}
	type xs struct {
		name   string
		ts, du float64
	}
	slicesOf := map[int][]xs{}
	threads := map[int]string{}
	var instants []string
	for _, e := range doc.TraceEvents {
		switch e.Ph {
		case "X":
			slicesOf[e.TID] = append(slicesOf[e.TID], xs{e.Name, e.TS, e.Dur})
		case "M":
			if e.Name == "thread_name" {
				threads[e.TID] = e.Args["name"].(string)
			}
		case "i":
			instants = append(instants, e.Name)
			if e.Name == "page_fault" && e.Args["addr"] != "0xdeadb000" {
				t.Errorf("page_fault args %v, want addr 0xdeadb000", e.Args)
			}
			if e.Name == "lost" && (e.TID != 1 || e.TS != 0.795 || e.Args["records"] != 3.0) {
				t.Errorf("lost instant %+v, want 3 records on pCPU 1 at 0.795 µs", e)
			}
		default:
			t.Errorf("unexpected event %+v", e)
		}
	}
	if threads[0] != "pCPU 0" || threads[1] != "pCPU 1" || len(threads) != 2 {
		t.Errorf("threads %v, want pCPU 0 and pCPU 1", threads)
	}
	want := map[int][]xs{
		0: {{"d1v0", 0, 0.3}, {"sched_op", 0.1, 0.05}, {"idle", 0.3, 0.7}, {"irq 40", 0.5, 0.03}, {"d1v0", 1, 0.5}, {"mmu_update", 1.1, 0.3}},
		1: {{"d2v1", 0.01, 1.19}, {"sched_op", 0.9, 0.09}, {"offline", 1.2, 0.3}},
	}
	for tid, w := range want {
		if !slices.Equal(slicesOf[tid], w) {
			t.Errorf("pCPU %d slices %v, want %v", tid, slicesOf[tid], w)
		}
	}
	slices.Sort(instants)
	if wantI := []string{"cpu_offline", "lost", "page_fault", "printk", "vcpu_block", "vcpu_wake"}; !slices.Equal(instants, wantI) {
		t.Errorf("instants %v, want %v", instants, wantI)
	}
	if doc.DisplayTimeUnit != "ns" || doc.OtherData["window_begin_ns"] != 1000.0 {
		t.Errorf("displayTimeUnit %q, otherData %v", doc.DisplayTimeUnit, doc.OtherData)
	}
}

// TestExportNesting: on the four-stream sample, whose hypercalls may
// outlast their vCPU's run, every slice nests in the one it starts in.
func TestExportNesting(t *testing.T) {
	dir := sampleStreams(t, 4, 300).write()
	out := filepath.Join(t.TempDir(), "trace.json")
	run(t, "export", "--output", out, dir).wantOK(t)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ TraceEvents []tefEvent }
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	open := map[int][]float64{} // per tid, ends of the enclosing slices
	n := 0
	for _, e := range doc.TraceEvents {
		if e.Ph != "X" {
			continue
		}
		n++
		st := open[e.TID]
		for len(st) > 0 && st[len(st)-1] <= e.TS+1e-9 {
			st = st[:len(st)-1]
		}
		if len(st) > 0 && e.TS+e.Dur > st[len(st)-1]+1e-9 {
			t.Fatalf("slice %+v outlasts its parent ending at %v", e, st[len(st)-1])
		}
		open[e.TID] = append(st, e.TS+e.Dur)
	}
	if n == 0 {
		t.Fatal("no slice")
	}
}

func TestExportBadInput(t *testing.T) {
	dir := knownTrace(t).write()
	r := run(t, "export", "--format", "perfetto", "--output", "x.json", dir)
	r.wantFail(t, cmdline.ExitUsage, `export: --format "perfetto"`)
	r = run(t, "export", dir)
	r.wantFail(t, cmdline.ExitUsage, "export: --output FILE is required")
	bad := filepath.Join(t.TempDir(), "no", "such", "dir", "x.json")
	r = run(t, "export", "--output", bad, dir)
	r.wantFail(t, cmdline.ExitError, "cannot write "+bad+": no such file or directory")
	out := filepath.Join(t.TempDir(), "x.json")
	r = run(t, "export", "--output", out, "--begin", "1h", dir)
	r.wantFail(t, cmdline.ExitError, "the window holds no event")
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed export left %s behind: %v", out, err)
	}
}

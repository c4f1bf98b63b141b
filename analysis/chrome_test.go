package analysis

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/lttng-xen/lttng-xen/record"
)

// TestChromeCut: a hypercall that outlasts its vCPU's run, and an IRQ
// that outlasts the hypercall it came in, are cut at the end of the slice
// they start in, and say so.
func TestChromeCut(t *testing.T) {
	var out bytes.Buffer
	c := NewChromeWriter(&out, record.TraceInfo{Hostname: "h"})
	c.Start(1000, 1<<62)
	c.Run(0, 1, 0, 1000, 2000)
	c.Run(0, 2, 0, 2000, 3000)
	c.Call(0, 29, 1500, 2500) // runs past d1v0's end at 2000
	c.IRQ(0, 9, 0x29, 1800, 2200)
	if err := c.Close(nil, 3000); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		TraceEvents []struct {
			Ph, Name string
			TS, Dur  float64
			Args     map[string]any
		}
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	type x struct {
		name    string
		ts, dur float64
		cut     bool
	}
	var got []x
	for _, e := range doc.TraceEvents {
		if e.Ph == "X" {
			got = append(got, x{e.Name, e.TS, e.Dur, e.Args["cut"] == true})
		}
	}
	want := []x{{"d1v0", 0, 1, false}, {"sched_op", 0.5, 0.5, true}, {"irq 9", 0.8, 0.2, true}, {"d2v0", 1, 1, false}}
	if len(got) != len(want) {
		t.Fatalf("slices %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("slice %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

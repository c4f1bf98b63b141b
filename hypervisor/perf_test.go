package hypervisor

import (
	"errors"
	"testing"
	"time"

	"github.com/lttng-xen/lttng-xen/record"
)

// TestWorkloadDomainWrap: after 65535 domain creations the domain counter
// wraps to 1, not 0 (domain_destroy draws rng.IntN(nextD), which panics
// on 0; seed 1 hit it after 9.8 M events on pCPU 2, 19.6 M on pCPU 0).
func TestWorkloadDomainWrap(t *testing.T) {
	w := newWorkload(1, 0)
	w.nextD = 0xFFFF
	for w.nextD == 0xFFFF {
		w.next()
	}
	if w.nextD != 1 {
		t.Fatalf("after 65535 the domain counter is %d, want 1", w.nextD)
	}
	for range 100_000 {
		w.next() // would panic in domain_destroy with nextD == 0
	}
}

// TestTSCClockTrace: with Config.TSC the records carry TSC counts, the
// metadata declares the calibrated frequency, and the declared offset puts
// the records at the right wall-clock time, in non-decreasing order.
func TestTSCClockTrace(t *testing.T) {
	cal, err := record.CalibrateTSC(20 * time.Millisecond)
	if errors.Is(err, record.ErrNoTSC) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	h := newTestHypervisor(t, Config{CPUs: 2, Rate: 50000, TSC: &cal})
	if err := h.Create(geom(64<<10, 16)); err != nil {
		t.Fatal(err)
	}
	c := collect(t, h)
	before := time.Now()
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	tr := c.finish(t, h)
	if tr.Info.ClockName != record.TSCClockName || tr.Info.ClockFreq != cal.Freq {
		t.Fatalf("metadata clock %s at %d Hz, want %s at %d Hz", tr.Info.ClockName, tr.Info.ClockFreq, record.TSCClockName, cal.Freq)
	}
	recs := records(t, tr)
	if len(recs) == 0 {
		t.Fatal("no records")
	}
	// Each pCPU's stream is in timestamp order; across streams readers
	// merge by timestamp.
	last := map[uint32]uint64{}
	lo, hi := recs[0].Timestamp, recs[0].Timestamp
	for i, r := range recs {
		if r.Timestamp < last[r.CPU] {
			t.Fatalf("record %d (pCPU %d): timestamp %d after %d", i, r.CPU, r.Timestamp, last[r.CPU])
		}
		last[r.CPU] = r.Timestamp
		lo, hi = min(lo, r.Timestamp), max(hi, r.Timestamp)
	}
	if len(last) != 2 {
		t.Errorf("records from pCPUs %v, want both", last)
	}
	first, lastT := tr.Info.Wall(lo), tr.Info.Wall(hi)
	slack := 50 * time.Millisecond
	if first.Before(before.Add(-slack)) || lastT.After(after.Add(slack)) {
		t.Fatalf("records span %v .. %v, tracing ran %v .. %v", first, lastT, before.UTC(), after.UTC())
	}
}

package record

import (
	"errors"
	"math"
	"testing"
	"time"
)

func calibrated(t *testing.T) TSCClock {
	t.Helper()
	c, err := CalibrateTSC(20 * time.Millisecond)
	if errors.Is(err, ErrNoTSC) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCalibrateTSC checks the calibration against the clocks it was made
// from: over a sleep the counter, converted, advances as CLOCK_MONOTONIC
// does, and offset + counter lands on the realtime clock.
func TestCalibrateTSC(t *testing.T) {
	c := calibrated(t)
	t.Logf("freq %d Hz ±%.1f ppm, offset %d s + %d counts, precision %d, warp %d counts over %d hand-offs",
		c.Freq, c.FreqPPM, c.OffsetSec, c.Offset, c.Precision, c.Warp, c.Handoffs)
	if c.Freq < 1e8 || c.Freq > 1e11 {
		t.Fatalf("frequency %d Hz is implausible", c.Freq)
	}
	if c.Offset >= c.Freq {
		t.Fatalf("offset %d counts is not below the frequency", c.Offset)
	}
	m0, t0 := Monotonic(), readTSCOrdered()
	time.Sleep(20 * time.Millisecond)
	m1, t1 := Monotonic(), readTSCOrdered()
	mono, tsc := float64(m1-m0), float64(c.Nanos(t1-t0))
	// A loaded machine can stretch either pair of reads; 1% is far above the
	// calibration error and far below a wrong frequency.
	if math.Abs(tsc-mono)/mono > 0.01 {
		t.Fatalf("over a sleep the TSC gave %.0f ns, CLOCK_MONOTONIC %.0f ns", tsc, mono)
	}
	info := c.Apply(TraceInfo{})
	now := readTSC()
	secs := info.ClockOffsetSec + int64((info.ClockOffset+now)/info.ClockFreq)
	nsec := int64(c.Nanos((info.ClockOffset + now) % info.ClockFreq))
	if d := time.Since(time.Unix(secs, nsec)); d < -10*time.Millisecond || d > 10*time.Millisecond {
		t.Fatalf("offset + counter is %v away from the realtime clock", d)
	}
	if err := info.Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestTSCMetadata: a trace declared with the TSC clock parses back with
// its frequency and offset.
func TestTSCMetadata(t *testing.T) {
	c := TSCClock{Freq: 2_096_020_000, OffsetSec: 1_700_000_000, Offset: 123_456_789, Precision: 40}
	text, err := Metadata(c.Apply(TraceInfo{Hostname: "h"}), Builtin().Events())
	if err != nil {
		t.Fatal(err)
	}
	info, _, err := ParseMetadata(text)
	if err != nil {
		t.Fatal(err)
	}
	if info.ClockName != TSCClockName || info.ClockFreq != c.Freq || info.ClockOffsetSec != c.OffsetSec || info.ClockOffset != c.Offset {
		t.Fatalf("parsed clock %s %d Hz offset %d s + %d, want %s %d Hz offset %d s + %d",
			info.ClockName, info.ClockFreq, info.ClockOffsetSec, info.ClockOffset, TSCClockName, c.Freq, c.OffsetSec, c.Offset)
	}
}

func TestTSCNanos(t *testing.T) {
	c := TSCClock{Freq: 2_096_020_000}
	for _, tc := range []struct{ counts, ns uint64 }{
		{0, 0},
		{2_096_020_000, 1e9},
		{2_096_020_000 * 3600, 3600e9},
		{1_048_010_000, 5e8},
		{1, 0},
		{2_097, 1000},
	} {
		if got := c.Nanos(tc.counts); got != tc.ns {
			t.Errorf("Nanos(%d) = %d, want %d", tc.counts, got, tc.ns)
		}
	}
}

// TestTSCWarp runs the sync check; on this machine's CPUs it must find
// them within MaxTSCWarp of each other (CalibrateTSC refuses otherwise).
func TestTSCWarp(t *testing.T) {
	if !invariantTSC() {
		t.Skip(ErrNoTSC)
	}
	warp, handoffs := TSCWarp(20 * time.Millisecond)
	t.Logf("warp %d counts over %d cross-CPU hand-offs", warp, handoffs)
	if warp > MaxTSCWarp {
		t.Fatalf("warp %d counts", warp)
	}
}

func BenchmarkTSC(b *testing.B) {
	var s uint64
	for b.Loop() {
		s += TSC()
	}
	sink = s
}

var sink uint64

package shm

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// TestHeadCAS: the 16-byte CAS swaps both words only when both match.
func TestHeadCAS(t *testing.T) {
	h := newHead()
	h.p[0].Store(10)
	h.p[1].Store(20)
	for _, tc := range []struct {
		o, t, no, nt uint64
		ok           bool
	}{
		{11, 20, 1, 2, false}, // offset differs
		{10, 21, 1, 2, false}, // timestamp differs
		{10, 20, 30, 40, true},
		{10, 20, 50, 60, false}, // stale pair
		{30, 40, 1<<63 | 5, 1<<64 - 1, true},
	} {
		before0, before1 := h.load()
		got, cur0, cur1 := h.cas(tc.o, tc.t, tc.no, tc.nt)
		if got != tc.ok {
			t.Fatalf("cas(%d, %d → %d, %d) = %v, want %v", tc.o, tc.t, tc.no, tc.nt, got, tc.ok)
		}
		if !got && (cur0 != before0 || cur1 != before1) {
			t.Fatalf("failed cas returned (%d, %d), the pair is (%d, %d)", cur0, cur1, before0, before1)
		}
		if o, ts := h.load(); tc.ok && (o != tc.no || ts != tc.nt) {
			t.Fatalf("after cas: (%d, %d), want (%d, %d)", o, ts, tc.no, tc.nt)
		}
	}
}

// TestHeadCASConcurrent: increments of both words by many goroutines are
// never lost or torn: each successful CAS moved the pair as a unit.
func TestHeadCASConcurrent(t *testing.T) {
	h := newHead()
	const per = 20000
	n := uint64(runtime.GOMAXPROCS(0) + 2)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for range per {
				o, ts := h.load()
				for {
					if ts != 3*o { // torn read: the CAS below must fail
						if ok, _, _ := h.cas(o, ts, o+1, ts+3); ok {
							t.Errorf("cas succeeded on a torn pair (%d, %d)", o, ts)
							return
						}
						o, ts = h.load()
						continue
					}
					ok, cur0, cur1 := h.cas(o, ts, o+1, ts+3)
					if ok {
						break
					}
					if cur1 != 3*cur0 {
						t.Errorf("failed cas returned a torn pair (%d, %d)", cur0, cur1)
						return
					}
					o, ts = cur0, cur1
				}
			}
		})
	}
	wg.Wait()
	if o, ts := h.load(); o != n*per || ts != 3*n*per {
		t.Fatalf("pair is (%d, %d), want (%d, %d)", o, ts, n*per, 3*n*per)
	}
}

// skewClock goes forward overall but reads up to 5000 behind at random,
// like per-CPU counters that disagree: the channel must still stamp every
// record no earlier than the one before it in the stream.
type skewClock struct{ t atomic.Uint64 }

func (c *skewClock) now() uint64 {
	v := c.t.Add(10) + 1_000_000
	return v - rand.Uint64N(5000)
}

func TestSkewedClockStaysMonotonic(t *testing.T) {
	g := Geometry{SubbufSize: 16 << 10, NumSubbuf: 64}
	wake, deliver := wakeChan()
	cfg := testConfig(g, nil, deliver)
	clk := &skewClock{}
	cfg.Clock = clk.now
	c, cc := newTestChannelCPUs(t, g, 1, cfg)
	ch, cons := c.Ring(0), cc.Stream(0)
	stop := make(chan struct{})
	done := make(chan []testPacket)
	go func() { done <- drain(t, cons, wake, stop) }()
	writers := runtime.GOMAXPROCS(0)*2 + 1
	const perWriter = 3000
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range uint64(perWriter) {
				for writeRecord(ch, uint32(w), i) != nil {
					runtime.Gosched()
				}
			}
		})
	}
	wg.Wait()
	ch.Flush(true)
	close(stop)
	packets := <-done
	per := checkStream(t, concResult{packets: packets}, writers) // fails on any step back
	for w, got := range per {
		if len(got) != perWriter {
			t.Errorf("writer %d: %d records, want %d", w, len(got), perWriter)
		}
	}
}

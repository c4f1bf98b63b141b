package record

import (
	"errors"
	"fmt"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// TSCClockName and TSCClockDescription describe the [TSC] clock in the
// metadata ([TSCClock.Apply]).
const (
	TSCClockName        = "tsc"
	TSCClockDescription = "CPU time-stamp counter (invariant TSC, calibrated against CLOCK_MONOTONIC)"
)

// ErrNoTSC: the CPU has no invariant time-stamp counter (or this is not
// amd64), so [TSC] cannot be the trace clock. Use [Monotonic].
var ErrNoTSC = errors.New("no invariant TSC on this CPU")

// TSC returns the CPU's time-stamp counter: one RDTSC, about half the cost
// of [Monotonic] under kvm-clock and with no conversion to nanoseconds (the
// metadata declares the counter's frequency instead, see [TSCClock]).
//
// The read is not ordered with earlier loads, and two CPUs' counters may
// differ by a few cycles. Neither matters to the trace channel, which
// clamps each record's timestamp to the last one it published (shm.Config
// Clock); any other user must not assume that a TSC read on one CPU after
// observing another CPU's store is larger than the value read there.
// Without an invariant TSC (see [CalibrateTSC]) it is meaningless as a
// clock; on architectures other than amd64 it returns [Monotonic].
func TSC() uint64 { return readTSC() }

// TSCClock is the TSC as a trace clock: its frequency and its offset from
// the Unix epoch, as [CalibrateTSC] measured them, in the metadata's terms:
// realtime = OffsetSec seconds + (Offset + counter) / Freq seconds.
type TSCClock struct {
	Freq      uint64 // counts per second
	OffsetSec int64  // offset from the Unix epoch: seconds …
	Offset    uint64 // … plus counts, in [0, Freq)
	// Precision is the uncertainty of the offset, in counts (the widest
	// bracket of the samples it came from), at least 1.
	Precision uint64
	// FreqPPM is the uncertainty of Freq in parts per million: the sample
	// brackets over the calibration window.
	FreqPPM float64
	// Warp is the largest backward step, in counts, that the cross-CPU sync
	// check ([TSCWarp]) saw; Handoffs is how many times it passed the lock
	// between two different CPUs (0: it could not test across CPUs).
	Warp, Handoffs uint64
}

// Apply returns info with its clock declared as this TSC clock: name
// [TSCClockName], frequency, offset and precision. The clock UUID (the boot
// id) is kept: the counter restarts with the machine, like the monotonic
// clock.
func (c TSCClock) Apply(info TraceInfo) TraceInfo {
	info.ClockName = TSCClockName
	info.ClockDescription = TSCClockDescription
	info.ClockFreq = c.Freq
	info.ClockPrecision = max(c.Precision, 1)
	info.ClockOffsetSec = c.OffsetSec
	info.ClockOffset = c.Offset
	return info
}

// Nanos converts a count difference to nanoseconds, rounding down. It
// cannot overflow for differences below 584 years.
func (c TSCClock) Nanos(counts uint64) uint64 {
	hi, lo := bits.Mul64(counts%c.Freq, 1e9)
	sub, _ := bits.Div64(hi, lo, c.Freq) // hi < Freq since counts%Freq < Freq
	return counts/c.Freq*1e9 + sub
}

// MaxTSCWarp is the largest cross-CPU warp [CalibrateTSC] accepts: 20 µs
// of counts at 1 GHz. Any warp is harmless to stream order (the channel
// clamps), but past this the clamped timestamps would distort times.
const MaxTSCWarp = 20_000

// CalibrateTSC measures the TSC's frequency against CLOCK_MONOTONIC over
// window (50 ms gives about 2 ppm on a quiet machine), its offset from the
// Unix epoch, and runs the cross-CPU sync check ([TSCWarp]) for a fifth of
// window (at least 5 ms). It fails with [ErrNoTSC] when the CPU declares no
// invariant TSC, and with an error when the counters of two CPUs disagree
// by more than [MaxTSCWarp] counts.
func CalibrateTSC(window time.Duration) (TSCClock, error) {
	var c TSCClock
	if !invariantTSC() {
		return c, ErrNoTSC
	}
	if window < time.Millisecond {
		window = time.Millisecond
	}
	m0, t0, w0 := bracketMonotonic()
	time.Sleep(window)
	m1, t1, w1 := bracketMonotonic()
	if t1 <= t0 || m1 <= m0 {
		return c, fmt.Errorf("calibrate TSC: counter did not advance (%d then %d)", t0, t1)
	}
	hi, lo := bits.Mul64(t1-t0, 1e9)
	if hi >= m1-m0 {
		return c, fmt.Errorf("calibrate TSC: frequency out of range")
	}
	c.Freq, _ = bits.Div64(hi, lo, m1-m0)
	c.Freq = (c.Freq + 500) / 1000 * 1000 // kHz: finer than the measurement
	c.FreqPPM = float64(w0+w1) / float64(m1-m0) * 1e6
	if err := c.SetOffset(); err != nil {
		return c, err
	}
	check := max(window/5, 5*time.Millisecond)
	c.Warp, c.Handoffs = TSCWarp(check)
	if c.Warp > MaxTSCWarp {
		return c, fmt.Errorf("TSC not synchronized across CPUs: a CPU read %d counts behind another (at most %d accepted)", c.Warp, MaxTSCWarp)
	}
	return c, nil
}

// bracketMonotonic returns a TSC reading and the monotonic time it was
// taken at: the midpoint of the tightest of several monotonic brackets, and
// that bracket's width in ns.
func bracketMonotonic() (mono, tsc, width uint64) {
	width = ^uint64(0)
	for range 32 {
		a := Monotonic()
		t := readTSCOrdered()
		b := Monotonic()
		if b-a < width {
			width, mono, tsc = b-a, a+(b-a)/2, t
		}
	}
	return mono, tsc, width
}

// SetOffset measures OffsetSec, Offset and Precision again, with the
// calibrated Freq, from a realtime reading bracketed by two TSC reads
// (offset = realtime×Freq − counter, in counts). Call it when a trace is
// created, so that its metadata follows the realtime clock's adjustments
// since the calibration; it takes microseconds.
func (c *TSCClock) SetOffset() error {
	best := ^uint64(0)
	var wall int64
	var tsc uint64
	for range 32 {
		a := readTSCOrdered()
		w := time.Now().UnixNano()
		b := readTSCOrdered()
		if b-a < best {
			best, wall, tsc = b-a, w, a+(b-a)/2
		}
	}
	if wall <= 0 {
		return fmt.Errorf("calibrate TSC: realtime clock before 1970")
	}
	hi, lo := bits.Mul64(uint64(wall), c.Freq)
	if hi >= 1e9 {
		return fmt.Errorf("calibrate TSC: frequency %d Hz out of range", c.Freq)
	}
	counts, _ := bits.Div64(hi, lo, 1e9) // realtime in counts
	if counts < tsc {
		return fmt.Errorf("calibrate TSC: counter %d is ahead of the realtime clock", tsc)
	}
	counts -= tsc
	c.OffsetSec, c.Offset = int64(counts/c.Freq), counts%c.Freq
	c.Precision = max(best/2, 1)
	return nil
}

// TSCWarp is the kernel's TSC warp check (arch/x86/kernel/tsc_sync.c,
// check_tsc_warp) run for d: one thread pinned to each CPU this process
// may use takes turns, under a spin lock, reading the counter (ordered)
// and comparing it with the last value read on any CPU. The lock hand-off
// is the same cache-line transfer that orders two writers of the channel,
// so a warp of zero over many hand-offs means no writer can observe
// another's record and then read a smaller counter. It returns the largest
// backward step seen, in counts, and the number of hand-offs between two
// different CPUs. Pinning is best effort: where it fails the threads run
// wherever the scheduler puts them.
func TSCWarp(d time.Duration) (warp, handoffs uint64) {
	cpus := allowedCPUs()
	if len(cpus) < 2 {
		return 0, 0
	}
	var (
		lock    atomic.Uint32
		last    uint64
		lastCPU = -1
		mu      sync.Mutex // guards warp and handoffs at the end
		wg      sync.WaitGroup
	)
	deadline := Monotonic() + uint64(d)
	for _, cpu := range cpus {
		wg.Go(func() {
			runtime.LockOSThread() // never unlocked: the pinned thread exits with the goroutine
			_ = pinToCPU(cpu)
			var w, h uint64
			for i := 0; ; i++ {
				if i&63 == 0 && Monotonic() > deadline {
					break
				}
				for !lock.CompareAndSwap(0, 1) {
				}
				prev, prevCPU := last, lastCPU
				now := readTSCOrdered()
				last, lastCPU = now, cpu
				lock.Store(0)
				if prevCPU >= 0 && prevCPU != cpu {
					h++
					if now < prev {
						w = max(w, prev-now)
					}
				}
			}
			mu.Lock()
			warp, handoffs = max(warp, w), handoffs+h
			mu.Unlock()
		})
	}
	wg.Wait()
	return warp, handoffs
}

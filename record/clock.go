package record

import (
	"bytes"
	"fmt"
	"math"
	"math/bits"
	"os"
	"time"
)

// ClockName, ClockDescription and ClockFreq describe [Monotonic] in the
// metadata (TraceInfo's defaults).
const (
	ClockName        = "monotonic"
	ClockDescription = "Monotonic Clock"
	ClockFreq        = 1_000_000_000
)

// Monotonic returns the monotonic clock in nanoseconds (CLOCK_MONOTONIC:
// it never jumps, and stops while the machine is suspended). It is the
// timestamp source of records; safe for concurrent use.
func Monotonic() uint64 { return uint64(nanotime()) }

// ClockOffset returns the offset of the [Monotonic] clock from the Unix
// epoch, split as the metadata's clock offset_s (seconds) and offset (ns,
// in [0, 1e9)): realtime = monotonic + sec×1e9 + ns. It samples the two
// clocks a few times and keeps the sample whose monotonic reads bracket the
// realtime read most tightly; uncertainty is half that bracket, returned
// in ns.
func ClockOffset() (sec, ns, uncertainty int64) {
	const samples = 16
	best := int64(-1)
	var off int64
	for range samples {
		m0 := nanotime()
		wall := time.Now().UnixNano()
		m1 := nanotime()
		if d := m1 - m0; best < 0 || d < best {
			best = d
			off = wall - (m0 + d/2)
		}
	}
	sec, ns = off/1e9, off%1e9
	if ns < 0 {
		sec--
		ns += 1e9
	}
	return sec, ns, (best + 1) / 2
}

// BootID returns the kernel's boot id (/proc/sys/kernel/random/boot_id),
// which identifies the [Monotonic] clock's epoch: two traces with the same
// boot id have comparable monotonic timestamps. Use it as the clock UUID.
func BootID() ([16]byte, error) {
	var id [16]byte
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return id, fmt.Errorf("read boot id: %w", err)
	}
	return ParseUUID(string(bytes.TrimSpace(b)))
}

// NS converts ts, in cycles of the trace clock, to nanoseconds since the
// clock's origin (ts itself for the default 1 GHz clock), rounding down.
// It is exact for any frequency; a result beyond 2^64-1 ns (584 years,
// reached only by clocks slower than 1 GHz) saturates at math.MaxUint64.
func (info TraceInfo) NS(ts uint64) uint64 {
	freq := info.freq()
	if freq == 1e9 {
		return ts
	}
	hi, lo := bits.Mul64(ts, 1e9)
	if hi >= freq {
		return math.MaxUint64
	}
	q, _ := bits.Div64(hi, lo, freq)
	return q
}

// Wall returns the wall-clock time, in UTC, of ts (cycles of the trace
// clock): the clock's offset from the Unix epoch, offset_s seconds plus
// offset cycles, plus ts cycles. Nanoseconds are rounded down. It is exact
// for any frequency and offset, an offset of a second's worth of cycles or
// more included; times beyond what [time.Time] holds saturate.
func (info TraceInfo) Wall(ts uint64) time.Time {
	sec, nsec := info.wall(ts)
	return time.Unix(sec, nsec).UTC()
}

// freq is the clock frequency, ClockFreq when unset.
func (info TraceInfo) freq() uint64 {
	if info.ClockFreq == 0 {
		return ClockFreq
	}
	return info.ClockFreq
}

// Bounds of the Unix seconds [time.Unix] takes without overflowing its
// internal count of seconds since year 1.
const (
	maxWallSec = math.MaxInt64 - 62_135_596_800
	minWallSec = math.MinInt64 + 62_135_596_800
)

// wall returns the Unix seconds and nanoseconds of ts, saturated to
// [minWallSec, maxWallSec].
func (info TraceInfo) wall(ts uint64) (sec, nsec int64) {
	freq := info.freq()
	// Whole seconds of the offset's cycles, then of ts, then of the two
	// remainders' sum (both below freq, so at most one second): every term
	// fits in 64 bits; the seconds are summed with saturation.
	offSec := info.ClockOffset / freq
	cyc, carry := bits.Add64(ts%freq, info.ClockOffset%freq, 0)
	extra := uint64(0)
	if carry != 0 || cyc >= freq {
		cyc -= freq
		extra = 1
	}
	sec = info.ClockOffsetSec
	for _, s := range [...]uint64{offSec, ts / freq, extra} {
		if s > uint64(maxWallSec) || sec > maxWallSec-int64(s) {
			return maxWallSec, 0
		}
		sec += int64(s)
	}
	if sec < minWallSec {
		return minWallSec, 0
	}
	hi, lo := bits.Mul64(cyc, 1e9)
	q, _ := bits.Div64(hi, lo, freq) // hi < freq because cyc < freq
	return sec, int64(q)
}

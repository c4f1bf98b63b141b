package main

import (
	"math/bits"
	"time"

	"github.com/lttng-xen/lttng-xen/record"
)

// timeLayout is the wall-clock form of a timestamp: UTC, nanoseconds.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// clock converts a trace's timestamps (cycles of the clock its metadata
// declares) to nanoseconds and to wall-clock time, with the metadata's
// offset: wall = offset_s seconds + (offset + timestamp) cycles since the
// Unix epoch. The arithmetic is exact and cannot overflow for any clock
// frequency.
type clock struct {
	freq   uint64 // cycles per second, > 0
	offSec int64  // offset_s
	offCyc uint64 // offset, in [0, freq)
}

func newClock(info record.TraceInfo) clock {
	info = info.WithDefaults()
	c := clock{freq: info.ClockFreq, offSec: info.ClockOffsetSec, offCyc: info.ClockOffset}
	if c.freq == 0 {
		c.freq = record.ClockFreq
	}
	c.offSec += int64(c.offCyc / c.freq)
	c.offCyc %= c.freq
	return c
}

// ns returns ts in nanoseconds of the trace clock (ts itself for the
// default 1 GHz clock).
func (c clock) ns(ts uint64) uint64 {
	if c.freq == 1e9 {
		return ts
	}
	return ts/c.freq*1e9 + c.subNS(ts%c.freq)
}

// subNS converts cyc cycles, less than a second's worth, to nanoseconds.
func (c clock) subNS(cyc uint64) uint64 {
	if c.freq == 1e9 {
		return cyc
	}
	hi, lo := bits.Mul64(cyc, 1e9)
	q, _ := bits.Div64(hi, lo, c.freq) // hi < freq because cyc < freq
	return q
}

// wall returns the wall-clock time of ts as Unix seconds and nanoseconds.
func (c clock) wall(ts uint64) (sec, nsec int64) {
	cyc, carry := bits.Add64(ts%c.freq, c.offCyc, 0)
	sec = c.offSec + int64(ts/c.freq)
	if carry != 0 || cyc >= c.freq { // both terms are below freq: at most one second over
		cyc -= c.freq
		sec++
	}
	return sec, int64(c.subNS(cyc))
}

// time returns the wall-clock time of ts, in UTC.
func (c clock) time(ts uint64) time.Time {
	sec, nsec := c.wall(ts)
	return time.Unix(sec, nsec).UTC()
}

// timeFormatter appends wall-clock timestamps in [timeLayout]. Events come
// in time order, many per second, so it formats the date and time of day once
// per second and only the nanoseconds for each event. Not safe for
// concurrent use.
type timeFormatter struct {
	clock  clock
	sec    int64  // second prefix holds
	prefix []byte // "2006-01-02T15:04:05." of sec, or nil
}

// append appends the wall-clock time of ts to dst.
func (f *timeFormatter) append(dst []byte, ts uint64) []byte {
	sec, nsec := f.clock.wall(ts)
	if f.prefix == nil || sec != f.sec {
		f.prefix = time.Unix(sec, 0).UTC().AppendFormat(f.prefix[:0], "2006-01-02T15:04:05.")
		f.sec = sec
	}
	dst = append(dst, f.prefix...)
	var digits [9]byte
	for i := len(digits) - 1; i >= 0; i-- {
		digits[i] = byte('0' + nsec%10)
		nsec /= 10
	}
	dst = append(dst, digits[:]...)
	return append(dst, 'Z')
}

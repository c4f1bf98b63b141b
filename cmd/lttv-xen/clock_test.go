package main

import (
	"math"
	"testing"
	"time"

	"github.com/lttng-xen/lttng-xen/record"
)

func TestClock(t *testing.T) {
	const tsc = 2_500_000_000 // a 2.5 GHz TSC clock
	for _, tc := range []struct {
		name     string
		info     record.TraceInfo
		ts       uint64
		sec, ns  int64  // wall clock
		clockNS  uint64 // clock.ns(ts)
		wantText string
	}{
		{"default clock", record.TraceInfo{ClockOffsetSec: testOffsetSec, ClockOffset: testOffsetNS},
			1010, testOffsetSec, testOffsetNS + 1010, 1010, "2023-11-14T22:13:20.123457799Z"},
		{"offset carries into seconds", record.TraceInfo{ClockOffsetSec: testOffsetSec, ClockOffset: testOffsetNS},
			5e9 + 900_000_000, testOffsetSec + 6, 23_456_789, 5e9 + 900_000_000, "2023-11-14T22:13:26.023456789Z"},
		{"zero offset", record.TraceInfo{}, 0, 0, 0, 0, "1970-01-01T00:00:00.000000000Z"},
		{"negative offset", record.TraceInfo{ClockOffsetSec: -2, ClockOffset: 5e8}, 1, -2, 500_000_001, 1, "1969-12-31T23:59:58.500000001Z"},
		// offset 0.8 s in cycles, ts 3.5 s.
		{"TSC clock", record.TraceInfo{ClockFreq: tsc, ClockOffsetSec: 1_600_000_000, ClockOffset: 2_000_000_000},
			3*tsc + tsc/2, 1_600_000_004, 300_000_000, 3_500_000_000, "2020-09-13T12:26:44.300000000Z"},
		// ns are rounded down: 1 cycle of a 3 Hz clock is 333333333.3 ns.
		{"3 Hz clock", record.TraceInfo{ClockFreq: 3, ClockOffset: 1}, 4, 1, 666_666_666, 1_333_333_333, "1970-01-01T00:00:01.666666666Z"},
		// offset + ts%freq overflows 64 bits.
		{"huge frequency", record.TraceInfo{ClockFreq: 1<<63 + 1, ClockOffset: 1 << 63}, 1 << 63, 1, 999_999_999, 999_999_999,
			"1970-01-01T00:00:01.999999999Z"},
		// An offset of more than a second's worth of cycles is normalised.
		{"offset above a second", record.TraceInfo{ClockFreq: 1000, ClockOffset: 2500}, 600, 3, 100_000_000, 600_000_000,
			"1970-01-01T00:00:03.100000000Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock(tc.info)
			if sec, ns := c.wall(tc.ts); sec != tc.sec || ns != tc.ns {
				t.Errorf("wall(%d) = %d s %d ns, want %d s %d ns", tc.ts, sec, ns, tc.sec, tc.ns)
			}
			if got := c.ns(tc.ts); got != tc.clockNS {
				t.Errorf("ns(%d) = %d, want %d", tc.ts, got, tc.clockNS)
			}
			f := timeFormatter{clock: c}
			if got := string(f.append(nil, tc.ts)); got != tc.wantText {
				t.Errorf("formatted %q, want %q", got, tc.wantText)
			}
			if got := c.time(tc.ts); !got.Equal(time.Unix(tc.sec, tc.ns)) || got.Location() != time.UTC {
				t.Errorf("time(%d) = %v, want %v UTC", tc.ts, got, time.Unix(tc.sec, tc.ns))
			}
		})
	}
}

// TestTimeFormatter checks the once-per-second formatting against time.Format
// on timestamps that go forward, jump and go back.
func TestTimeFormatter(t *testing.T) {
	c := newClock(record.TraceInfo{ClockOffsetSec: testOffsetSec, ClockOffset: testOffsetNS})
	f := timeFormatter{clock: c}
	ts := uint64(0)
	for i := range 5000 {
		switch {
		case i%1000 == 999:
			ts -= 3e9 // back in time
		case i%100 == 99:
			ts += 86_400e9 + 7 // a day later
		default:
			ts += 1_234_567 * uint64(i%13)
		}
		want := c.time(ts).Format(timeLayout)
		if got := string(f.append([]byte("x"), ts)); got != "x"+want {
			t.Fatalf("ts %d: formatted %q, want %q", ts, got, "x"+want)
		}
	}
}

func TestAppendValue(t *testing.T) {
	for _, tc := range []struct {
		t    record.Type
		v    record.Value
		want string
	}{
		{record.U8, record.Uint(255), "255"},
		{record.U64, record.Uint(math.MaxUint64), "18446744073709551615"},
		{record.S8, record.Int(-128), "-128"},
		{record.S64, record.Int(math.MinInt64), "-9223372036854775808"},
		{record.String, record.Str("a \"b\"\t\\ é ✓\x7f"), `"a \"b\"\t\\ é ✓\x7f"`},
		{record.String, record.Str(""), `""`},
		{record.Bytes, record.Blob([]byte{0, 0xab, 0xff}), "00abff"},
		{record.Bytes, record.Blob(nil), ""},
	} {
		if got := string(appendValue(nil, tc.t, tc.v)); got != tc.want || got != tc.v.Format(tc.t) {
			t.Errorf("appendValue(%v, %+v) = %q, want %q (and Format %q)", tc.t, tc.v, got, tc.want, tc.v.Format(tc.t))
		}
	}
}

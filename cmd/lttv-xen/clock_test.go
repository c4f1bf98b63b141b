package main

import (
	"math"
	"testing"

	"github.com/lttng-xen/lttng-xen/record"
)

// TestTimeFormatterClocks formats times of clocks of any frequency and
// offset (the conversion is record.TraceInfo.Wall's, tested there).
func TestTimeFormatterClocks(t *testing.T) {
	const tsc = 2_500_000_000 // a 2.5 GHz TSC clock
	for _, tc := range []struct {
		info record.TraceInfo
		ts   uint64
		want string
	}{
		{record.TraceInfo{ClockOffsetSec: testOffsetSec, ClockOffset: testOffsetNS}, 1010, "2023-11-14T22:13:20.123457799Z"},
		{record.TraceInfo{}, 0, "1970-01-01T00:00:00.000000000Z"},
		{record.TraceInfo{ClockOffsetSec: -2, ClockOffset: 5e8}, 1, "1969-12-31T23:59:58.500000001Z"},
		{record.TraceInfo{ClockFreq: tsc, ClockOffsetSec: 1_600_000_000, ClockOffset: 2_000_000_000}, 3*tsc + tsc/2, "2020-09-13T12:26:44.300000000Z"},
		{record.TraceInfo{ClockFreq: 3, ClockOffset: 1}, 4, "1970-01-01T00:00:01.666666666Z"},
		{record.TraceInfo{ClockFreq: 1<<63 + 1, ClockOffset: 1 << 63}, 1 << 63, "1970-01-01T00:00:01.999999999Z"},
	} {
		f := timeFormatter{info: tc.info}
		if got := string(f.append(nil, tc.ts)); got != tc.want || wallTime(tc.info, tc.ts) != tc.want {
			t.Errorf("%+v: ts %d formatted %q (wallTime %q), want %q", tc.info, tc.ts, got, wallTime(tc.info, tc.ts), tc.want)
		}
	}
}

// TestTimeFormatter checks the once-per-second formatting against time.Format
// on timestamps that go forward, jump and go back.
func TestTimeFormatter(t *testing.T) {
	info := record.TraceInfo{ClockOffsetSec: testOffsetSec, ClockOffset: testOffsetNS}
	f := timeFormatter{info: info}
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
		want := info.Wall(ts).Format(timeLayout)
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

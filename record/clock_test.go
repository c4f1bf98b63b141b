package record

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestMonotonic(t *testing.T) {
	a := Monotonic()
	time.Sleep(2 * time.Millisecond)
	b := Monotonic()
	if b < a+uint64(2*time.Millisecond) {
		t.Fatalf("Monotonic advanced %d ns over a 2 ms sleep", b-a)
	}
	prev := Monotonic()
	for range 1000 {
		now := Monotonic()
		if now < prev {
			t.Fatalf("Monotonic went back: %d after %d", now, prev)
		}
		prev = now
	}
}

func TestClockOffset(t *testing.T) {
	sec, ns, unc := ClockOffset()
	if ns < 0 || ns >= 1e9 {
		t.Fatalf("ns = %d, want [0, 1e9)", ns)
	}
	if unc < 0 || unc > int64(time.Millisecond) {
		t.Fatalf("uncertainty %d ns", unc)
	}
	wall := sec*1e9 + ns + int64(Monotonic())
	if d := time.Now().UnixNano() - wall; d < -int64(time.Millisecond) || d > int64(time.Millisecond) {
		t.Fatalf("offset + Monotonic is %v away from time.Now", time.Duration(d))
	}
}

func TestBootID(t *testing.T) {
	id, err := BootID()
	if err != nil {
		t.Skipf("no boot id: %v", err)
	}
	if id == ([16]byte{}) {
		t.Fatal("zero boot id")
	}
	id2, _ := BootID()
	if id != id2 {
		t.Fatal("boot id changed")
	}
}

func TestUUID(t *testing.T) {
	id := NewUUID()
	if id[6]>>4 != 4 || id[8]>>6 != 2 {
		t.Fatalf("NewUUID %s is not a version 4 UUID", FormatUUID(id))
	}
	if NewUUID() == id {
		t.Fatal("two equal random UUIDs")
	}
	s := FormatUUID(testUUID)
	if s != "deadbeef-0102-0304-0506-0708090a0b0c" {
		t.Fatalf("FormatUUID = %s", s)
	}
	back, err := ParseUUID(strings.ToUpper(s))
	if err != nil || back != testUUID {
		t.Fatalf("ParseUUID: %v %v", back, err)
	}
	for _, bad := range []string{"", "deadbeef-0102-0304-0506-0708090a0b0", "deadbeef01020304050607080090a0b0c0",
		"deadbeef-0102-0304-0506_0708090a0b0c", "zeadbeef-0102-0304-0506-0708090a0b0c"} {
		if _, err := ParseUUID(bad); err == nil {
			t.Errorf("ParseUUID(%q) succeeded", bad)
		}
	}
}

func TestTraceInfoClock(t *testing.T) {
	const tsc = 2_500_000_000 // a 2.5 GHz TSC clock
	for _, tc := range []struct {
		name    string
		info    TraceInfo
		ts      uint64
		sec, ns int64  // Wall(ts)
		clockNS uint64 // NS(ts)
	}{
		{"default clock", TraceInfo{ClockOffsetSec: 1_700_000_000, ClockOffset: 123_456_789},
			1010, 1_700_000_000, 123_456_789 + 1010, 1010},
		{"offset carries into seconds", TraceInfo{ClockOffsetSec: 1_700_000_000, ClockOffset: 123_456_789},
			5e9 + 900_000_000, 1_700_000_006, 23_456_789, 5e9 + 900_000_000},
		{"zero offset", TraceInfo{}, 0, 0, 0, 0},
		{"largest ns timestamp", TraceInfo{}, math.MaxUint64, 18_446_744_073, 709_551_615, math.MaxUint64},
		{"negative offset", TraceInfo{ClockOffsetSec: -2, ClockOffset: 5e8}, 1, -2, 500_000_001, 1},
		// offset 0.8 s in cycles, ts 3.5 s.
		{"TSC clock", TraceInfo{ClockFreq: tsc, ClockOffsetSec: 1_600_000_000, ClockOffset: 2_000_000_000},
			3*tsc + tsc/2, 1_600_000_004, 300_000_000, 3_500_000_000},
		// A 64-bit TSC value far beyond ts*1e9 fitting 64 bits.
		{"TSC clock, large count", TraceInfo{ClockFreq: tsc}, 1 << 62, 1_844_674_407, 370_955_161, 1_844_674_407_370_955_161},
		// ns are rounded down: 1 cycle of a 3 Hz clock is 333333333.3 ns.
		{"3 Hz clock", TraceInfo{ClockFreq: 3, ClockOffset: 1}, 4, 1, 666_666_666, 1_333_333_333},
		// ts*1e9 overflows 64 bits at 1 Hz: NS saturates, Wall does not.
		{"1 Hz clock", TraceInfo{ClockFreq: 1}, 1 << 40, 1 << 40, 0, math.MaxUint64},
		// offset + ts%freq overflows 64 bits.
		{"huge frequency", TraceInfo{ClockFreq: 1<<63 + 1, ClockOffset: 1 << 63}, 1 << 63, 1, 999_999_999, 999_999_999},
		// An offset of more than a second's worth of cycles is normalised.
		{"offset above a second", TraceInfo{ClockFreq: 1000, ClockOffset: 2500}, 600, 3, 100_000_000, 600_000_000},
		// Beyond time.Time: saturated, never wrapped.
		{"saturated", TraceInfo{ClockFreq: 1, ClockOffsetSec: math.MaxInt64 - 5}, math.MaxUint64, maxWallSec, 0, math.MaxUint64},
		{"saturated below", TraceInfo{ClockOffsetSec: math.MinInt64}, 0, minWallSec, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if sec, ns := tc.info.wall(tc.ts); sec != tc.sec || ns != tc.ns {
				t.Errorf("wall(%d) = %d s %d ns, want %d s %d ns", tc.ts, sec, ns, tc.sec, tc.ns)
			}
			if got := tc.info.NS(tc.ts); got != tc.clockNS {
				t.Errorf("NS(%d) = %d, want %d", tc.ts, got, tc.clockNS)
			}
			got := tc.info.Wall(tc.ts)
			if !got.Equal(time.Unix(tc.sec, tc.ns)) || got.Location() != time.UTC {
				t.Errorf("Wall(%d) = %v, want %v UTC", tc.ts, got, time.Unix(tc.sec, tc.ns))
			}
		})
	}
}

// TestTraceInfoClockExact compares NS and Wall with big-integer arithmetic
// on random clocks and timestamps.
func TestTraceInfoClockExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	billion := big.NewInt(1e9)
	for range 20000 {
		info := TraceInfo{ClockFreq: 1 + rng.Uint64N(1<<uint(rng.IntN(64))), ClockOffsetSec: rng.Int64N(4e9) - 2e9}
		info.ClockOffset = rng.Uint64N(info.ClockFreq)
		if rng.IntN(4) == 0 { // above a second's worth: normalised
			info.ClockOffset += info.ClockFreq / 2
		}
		ts := rng.Uint64() >> uint(rng.IntN(64))
		freq := new(big.Int).SetUint64(info.ClockFreq)
		// ns = floor(ts * 1e9 / freq)
		ns := new(big.Int).Mul(new(big.Int).SetUint64(ts), billion)
		ns.Quo(ns, freq)
		wantNS := uint64(math.MaxUint64)
		if ns.IsUint64() {
			wantNS = ns.Uint64()
		}
		if got := info.NS(ts); got != wantNS {
			t.Fatalf("%+v NS(%d) = %d, want %d", info, ts, got, wantNS)
		}
		// wall = offset_s s + (offset + ts) / freq s
		cyc := new(big.Int).Add(new(big.Int).SetUint64(ts), new(big.Int).SetUint64(info.ClockOffset))
		sec, rem := new(big.Int).QuoRem(cyc, freq, new(big.Int))
		sec.Add(sec, big.NewInt(info.ClockOffsetSec))
		nsec := rem.Mul(rem, billion)
		nsec.Quo(nsec, freq)
		if !sec.IsInt64() || sec.Int64() > maxWallSec {
			continue // saturated: checked above
		}
		if gs, gn := info.wall(ts); gs != sec.Int64() || gn != nsec.Int64() {
			t.Fatalf("%+v wall(%d) = %d s %d ns, want %s s %s ns", info, ts, gs, gn, sec, nsec)
		}
	}
}

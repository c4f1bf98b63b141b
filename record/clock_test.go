package record

import (
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

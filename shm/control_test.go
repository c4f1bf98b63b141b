package shm

import (
	"encoding/binary"
	"errors"
	"testing"
)

// The control page is read by another process built from possibly another
// version: its offsets are part of the ABI.
func TestControlLayoutPinned(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want int
	}{
		{"magic", offMagic, 0x00}, {"version", offVersion, 0x04},
		{"page size", offPageSize, 0x08}, {"mode", offMode, 0x0C},
		{"subbuf size", offSubbufSize, 0x10}, {"num subbuf", offNumSubbuf, 0x18},
		{"uuid", offUUID, 0x20}, {"stream id", offStreamID, 0x30},
		{"header size", offHeaderSize, 0x34}, {"control size", offCtrlSize, 0x38},
		{"state", offState, 0x40}, {"write offset", offWriteOffset, 0x48},
		{"delivered", offDelivered, 0x50}, {"lost full", offLostFull, 0x58},
		{"lost too big", offLostTooBig, 0x60}, {"metadata version", offMetaVersion, 0x68},
		{"bad consumed", offBadConsumed, 0x70},
		{"consumed", offConsumed, 0x80}, {"consumer pid", offConsumerPID, 0x88},
		{"slots", offSlots, 0xC0}, {"slot stride", slotStride, 16},
	} {
		if tc.got != tc.want {
			t.Errorf("%s at %#x, pinned at %#x", tc.name, tc.got, tc.want)
		}
	}
	// Producer and consumer words must not share a cache line.
	if offBadConsumed/64 == offConsumed/64 || offConsumed/64 == offSlots/64 {
		t.Error("producer and consumer words share a cache line")
	}
	if ControlSize(244, 4096) != 4096 || ControlSize(245, 4096) != 8192 {
		t.Errorf("ControlSize(244)=%d ControlSize(245)=%d", ControlSize(244, 4096), ControlSize(245, 4096))
	}
}

func TestGeometryValidate(t *testing.T) {
	for _, tc := range []struct {
		g  Geometry
		ok bool
	}{
		{Geometry{4096, 2}, true},
		{Geometry{1 << 20, 8}, true},
		{Geometry{1 << 30, 4}, true},
		{Geometry{2048, 4}, false},
		{Geometry{6000, 4}, false},
		{Geometry{4096, 1}, false},
		{Geometry{4096, 6}, false},
		{Geometry{1 << 31, 4}, false},
		{Geometry{0, 0}, false},
	} {
		err := tc.g.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%v: err = %v, want ok=%v", tc.g, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrGeometry) {
			t.Errorf("%v: %v does not wrap ErrGeometry", tc.g, err)
		}
	}
}

func TestControlValidate(t *testing.T) {
	g := Geometry{SubbufSize: 4096, NumSubbuf: 4}
	fresh := func() []byte {
		b := make([]byte, 4096)
		if _, err := InitControl(b, ControlInfo{PageSize: 4096, Geometry: g, HeaderSize: 72}); err != nil {
			t.Fatal(err)
		}
		return b
	}
	if _, err := OpenControl(fresh()); err != nil {
		t.Fatalf("fresh control page: %v", err)
	}
	le := binary.LittleEndian
	for _, tc := range []struct {
		name string
		mod  func([]byte) []byte
		want error
	}{
		{"bad magic", func(b []byte) []byte { b[0] ^= 0xff; return b }, ErrBadMagic},
		{"zero page", func(b []byte) []byte { clear(b); return b }, ErrBadMagic},
		{"future version", func(b []byte) []byte { le.PutUint32(b[offVersion:], 9); return b }, ErrVersion},
		{"count not pow2", func(b []byte) []byte { le.PutUint64(b[offNumSubbuf:], 3); return b }, ErrGeometry},
		{"subbuf too small", func(b []byte) []byte { le.PutUint64(b[offSubbufSize:], 512); return b }, ErrGeometry},
		{"truncated", func(b []byte) []byte { return b[:100] }, ErrTooSmall},
		{"slots beyond page", func(b []byte) []byte { le.PutUint64(b[offNumSubbuf:], 1024); return b }, ErrTooSmall},
		{"header too big", func(b []byte) []byte { le.PutUint32(b[offHeaderSize:], 4096); return b }, ErrGeometry},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := OpenControl(tc.mod(fresh()))
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

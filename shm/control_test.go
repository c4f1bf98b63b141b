package shm

import (
	"encoding/binary"
	"errors"
	"testing"
)

// The control region is read by another process built from possibly
// another version: its offsets are part of the ABI.
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
		{"max cpus", offMaxCPUs, 0x3C}, {"cpu stride", offCPUStride, 0x40},
		{"consumer size", offConsSize, 0x44},
		{"state", offState, 0x80}, {"metadata version", offMetaVersion, 0x88},
		{"consumer pid", offConsumerPID, 0x90}, {"cpu areas", offCPUs, 0x100},
		{"write offset", cpuWriteOffset, 0x00}, {"delivered", cpuDelivered, 0x08},
		{"lost full", cpuLostFull, 0x10}, {"lost too big", cpuLostTooBig, 0x18},
		{"bad consumed", cpuBadConsumed, 0x20},
		{"slots", cpuSlots, 0x40}, {"slot stride", slotStride, 16},
	} {
		if tc.got != tc.want {
			t.Errorf("%s at %#x, pinned at %#x", tc.name, tc.got, tc.want)
		}
	}
	// Two pCPUs' areas never share a cache line.
	for _, n := range []uint64{2, 3, 8, 1024} {
		if s := cpuStride(n); s%64 != 0 || s < cpuSlots+16*int(n) {
			t.Errorf("cpuStride(%d) = %d", n, s)
		}
	}
	// 8 sub-buffers: 192-byte areas, 20 pCPUs in a page after the header.
	if ControlSize(20, 8, 4096) != 4096 || ControlSize(21, 8, 4096) != 8192 {
		t.Errorf("ControlSize(20)=%d ControlSize(21)=%d", ControlSize(20, 8, 4096), ControlSize(21, 8, 4096))
	}
	if ConsumerSize(512, 4096) != 4096 || ConsumerSize(513, 4096) != 8192 {
		t.Errorf("ConsumerSize(512)=%d ConsumerSize(513)=%d", ConsumerSize(512, 4096), ConsumerSize(513, 4096))
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
		if _, err := InitControl(b, ControlInfo{PageSize: 4096, Geometry: g, HeaderSize: 72, CPUs: 2}); err != nil {
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
		{"slots beyond page", func(b []byte) []byte { le.PutUint64(b[offNumSubbuf:], 1024); return b }, ErrGeometry},
		{"cpus beyond page", func(b []byte) []byte { le.PutUint32(b[offMaxCPUs:], 64); return b }, ErrTooSmall},
		{"no cpus", func(b []byte) []byte { le.PutUint32(b[offMaxCPUs:], 0); return b }, ErrGeometry},
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

package consumer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/lttng-xen/lttng-xen/record"
)

const testSubbuf = 4096

var testUUID = [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}

// packets makes n whole packets numbered from first.
func packets(first, n uint64) []byte {
	var b []byte
	for seq := first; seq < first+n; seq++ {
		p := make([]byte, testSubbuf)
		record.OpenPacket(p, testUUID, 0, 0, seq, seq*100)
		record.ClosePacket(p, seq*100+50, record.PacketHeaderSize, 0)
		b = append(b, p...)
	}
	return b
}

func TestScanStream(t *testing.T) {
	whole := packets(0, 3)
	otherTrace := packets(3, 1)
	copy(otherTrace[record.OffUUID:], "another trace!!!")
	badMagic := packets(3, 1)
	binary.LittleEndian.PutUint32(badMagic[record.OffMagic:], 0)
	wrongSize := packets(3, 1)
	binary.LittleEndian.PutUint64(wrongSize[record.OffPacketSize:], 2*testSubbuf*8)
	repeated := packets(2, 1)
	for _, tc := range []struct {
		name    string
		file    []byte
		end     int64
		packets uint64
		lastSeq uint64
		err     error
	}{
		{"empty", nil, 0, 0, 0, nil},
		{"whole packets", whole, 3 * testSubbuf, 3, 2, nil},
		{"a few bytes of a header", append(bytes.Clone(whole), 1, 2, 3), 3 * testSubbuf, 3, 2, nil},
		{"a packet cut short", append(bytes.Clone(whole), packets(3, 1)[:testSubbuf/2]...), 3 * testSubbuf, 3, 2, nil},
		{"a bad header", append(bytes.Clone(whole), badMagic...), 3 * testSubbuf, 3, 2, nil},
		{"another packet size", append(bytes.Clone(whole), wrongSize...), 3 * testSubbuf, 3, 2, nil},
		{"a repeated sequence number", append(bytes.Clone(whole), repeated...), 3 * testSubbuf, 3, 2, nil},
		{"another trace", append(bytes.Clone(whole), otherTrace...), 3 * testSubbuf, 3, 2, ErrOtherTrace},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := scanStream(bytes.NewReader(tc.file), int64(len(tc.file)), testSubbuf, testUUID)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if d.end != tc.end || d.packets != tc.packets || (d.packets > 0 && d.lastSeq != tc.lastSeq) {
				t.Errorf("end %d packets %d last %d; want %d %d %d", d.end, d.packets, d.lastSeq, tc.end, tc.packets, tc.lastSeq)
			}
			if (d.end < int64(len(tc.file))) != (d.reason != "") {
				t.Errorf("stopped at %d of %d with reason %q", d.end, len(tc.file), d.reason)
			}
		})
	}
}

package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// TestPacketLayoutConstants pins the packet layout of docs/ARCHITECTURE.md.
func TestPacketLayoutConstants(t *testing.T) {
	if PacketMagic != 0xC1FC1FC1 {
		t.Errorf("PacketMagic = %#x", PacketMagic)
	}
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"OffMagic", OffMagic, 0},
		{"OffUUID", OffUUID, 4},
		{"OffStreamID", OffStreamID, 20},
		{"OffTimestampBegin", OffTimestampBegin, 24},
		{"OffTimestampEnd", OffTimestampEnd, 32},
		{"OffContentSize", OffContentSize, 40},
		{"OffPacketSize", OffPacketSize, 48},
		{"OffPacketSeqNum", OffPacketSeqNum, 56},
		{"OffEventsDiscarded", OffEventsDiscarded, 64},
		{"OffCPUID", OffCPUID, 72},
		{"PacketHeaderSize", PacketHeaderSize, 80},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
}

// TestLayoutTables checks the one declaration of the fixed layouts that
// the writer, the metadata generator and the metadata checker share: laid
// out as CTF lays it out, ending where the size constants say, and a table
// that disagrees with CTF is caught.
func TestLayoutTables(t *testing.T) {
	end, err := layoutEnd(packetLayout)
	if err != nil || AlignUp(end, RecordAlign) != PacketHeaderSize {
		t.Errorf("packet layout ends at %d (%v), PacketHeaderSize is %d", end, err, PacketHeaderSize)
	}
	end, err = layoutEnd(eventHeaderLayout)
	if err != nil || end != HeaderSize {
		t.Errorf("event header ends at %d (%v), HeaderSize is %d", end, err, HeaderSize)
	}
	if names := layoutNames(layoutScope(packetLayout, scopePacketContext)); names != "timestamp_begin, timestamp_end, content_size, packet_size, packet_seq_num, events_discarded, cpu_id" {
		t.Errorf("packet context fields: %s", names)
	}
	bad := append([]layoutField(nil), packetLayout...)
	bad[len(bad)-1].off += 4 // cpu_id after a hole
	if _, err := layoutEnd(bad); err == nil || err.Error() != "packet.context.cpu_id is declared at byte 76, CTF puts it at 72" {
		t.Errorf("a hole before cpu_id: %v", err)
	}
	bad = append([]layoutField(nil), packetLayout...)
	bad[2].off, bad[2].bits = OffStreamID, 64 // a 64-bit stream_id is not 8-aligned at 20
	if _, err := layoutEnd(bad); err == nil {
		t.Error("a misaligned stream_id passes")
	}
}

func TestOpenClosePacketBytes(t *testing.T) {
	pkt := bytes.Repeat([]byte{0xee}, 256)
	OpenPacket(pkt, testUUID, 0, 5, 7, 1000)
	le := binary.LittleEndian
	want := le.AppendUint32(nil, 0xC1FC1FC1)
	want = append(want, testUUID[:]...)
	want = le.AppendUint32(want, 0)
	untouched := bytes.Repeat([]byte{0xee}, 8) // ClosePacket's fields
	want = le.AppendUint64(want, 1000)         // timestamp_begin
	want = append(want, untouched...)          // timestamp_end
	want = append(want, untouched...)          // content_size
	want = le.AppendUint64(want, 256*8)
	want = le.AppendUint64(want, 7)
	want = append(want, untouched...) // events_discarded
	want = le.AppendUint32(want, 5)   // cpu_id
	want = append(want, 0, 0, 0, 0)   // padding up to the first record
	if !bytes.Equal(pkt[:PacketHeaderSize], want) {
		t.Fatalf("opened header\n got % x\nwant % x", pkt[:PacketHeaderSize], want)
	}
	if pkt[PacketHeaderSize] != 0xee {
		t.Fatal("OpenPacket wrote past the header")
	}
	ClosePacket(pkt, 2000, 100, 5)
	copy(want[OffTimestampEnd:], le.AppendUint64(nil, 2000))
	copy(want[OffContentSize:], le.AppendUint64(nil, 800))
	copy(want[OffEventsDiscarded:], le.AppendUint64(nil, 5))
	if !bytes.Equal(pkt[:PacketHeaderSize], want) {
		t.Fatalf("closed header\n got % x\nwant % x", pkt[:PacketHeaderSize], want)
	}
	info, err := ParsePacketHeader(pkt)
	if err != nil {
		t.Fatal(err)
	}
	wantInfo := PacketInfo{Magic: PacketMagic, UUID: testUUID, TimestampBegin: 1000, TimestampEnd: 2000,
		ContentSize: 800, PacketSize: 2048, SeqNum: 7, EventsDiscarded: 5, CPU: 5}
	if info != wantInfo {
		t.Fatalf("ParsePacketHeader = %+v, want %+v", info, wantInfo)
	}
	if info.ContentBytes() != 100 || info.PacketBytes() != 256 {
		t.Fatalf("ContentBytes %d PacketBytes %d", info.ContentBytes(), info.PacketBytes())
	}
}

func TestParsePacketHeaderErrors(t *testing.T) {
	le := binary.LittleEndian
	good := func() []byte {
		p := make([]byte, 128)
		OpenPacket(p, testUUID, 0, 0, 0, 1)
		ClosePacket(p, 2, PacketHeaderSize, 0)
		return p
	}
	tests := []struct {
		name   string
		mutate func([]byte) []byte
		want   error
		off    int64
	}{
		{"short", func(p []byte) []byte { return p[:PacketHeaderSize-1] }, ErrTruncated, 0},
		{"magic", func(p []byte) []byte { p[0] ^= 1; return p }, ErrBadMagic, OffMagic},
		{"packet_size bits", func(p []byte) []byte { le.PutUint64(p[OffPacketSize:], 128*8+1); return p }, ErrContentSize, OffPacketSize},
		{"packet_size small", func(p []byte) []byte { le.PutUint64(p[OffPacketSize:], 64*8); return p }, ErrContentSize, OffPacketSize},
		{"content_size bits", func(p []byte) []byte { le.PutUint64(p[OffContentSize:], 100*8+4); return p }, ErrContentSize, OffContentSize},
		{"content_size small", func(p []byte) []byte { le.PutUint64(p[OffContentSize:], 8*8); return p }, ErrContentSize, OffContentSize},
		{"content_size > packet_size", func(p []byte) []byte { le.PutUint64(p[OffContentSize:], 129*8); return p }, ErrContentSize, OffContentSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePacketHeader(tt.mutate(good()))
			var de *DecodeError
			if !errors.Is(err, tt.want) || !errors.As(err, &de) || de.Offset != tt.off {
				t.Fatalf("err = %v, want %v at offset %d", err, tt.want, tt.off)
			}
		})
	}
}

func BenchmarkOpenClosePacket(b *testing.B) {
	pkt := make([]byte, 4096)
	b.ReportAllocs()
	var seq uint64
	for b.Loop() {
		seq++
		OpenPacket(pkt, testUUID, 0, 1, seq, seq)
		ClosePacket(pkt, seq+1, 4000, 0)
	}
}

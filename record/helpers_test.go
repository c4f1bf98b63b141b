package record

import (
	"bytes"
	"strings"
	"testing"
)

// testUUID is the trace UUID of the test streams.
var testUUID = [16]byte{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}

// testTable returns the built-in table plus run-time events that cover the
// types no built-in uses (s16, bytes) and an event without fields.
func testTable(t testing.TB) *Table {
	t.Helper()
	tab := Builtin()
	for _, d := range []string{
		"blob(bytes data, s16 small, string note)",
		"heartbeat()",
		"every_type(u8 a, s8 b, u16 c, s16 d, u32 e, s32 f, u64 g, s64 h, string i, bytes j)",
	} {
		if _, _, err := tab.AddDecl(d); err != nil {
			t.Fatal(err)
		}
	}
	return tab
}

// testInfo is the TraceInfo of the test traces.
func testInfo() TraceInfo {
	return TraceInfo{
		UUID:           testUUID,
		Hostname:       "golden-host",
		TracerVersion:  TracerVersion{Major: 0, Minor: 1, Patchlevel: 2},
		Env:            map[string]string{"build": "test"},
		ClockUUID:      [16]byte{1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 121, 98, 219},
		ClockOffsetSec: 1_700_000_000,
		ClockOffset:    123_456_789,
	}
}

// sampleValues returns deterministic values for e's fields; k varies them
// and sweeps the extremes of each type.
func sampleValues(e *Event, k int) []Value {
	vals := make([]Value, len(e.Fields))
	for i, f := range e.Fields {
		j := k + i
		switch f.Type {
		case U8, U16, U32, U64:
			maxv := uint64(1)<<f.Type.Bits() - 1
			if f.Type == U64 {
				maxv = ^uint64(0)
			}
			vals[i] = Uint([]uint64{0, 1, maxv, maxv / 3, uint64(j) & maxv}[j%5])
		case S8, S16, S32, S64:
			bits := f.Type.Bits()
			lo, hi := int64(-1)<<(bits-1), int64(1)<<(bits-1)-1
			if bits == 64 {
				lo, hi = -1<<63, 1<<63-1
			}
			vals[i] = Int([]int64{lo, hi, -1, 0, int64(j)}[j%5])
		case String:
			vals[i] = Str([]string{"", "hello", "héllo wörld ✓", strings.Repeat("x", 100), "a \"quoted\"\tline\nand \\ back"}[j%5])
		case Bytes:
			vals[i] = Blob([][]byte{nil, {0}, {1, 2, 3, 255}, bytes.Repeat([]byte{0xab}, 40), {0, 0, 0}}[j%5])
		}
	}
	return vals
}

// builtRecord is a record a streamBuilder wrote.
type builtRecord struct {
	off  int64 // file offset
	e    *Event
	vals []Value
	ts   uint64
	cpu  uint32
	size int
}

// builtPacket is a packet a streamBuilder wrote.
type builtPacket struct {
	off       int64
	discarded uint64
	records   int
}

// streamBuilder writes a stream the way the writer does: sub-buffers of
// size bytes, each a packet opened with OpenPacket, records encoded at
// 8-byte boundaries, closed with ClosePacket at the exact content end.
type streamBuilder struct {
	size      int
	uuid      [16]byte
	cpu       uint32 // cpu_id of every packet: a stream is one pCPU's
	out       []byte
	pkt       []byte // open packet, or nil
	off       int    // next byte in pkt
	seq       uint64
	ts        uint64
	discarded uint64 // cumulative, written by the next close
	recs      []builtRecord
	pkts      []builtPacket
}

func newStreamBuilder(size int) *streamBuilder {
	return &streamBuilder{size: size, uuid: testUUID, ts: 1000}
}

// add appends one record, opening a new packet when it does not fit.
func (b *streamBuilder) add(e *Event, vals []Value) {
	n := e.Size(vals)
	if b.pkt != nil && AlignUp(b.off, RecordAlign)+n > len(b.pkt) {
		b.flush()
	}
	b.ts += 10
	if b.pkt == nil {
		b.pkt = make([]byte, b.size)
		for i := range b.pkt {
			b.pkt[i] = 0xee // stale bytes: readers must never look past content_size
		}
		OpenPacket(b.pkt, b.uuid, StreamID, b.cpu, b.seq, b.ts-5)
		b.seq++
		b.off = PacketHeaderSize
		b.pkts = append(b.pkts, builtPacket{off: int64(len(b.out))})
	}
	b.off = AlignUp(b.off, RecordAlign)
	if got := e.Encode(b.pkt[b.off:], b.ts, vals); got != n {
		panic("Encode length differs from Size")
	}
	b.recs = append(b.recs, builtRecord{off: int64(len(b.out) + b.off), e: e, vals: vals, ts: b.ts, cpu: b.cpu, size: n})
	b.pkts[len(b.pkts)-1].records++
	b.off += n
}

// flush closes the open packet, if any.
func (b *streamBuilder) flush() {
	if b.pkt == nil {
		return
	}
	ClosePacket(b.pkt, b.ts+1, uint64(b.off), b.discarded)
	p := &b.pkts[len(b.pkts)-1]
	if len(b.pkts) == 1 {
		p.discarded = b.discarded
	} else {
		p.discarded = b.discarded - b.prevDiscarded()
	}
	b.out = append(b.out, b.pkt...)
	b.pkt = nil
}

func (b *streamBuilder) prevDiscarded() uint64 {
	var sum uint64
	for _, p := range b.pkts[:len(b.pkts)-1] {
		sum += p.discarded
	}
	return sum
}

// bytes closes the open packet and returns the stream.
func (b *streamBuilder) bytes() []byte {
	b.flush()
	return b.out
}

// fillStream writes every event of tab rounds times with varying values,
// into a builder of 4096-byte packets of pCPU 3.
func fillStream(tab *Table, rounds int) *streamBuilder {
	b := newStreamBuilder(4096)
	b.cpu = 3
	for k := range rounds {
		for _, e := range tab.Events() {
			b.add(e, sampleValues(e, k))
		}
	}
	return b
}

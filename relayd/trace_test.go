package relayd

import (
	"fmt"
	"testing"

	"github.com/lttng-xen/lttng-xen/record"
)

// The tests stream traces they build with the record package, the way the
// writer lays them out: 4 KiB packets opened with record.OpenPacket,
// records at 8-byte boundaries, closed at the exact content end. The index
// of each packet is what the builder wrote, never parsed back.

const testPacketSize = 4096

var testUUID = [16]byte{0xfe, 0xed, 0xfa, 0xce, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}

// sentPacket is one closed packet and its index.
type sentPacket struct {
	pkt []byte
	idx PacketIndex
}

// testTrace builds one stream of packets per CPU.
type testTrace struct {
	tab     *record.Table
	info    record.TraceInfo
	ts      uint64 // shared clock: every record takes the next 10 cycles
	open    []*openPacket
	pending [][]sentPacket // closed packets not yet sent, per stream
	seq     []uint64
	events  int // records added
}

type openPacket struct {
	pkt   []byte
	off   int
	begin uint64
}

func newTestTrace(t *testing.T, cpus int) *testTrace {
	t.Helper()
	return &testTrace{
		tab:     record.Builtin(),
		info:    record.TraceInfo{UUID: testUUID, Hostname: "xenhost", ClockOffsetSec: 1_700_000_000},
		ts:      1000,
		open:    make([]*openPacket, cpus),
		pending: make([][]sentPacket, cpus),
		seq:     make([]uint64, cpus),
	}
}

func (tr *testTrace) metadata(t *testing.T) []byte {
	t.Helper()
	m, err := record.Metadata(tr.info, tr.tab.Events())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// add appends hypercall_entry(op = n, vcpu = cpu) to cpu's stream.
func (tr *testTrace) add(t *testing.T, cpu, n int) {
	t.Helper()
	tr.addEvent(t, cpu, "hypercall_entry", record.Uint(uint64(n)), record.Uint(uint64(cpu)))
}

func (tr *testTrace) addEvent(t *testing.T, cpu int, name string, vals ...record.Value) {
	t.Helper()
	e, ok := tr.tab.ByName(name)
	if !ok {
		t.Fatalf("no event %s", name)
	}
	n := e.Size(vals)
	p := tr.open[cpu]
	if p != nil && record.AlignUp(p.off, record.RecordAlign)+n > len(p.pkt) {
		tr.flush(cpu)
		p = nil
	}
	tr.ts += 10
	if p == nil {
		p = &openPacket{pkt: make([]byte, testPacketSize), off: record.PacketHeaderSize, begin: tr.ts}
		record.OpenPacket(p.pkt, tr.info.UUID, record.StreamID, tr.seq[cpu], tr.ts)
		tr.open[cpu] = p
	}
	p.off = record.AlignUp(p.off, record.RecordAlign)
	p.off += e.Encode(p.pkt[p.off:], tr.ts, uint32(cpu), vals)
	tr.events++
}

// flush closes cpu's open packet, if any.
func (tr *testTrace) flush(cpu int) {
	p := tr.open[cpu]
	if p == nil {
		return
	}
	record.ClosePacket(p.pkt, tr.ts, uint64(p.off), 0)
	tr.pending[cpu] = append(tr.pending[cpu], sentPacket{pkt: p.pkt, idx: PacketIndex{
		ContentSize:      uint64(p.off),
		TimestampBegin:   p.begin,
		TimestampEnd:     tr.ts,
		StreamID:         record.StreamID,
		StreamInstanceID: uint64(cpu),
		PacketSeqNum:     tr.seq[cpu],
	}})
	tr.seq[cpu]++
	tr.open[cpu] = nil
}

// sendAll closes every open packet and sends every pending one, stream
// by stream.
func (tr *testTrace) sendAll(t *testing.T, streams []*Stream) {
	t.Helper()
	for cpu := range tr.open {
		tr.flush(cpu)
		for _, p := range tr.pending[cpu] {
			if err := streams[cpu].SendPacket(p.pkt, p.idx); err != nil {
				t.Fatal(err)
			}
		}
		tr.pending[cpu] = nil
	}
}

var _ = fmt.Sprint

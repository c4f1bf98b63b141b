package relayd

import (
	"fmt"
	"strings"
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
	want    []string // each record as babeltrace2 prints it after the hostname
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
	tr.want = append(tr.want, fmt.Sprintf("hypercall_entry: { cpu_id = %d }, { op = %d, vcpu = %d }", cpu, n, cpu))
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
		record.OpenPacket(p.pkt, tr.info.UUID, record.StreamID, uint32(cpu), tr.seq[cpu], tr.ts)
		tr.open[cpu] = p
	}
	p.off = record.AlignUp(p.off, record.RecordAlign)
	p.off += e.Encode(p.pkt[p.off:], tr.ts, vals)
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

// emptyPacket returns a packet of cpu's stream holding no event, from the
// current time: what a live timer sends for a stream idle from the start.
func (tr *testTrace) emptyPacket(cpu int) sentPacket {
	tr.flush(cpu)
	pkt := make([]byte, testPacketSize)
	record.OpenPacket(pkt, tr.info.UUID, record.StreamID, uint32(cpu), tr.seq[cpu], tr.ts)
	record.ClosePacket(pkt, tr.ts, record.PacketContextEnd, 0)
	p := sentPacket{pkt: pkt, idx: PacketIndex{
		ContentSize:      record.PacketContextEnd,
		TimestampBegin:   tr.ts,
		TimestampEnd:     tr.ts,
		StreamID:         record.StreamID,
		StreamInstanceID: uint64(cpu),
		PacketSeqNum:     tr.seq[cpu],
	}}
	tr.seq[cpu]++
	return p
}

// addLate appends late_event(n), an event type registered after the
// metadata was first sent, to cpu's stream.
func (tr *testTrace) addLate(t *testing.T, cpu, n int) {
	t.Helper()
	if _, ok := tr.tab.ByName("late_event"); !ok {
		if _, _, err := tr.tab.AddDecl("late_event(u32 n, string note)"); err != nil {
			t.Fatal(err)
		}
	}
	tr.addEvent(t, cpu, "late_event", record.Uint(uint64(n)), record.Str("added while streaming"))
	tr.want = append(tr.want, fmt.Sprintf(`late_event: { cpu_id = %d }, { n = %d, note = "added while streaming" }`, cpu, n))
}

// checkEvents checks that lines (babeltrace2's output) hold exactly the
// records of want, each once, in any order.
func checkEvents(t *testing.T, lines []string, want []string) {
	t.Helper()
	left := make(map[string]int, len(want))
	for _, w := range want {
		left[w]++
	}
	for _, l := range lines {
		_, ev, ok := strings.Cut(l, " xenhost ")
		if !ok || left[ev] == 0 {
			t.Errorf("unexpected line %q", l)
			continue
		}
		left[ev]--
	}
	missing := 0
	for w, n := range left {
		if n > 0 {
			if missing < 5 {
				t.Errorf("missing %q", w)
			}
			missing += n
		}
	}
	if len(lines) != len(want) || missing > 0 {
		t.Fatalf("babeltrace2 printed %d events, want %d (%d missing)", len(lines), len(want), missing)
	}
}

// sendConcurrently closes every open packet and sends every pending one,
// one goroutine per stream, as a consumer with a goroutine per pCPU would.
func (tr *testTrace) sendConcurrently(t *testing.T, streams []*Stream) {
	t.Helper()
	errs := make(chan error, len(streams))
	for cpu := range tr.open {
		tr.flush(cpu)
		go func(pending []sentPacket) {
			for _, p := range pending {
				if err := streams[cpu].SendPacket(p.pkt, p.idx); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}(tr.pending[cpu])
		tr.pending[cpu] = nil
	}
	for range tr.open {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

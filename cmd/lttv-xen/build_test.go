package main

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/record"
)

// The tests run the command in-process (newApp and cmdline.Run, as main
// does) on traces they write with the record package, the way the writer
// does: 4 KiB packets opened with record.OpenPacket, records encoded at
// 8-byte boundaries, closed with record.ClosePacket at the exact content
// end (the approach of record/helpers_test.go). They do not run in
// parallel: urfave/cli's help and version flags are package variables it
// writes to.

// packetSize is the sub-buffer size of the test traces.
const packetSize = 4096

// testUUID is the trace UUID of the test traces.
var testUUID = [16]byte{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}

// Clock offset of the test traces: timestamp 0 is 2023-11-14T22:13:20.123456789Z.
const (
	testOffsetSec = 1_700_000_000
	testOffsetNS  = 123_456_789
)

// testInfo is the TraceInfo of the test traces.
func testInfo() record.TraceInfo {
	return record.TraceInfo{
		UUID:           testUUID,
		Hostname:       "test-host",
		ClockOffsetSec: testOffsetSec,
		ClockOffset:    testOffsetNS,
	}
}

// testTable is the built-in table plus a run-time event with the types no
// built-in uses (bytes, s16).
func testTable(tb testing.TB) *record.Table {
	tb.Helper()
	tab := record.Builtin()
	if _, _, err := tab.AddDecl("blob(bytes data, s16 small, string note)"); err != nil {
		tb.Fatal(err)
	}
	return tab
}

// written is one record a traceBuilder wrote.
type written struct {
	off  int64 // file offset
	e    *record.Event
	ts   uint64
	cpu  uint32
	vals []record.Value
}

// writtenPacket is one packet a traceBuilder wrote.
type writtenPacket struct {
	off       int64  // file offset
	records   int    // records in it
	discarded uint64 // events_discarded increase over the previous packet
}

// traceBuilder writes a trace: a stream of packetSize-byte packets and the
// metadata of its table.
type traceBuilder struct {
	tb      testing.TB
	tab     *record.Table
	info    record.TraceInfo
	stream  []byte
	pkt     []byte // open packet, or nil
	off     int    // next byte in pkt
	seq     uint64
	cpu     uint32 // cpu_id of the open packet
	ts      uint64
	lost    uint64 // cumulative lost count, written by the next close
	closed  uint64 // lost count written by the last close
	records []written
	packets []writtenPacket
}

func newTraceBuilder(tb testing.TB) *traceBuilder {
	return &traceBuilder{tb: tb, tab: testTable(tb), info: testInfo(), ts: 1000}
}

// add appends a record of the event called name, opening a new packet when
// it does not fit in the open one. Timestamps go up by 10 per record.
func (b *traceBuilder) add(name string, cpu uint32, vals ...record.Value) {
	b.tb.Helper()
	e, ok := b.tab.ByName(name)
	if !ok {
		b.tb.Fatalf("no event %s", name)
	}
	if err := e.Check(vals); err != nil {
		b.tb.Fatal(err)
	}
	n := e.Size(vals)
	// cpu_id is per packet: a record of another pCPU starts a new one.
	if b.pkt != nil && (record.AlignUp(b.off, record.RecordAlign)+n > len(b.pkt) || cpu != b.cpu) {
		b.flush()
	}
	b.ts += 10
	if b.pkt == nil {
		b.pkt = bytes.Repeat([]byte{0xee}, packetSize) // stale bytes past content_size
		record.OpenPacket(b.pkt, b.info.UUID, record.StreamID, cpu, b.seq, b.ts-5)
		b.cpu = cpu
		b.seq++
		b.off = record.PacketHeaderSize
		b.packets = append(b.packets, writtenPacket{off: int64(len(b.stream))})
	}
	b.off = record.AlignUp(b.off, record.RecordAlign)
	e.Encode(b.pkt[b.off:], b.ts, vals)
	b.records = append(b.records, written{off: int64(len(b.stream) + b.off), e: e, ts: b.ts, cpu: cpu, vals: vals})
	b.packets[len(b.packets)-1].records++
	b.off += n
}

// lose closes the open packet and counts n lost records: the next packet's
// cumulative events_discarded jumps by n.
func (b *traceBuilder) lose(n uint64) {
	b.flush()
	b.lost += n
}

// flush closes the open packet, if any.
func (b *traceBuilder) flush() {
	if b.pkt == nil {
		return
	}
	record.ClosePacket(b.pkt, b.ts+1, uint64(b.off), b.lost)
	b.packets[len(b.packets)-1].discarded = b.lost - b.closed
	b.closed = b.lost
	b.stream = append(b.stream, b.pkt...)
	b.pkt = nil
}

// write closes the open packet and writes the trace into a new directory:
// the metadata and channel0_0. It returns the directory.
func (b *traceBuilder) write() string {
	b.tb.Helper()
	b.flush()
	dir := b.tb.TempDir()
	meta, err := record.Metadata(b.info, b.tab.Events())
	if err != nil {
		b.tb.Fatal(err)
	}
	writeFile(b.tb, filepath.Join(dir, "metadata"), meta)
	writeFile(b.tb, filepath.Join(dir, "channel0_0"), b.stream)
	return dir
}

// totalLost returns the records lost before the packets written (the last
// packet's cumulative events_discarded).
func (b *traceBuilder) totalLost() uint64 { return b.closed }

func writeFile(tb testing.TB, name string, data []byte) {
	tb.Helper()
	if err := os.WriteFile(name, data, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// sampleTrace writes n records of every kind of field, on pCPUs 0-3 (a
// quarter each, in turn: cpu_id is per packet), with
// two jumps of events_discarded (7 then 5 records lost) and returns the
// builder. With n = 600 it spans 5 packets.
func sampleTrace(tb testing.TB, n int) *traceBuilder {
	tb.Helper()
	b := newTraceBuilder(tb)
	for i := range n {
		cpu := uint32(i * 4 / n)
		switch i {
		case n / 3:
			b.lose(7)
		case 2 * n / 3:
			b.lose(5)
		}
		switch i % 6 {
		case 0:
			b.add("sched_switch", cpu, record.Uint(1), record.Uint(uint64(i%16)), record.Int(-1), record.Uint(3), record.Uint(4))
		case 1:
			b.add("hypercall_entry", cpu, record.Uint(uint64(i%40)), record.Uint(uint64(cpu)))
		case 2:
			b.add("hypercall_exit", cpu, record.Uint(uint64(i%40)), record.Int(-int64(i)))
		case 3:
			b.add("printk", cpu, record.Str(`(XEN) say "hi"`+strings.Repeat("!", i%5)))
		case 4:
			b.add("timer", cpu, record.Uint(1<<40+uint64(i)), record.Int(int64(i)-300))
		case 5:
			b.add("blob", cpu, record.Blob([]byte{0xde, 0xad, byte(i)}), record.Int(-32768), record.Str("note"))
		}
	}
	b.flush()
	return b
}

// result is what one run of the command did.
type result struct {
	code           int
	stdout, stderr string
}

// run runs the command in-process with args (after the program name).
func run(t testing.TB, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cmdline.Run(newApp(&stdout, &stderr), append([]string{name}, args...))
	r := result{code: code, stdout: stdout.String(), stderr: stderr.String()}
	out := r.stdout
	if len(out) > 2000 {
		out = out[:2000] + "…\n"
	}
	t.Logf("%s %s: exit %d\nstdout:\n%sstderr:\n%s", name, strings.Join(args, " "), r.code, out, r.stderr)
	return r
}

// wantOK checks a successful run that printed nothing on stderr.
func (r result) wantOK(t *testing.T) {
	t.Helper()
	if r.code != cmdline.ExitOK || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q; want 0 and nothing", r.code, r.stderr)
	}
}

// wantFail checks a failed run: the exit code and one line "lttv-xen: ..."
// on stderr holding every one of want.
func (r result) wantFail(t *testing.T, code int, want ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit %d, want %d", r.code, code)
	}
	if !strings.HasPrefix(r.stderr, name+": ") || !strings.HasSuffix(r.stderr, "\n") ||
		strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr %q, want one line %q", r.stderr, name+": ...")
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr %q does not contain %q", r.stderr, w)
		}
	}
}

// addAt is add with the record's timestamp ts, which must not be below
// the previous record's.
func (b *traceBuilder) addAt(ts uint64, name string, cpu uint32, vals ...record.Value) {
	b.tb.Helper()
	if ts < b.ts {
		b.tb.Fatalf("addAt(%d, %s): timestamp before the previous %d", ts, name, b.ts)
	}
	b.ts = ts - 10
	b.add(name, cpu, vals...)
}

// streamsBuilder writes a trace the way channel v2 does: one stream file
// per pCPU, channel0_<cpu>, stream cpu holding the records pCPU cpu wrote.
type streamsBuilder struct {
	tb      testing.TB
	streams []*traceBuilder // index = pCPU
}

// newStreamsBuilder returns a builder of n streams whose first timestamps
// are 1000 + cpu×start (+10 for the first record).
func newStreamsBuilder(tb testing.TB, n int, start uint64) *streamsBuilder {
	s := &streamsBuilder{tb: tb}
	tab := testTable(tb)
	for cpu := range n {
		b := newTraceBuilder(tb)
		b.tab = tab
		b.ts += uint64(cpu) * start
		s.streams = append(s.streams, b)
	}
	return s
}

// add appends a record to pCPU cpu's stream.
func (s *streamsBuilder) add(cpu uint32, name string, vals ...record.Value) {
	s.tb.Helper()
	s.streams[cpu].add(name, cpu, vals...)
}

// addAt appends a record with timestamp ts to pCPU cpu's stream.
func (s *streamsBuilder) addAt(ts uint64, cpu uint32, name string, vals ...record.Value) {
	s.tb.Helper()
	s.streams[cpu].addAt(ts, name, cpu, vals...)
}

// write closes every stream's open packet and writes the trace into a new
// directory: the metadata and channel0_<cpu> for each pCPU.
func (s *streamsBuilder) write() string {
	s.tb.Helper()
	dir := s.tb.TempDir()
	meta, err := record.Metadata(testInfo(), s.streams[0].tab.Events())
	if err != nil {
		s.tb.Fatal(err)
	}
	writeFile(s.tb, filepath.Join(dir, "metadata"), meta)
	for cpu, b := range s.streams {
		b.flush()
		writeFile(s.tb, filepath.Join(dir, fmt.Sprintf("channel0_%d", cpu)), b.stream)
	}
	return dir
}

// merged returns every record written, in the order lttv-xen merges them:
// timestamp, then stream, then file order.
func (s *streamsBuilder) merged() []written {
	type keyed struct {
		w      written
		stream int
		pos    int
	}
	var all []keyed
	for i, b := range s.streams {
		for j, w := range b.records {
			all = append(all, keyed{w, i, j})
		}
	}
	slices.SortFunc(all, func(a, b keyed) int {
		return cmp.Or(cmp.Compare(a.w.ts, b.w.ts), cmp.Compare(a.stream, b.stream), cmp.Compare(a.pos, b.pos))
	})
	out := make([]written, len(all))
	for i, k := range all {
		out[i] = k.w
	}
	return out
}

// sampleStreams writes n records of sampleTrace's kinds into each of nCPU
// streams, interleaved in time (stream cpu starts 3×cpu ns after stream
// 0); pCPU 1 loses 4 then 9 records.
func sampleStreams(tb testing.TB, nCPU, n int) *streamsBuilder {
	tb.Helper()
	s := newStreamsBuilder(tb, nCPU, 3)
	for i := range n {
		for c := range nCPU {
			cpu := uint32(c)
			if cpu == 1 && (i == n/3 || i == 2*n/3) {
				s.streams[1].lose(uint64(4 + 5*(i*3/n-1)))
			}
			switch (i + c) % 6 {
			case 0:
				s.add(cpu, "sched_switch", record.Uint(1), record.Uint(uint64(i%16)), record.Int(-1), record.Uint(3), record.Uint(4))
			case 1:
				s.add(cpu, "hypercall_entry", record.Uint(uint64(i%40)), record.Uint(uint64(cpu)))
			case 2:
				s.add(cpu, "hypercall_exit", record.Uint(uint64(i%40)), record.Int(-int64(i)))
			case 3:
				s.add(cpu, "printk", record.Str(`(XEN) say "hi"`+strings.Repeat("!", i%5)))
			case 4:
				s.add(cpu, "page_fault", record.Uint(1), record.Uint(2), record.Uint(0xffff_8000_0000_1000+uint64(i)), record.Uint(6))
			case 5:
				s.add(cpu, "blob", record.Blob([]byte{0xde, 0xad, byte(i)}), record.Int(-32768), record.Str("note"))
			}
		}
	}
	return s
}

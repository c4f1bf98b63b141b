package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/record"
)

// corruption is a damaged copy of a stream and where and how the decoder
// must report it.
type corruption struct {
	name   string
	stream []byte
	off    int64  // file offset the error names
	want   string // in the error message
	before int    // records decodable before the error
}

// corruptions damages the stream of b (at least 4 packets, losses before
// the last one) in every way the tests check.
func corruptions(t *testing.T, b *traceBuilder) []corruption {
	t.Helper()
	p := b.packets
	last := len(p) - 1
	if len(p) < 4 || b.totalLost() == p[last].discarded {
		t.Fatalf("trace of %d packets, no loss before the last one: too small to corrupt", len(p))
	}
	recordsBefore := func(pkt int) int {
		n := 0
		for _, q := range p[:pkt] {
			n += q.records
		}
		return n
	}
	// k is a record in the middle of packet 1, not its first.
	k := recordsBefore(1) + p[1].records/2
	rec := b.records[k]
	clone := func() []byte { return append([]byte(nil), b.stream...) }
	with := func(f func(s []byte)) []byte {
		s := clone()
		f(s)
		return s
	}
	return []corruption{
		{
			name:   "truncated in a packet",
			stream: b.stream[:p[1].off+100],
			off:    p[1].off + record.OffPacketSize, want: "truncated: packet_size 4096 bytes but only 100 bytes left",
			before: recordsBefore(1),
		},
		{
			name:   "truncated in a packet header",
			stream: b.stream[:p[2].off+30],
			off:    p[2].off, want: "truncated",
			before: recordsBefore(2),
		},
		{
			name:   "last byte missing",
			stream: b.stream[:len(b.stream)-1],
			off:    p[last].off + record.OffPacketSize, want: "truncated",
			before: recordsBefore(last),
		},
		{
			name:   "flipped magic byte",
			stream: with(func(s []byte) { s[p[1].off+1] ^= 0x40 }),
			off:    p[1].off, want: "bad packet magic",
			before: recordsBefore(1),
		},
		{
			name:   "zero-filled packet",
			stream: with(func(s []byte) { clear(s[p[2].off : p[2].off+packetSize]) }),
			off:    p[2].off, want: "bad packet magic",
			before: recordsBefore(2),
		},
		{
			name:   "other trace's UUID",
			stream: with(func(s []byte) { s[p[3].off+record.OffUUID+15] ^= 1 }),
			off:    p[3].off + record.OffUUID, want: "packet UUID does not match the trace UUID",
			before: recordsBefore(3),
		},
		{
			name:   "events_discarded decreasing",
			stream: with(func(s []byte) { binary.LittleEndian.PutUint64(s[p[last].off+record.OffEventsDiscarded:], 0) }),
			off:    p[last].off + record.OffEventsDiscarded, want: "packet counters decrease",
			before: recordsBefore(last),
		},
		{
			name:   "unknown event id",
			stream: with(func(s []byte) { binary.LittleEndian.PutUint32(s[rec.off+record.OffID:], 999) }),
			off:    rec.off + record.OffID, want: "unknown event id: event id 999",
			before: k,
		},
		{
			name:   "timestamp going back",
			stream: with(func(s []byte) { binary.LittleEndian.PutUint64(s[rec.off+record.OffTimestamp:], b.records[k-1].ts-1) }),
			off:    rec.off, want: "timestamps decrease",
			before: k,
		},
	}
}

// writeDamaged writes b's trace with stream s instead of its own and
// returns the directory and the stream file.
func writeDamaged(b *traceBuilder, s []byte) (dir, file string) {
	dir = b.write()
	file = filepath.Join(dir, "channel0_0")
	writeFile(b.tb, file, s)
	return dir, file
}

func TestCheckOK(t *testing.T) {
	b := sampleTrace(t, 600)
	dir := b.write()
	r := run(t, "check", dir)
	r.wantOK(t)
	want := fmt.Sprintf("%s: OK: %d packets, %d events, 12 lost\n   stream channel0_0 (pCPU 0): %d packets, %d events, 12 lost\n",
		dir, len(b.packets), len(b.records), len(b.packets), len(b.records))
	if r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
	if b.totalLost() != 12 || len(b.packets) < 5 {
		t.Errorf("sample trace: %d packets, %d lost; want at least 5 and 12", len(b.packets), b.totalLost())
	}
}

func TestCheckEmptyStream(t *testing.T) {
	b := newTraceBuilder(t)
	dir := b.write() // no record: an empty channel0_0
	r := run(t, "check", dir)
	r.wantOK(t)
	if want := dir + ": OK: 0 packets, 0 events, 0 lost\n   stream channel0_0 (pCPU 0): 0 packets, 0 events, 0 lost\n"; r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
}

// TestCheckStreams checks a trace of four stream files, one per pCPU: each
// stream on its own, then the set (a stream copied under another pCPU's
// name, a stream of another trace), then damage in one stream.
func TestCheckStreams(t *testing.T) {
	s := sampleStreams(t, 4, 300)
	dir := s.write()
	r := run(t, "check", dir)
	r.wantOK(t)
	var packets, events, lost int
	var lines string
	for cpu, b := range s.streams {
		packets += len(b.packets)
		events += len(b.records)
		lost += int(b.totalLost())
		lines += fmt.Sprintf("   stream channel0_%d (pCPU %d): %d packets, %d events, %d lost\n", cpu, cpu, len(b.packets), len(b.records), b.totalLost())
	}
	want := fmt.Sprintf("%s: OK: %d packets, %d events, %d lost\n", dir, packets, events, lost) + lines
	if r.stdout != want || lost != 13 {
		t.Errorf("stdout %q, want %q (13 lost)", r.stdout, want)
	}

	// The set: pCPU 0's stream copied as channel0_4.
	copied := filepath.Join(dir, "channel0_4")
	writeFile(t, copied, s.streams[0].stream)
	r = run(t, "check", dir)
	r.wantFail(t, cmdline.ExitError, fmt.Sprintf("%s: check: %s: offset %d: pCPU 0 has records in two stream files, channel0_0 and this one",
		name, copied, s.streams[0].records[0].off))
	if err := os.Remove(copied); err != nil {
		t.Fatal(err)
	}

	// The set: a stream of another trace (another UUID).
	other := newTraceBuilder(t)
	other.info.UUID[0] ^= 1
	other.add("printk", 5, record.Str("elsewhere"))
	other.flush()
	foreign := filepath.Join(dir, "channel0_5")
	writeFile(t, foreign, other.stream)
	r = run(t, "check", dir)
	r.wantFail(t, cmdline.ExitError, fmt.Sprintf("%s: check: %s: offset %d: packet UUID does not match", name, foreign, record.OffUUID))
	if err := os.Remove(foreign); err != nil {
		t.Fatal(err)
	}

	second := filepath.Join(dir, "channel0_1")
	writeFile(t, second, s.streams[1].stream[:s.streams[1].packets[1].off+8])
	r = run(t, "check", dir)
	r.wantFail(t, cmdline.ExitError, fmt.Sprintf("%s: check: %s: offset %d: truncated", name, second, s.streams[1].packets[1].off))
}

func TestCheckCorrupt(t *testing.T) {
	b := sampleTrace(t, 600)
	for _, c := range corruptions(t, b) {
		t.Run(c.name, func(t *testing.T) {
			dir, file := writeDamaged(b, c.stream)
			r := run(t, "check", dir)
			r.wantFail(t, cmdline.ExitError, fmt.Sprintf("%s: check: %s: offset %d: %s", name, file, c.off, c.want))
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
		})
	}
}

package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTrace writes metadata for tab and the stream to a new trace directory.
func writeTrace(t testing.TB, tab *Table, stream []byte) string {
	t.Helper()
	dir := t.TempDir()
	md, err := Metadata(testInfo(), tab.Events())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "metadata"), md, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "channel0_0"), stream, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func valuesEqual(t Type, a, b Value) bool {
	switch t {
	case String:
		return a.S == cstring(b.S)
	case Bytes:
		return bytes.Equal(a.B, b.B)
	}
	// Integers: compare the bits the type holds, sign-extended for signed.
	bits := uint(t.Bits())
	if t.Signed() {
		return a.Int() == b.Int()<<(64-bits)>>(64-bits)
	}
	return a.U == b.U&(^uint64(0)>>(64-bits))
}

func TestDecodeRoundTrip(t *testing.T) {
	tab := testTable(t)
	b := fillStream(tab, 40)
	// A string containing NUL is cut at the NUL by the encoder.
	printk, _ := tab.ByName("printk")
	b.add(printk, []Value{Str("cut\x00here")})
	stream := b.bytes()
	if len(b.pkts) < 3 {
		t.Fatalf("only %d packets; want several", len(b.pkts))
	}
	dir := writeTrace(t, tab, stream)
	tr, err := OpenTrace(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Streams) != 1 || filepath.Base(tr.Streams[0]) != "channel0_0" {
		t.Fatalf("streams %v", tr.Streams)
	}
	if tr.Info.UUID != testUUID || tr.Info.Hostname != "golden-host" {
		t.Fatalf("info %+v", tr.Info)
	}
	i := 0
	for rec, err := range tr.Records() {
		if err != nil {
			t.Fatal(err)
		}
		if i >= len(b.recs) {
			t.Fatalf("more records than written")
		}
		w := b.recs[i]
		if rec.Offset != w.off || rec.Size != w.size || rec.Timestamp != w.ts || rec.CPU != w.cpu ||
			rec.ID() != w.e.ID || rec.Name() != w.e.Name || rec.File != tr.Streams[0] {
			t.Fatalf("record %d: got %s@%d size %d ts %d cpu %d, want %s@%d size %d ts %d cpu %d",
				i, rec.Name(), rec.Offset, rec.Size, rec.Timestamp, rec.CPU, w.e.Name, w.off, w.size, w.ts, w.cpu)
		}
		for j, f := range rec.Event.Fields {
			if !valuesEqual(f.Type, rec.Values[j], w.vals[j]) {
				t.Fatalf("record %d (%s) field %s: got %+v, want %+v", i, rec.Name(), f.Name, rec.Values[j], w.vals[j])
			}
		}
		i++
	}
	if i != len(b.recs) {
		t.Fatalf("decoded %d records, wrote %d", i, len(b.recs))
	}
	last := b.recs[len(b.recs)-1]
	if v, _ := (Record{Event: last.e, Values: []Value{Str("cut")}}).Value("msg"); v.S != "cut" {
		t.Fatal("Record.Value")
	}

	var seq uint64
	n := 0
	for p, err := range tr.Packets() {
		if err != nil {
			t.Fatal(err)
		}
		w := b.pkts[n]
		if p.Offset != w.off || p.Records != w.records || p.SeqNum != seq || p.PacketBytes() != 4096 || p.Discarded != 0 {
			t.Fatalf("packet %d: %+v, want offset %d with %d records", n, p, w.off, w.records)
		}
		seq++
		n++
	}
	if n != len(b.pkts) {
		t.Fatalf("%d packets, want %d", n, len(b.pkts))
	}
}

// TestDecodeRunTimeEvents checks that the decoder uses the metadata on
// disk, not the built-in table.
func TestDecodeRunTimeEvents(t *testing.T) {
	tab := Builtin()
	late, _, err := tab.AddDecl("late_event(u32 x, string why)")
	if err != nil {
		t.Fatal(err)
	}
	b := newStreamBuilder(4096)
	b.add(late, []Value{Uint(77), Str("added at run time")})
	tr, err := OpenTrace(writeTrace(t, tab, b.bytes()))
	if err != nil {
		t.Fatal(err)
	}
	for rec, err := range tr.Records() {
		if err != nil {
			t.Fatal(err)
		}
		if got := rec.String(); got != `[1010] late_event: { cpu_id = 0 }, { x = 77, why = "added at run time" }` {
			t.Fatalf("record %s", got)
		}
	}
}

func TestDecodeDiscarded(t *testing.T) {
	tab := Builtin()
	b := newStreamBuilder(256)
	e, _ := tab.Lookup(IDHypercallEntry)
	want := []uint64{0, 0, 7, 7, 10}
	for i, d := range want {
		b.discarded = d
		for range 3 {
			b.add(e, []Value{Uint(uint64(i)), Uint(1)})
		}
		b.flush()
	}
	r := mustTrace(t, tab).NewReader("mem", bytes.NewReader(b.bytes()), int64(len(b.out)))
	var got, gotDelta []uint64
	for {
		p, err := r.NextPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.EventsDiscarded)
		gotDelta = append(gotDelta, p.Discarded)
	}
	if !equalU64(got, want) || !equalU64(gotDelta, []uint64{0, 0, 7, 0, 3}) {
		t.Fatalf("events_discarded %v deltas %v", got, gotDelta)
	}
}

func equalU64(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func mustTrace(t testing.TB, tab *Table) *Trace {
	t.Helper()
	md, err := Metadata(testInfo(), tab.Events())
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrace(md)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestDecodeEmptyPacketAndStream(t *testing.T) {
	tr := mustTrace(t, Builtin())
	// A stream of zero bytes is an empty stream.
	if _, err := tr.NewReader("empty", bytes.NewReader(nil), 0).Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("empty stream: %v", err)
	}
	// A packet with no record.
	pkt := make([]byte, 128)
	OpenPacket(pkt, testUUID, 0, 0, 0, 5)
	ClosePacket(pkt, 6, PacketHeaderSize, 0)
	r := tr.NewReader("p", bytes.NewReader(pkt), int64(len(pkt)))
	p, err := r.NextPacket()
	if err != nil || p.Records != 0 || p.TimestampEnd != 6 {
		t.Fatalf("empty packet: %+v %v", p, err)
	}
	if _, err := r.NextPacket(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last packet: %v", err)
	}
}

func TestOpenTraceStreams(t *testing.T) {
	tab := Builtin()
	dir := writeTrace(t, tab, nil)
	for _, n := range []string{"channel0_10", "channel0_2", "channel1_0", "channel0_x", "channel0_1.tmp", "index", ".hidden"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tr, err := OpenTrace(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range tr.Streams {
		names = append(names, filepath.Base(s))
	}
	if got := strings.Join(names, " "); got != "channel0_0 channel0_2 channel0_10 channel1_0" {
		t.Fatalf("streams %s", got)
	}

	if _, err := OpenTrace(t.TempDir()); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("no metadata: %v", err)
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "metadata"), []byte("/* CTF 1.8 */\ntrace {"), 0o644)
	_, err = OpenTrace(bad)
	var de *DecodeError
	if !errors.Is(err, ErrBadMetadata) || !errors.As(err, &de) || de.File != filepath.Join(bad, "metadata") {
		t.Fatalf("bad metadata: %v", err)
	}
	if !strings.HasPrefix(err.Error(), filepath.Join(bad, "metadata")+": offset ") {
		t.Fatalf("error text %q does not start with the file name", err)
	}
}

// TestDecodeCorruption flips bytes of a valid stream and expects the right
// sentinel at the right file offset.
func TestDecodeCorruption(t *testing.T) {
	tab := testTable(t)
	le := binary.LittleEndian
	b := fillStream(tab, 30)
	valid := b.bytes()
	if len(b.pkts) < 3 {
		t.Fatalf("need several packets, have %d", len(b.pkts))
	}
	p1 := b.pkts[1].off // second packet
	// The first printk record of the second packet, and the bytes record.
	var printkRec, blobRec, midRec, exitRec builtRecord
	for _, r := range b.recs {
		if r.off > p1 && r.e.Name == "hypercall_exit" && exitRec.e == nil {
			exitRec = r
		}
		if r.off > p1 && r.e.Name == "printk" && r.vals[0].S != "" && printkRec.e == nil {
			printkRec = r
		}
		if r.off > p1 && r.e.Name == "blob" && len(r.vals[0].B) > 0 && blobRec.e == nil {
			blobRec = r
		}
		if r.off > p1+200 && midRec.e == nil {
			midRec = r
		}
	}
	if printkRec.e == nil || blobRec.e == nil || exitRec.e == nil || midRec.e == nil {
		t.Fatal("test bug: records not found")
	}
	contentEnd := func(pkt int64) int64 {
		return pkt + int64(le.Uint64(valid[pkt+OffContentSize:])/8)
	}
	// pu is the first packet whose last record does not end 8-aligned.
	pu := int64(-1)
	for _, p := range b.pkts {
		if contentEnd(p.off)%RecordAlign != 0 {
			pu = p.off
			break
		}
	}
	if pu < 0 {
		t.Fatal("test bug: every packet ends 8-aligned")
	}

	tests := []struct {
		name   string
		mutate func(s []byte) []byte
		want   error
		off    int64
	}{
		{"magic", func(s []byte) []byte { s[p1] ^= 0xff; return s }, ErrBadMagic, p1},
		{"uuid", func(s []byte) []byte { s[p1+OffUUID+3] ^= 1; return s }, ErrUUIDMismatch, p1 + OffUUID},
		{"stream id", func(s []byte) []byte { le.PutUint32(s[p1+OffStreamID:], 3); return s }, ErrUnknownStream, p1 + OffStreamID},
		{"truncated mid-packet", func(s []byte) []byte { return s[:p1+1000] }, ErrTruncated, p1 + OffPacketSize},
		{"truncated mid-header", func(s []byte) []byte { return s[:p1+40] }, ErrTruncated, p1},
		{"content_size > packet_size", func(s []byte) []byte {
			le.PutUint64(s[p1+OffContentSize:], 4097*8)
			return s
		}, ErrContentSize, p1 + OffContentSize},
		{"content_size < header", func(s []byte) []byte {
			le.PutUint64(s[p1+OffContentSize:], 8*8)
			return s
		}, ErrContentSize, p1 + OffContentSize},
		{"packet_size not bytes", func(s []byte) []byte {
			le.PutUint64(s[p1+OffPacketSize:], 4096*8-3)
			return s
		}, ErrContentSize, p1 + OffPacketSize},
		{"packet_size beyond file", func(s []byte) []byte {
			le.PutUint64(s[p1+OffPacketSize:], 1<<40)
			le.PutUint64(s[p1+OffContentSize:], 1<<20)
			return s
		}, ErrTruncated, p1 + OffPacketSize},
		{"unknown event", func(s []byte) []byte { le.PutUint32(s[midRec.off+OffID:], 9999); return s }, ErrUnknownEvent, midRec.off + OffID},
		{"string without NUL", func(s []byte) []byte {
			// Cut the content right before the printk string's NUL.
			msg := int64(len(printkRec.vals[0].S))
			strOff := printkRec.off + HeaderSize
			le.PutUint64(s[p1+OffContentSize:], uint64(strOff+msg-p1)*8)
			return s
		}, ErrNoNUL, printkRec.off + HeaderSize},
		{"bytes length past content", func(s []byte) []byte {
			le.PutUint32(s[blobRec.off+HeaderSize:], 1<<30)
			return s
		}, ErrTruncated, blobRec.off + HeaderSize},
		{"record header cut", func(s []byte) []byte {
			// content_size ends 9 bytes into the record: its header is cut.
			le.PutUint64(s[p1+OffContentSize:], uint64(midRec.off+9-p1)*8)
			return s
		}, ErrTruncated, midRec.off},
		{"padding after the last record", func(s []byte) []byte {
			pad := AlignUp(int(contentEnd(pu)-pu), 8)
			le.PutUint64(s[pu+OffContentSize:], uint64(pad)*8)
			return s
		}, ErrTruncated, contentEnd(pu)},
		{"zero record after the last", func(s []byte) []byte {
			// Zero bytes after the last record read as a record with
			// timestamp 0: babeltrace2 fails on these too.
			end := contentEnd(p1)
			pad := AlignUp(int(end-p1), 8) + HeaderSize
			clear(s[end : p1+int64(pad)])
			le.PutUint64(s[p1+OffContentSize:], uint64(pad)*8)
			return s
		}, ErrTimestampOrder, p1 + int64(AlignUp(int(contentEnd(p1)-p1), 8))},
		{"field cut", func(s []byte) []byte {
			// hypercall_exit(u64 op, s64 ret): ret (at 24) cut by content_size.
			le.PutUint64(s[p1+OffContentSize:], uint64(exitRec.off+28-p1)*8)
			return s
		}, ErrTruncated, exitRec.off + 24},
		{"timestamp decreases", func(s []byte) []byte { le.PutUint64(s[midRec.off:], 1); return s }, ErrTimestampOrder, midRec.off},
		{"timestamp after packet end", func(s []byte) []byte { le.PutUint64(s[midRec.off:], 1<<62); return s }, ErrTimestampOrder, midRec.off},
		{"timestamp_end before begin", func(s []byte) []byte { le.PutUint64(s[p1+OffTimestampEnd:], 0); return s }, ErrTimestampOrder, p1 + OffTimestampEnd},
		{"packet begins before previous end", func(s []byte) []byte { le.PutUint64(s[p1+OffTimestampBegin:], 2); return s }, ErrTimestampOrder, p1 + OffTimestampBegin},
		{"seq not increasing", func(s []byte) []byte { le.PutUint64(s[p1+OffPacketSeqNum:], 0); return s }, ErrPacketOrder, p1 + OffPacketSeqNum},
		{"discarded decreases", func(s []byte) []byte {
			le.PutUint64(s[OffEventsDiscarded:], 5)
			return s
		}, ErrPacketOrder, p1 + OffEventsDiscarded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.mutate(bytes.Clone(valid))
			dir := writeTrace(t, tab, s)
			tr, err := OpenTrace(dir)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			var got error
			for _, err := range tr.Records() {
				if err != nil {
					got = err
					break
				}
				n++
			}
			var de *DecodeError
			if !errors.Is(got, tt.want) || !errors.As(got, &de) {
				t.Fatalf("after %d records: err = %v, want %v", n, got, tt.want)
			}
			if de.File != tr.Streams[0] {
				t.Fatalf("error file %q", de.File)
			}
			if de.Offset != tt.off {
				t.Fatalf("error offset %d, want %d: %v", de.Offset, tt.off, got)
			}
			if !strings.Contains(got.Error(), "channel0_0: offset ") {
				t.Fatalf("error text %q does not name the file and offset", got)
			}
			// The same error from the packet iterator.
			var perr error
			for _, err := range tr.Packets() {
				if err != nil {
					perr = err
					break
				}
			}
			if !errors.Is(perr, tt.want) {
				t.Fatalf("Packets: err = %v, want %v", perr, tt.want)
			}
		})
	}
}

// TestReaderStickyError checks that a Reader keeps returning its error.
func TestReaderStickyError(t *testing.T) {
	tr := mustTrace(t, Builtin())
	r := tr.NewReader("junk", bytes.NewReader(make([]byte, 100)), 100)
	_, err1 := r.Next()
	_, err2 := r.Next()
	_, err3 := r.NextPacket()
	if !errors.Is(err1, ErrBadMagic) || err2 != err1 || err3 != err1 {
		t.Fatalf("errors %v, %v, %v", err1, err2, err3)
	}
}

// shrinkingReader claims more bytes than it has, like a file truncated
// while being read.
type shrinkingReader struct{ b []byte }

func (s shrinkingReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(s.b)) {
		return 0, io.EOF
	}
	n := copy(p, s.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func TestReaderShortRead(t *testing.T) {
	tab := Builtin()
	stream := fillStream(tab, 2).bytes()
	tr := mustTrace(t, tab)
	r := tr.NewReader("shrunk", shrinkingReader{stream[:100]}, int64(len(stream)))
	var err error
	for err == nil {
		_, err = r.Next()
	}
	if !errors.Is(err, ErrTruncated) || errors.Is(err, io.EOF) {
		t.Fatalf("err = %v, want ErrTruncated and not io.EOF", err)
	}
}

func BenchmarkDecode(b *testing.B) {
	tab := testTable(b)
	stream := fillStream(tab, 200).bytes()
	tr := mustTrace(b, tab)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		r := tr.NewReader("bench", bytes.NewReader(stream), int64(len(stream)))
		for {
			_, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
}

package record

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
)

// decodeSentinels are the errors a stream decoder may wrap.
var decodeSentinels = []error{ErrTruncated, ErrBadMagic, ErrUUIDMismatch, ErrUnknownStream, ErrUnknownEvent,
	ErrContentSize, ErrNoNUL, ErrTimestampOrder, ErrPacketOrder}

func FuzzDecode(f *testing.F) {
	tab := testTable(f)
	tr := mustTrace(f, tab)
	b := newStreamBuilder(512)
	for k := range 3 {
		for _, e := range tab.Events() {
			b.add(e, sampleValues(e, k))
		}
	}
	f.Add(b.bytes())
	f.Add(b.out[:PacketHeaderSize])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := tr.NewReader("fuzz", bytes.NewReader(data), int64(len(data)))
		for {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				var de *DecodeError
				if !errors.As(err, &de) || de.File != "fuzz" || de.Offset < 0 || de.Offset > int64(len(data)) {
					t.Fatalf("error %v is not a *DecodeError inside the data", err)
				}
				for _, s := range decodeSentinels {
					if errors.Is(err, s) {
						return
					}
				}
				t.Fatalf("error %v wraps no decode sentinel", err)
			}
			if rec.Offset%RecordAlign != 0 || rec.Offset+int64(rec.Size) > int64(len(data)) {
				t.Fatalf("record at %d size %d outside %d bytes", rec.Offset, rec.Size, len(data))
			}
			if n := rec.Event.Size(rec.Values); n != rec.Size {
				t.Fatalf("record %s: decoded size %d, Size() %d", rec.Name(), rec.Size, n)
			}
			// Re-encoding the record reproduces its header and fields.
			buf := make([]byte, rec.Size)
			rec.Event.Encode(buf, rec.Timestamp, rec.Values)
			again := tr.NewReader("again", bytes.NewReader(packetAround(buf, tr.Info.UUID, rec.CPU, rec.Timestamp)), int64(PacketHeaderSize+len(buf)))
			rec2, err := again.Next()
			if err != nil || rec2.Timestamp != rec.Timestamp || rec2.CPU != rec.CPU || rec2.Event != rec.Event || !reflect.DeepEqual(rec2.Values, rec.Values) {
				t.Fatalf("re-encoded record decodes differently: %v, %v vs %v", err, rec2, rec)
			}
		}
	})
}

// packetAround wraps one record in a packet.
func packetAround(rec []byte, uuid [16]byte, cpu uint32, ts uint64) []byte {
	pkt := make([]byte, PacketHeaderSize+len(rec))
	OpenPacket(pkt, uuid, StreamID, cpu, 0, ts)
	copy(pkt[PacketHeaderSize:], rec)
	ClosePacket(pkt, ts, uint64(len(pkt)), 0)
	return pkt
}

func FuzzParseMetadata(f *testing.F) {
	for _, info := range []TraceInfo{testInfo(), {UUID: testUUID}} {
		md, err := Metadata(info, testTable(f).Events())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(md)
	}
	f.Add([]byte("/* CTF 1.8 */"))
	f.Fuzz(func(t *testing.T, text []byte) {
		info, events, err := ParseMetadata(text)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || !errors.Is(err, ErrBadMetadata) || de.Offset < 0 || de.Offset > int64(len(text)) {
				t.Fatalf("error %v is not a *DecodeError wrapping ErrBadMetadata inside the text", err)
			}
			return
		}
		// What parses is what Metadata writes: the round trip is stable.
		md, err := Metadata(info, events)
		if err != nil {
			t.Fatalf("parsed metadata does not regenerate: %v", err)
		}
		info2, events2, err := ParseMetadata(md)
		if err != nil {
			t.Fatalf("regenerated metadata does not parse: %v\n%s", err, md)
		}
		if !reflect.DeepEqual(info.WithDefaults(), info2) || len(events) != len(events2) {
			t.Fatalf("round trip changed the trace info:\n%+v\n%+v", info, info2)
		}
		for i := range events {
			if events[i].ID != events2[i].ID || events[i].Decl() != events2[i].Decl() {
				t.Fatalf("round trip changed event %d: %s vs %s", i, events[i].Decl(), events2[i].Decl())
			}
		}
	})
}

func FuzzParseDecl(f *testing.F) {
	for _, d := range builtinDecls {
		f.Add(d)
	}
	f.Add("blob(bytes data, s16 small, string note)")
	f.Add("e()")
	f.Add("e(u8 a,,)")
	f.Fuzz(func(t *testing.T, decl string) {
		name, fields, err := ParseDecl(decl)
		if err != nil {
			if !errors.Is(err, ErrBadDecl) {
				t.Fatalf("error %v does not wrap ErrBadDecl", err)
			}
			return
		}
		e, err := NewEvent(0, name, fields)
		if err != nil {
			t.Fatalf("ParseDecl accepted %q but NewEvent rejects it: %v", decl, err)
		}
		n2, f2, err := ParseDecl(e.Decl())
		if err != nil || n2 != name || !reflect.DeepEqual(f2, fields) {
			t.Fatalf("Decl %q of %q does not parse back: %v", e.Decl(), decl, err)
		}
	})
}

// FuzzSalvage feeds arbitrary streams to a Salvage reader. It must never
// fail (the data is in memory), recover in order only records outside the
// regions it skips, report skips that are ordered, disjoint and inside the
// data, and agree with the strict decoder: the same records up to the
// first damage, and the same records and no skip when there is none.
func FuzzSalvage(f *testing.F) {
	tab := testTable(f)
	tr := mustTrace(f, tab)
	b := newStreamBuilder(512)
	for k := range 4 {
		for _, e := range tab.Events() {
			b.add(e, sampleValues(e, k))
		}
	}
	// The damaged streams of the seed corpus (truncated, zero-filled packet,
	// foreign bytes appended, inserted or as the whole stream, a flipped
	// event id) are in testdata/fuzz/FuzzSalvage, made from this one.
	f.Add(b.bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		size := int64(len(data))
		strict := tr.NewReader("fuzz", bytes.NewReader(data), size)
		var want []Record
		var strictErr error
		for {
			rec, err := strict.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					strictErr = err
				}
				break
			}
			want = append(want, rec)
		}

		r := tr.NewReader("fuzz", bytes.NewReader(data), size)
		r.SetMode(Salvage)
		var got []Record
		for {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("salvage failed: %v", err)
			}
			got = append(got, rec)
		}
		skips := r.Skips()
		// Skips: in order, disjoint, inside the data, each naming its damage.
		var end, skipped int64
		for i, s := range skips {
			var de *DecodeError
			if s.Offset < end || s.Size < 0 || s.Offset+s.Size > size ||
				!errors.As(s.Err, &de) || de.Offset < 0 || de.Offset > size {
				t.Fatalf("skip %d %+v after offset %d, in %d bytes", i, s, end, size)
			}
			end = s.Offset + s.Size
			skipped += s.Size
		}
		// Records: in order, inside the data, none in a skipped region.
		var prev int64
		for i, rec := range got {
			if rec.Offset < prev || rec.Offset+int64(rec.Size) > size {
				t.Fatalf("record %d at %d size %d after %d, in %d bytes", i, rec.Offset, rec.Size, prev, size)
			}
			for _, s := range skips {
				if rec.Offset < s.Offset+s.Size && s.Offset < rec.Offset+int64(rec.Size) {
					t.Fatalf("record %d at %d size %d overlaps skip %+v", i, rec.Offset, rec.Size, s)
				}
			}
			prev = rec.Offset + int64(rec.Size)
		}
		tot := r.Totals()
		if tot.Records != uint64(len(got)) || tot.SkippedBytes != skipped {
			t.Fatalf("totals %+v for %d records and %d bytes skipped", tot, len(got), skipped)
		}
		// Agreement with the strict decoder.
		if len(got) < len(want) {
			t.Fatalf("salvage recovered %d records, strict decoded %d before its error", len(got), len(want))
		}
		for i := range want {
			if got[i].Offset != want[i].Offset || !reflect.DeepEqual(got[i].Values, want[i].Values) {
				t.Fatalf("record %d: salvage %v, strict %v", i, got[i], want[i])
			}
		}
		if strictErr == nil && (len(skips) != 0 || len(got) != len(want)) {
			t.Fatalf("an intact stream: salvage skipped %+v, recovered %d of %d records", skips, len(got), len(want))
		}
		if strictErr != nil && len(skips) == 0 {
			t.Fatalf("strict decoding failed (%v) but salvage skipped nothing", strictErr)
		}
	})
}

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
			b.add(e, uint32(k), sampleValues(e, k))
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
			rec.Event.Encode(buf, rec.Timestamp, rec.CPU, rec.Values)
			again := tr.NewReader("again", bytes.NewReader(packetAround(buf, tr.Info.UUID, rec.Timestamp)), int64(PacketHeaderSize+len(buf)))
			rec2, err := again.Next()
			if err != nil || rec2.Timestamp != rec.Timestamp || rec2.CPU != rec.CPU || rec2.Event != rec.Event || !reflect.DeepEqual(rec2.Values, rec.Values) {
				t.Fatalf("re-encoded record decodes differently: %v, %v vs %v", err, rec2, rec)
			}
		}
	})
}

// packetAround wraps one record in a packet.
func packetAround(rec []byte, uuid [16]byte, ts uint64) []byte {
	pkt := make([]byte, PacketHeaderSize+len(rec))
	OpenPacket(pkt, uuid, StreamID, 0, ts)
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

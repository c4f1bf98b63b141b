package record

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// readAll decodes every record of r with Next.
func readAll(t testing.TB, r *Reader) []Record {
	t.Helper()
	var recs []Record
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return recs
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
}

// TestNextInto checks that NextInto decodes what Next does, reuses the
// Values slice, and never changes a value it handed out before.
func TestNextInto(t *testing.T) {
	tab := testTable(t)
	b := fillStream(tab, 60)
	stream := b.bytes()
	tr := mustTrace(t, tab)
	want := readAll(t, tr.NewReader("s", bytes.NewReader(stream), int64(len(stream))))
	if len(want) != len(b.recs) {
		t.Fatalf("Next decoded %d records, wrote %d", len(want), len(b.recs))
	}
	r := tr.NewReader("s", bytes.NewReader(stream), int64(len(stream)))
	var rec Record
	var kept []Record // deep copies of the Values, as they were when returned
	var held [][]Value
	var backing *Value
	reused := 0
	for i := 0; ; i++ {
		err := r.NextInto(&rec)
		if errors.Is(err, io.EOF) {
			if i != len(want) {
				t.Fatalf("NextInto decoded %d records, want %d", i, len(want))
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got := rec
		if len(got.Values) == 0 { // empty and nil are the same
			got.Values = want[i].Values
		}
		if !reflect.DeepEqual(got, want[i]) {
			t.Fatalf("record %d: NextInto %+v, Next %+v", i, rec, want[i])
		}
		if len(rec.Values) > 0 {
			if &rec.Values[0] == backing {
				reused++
			}
			backing = &rec.Values[0]
		}
		// Keep the values themselves (strings and byte slices included).
		held = append(held, append([]Value(nil), rec.Values...))
		kept = append(kept, want[i])
	}
	if reused < len(want)/2 {
		t.Errorf("Values reused for %d of %d records", reused, len(want))
	}
	for i, vals := range held {
		if len(vals) != len(kept[i].Values) || len(vals) > 0 && !reflect.DeepEqual(vals, kept[i].Values) {
			t.Fatalf("record %d: a value handed out changed later: %+v, was %+v", i, vals, kept[i].Values)
		}
	}
}

// TestNextIntoAllocs: decoding into one Record allocates nearly nothing
// per record, strings and byte fields included.
func TestNextIntoAllocs(t *testing.T) {
	tab := testTable(t)
	stream := fillStream(tab, 200).bytes()
	tr := mustTrace(t, tab)
	var n int
	var rec Record
	allocs := testing.AllocsPerRun(5, func() {
		r := tr.NewReader("s", bytes.NewReader(stream), int64(len(stream)))
		for n = 0; ; n++ {
			if err := r.NextInto(&rec); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatal(err)
				}
				return
			}
		}
	})
	if perRecord := allocs / float64(n); perRecord > 0.05 {
		t.Errorf("%.0f allocations for %d records: %.3f per record, want about 0", allocs, n, perRecord)
	}
}

// TestReaderPacketAndTotals: Packet gives each record's packet, with its
// Discarded increase, and Totals the running counts.
func TestReaderPacketAndTotals(t *testing.T) {
	tab := Builtin()
	b := newStreamBuilder(256)
	e, _ := tab.Lookup(IDHypercallEntry)
	for i, d := range []uint64{0, 0, 7, 7, 10} {
		b.discarded = d
		for range 3 {
			b.add(e, []Value{Uint(uint64(i)), Uint(1)})
		}
		b.flush()
	}
	stream := b.bytes()
	r := mustTrace(t, tab).NewReader("mem", bytes.NewReader(stream), int64(len(stream)))
	if _, ok := r.Packet(); ok {
		t.Fatal("Packet before any record")
	}
	var rec Record
	for i, w := range b.recs {
		if err := r.NextInto(&rec); err != nil {
			t.Fatal(err)
		}
		p, ok := r.Packet()
		k := int(w.off) / 256
		if !ok || p.Offset != b.pkts[k].off || p.SeqNum != uint64(k) || p.Discarded != b.pkts[k].discarded ||
			rec.PacketSeq != p.SeqNum || p.Records != i%3+1 {
			t.Fatalf("record %d: packet %+v, want offset %d seq %d discarded %d, %d records so far",
				i, p, b.pkts[k].off, k, b.pkts[k].discarded, i%3+1)
		}
	}
	if err := r.NextInto(&rec); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last record: %v", err)
	}
	want := Totals{Packets: 5, Records: 15, Discarded: 10}
	if got := r.Totals(); got != want {
		t.Fatalf("Totals %+v, want %+v", got, want)
	}
	if p, _ := r.Packet(); p.Records != 3 || p.SeqNum != 4 {
		t.Fatalf("last packet %+v", p)
	}

	// NextPacket counts the same.
	r = mustTrace(t, tab).NewReader("mem", bytes.NewReader(stream), int64(len(stream)))
	for {
		if _, err := r.NextPacket(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if got := r.Totals(); got != want {
		t.Fatalf("NextPacket: Totals %+v, want %+v", got, want)
	}
}

// TestReaderTail feeds a Tail reader a stream a few bytes at a time: it
// returns each record once, when its whole packet is there.
func TestReaderTail(t *testing.T) {
	tab := testTable(t)
	b := fillStream(tab, 30)
	stream := b.bytes()
	tr := mustTrace(t, tab)
	r := tr.NewReader("tail", bytes.NewReader(stream), 0)
	r.SetMode(Tail)
	var got []Record
	// Sizes: inside a header, at a packet boundary, inside a packet, just
	// short of its end, then whole.
	for size := int64(0); size <= int64(len(stream)); size += 1000 {
		r.Grow(size)
		for {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("size %d: %v", size, err)
			}
			if rec.Offset+int64(rec.Size) > size {
				t.Fatalf("size %d: record at %d decoded before its packet is whole", size, rec.Offset)
			}
			got = append(got, rec)
		}
		if whole := size / 4096 * 4096; r.Offset() != whole {
			t.Fatalf("size %d: stopped at %d, want %d (the end of the whole packets)", size, r.Offset(), whole)
		}
	}
	r.Grow(int64(len(stream)))
	got = append(got, readAll(t, r)...)
	want := readAll(t, tr.NewReader("s", bytes.NewReader(stream), int64(len(stream))))
	if len(got) != len(want) {
		t.Fatalf("Tail decoded %d records, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].Offset != want[i].Offset || !reflect.DeepEqual(got[i].Values, want[i].Values) {
			t.Fatalf("record %d differs", i)
		}
	}

	// Damage is an error, and stays one, even with more data to come.
	bad := bytes.Clone(stream)
	bad[b.pkts[1].off] ^= 1
	r = tr.NewReader("tail", bytes.NewReader(bad), int64(len(bad)))
	r.SetMode(Tail)
	var err error
	for err == nil {
		_, err = r.Next()
	}
	r.Grow(int64(len(bad)) + 4096)
	if _, err2 := r.Next(); !errors.Is(err, ErrBadMagic) || err2 != err {
		t.Fatalf("damage in Tail mode: %v, then %v", err, err2)
	}
}

// TestReaderSetTrace: a Reader picks up an event type declared by newer
// metadata, and refuses another trace's.
func TestReaderSetTrace(t *testing.T) {
	tab := Builtin()
	old := mustTrace(t, tab)
	late, _, err := tab.AddDecl("late_event(u32 x, string why)")
	if err != nil {
		t.Fatal(err)
	}
	printk, _ := tab.Lookup(IDPrintk)
	b := newStreamBuilder(256)
	b.cpu = 1
	b.add(printk, []Value{Str("before")})
	b.flush()
	b.add(late, []Value{Uint(5), Str("after")})
	stream := b.bytes()

	r := old.NewReader("s", bytes.NewReader(stream), b.pkts[1].off)
	r.SetMode(Tail)
	if rec, err := r.Next(); err != nil || rec.Name() != "printk" {
		t.Fatalf("first record: %v %v", rec, err)
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("end of the first packet: %v", err)
	}
	r.Grow(int64(len(stream)))
	if err := r.SetTrace(mustTrace(t, tab)); err != nil {
		t.Fatal(err)
	}
	if rec, err := r.Next(); err != nil || rec.String() != `[1020] late_event: { cpu_id = 1 }, { x = 5, why = "after" }` {
		t.Fatalf("record of the new type: %v %v", rec, err)
	}

	other := testInfo()
	other.UUID[0]++
	md, _ := Metadata(other, tab.Events())
	tr2, _ := NewTrace(md)
	if err := r.SetTrace(tr2); !errors.Is(err, ErrUUIDMismatch) {
		t.Fatalf("SetTrace of another trace: %v", err)
	}
}

// TestDecodeErrorText: the message is "FILE: offset N: what", with nothing
// else in it.
func TestDecodeErrorText(t *testing.T) {
	tr := mustTrace(t, Builtin())
	_, err := tr.NewReader("dir/channel0_0", bytes.NewReader(make([]byte, 100)), 100).Next()
	want := "dir/channel0_0: offset 0: bad packet magic: magic 0x00000000, want 0xc1fc1fc1"
	if err == nil || err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
	_, err = ParsePacketHeader(nil)
	if err == nil || !strings.HasPrefix(err.Error(), "offset 0: truncated: ") {
		t.Fatalf("bare buffer error %q", err)
	}
}

func BenchmarkDecodeInto(b *testing.B) {
	tab := testTable(b)
	stream := fillStream(tab, 200).bytes()
	tr := mustTrace(b, tab)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	n := 0
	var rec Record
	for b.Loop() {
		r := tr.NewReader("bench", bytes.NewReader(stream), int64(len(stream)))
		for {
			err := r.NextInto(&rec)
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

package record

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// mergeTrace writes a trace of nStreams streams, channel0_<cpu>, stream cpu
// holding rounds×len(events) records written by pCPU cpu whose timestamps
// start at 1000+cpu×start and go up by 10: with start < 10 the streams
// interleave, with start = 0 every timestamp ties across streams. It
// returns the directory and the builders.
func mergeTrace(t *testing.T, nStreams, rounds int, start uint64) (string, []*streamBuilder) {
	t.Helper()
	tab := testTable(t)
	dir := t.TempDir()
	meta, err := Metadata(testInfo(), tab.Events())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "metadata"), meta, 0o644); err != nil {
		t.Fatal(err)
	}
	var bs []*streamBuilder
	for cpu := range nStreams {
		b := newStreamBuilder(4096)
		b.cpu = uint32(cpu)
		b.ts = 1000 + uint64(cpu)*start
		for k := range rounds {
			for _, e := range tab.Events() {
				b.add(e, sampleValues(e, k+cpu))
			}
		}
		// Stream 2 loses records twice: its totals must say so.
		if cpu == 2 {
			b.flush()
			b.discarded += 7
			b.add(tab.Events()[0], sampleValues(tab.Events()[0], 0))
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("channel0_%d", cpu)), b.bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		bs = append(bs, b)
	}
	return dir, bs
}

// mergedWant returns every record of bs in merge order: timestamp, then
// stream, then file order.
func mergedWant(bs []*streamBuilder) []builtRecord {
	type keyed struct {
		rec         builtRecord
		stream, pos int
	}
	var all []keyed
	for s, b := range bs {
		for i, r := range b.recs {
			all = append(all, keyed{r, s, i})
		}
	}
	slices.SortFunc(all, func(a, b keyed) int {
		return cmp.Or(cmp.Compare(a.rec.ts, b.rec.ts), cmp.Compare(a.stream, b.stream), cmp.Compare(a.pos, b.pos))
	})
	out := make([]builtRecord, len(all))
	for i, k := range all {
		out[i] = k.rec
	}
	return out
}

func TestMergerOrder(t *testing.T) {
	for _, start := range []uint64{3, 0, 5000} { // interleaved, all tied, one after the other
		t.Run(fmt.Sprint("start", start), func(t *testing.T) {
			dir, bs := mergeTrace(t, 4, 20, start)
			tr, err := OpenTrace(dir)
			if err != nil {
				t.Fatal(err)
			}
			m, err := tr.OpenMerger(Strict)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			want := mergedWant(bs)
			var rec Record
			for i := 0; ; i++ {
				err := m.NextInto(&rec)
				if errors.Is(err, io.EOF) {
					if i != len(want) {
						t.Fatalf("%d records, want %d", i, len(want))
					}
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				w := want[i]
				if rec.Timestamp != w.ts || rec.CPU != w.cpu || rec.Offset != w.off || rec.Event.Name != w.e.Name {
					t.Fatalf("record %d: ts %d cpu %d off %d %s, want ts %d cpu %d off %d %s",
						i, rec.Timestamp, rec.CPU, rec.Offset, rec.Event.Name, w.ts, w.cpu, w.off, w.e.Name)
				}
				for j, f := range w.e.Fields {
					if got, wv := rec.Values[j].Format(f.Type), w.vals[j].Format(f.Type); got != wv {
						t.Fatalf("record %d field %s = %s, want %s", i, f.Name, got, wv)
					}
				}
			}
			var sum Totals
			for i, st := range m.Streams() {
				b := bs[i]
				if !st.HasCPU || st.CPU != uint32(i) || st.File != tr.Streams[i] {
					t.Errorf("stream %d: %s cpu %d (%v)", i, st.File, st.CPU, st.HasCPU)
				}
				var lost uint64
				for _, p := range b.pkts {
					lost += p.discarded
				}
				if st.Records != uint64(len(b.recs)) || st.Packets != uint64(len(b.pkts)) || st.Discarded != lost {
					t.Errorf("stream %d totals %+v, want %d records, %d packets, %d discarded", i, st.Totals, len(b.recs), len(b.pkts), lost)
				}
				sum.Records += st.Records
				sum.Packets += st.Packets
				sum.Discarded += st.Discarded
			}
			if got := m.Totals(); got != sum || got.Discarded != 7 {
				t.Errorf("totals %+v, want the streams' sum %+v with 7 discarded", got, sum)
			}
		})
	}
}

// TestMergerStrictDamage: damage in one stream ends the merge with its
// DecodeError, after the records before it.
func TestMergerStrictDamage(t *testing.T) {
	dir, bs := mergeTrace(t, 3, 30, 3)
	name := filepath.Join(dir, "channel0_1")
	data := bs[1].bytes()
	damageAt := bs[1].pkts[1].off
	data[damageAt] ^= 0xff // second packet's magic
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	tr, err := OpenTrace(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := tr.OpenMerger(Strict)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var n int
	var rec Record
	var last uint64
	for {
		err = m.NextInto(&rec)
		if err != nil {
			break
		}
		if rec.Timestamp < last {
			t.Fatalf("timestamp %d after %d", rec.Timestamp, last)
		}
		last = rec.Timestamp
		n++
	}
	var de *DecodeError
	if !errors.As(err, &de) || !errors.Is(err, ErrBadMagic) || de.File != name || de.Offset != damageAt {
		t.Fatalf("error %v, want bad magic in %s at offset %d", err, name, damageAt)
	}
	if n < bs[1].pkts[1].records || n >= len(mergedWant(bs)) {
		t.Errorf("%d records before the error", n)
	}
	if err2 := m.NextInto(&rec); err2 != err {
		t.Errorf("second call: %v, want the same error", err2)
	}
}

// TestMergerSalvage: damage in one stream is skipped; the others are whole.
func TestMergerSalvage(t *testing.T) {
	dir, bs := mergeTrace(t, 3, 30, 3)
	data := bs[1].bytes()
	lostPkt := bs[1].pkts[1]
	data[lostPkt.off] ^= 0xff
	if err := os.WriteFile(filepath.Join(dir, "channel0_1"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	tr, err := OpenTrace(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := tr.OpenMerger(Salvage)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	n := 0
	for {
		if _, err := m.Next(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if want := len(mergedWant(bs)) - lostPkt.records; n != want {
		t.Errorf("%d records, want %d", n, want)
	}
	skips := m.Skips()
	if len(skips) != 1 || skips[0].Packets != 1 || skips[0].Offset != lostPkt.off {
		t.Errorf("skips %+v, want one packet at %d", skips, lostPkt.off)
	}
	st := m.Streams()
	if len(st[1].Skips) != 1 || len(st[0].Skips) != 0 || st[1].SkippedPackets != 1 || m.Totals().SkippedPackets != 1 {
		t.Errorf("per-stream skips %+v", st)
	}
}

// TestMergerTail: a stream growing a packet at a time, and a stream added
// later, are merged as far as the files hold whole packets.
func TestMergerTail(t *testing.T) {
	dir, bs := mergeTrace(t, 2, 30, 3)
	tr, err := OpenTrace(dir)
	if err != nil {
		t.Fatal(err)
	}
	data0, data1 := bs[0].bytes(), bs[1].bytes()
	m := NewMerger(Tail)
	r0 := tr.NewReader(tr.Streams[0], bytes.NewReader(data0), 0)
	m.Add(r0)
	drain := func() []Record {
		var out []Record
		for {
			rec, err := m.Next()
			if errors.Is(err, io.EOF) {
				return out
			}
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, rec)
		}
	}
	if got := drain(); len(got) != 0 {
		t.Fatalf("%d records from an empty stream", len(got))
	}
	r0.Grow(bs[0].pkts[1].off + 100) // one whole packet and part of the next
	if got := drain(); len(got) != bs[0].pkts[0].records {
		t.Fatalf("%d records, want the first packet's %d", len(got), bs[0].pkts[0].records)
	}
	r1 := tr.NewReader(tr.Streams[1], bytes.NewReader(data1), int64(len(data1)))
	m.Add(r1)
	r0.Grow(int64(len(data0)))
	got := drain()
	if want := len(bs[0].recs) + len(bs[1].recs) - bs[0].pkts[0].records; len(got) != want {
		t.Fatalf("%d records, want %d", len(got), want)
	}
	if !slices.IsSortedFunc(got, func(a, b Record) int { return cmp.Compare(a.Timestamp, b.Timestamp) }) {
		t.Error("records of one look out of timestamp order")
	}
	if got := drain(); len(got) != 0 {
		t.Errorf("%d records after the end", len(got))
	}
}

// TestMergerLosses: the gap before a packet whose events_discarded went
// up is reported with the stream's pCPU and the bounding timestamps.
func TestMergerLosses(t *testing.T) {
	dir, bs := mergeTrace(t, 3, 20, 3)
	tr, err := OpenTrace(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := tr.OpenMerger(Strict)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for {
		if _, err := m.Next(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	b := bs[2]
	last := len(b.pkts) - 1
	prevEnd := b.recs[len(b.recs)-2].ts + 1 // ClosePacket(ts+1) of the packet before
	want := []Loss{{File: tr.Streams[2], CPU: 2, HasCPU: true, After: prevEnd, Before: b.recs[len(b.recs)-1].ts - 5, Count: 7}}
	if got := m.Losses(); !slices.Equal(got, want) || b.pkts[last].discarded != 7 {
		t.Errorf("losses %+v, want %+v", got, want)
	}
}

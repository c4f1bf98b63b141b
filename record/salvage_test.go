package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

// salvageRun is what a Salvage reader got from a stream.
type salvageRun struct {
	recs   []Record
	skips  []Skip
	totals Totals
}

func salvage(t testing.TB, tr *Trace, stream []byte) salvageRun {
	t.Helper()
	r := tr.NewReader("s", bytes.NewReader(stream), int64(len(stream)))
	r.SetMode(Salvage)
	var run salvageRun
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("salvage returned an error: %v", err)
		}
		run.recs = append(run.recs, rec)
	}
	run.skips, run.totals = r.Skips(), r.Totals()
	return run
}

// wantSkip is a Skip as a test expects it.
type wantSkip struct {
	off, size int64
	packets   uint64
	err       error
}

// TestSalvage damages a stream in every way salvage must survive and checks
// the records recovered (exactly the intact ones) and the regions skipped.
func TestSalvage(t *testing.T) {
	tab := testTable(t)
	b := fillStream(tab, 40)
	valid := b.bytes()
	tr := mustTrace(t, tab)
	n := len(b.pkts)
	if n < 6 {
		t.Fatalf("only %d packets", n)
	}
	size := int64(len(valid))
	pktEnd := func(k int) int64 { return b.pkts[k].off + 4096 }
	// recsIn returns the indices of the records of packets [from, to).
	recsIn := func(from, to int) []int {
		var idx []int
		for i, r := range b.recs {
			if r.off >= b.pkts[from].off && (to >= n || r.off < b.pkts[to].off) {
				idx = append(idx, i)
			}
		}
		return idx
	}
	// before returns the indices of the records before offset off.
	before := func(off int64) []int {
		var idx []int
		for i, r := range b.recs {
			if r.off+int64(r.size) <= off {
				idx = append(idx, i)
			}
		}
		return idx
	}
	cat := func(parts ...[]int) []int {
		var all []int
		for _, p := range parts {
			all = append(all, p...)
		}
		return all
	}
	// mid is a record in the middle of packet 2, not its first.
	var mid builtRecord
	for _, r := range b.recs {
		if r.off > b.pkts[2].off+1500 {
			mid = r
			break
		}
	}
	// midStart is the end of the record before mid: where a skip that
	// starts in mid starts (the first byte not decoded).
	var midStart int64
	for _, r := range b.recs {
		if r.off < mid.off {
			midStart = r.off + int64(r.size)
		}
	}
	// last is a record in the middle of the last packet.
	var last builtRecord
	for _, r := range b.recs {
		if r.off > b.pkts[n-1].off+800 {
			last = r
			break
		}
	}
	// lastRecEnd is the end of the record before last: where a skip that
	// starts in last starts (the first byte not decoded).
	var lastRecEnd int64
	for _, r := range b.recs {
		if r.off < last.off {
			lastRecEnd = r.off + int64(r.size)
		}
	}
	contentEnd := b.pkts[n-1].off + int64(binary.LittleEndian.Uint64(valid[b.pkts[n-1].off+OffContentSize:])/8)
	junk := []byte("#!/bin/sh\necho this is not a trace packet, it is a shell script that got in the way\n")
	random := make([]byte, 10000)
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	with := func(f func(s []byte) []byte) []byte { return f(bytes.Clone(valid)) }

	for _, tc := range []struct {
		name   string
		stream []byte
		recs   []int // indices in b.recs of the records to recover, in order
		skips  []wantSkip
	}{
		{"intact", valid, recsIn(0, n), nil},
		{"truncated inside a record of the last packet", valid[:last.off+5], before(last.off + 5),
			[]wantSkip{{lastRecEnd, last.off + 5 - lastRecEnd, 1, ErrTruncated}}},
		{"truncated after the last record", valid[:contentEnd], recsIn(0, n),
			[]wantSkip{{contentEnd, 0, 0, ErrTruncated}}},
		{"truncated in a packet header", valid[:b.pkts[n-1].off+30], recsIn(0, n-1),
			[]wantSkip{{b.pkts[n-1].off, 30, 1, ErrTruncated}}},
		{"truncated in a packet magic", valid[:b.pkts[n-1].off+3], recsIn(0, n-1),
			[]wantSkip{{b.pkts[n-1].off, 3, 0, ErrTruncated}}},
		{"zero-filled packet", with(func(s []byte) []byte { clear(s[b.pkts[2].off:pktEnd(2)]); return s }),
			cat(recsIn(0, 2), recsIn(3, n)), []wantSkip{{b.pkts[2].off, 4096, 1, ErrBadMagic}}},
		{"zero-filled first packet", with(func(s []byte) []byte { clear(s[:4096]); return s }),
			recsIn(1, n), []wantSkip{{0, 4096, 1, ErrBadMagic}}},
		{"two zero-filled packets", with(func(s []byte) []byte { clear(s[b.pkts[2].off:pktEnd(3)]); return s }),
			cat(recsIn(0, 2), recsIn(4, n)), []wantSkip{{b.pkts[2].off, 8192, 2, ErrBadMagic}}},
		{"foreign file appended", append(bytes.Clone(valid), junk...), recsIn(0, n),
			[]wantSkip{{size, int64(len(junk)), 0, ErrBadMagic}}},
		{"random bytes appended", append(bytes.Clone(valid), random...), recsIn(0, n),
			[]wantSkip{{size, int64(len(random)), 0, ErrBadMagic}}},
		{"foreign file as the stream", junk, nil, []wantSkip{{0, int64(len(junk)), 0, ErrBadMagic}}},
		{"random bytes as the stream", random, nil, []wantSkip{{0, int64(len(random)), 0, ErrBadMagic}}},
		{"foreign bytes inserted between packets", with(func(s []byte) []byte {
			return append(s[:b.pkts[3].off:b.pkts[3].off], append(bytes.Clone(junk[:13]), valid[b.pkts[3].off:]...)...)
		}), recsIn(0, n), []wantSkip{{b.pkts[3].off, 13, 0, ErrBadMagic}}},
		{"flipped event id", with(func(s []byte) []byte { s[mid.off+OffID+2] ^= 0x5a; return s }),
			cat(before(mid.off), recsIn(3, n)), []wantSkip{{midStart, pktEnd(2) - midStart, 1, ErrUnknownEvent}}},
		{"flipped timestamp", with(func(s []byte) []byte { s[mid.off+7] ^= 0x80; return s }),
			cat(before(mid.off), recsIn(3, n)), []wantSkip{{midStart, pktEnd(2) - midStart, 1, ErrTimestampOrder}}},
		{"flipped bytes in the first record", with(func(s []byte) []byte {
			binary.LittleEndian.PutUint64(s[b.pkts[2].off+PacketHeaderSize:], 1)
			return s
		}), cat(recsIn(0, 2), recsIn(3, n)), []wantSkip{{b.pkts[2].off + PacketHeaderSize, 4096 - PacketHeaderSize, 1, ErrTimestampOrder}}},
		{"packet counters damaged", with(func(s []byte) []byte {
			binary.LittleEndian.PutUint64(s[b.pkts[4].off+OffPacketSeqNum:], 0)
			return s
		}), cat(recsIn(0, 4), recsIn(5, n)), []wantSkip{{b.pkts[4].off, 4096, 1, ErrPacketOrder}}},
		// One absurd header field: it is reported (nothing skipped) and
		// replaced by what the packets around it say; every record is read.
		{"absurd packet_seq_num", with(func(s []byte) []byte { put64(s, b.pkts[2].off+OffPacketSeqNum, 1<<62); return s }),
			recsIn(0, n), []wantSkip{{b.pkts[2].off + OffPacketSeqNum, 0, 0, ErrPacketOrder}}},
		{"absurd events_discarded", with(func(s []byte) []byte { put64(s, b.pkts[2].off+OffEventsDiscarded, 1<<62); return s }),
			recsIn(0, n), []wantSkip{{b.pkts[2].off + OffEventsDiscarded, 0, 0, ErrPacketOrder}}},
		{"absurd timestamp_end", with(func(s []byte) []byte { put64(s, b.pkts[2].off+OffTimestampEnd, 1<<62); return s }),
			recsIn(0, n), []wantSkip{{b.pkts[2].off + OffTimestampEnd, 0, 0, ErrTimestampOrder}}},
		{"absurd packet_seq_num in the first packet", with(func(s []byte) []byte { put64(s, OffPacketSeqNum, 1<<62); return s }),
			recsIn(0, n), []wantSkip{{OffPacketSeqNum, 0, 0, ErrPacketOrder}}},
		{"absurd packet_size inside the file", with(func(s []byte) []byte { put64(s, b.pkts[2].off+OffPacketSize, 3*4096*8); return s }),
			recsIn(0, n), []wantSkip{{b.pkts[2].off + OffPacketSize, 0, 0, ErrContentSize}}},
		{"absurd packet_size past the end", with(func(s []byte) []byte { put64(s, b.pkts[2].off+OffPacketSize, 1<<40); return s }),
			recsIn(0, n), []wantSkip{{b.pkts[2].off + OffPacketSize, 0, 0, ErrContentSize}}},
		{"absurd packet_size in the first packet", with(func(s []byte) []byte { put64(s, OffPacketSize, 1<<40); return s }),
			recsIn(0, n), []wantSkip{{OffPacketSize, 0, 0, ErrContentSize}}},
		{"absurd counters in two packets, and a packet lost", with(func(s []byte) []byte {
			put64(s, b.pkts[1].off+OffPacketSeqNum, 1<<62)
			put64(s, b.pkts[2].off+OffEventsDiscarded, 1<<62)
			clear(s[b.pkts[4].off : b.pkts[4].off+4096])
			return s
		}), cat(recsIn(0, 4), recsIn(5, n)), []wantSkip{
			{b.pkts[1].off + OffPacketSeqNum, 0, 0, ErrPacketOrder},
			{b.pkts[2].off + OffEventsDiscarded, 0, 0, ErrPacketOrder},
			{b.pkts[4].off, 4096, 1, ErrBadMagic},
		}},
		{"damage in two places", with(func(s []byte) []byte {
			clear(s[b.pkts[1].off : b.pkts[1].off+8])
			s[mid.off+OffID+3] ^= 0xff
			return append(s, junk...)
		}), cat(recsIn(0, 1), recsIn(2, 2), before(mid.off)[len(recsIn(0, 2)):], recsIn(3, n)), []wantSkip{
			{b.pkts[1].off, 4096, 1, ErrBadMagic},
			{midStart, pktEnd(2) - midStart, 1, ErrUnknownEvent},
			{size, int64(len(junk)), 0, ErrBadMagic},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := salvage(t, tr, tc.stream)
			if len(run.recs) != len(tc.recs) {
				t.Errorf("recovered %d records, want %d", len(run.recs), len(tc.recs))
			}
			for i := range min(len(run.recs), len(tc.recs)) {
				w := b.recs[tc.recs[i]]
				// Timestamps are unique: they name the records (offsets
				// move when bytes are inserted).
				if got := run.recs[i]; got.Timestamp != w.ts || got.ID() != w.e.ID || got.CPU != w.cpu {
					t.Fatalf("record %d: %s at %d ts %d, want %s ts %d", i, got.Name(), got.Offset, got.Timestamp, w.e.Name, w.ts)
				}
			}
			var sumBytes int64
			var sumPackets uint64
			if len(run.skips) != len(tc.skips) {
				t.Fatalf("skips %+v, want %+v", run.skips, tc.skips)
			}
			for i, s := range run.skips {
				w := tc.skips[i]
				var de *DecodeError
				if s.Offset != w.off || s.Size != w.size || s.Packets != w.packets || !errors.Is(s.Err, w.err) ||
					!errors.As(s.Err, &de) || s.File != "s" {
					t.Errorf("skip %d: %+v\nwant offset %d size %d packets %d err %v", i, s, w.off, w.size, w.packets, w.err)
				}
				sumBytes += s.Size
				sumPackets += s.Packets
			}
			if run.totals.Discarded != 0 { // the stream lost nothing: damage must not make up losses
				t.Errorf("totals: %d events discarded, want 0", run.totals.Discarded)
			}
			if run.totals.Records != uint64(len(run.recs)) || run.totals.SkippedBytes != sumBytes || run.totals.SkippedPackets != sumPackets {
				t.Errorf("totals %+v: %d records, %d bytes and %d packets skipped", run.totals, len(run.recs), sumBytes, sumPackets)
			}
		})
	}
}

// TestSalvageScanChunks puts the next valid packet across the scan's read
// chunks, at every offset around a chunk boundary.
func TestSalvageScanChunks(t *testing.T) {
	tab := Builtin()
	b := newStreamBuilder(4096)
	e, _ := tab.Lookup(IDPrintk)
	for range 200 {
		b.add(e, []Value{Str("x")})
	}
	valid := b.bytes()
	tr := mustTrace(t, tab)
	want := len(salvage(t, tr, valid).recs)
	for _, gap := range []int{scanChunk - 30, scanChunk - 21, scanChunk - 20, scanChunk - 19, scanChunk - 1, scanChunk, scanChunk + 1} {
		t.Run(fmt.Sprint(gap), func(t *testing.T) {
			// gap bytes of garbage before the stream: the scan starts at 1.
			s := append(bytes.Repeat([]byte{0xab}, gap), valid...)
			run := salvage(t, tr, s)
			if len(run.recs) != want || len(run.skips) != 1 || run.skips[0].Size != int64(gap) {
				t.Fatalf("%d records, skips %+v; want %d records and %d bytes skipped", len(run.recs), run.skips, want, gap)
			}
		})
	}
}

// TestSalvageNextPacket: NextPacket in Salvage mode returns the intact
// packets only, and the totals count the records before the damage.
func TestSalvageNextPacket(t *testing.T) {
	tab := testTable(t)
	b := fillStream(tab, 40)
	s := b.bytes()
	clear(s[b.pkts[2].off : b.pkts[2].off+4096])
	s[b.recs[len(b.recs)-3].off+OffID] ^= 0xff // the last packet's third-last record
	r := mustTrace(t, tab).NewReader("s", bytes.NewReader(s), int64(len(s)))
	r.SetMode(Salvage)
	var seqs []uint64
	for {
		p, err := r.NextPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, p.SeqNum)
	}
	n := len(b.pkts)
	if len(seqs) != n-2 || seqs[1] != 1 || seqs[2] != 3 || seqs[len(seqs)-1] != uint64(n-2) {
		t.Fatalf("packets %v of %d", seqs, n)
	}
	tot := r.Totals()
	if tot.Packets != uint64(n-2) || tot.Records != uint64(len(b.recs)-b.pkts[2].records-3) || tot.SkippedPackets != 2 {
		t.Fatalf("totals %+v", tot)
	}
}

func put64(s []byte, off int64, v uint64) { binary.LittleEndian.PutUint64(s[off:], v) }

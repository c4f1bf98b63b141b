package shm

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// sharedBytes returns n bytes of MAP_SHARED anonymous memory, as a mapped
// memfd is: memory outside the Go heap. The overwrite tests copy slots
// while writers rewrite them, a seqlock whose racy reads are by design
// (the copy is discarded when the slot's word changed); the race detector
// does not watch memory it did not allocate, so it checks the atomics and
// leaves those reads alone, as it does in the real deployment.
func sharedBytes(t testing.TB, n int) []byte {
	t.Helper()
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(b) })
	return b
}

// newOverwriteChannel returns a one-pCPU overwrite-mode channel on shared
// memory and an observer of it (no consumer ever releases a packet).
func newOverwriteChannel(t testing.TB, g Geometry) (*Ring, *Observer) {
	t.Helper()
	ctrl := sharedBytes(t, ControlSize(1, g.NumSubbuf, 4096))
	cons := sharedBytes(t, ConsumerSize(1, 4096))
	buf := sharedBytes(t, int(g.Total()))
	cfg := testConfig(g, &testClock{}, nil)
	cfg.Mode = ModeOverwrite
	ch, err := NewChannel(ctrl, cons, buf, cfg)
	if err != nil {
		t.Fatal(err)
	}
	obs, err := NewObserver(ctrl, buf)
	if err != nil {
		t.Fatal(err)
	}
	return ch.Ring(0), obs
}

// checkCopied parses copied packets and checks what a snapshot promises:
// strictly increasing sequence numbers, every packet whole (no torn record),
// timestamps non-decreasing across packets. It returns the records.
func checkCopied(t *testing.T, pkts []CopiedPacket) []testRecord {
	t.Helper()
	var recs []testRecord
	var lastSeq, lastTS uint64
	for i, p := range pkts {
		tp, err := parsePacket(p.Data)
		if err != nil {
			t.Fatalf("copied packet %d: %v", p.Seq, err)
		}
		if tp.seq != p.Seq {
			t.Fatalf("slot says packet %d, its header says %d", p.Seq, tp.seq)
		}
		if i > 0 && (p.Seq <= lastSeq || tp.tsBegin < lastTS) {
			t.Fatalf("packet %d (ts %d) after packet %d (ts %d)", p.Seq, tp.tsBegin, lastSeq, lastTS)
		}
		lastSeq, lastTS = p.Seq, tp.tsEnd
		recs = append(recs, tp.records...)
	}
	return recs
}

// TestOverwriteReclaims: with no consumer, a writer never drops for lack
// of room; it reclaims the oldest delivered packet and counts it, and the
// observer copies the newest packets, whole and in order.
func TestOverwriteReclaims(t *testing.T) {
	g := Geometry{SubbufSize: 4096, NumSubbuf: 4}
	ring, obs := newOverwriteChannel(t, g)
	const records = 5000
	for i := range uint64(records) {
		if err := writeRecord(ring, 0, i); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	st := ring.Stats()
	if st.LostFull != 0 {
		t.Fatalf("overwrite mode lost %d records", st.LostFull)
	}
	open := ring.head.off() >> ring.sbShift
	// Every packet before the open one was delivered; all but the last
	// n-1 of them (the open packet took the n-th slot) were reclaimed.
	if want := open - (g.NumSubbuf - 1); st.Overwritten != want {
		t.Errorf("overwritten = %d, want %d (open packet %d)", st.Overwritten, want, open)
	}
	if got := ring.Control().Overwritten(); got != st.Overwritten {
		t.Errorf("control region publishes %d overwritten, ring counts %d", got, st.Overwritten)
	}
	pkts := obs.Copy(0)
	if len(pkts) != int(g.NumSubbuf-1) || pkts[len(pkts)-1].Seq != open-1 {
		t.Fatalf("copied %d packets ending at %v, want the %d before open packet %d", len(pkts), pkts[len(pkts)-1].Seq, g.NumSubbuf-1, open)
	}
	recs := checkCopied(t, pkts)
	for i := 1; i < len(recs); i++ {
		if recs[i].counter != recs[i-1].counter+1 {
			t.Fatalf("records %d then %d: a gap inside the copied packets", recs[i-1].counter, recs[i].counter)
		}
	}
	// After the final flush the open packet is delivered too, and the
	// last record written is the last record copied.
	ring.Flush(true)
	recs = checkCopied(t, obs.Copy(0))
	if last := recs[len(recs)-1].counter; last != records-1 {
		t.Errorf("after flush the newest copied record is #%d, want #%d", last, records-1)
	}
}

// TestOverwriteSparesUndelivered: a slot whose packet is not delivered
// (a writer still holds a reservation in it) is never reclaimed: records
// that need it are dropped and counted, as in LTTng, and once the slow
// writer commits, reclaiming resumes.
func TestOverwriteSparesUndelivered(t *testing.T) {
	g := Geometry{SubbufSize: 4096, NumSubbuf: 4}
	ring, obs := newOverwriteChannel(t, g)
	held, err := ring.Reserve(recSize(0))
	if err != nil {
		t.Fatal(err)
	}
	le.PutUint64(held.Buf[0:], held.TS)
	le.PutUint32(held.Buf[8:], 1)
	le.PutUint32(held.Buf[12:], uint32(recSize(0)))
	le.PutUint64(held.Buf[16:], 0)
	var dropped uint64
	for i := range uint64(2000) {
		switch err := writeRecord(ring, 0, i+1); {
		case errors.Is(err, ErrFull):
			dropped++
		case err != nil:
			t.Fatal(err)
		}
	}
	if dropped == 0 {
		t.Fatal("no record dropped while packet 0 was held: its slot was reclaimed")
	}
	st := ring.Stats()
	if st.LostFull != dropped {
		t.Errorf("lost_full = %d, %d records were refused", st.LostFull, dropped)
	}
	if st.Overwritten != 0 {
		t.Errorf("overwritten = %d while the first lap's packet 0 was never delivered", st.Overwritten)
	}
	for _, p := range obs.Copy(0) {
		if p.Seq == 0 {
			t.Error("observer copied undelivered packet 0")
		}
	}
	ring.Commit(&held)
	if err := writeRecord(ring, 0, 5000); err != nil {
		t.Fatalf("after the slow writer committed: %v", err)
	}
	if ring.Stats().Overwritten != 1 {
		t.Errorf("overwritten = %d after the held packet was delivered, want 1", ring.Stats().Overwritten)
	}
	pkts := obs.Copy(0)
	tp, err := parsePacket(pkts[len(pkts)-1].Data)
	if err != nil {
		t.Fatal(err)
	}
	if tp.discarded != dropped {
		t.Errorf("newest packet's events_discarded = %d, want %d", tp.discarded, dropped)
	}
}

// TestOverwriteConcurrentSnapshot: writers (batching, as the pCPUs do)
// wrap a small ring many times while a snapshot copier runs; every copy
// holds only whole packets in order, and each writer's records appear in
// the order written.
func TestOverwriteConcurrentSnapshot(t *testing.T) {
	g := Geometry{SubbufSize: 4096, NumSubbuf: 4}
	ring, obs := newOverwriteChannel(t, g)
	writers := runtime.GOMAXPROCS(0) + 1
	const perWriter = 40000
	var done atomic.Bool
	var wg sync.WaitGroup
	var lost atomic.Uint64
	for id := range writers {
		wg.Go(func() {
			w := ring.Writer()
			for i := range uint64(perWriter) {
				if err := writeRecordW(&w, uint32(id), i); errors.Is(err, ErrFull) {
					lost.Add(1) // a slot still held by another writer's batch
				} else if err != nil {
					t.Error(err)
					return
				}
				if i%32 == 31 {
					w.Flush()
				}
			}
			w.Flush()
		})
	}
	var snaps, copied, spoiled, lastNewest int
	snapDone := make(chan struct{})
	go func() {
		defer close(snapDone)
		// Until the writers are done, and then until a copy holds packets:
		// on a busy machine the writers may all finish before this
		// goroutine first runs; the ring still holds their last packets.
		for !done.Load() || (copied == 0 && snaps < 1000) {
			pkts, n := obs.CopyCounted(0)
			spoiled += n
			recs := checkCopied(t, pkts)
			last := map[uint32]uint64{}
			for _, r := range recs {
				if prev, ok := last[r.writer]; ok && r.counter <= prev {
					t.Errorf("writer %d: record %d after %d", r.writer, r.counter, prev)
					return
				}
				last[r.writer] = r.counter
			}
			if len(pkts) > 0 {
				lastNewest = int(pkts[len(pkts)-1].Seq)
			}
			snaps++
			copied += len(pkts)
			runtime.Gosched()
		}
	}()
	wg.Wait()
	done.Store(true)
	<-snapDone
	st := ring.Stats()
	if laps := st.Overwritten / g.NumSubbuf; laps < 20 {
		t.Errorf("writers wrapped the ring %d times, the test wants many", laps)
	}
	if st.LostFull != lost.Load() {
		t.Errorf("lost_full = %d, writers were refused %d times", st.LostFull, lost.Load())
	}
	t.Logf("%d snapshots, %d packets copied, %d left out (overwritten while copied), newest %d, %d overwritten, %d lost", snaps, copied, spoiled, lastNewest, st.Overwritten, st.LostFull)
	if snaps == 0 || copied == 0 {
		t.Fatal("the copier copied nothing")
	}
}

// TestDiscardModeClaims: in discard mode too a reused slot is claimed
// before it is rewritten, so a snapshot of a discard-mode trace (what is
// delivered and not yet consumed) is safe while writers run.
func TestDiscardModeClaims(t *testing.T) {
	g := Geometry{SubbufSize: 4096, NumSubbuf: 4}
	ring, cons := newTestChannel(t, g, nil)
	for i := range uint64(1000) {
		writeRecord(ring, 0, i)
	}
	// Release one packet: its slot is reused by the next packet switch and
	// must be claimed before.
	s := cons
	if _, _, ok := s.Next(); !ok {
		t.Fatal("packet 0 not delivered")
	}
	s.Release()
	lostBefore := ring.Stats().LostFull
	for i := uint64(1000); ring.Stats().LostFull == lostBefore; i++ {
		writeRecord(ring, 0, i)
	}
	if v := ring.Control().SlotDelivered(0); v != slotClaimed|(g.NumSubbuf+1) {
		t.Errorf("slot 0's word is %#x after packet %d was opened in it, want the claim %#x", v, g.NumSubbuf, slotClaimed|(g.NumSubbuf+1))
	}
	if ring.Stats().Overwritten != 0 {
		t.Errorf("discard mode counted %d overwritten packets", ring.Stats().Overwritten)
	}
}

// TestOpenPacketCommitted: the open packet's committed length, published
// at each batching writer's flush, is the end of its last flushed record,
// on a later lap as on the first: what a post-mortem reader may take.
func TestOpenPacketCommitted(t *testing.T) {
	g := Geometry{SubbufSize: 4096, NumSubbuf: 4}
	ring, obs := newOverwriteChannel(t, g)
	w := ring.Writer()
	for i := range uint64(3000) { // several laps
		if err := writeRecordW(&w, 0, i); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	flushedEnd := ring.head.off() & ring.sbMask
	for i := uint64(3000); i < 3005; i++ {
		writeRecordW(&w, 0, i) // written, not flushed: not counted
	}
	seq, committed, pkt, ok := obs.OpenPacket(0)
	if !ok {
		t.Fatal("no open packet")
	}
	if seq != ring.head.off()>>ring.sbShift || seq < g.NumSubbuf {
		t.Fatalf("open packet %d, head is in %d (want a later lap)", seq, ring.head.off()>>ring.sbShift)
	}
	if committed != flushedEnd {
		t.Fatalf("committed %d, the last flushed record ends at %d", committed, flushedEnd)
	}
	// The header is the packet's and the records up to committed parse.
	if le.Uint64(pkt[0:]) != seq {
		t.Fatalf("open packet's header says %d", le.Uint64(pkt[0:]))
	}
	cp := append([]byte(nil), pkt...)
	le.PutUint64(cp[24:], committed)
	le.PutUint64(cp[16:], ^uint64(0))
	if _, err := parsePacket(cp); err != nil {
		t.Fatalf("open packet up to committed: %v", err)
	}
	w.Flush()
	ring.Flush(true)
	if _, _, _, ok := obs.OpenPacket(0); ok {
		t.Error("an open packet after the final flush")
	}
}

// TestOverwritePeriodicFlush: in overwrite mode the periodic flush closes
// the open packet when the next slot can be reclaimed, so a quiet ring's
// newest records reach a snapshot; it does not when the next slot's packet
// is still being written (a record dropped then would have no open packet
// to be reported in).
func TestOverwritePeriodicFlush(t *testing.T) {
	g := Geometry{SubbufSize: 4096, NumSubbuf: 4}
	ring, obs := newOverwriteChannel(t, g)
	for i := range uint64(1000) { // several laps, ends inside an open packet
		writeRecord(ring, 0, i)
	}
	if !ring.Flush(false) {
		t.Fatal("periodic flush did not close the open packet although the next slot is reclaimable")
	}
	recs := checkCopied(t, obs.Copy(0))
	if last := recs[len(recs)-1].counter; last != 999 {
		t.Errorf("after the periodic flush the newest copied record is #%d, want #999", last)
	}

	// Hold a reservation in the next packet, then fill the ring up to the
	// packet before it: the slot after the open packet is not delivered.
	ring2, _ := newOverwriteChannel(t, g)
	held, err := ring2.Reserve(recSize(0)) // packet 0, never committed
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); ring2.head.off()>>ring2.sbShift < g.NumSubbuf-1; i++ {
		writeRecord(ring2, 0, i)
	}
	writeRecord(ring2, 0, 5000) // the open packet is 3: the next one reuses packet 0's slot
	if ring2.Flush(false) {
		t.Error("periodic flush closed the open packet while the next slot's packet is still held by a writer")
	}
	ring2.Commit(&held)
	if !ring2.Flush(false) {
		t.Error("periodic flush did not close once the held packet was delivered")
	}
}

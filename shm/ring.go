package shm

import (
	"fmt"
	"sync/atomic"
)

// closedBit is set in the write offset when the packet ending at that
// offset has been closed (its context written) and no packet is open. It
// is only ever set on a sub-buffer boundary. Offsets are free-running byte
// counts and never reach 2^63.
const closedBit = 1 << 63

// recordAlign is the alignment of every record's start (its header begins
// with a 64-bit timestamp).
const recordAlign = 8

// Config describes a channel to [NewChannel].
type Config struct {
	Geometry Geometry // of each pCPU's ring
	Mode     Mode
	UUID     [16]byte
	StreamID uint32
	PageSize int // control region rounding; 0 means 4096
	// CPUs is the number of pCPU rings (ids 0 .. CPUs-1); 0 means 1.
	CPUs int

	// HeaderSize is the packet header length (a multiple of 8). The first
	// record of a packet starts right after it.
	HeaderSize int

	// Clock returns the current timestamp. It need not be ordered or
	// synchronised across writers: a per-CPU counter such as the TSC will
	// do. A ring stamps each record max(Clock(), the timestamp of the
	// record before it in the ring) (see [Ring.Reserve]), so a clock that
	// runs behind on some CPU only repeats the last timestamp there.
	// Readers merge the rings' streams by timestamp, so it must be one
	// clock for every ring.
	Clock func() uint64

	// OpenPacket writes the header of packet seq of pCPU cpu's ring into
	// pkt (the whole sub-buffer) with its begin timestamp. It runs
	// concurrently with writers filling pkt's payload and with ClosePacket
	// for the same packet, so it must write only the header fields
	// ClosePacket does not.
	OpenPacket func(pkt []byte, cpu uint32, seq, tsBegin uint64)

	// ClosePacket writes the end of packet pkt's context: end timestamp,
	// content length in bytes (header included) and the cumulative number of
	// records the ring lost so far.
	ClosePacket func(pkt []byte, tsEnd, contentBytes, discarded uint64)

	// Deliver is called by the writer that completes packet seq of pCPU
	// cpu's ring, after the packet is published to the consumer. It must
	// not block (the hypervisor signals an eventfd). May be nil.
	Deliver func(cpu uint32, seq uint64)
}

// Ring is the producer side of one pCPU's ring of sub-buffers. Reserve,
// Commit and Flush are safe for concurrent use by any number of goroutines
// (the pCPU's own writer, and the rare writer on its behalf); they take no
// lock, make no system call and allocate nothing (Deliver aside).
//
// The authoritative write offset, commit counters and lost counters live in
// the Ring (producer-private memory) and are published to the pCPU's area
// of the control region, which consumers map read-only; the only word read
// back from shared memory is the ring's consumed offset in the consumer
// region, and it is validated first.
type Ring struct {
	cfg     *Config
	cpu     uint32
	ctrl    CPUControl
	cons    Consumed
	buf     []byte
	sbSize  uint64
	sbMask  uint64
	sbShift uint
	nMask   uint64
	nShift  uint
	bufMask uint64
	hdr     uint64

	// commits[i] is slot i's free-running commit counter, each on its own
	// cache line: writers of adjacent packets do not share a line.
	commits []paddedWord
	// delivered[i] is the sequence+1 of the last packet delivered in slot
	// i: the private copy the consumed-offset check trusts.
	delivered []atomic.Uint64

	// head is the write offset and the last published timestamp, the one
	// 16-byte unit every writer CASes, on its own cache line.
	head *head

	lostFull     atomic.Uint64
	lostTooBig   atomic.Uint64
	consumedSeen atomic.Uint64 // last consumed offset that passed validation
	badConsumed  atomic.Uint64
	lastBad      atomic.Uint64
	overwritten  atomic.Uint64 // packets reclaimed unconsumed (overwrite mode)
	overwrite    bool          // cfg.Mode == ModeOverwrite, read on the slow path
	_            [15]byte
}

type paddedWord struct {
	v atomic.Uint64
	_ [56]byte
}

// Reservation is a slot handed out by [Ring.Reserve]. Buf is where the
// record goes (exactly the requested size); TS is the timestamp the record
// must carry. Pass it back to [Ring.Commit] once Buf is written.
type Reservation struct {
	Buf    []byte
	TS     uint64
	seq    uint64 // packet sequence number the slot belongs to
	commit uint64 // bytes to commit: alignment padding (+ header) + record
}

// newRing returns the producer of pCPU cpu's ring: buf is its share of the
// buffer, ctrl its area of the control region, cons the consumer region.
func newRing(cfg *Config, cpu uint32, ctrl CPUControl, cons Consumed, buf []byte) *Ring {
	g := cfg.Geometry
	r := &Ring{
		cfg: cfg, cpu: cpu, ctrl: ctrl, cons: cons, buf: buf,
		sbSize: g.SubbufSize, sbMask: g.SubbufSize - 1, sbShift: log2(g.SubbufSize),
		nMask: g.NumSubbuf - 1, nShift: log2(g.NumSubbuf),
		bufMask:   g.Total() - 1,
		hdr:       uint64(cfg.HeaderSize),
		commits:   make([]paddedWord, g.NumSubbuf),
		delivered: make([]atomic.Uint64, g.NumSubbuf),
		head:      newHead(),
		overwrite: cfg.Mode == ModeOverwrite,
	}
	// Start "closed at offset 0": the first record opens packet 0 and
	// there is nothing to close.
	r.head.p[0].Store(closedBit)
	return r
}

// CPU returns the pCPU whose ring this is.
func (c *Ring) CPU() uint32 { return c.cpu }

// Control returns the ring's area of the control region.
func (c *Ring) Control() CPUControl { return c.ctrl }

// Geometry returns the ring's shape.
func (c *Ring) Geometry() Geometry { return c.cfg.Geometry }

// Reserve reserves size bytes for one record. On success the caller writes
// the record into r.Buf (stamped with r.TS) and calls Commit(&r).
//
// It fails with ErrTooBig when the record can never fit a sub-buffer, and
// with ErrFull when it needs a sub-buffer the consumer still holds
// (discard mode); either way the record is counted as lost.
//
// Ordering: the write offset and the timestamp of the last record are one
// 16-byte unit (the head). The record's timestamp is max(Clock(), the
// head's timestamp), and the CAS that claims the slot publishes it with the
// new offset; it succeeds only if neither word changed since they were
// read. CASes on the head are totally ordered and each publishes a
// timestamp no smaller than the one it replaces, so timestamps never
// decrease in stream order, whatever the clock does across CPUs. That is
// also why the clock may be read before the head: a reading that has gone
// stale by the time the CAS succeeds is clamped up to the head's timestamp.
func (c *Ring) Reserve(size int) (Reservation, error) {
	buf, ts, seq, commit, err := c.reserve(size, nil)
	return Reservation{Buf: buf, TS: ts, seq: seq, commit: commit}, err
}

// reserve is Reserve with the reservation as separate results (they fit
// the result registers; a Reservation, 48 bytes, is passed in memory).
// When the record is dropped and w is not nil, it flushes w's pending
// commits (see [Writer.Reserve]).
func (c *Ring) reserve(size int, w *Writer) (buf []byte, ts, seq, commit uint64, err error) {
	sz := uint64(size)
	// The clock first, then the head: the window between reading the head
	// and the CAS, in which another writer can move it, is then a few
	// instructions. A failed CAS returns the head as it found it, so the
	// retry needs no second load.
	clock := c.cfg.Clock()
	o, last := c.head.load()
	for {
		ts = max(clock, last)
		// An offset inside a sub-buffer (in != 0) is in an open packet
		// (closedBit is only ever set on boundaries).
		if in := o & c.sbMask; in != 0 {
			start := (o + recordAlign - 1) &^ (recordAlign - 1)
			end := start + sz
			if end-(o-in) <= c.sbSize {
				ok, curOff, curTS := c.head.cas(o, last, end, ts)
				if !ok {
					o, last = curOff, curTS
					continue
				}
				b := start & c.bufMask
				return c.buf[b : b+sz : b+sz], ts, o >> c.sbShift, end - o, nil
			}
		}
		r, retry, err := c.reserveSlow(o, last, ts, sz)
		if retry {
			o, last = c.head.load()
			continue
		}
		if err != nil && w != nil {
			w.flush()
		}
		return r.Buf, r.TS, r.seq, r.commit, err
	}
}

// reserveSlow handles a record that opens a new packet, closing the
// current one if it is still open. retry is true when the CAS lost a race.
func (c *Ring) reserveSlow(o, last, ts, sz uint64) (r Reservation, retry bool, err error) {
	if c.hdr+sz > c.sbSize {
		c.lostTooBig.Add(1)
		c.publishLost()
		return Reservation{}, false, fmt.Errorf("%w: %d bytes, a sub-buffer holds %d after its %d-byte header", ErrTooBig, sz, c.sbSize-c.hdr, c.hdr)
	}
	pos := o &^ closedBit
	needClose := o&closedBit == 0
	next := (pos + c.sbMask) &^ c.sbMask // start of the packet to open
	seq := next >> c.sbShift
	free := c.slotFree(next)
	// Discard mode: the slot must have been consumed. Overwrite mode: a slot
	// whose previous packet is delivered but not consumed is reclaimed; one
	// whose previous packet is not delivered yet (a slow writer still
	// committing into it, or its close not committed) is never touched: the
	// record is dropped, as LTTng does. Either way the slot is claimed in
	// the control region first (see claimSlot), so that a snapshot reader
	// copying the slot's old packet learns that it is being rewritten.
	if (!free && !c.overwrite) || !c.claimSlot(seq) {
		c.lostFull.Add(1)
		c.publishLost()
		return Reservation{}, false, ErrFull
	}
	// Sample the loss count inside the CAS loop, after reading the head:
	// packets are closed in CAS order, so each packet's events_discarded is
	// >= the previous packet's.
	var lost uint64
	if needClose {
		lost = c.lostTotal()
	}
	end := next + c.hdr + sz
	if ok, _, _ := c.head.cas(o, last, end, ts); !ok {
		// The claim stays: whoever wins the race opens the same packet seq
		// (the head only moves forward and seq is the next packet), and a
		// claim for seq is idempotent.
		return Reservation{}, true, nil
	}
	if !free {
		// Only the writer whose CAS opened seq counts the reclaimed packet.
		c.ctrl.publishOverwritten(c.overwritten.Add(1))
	}
	if needClose {
		c.closePacket(seq-1, pos, ts, lost)
	}
	c.cfg.OpenPacket(c.packet(seq), c.cpu, seq, ts)
	c.ctrl.publishWriteOffset(end)
	b := (next + c.hdr) & c.bufMask
	return Reservation{Buf: c.buf[b : b+sz : b+sz], TS: ts, seq: seq, commit: c.hdr + sz}, false, nil
}

// claimSlot marks packet seq's slot in the control region as being
// rewritten for seq, before the CAS on the head that opens seq, and
// reports whether seq may be opened: the slot is unused (seq is on the
// first lap), or its previous packet seq-n has been delivered and
// published, or another writer already claimed it for seq.
//
// Ordering (the snapshot reader's seqlock, see [Observer]):
//   - The published slot word goes seq-n+1 (delivered) -> claimed(seq) by
//     CAS, before the head CAS that opens seq. Every byte written into the
//     slot on lap seq is written after a head CAS or head load that
//     observed the head in packet seq, hence after the claim: a reader that
//     loads the slot word, copies the slot and loads the word again sees a
//     change whenever its copy may hold a byte of packet seq.
//   - The claim needs the published word, not the private delivered[]: the
//     deliverer stores the private copy before it publishes, so a claim
//     made between the two would be overwritten by the late publish and
//     the reader would trust a slot being rewritten.
//   - A slot on lap L+1 is claimed only once packet seq-n (lap L) is
//     delivered, i.e. its commit counter reached (L+1)x(sbSize+1) and no
//     writer will add to it again: the commit counter never mixes laps, in
//     overwrite mode as in discard mode.
//   - A claim whose head CAS then loses is left in place: the packet the
//     winner opens is seq too (the head only moves forward, and seq is the
//     packet after the one the loser saw), and claiming twice is harmless.
//     The only claim never followed by an open is one racing the final
//     flush, which runs with writers quiescent.
func (c *Ring) claimSlot(seq uint64) bool {
	if seq <= c.nMask {
		return true // first lap: the slot never held a packet
	}
	slot := seq & c.nMask
	prev := seq - c.nMask // seq-n+1: the delivered word of packet seq-n
	mark := slotClaimed | (seq + 1)
	for {
		v := c.ctrl.SlotDelivered(slot)
		switch v {
		case mark:
			return true
		case prev:
			if c.ctrl.casSlot(slot, prev, mark) {
				return true
			}
		default:
			return false // seq-n not delivered (or not yet published)
		}
	}
}

// closePacket writes packet seq's context (its content ends at pos) and
// commits the padding to the sub-buffer's end plus the close token.
func (c *Ring) closePacket(seq, pos, ts, lost uint64) {
	start := seq << c.sbShift
	c.cfg.ClosePacket(c.packet(seq), ts, pos-start, lost)
	c.commit(seq, start+c.sbSize-pos+1)
}

// Commit publishes a reserved record. The atomic add orders the caller's
// stores to r.Buf before it; the writer whose add completes the packet
// therefore sees every byte of it before publishing it.
func (c *Ring) Commit(r *Reservation) { c.commit(r.seq, r.commit) }

// Writer is one writer's handle on the channel that batches its commits:
// the bytes it writes into one packet are added to that packet's commit
// counter in one atomic add, when it moves on to another packet or calls
// Flush, instead of one add per record. With several writers the counter's
// cache line then moves between CPUs once per packet per writer, not once
// per record.
//
// A packet is delivered only once every writer that wrote into it has
// committed, so a Writer must Flush before it may go idle: at the end of
// each batch of records, and before the trace is stopped (the final
// [Ring.Flush] must not run while a Writer holds bytes). A Writer is used
// by one goroutine at a time; any number of Writers, and [Ring.Commit]
// callers, may share the channel. The zero Writer is not usable: get one
// from [Ring.Writer].
type Writer struct {
	c   *Ring
	seq uint64 // packet holding the pending bytes
	n   uint64 // bytes reserved in packet seq, written, not yet committed

	rseq, rcommit uint64 // the outstanding reservation: its packet and bytes
}

// Writer returns a new batching writer for c.
func (c *Ring) Writer() Writer { return Writer{c: c} }

// Reserve is [Ring.Reserve]. When the record is dropped it also
// flushes, so a packet waiting for this writer's bytes can be delivered
// and consumed while the writer keeps failing.
//
// It returns where the record goes (exactly size bytes) and the timestamp
// it must carry, as [Ring.Reserve] does in a [Reservation]; the writer
// keeps the rest, for Commit. A writer has at most one reservation
// outstanding: Reserve, write the record, Commit.
func (w *Writer) Reserve(size int) (buf []byte, ts uint64, err error) {
	buf, ts, w.rseq, w.rcommit, err = w.c.reserve(size, w)
	return buf, ts, err
}

// Commit marks the record last reserved as written. Its bytes are
// committed with the writer's other bytes in the same packet; those of an
// earlier packet are committed now. A second Commit for the same
// reservation, or one after a failed Reserve, commits nothing.
func (w *Writer) Commit() {
	if w.rseq != w.seq {
		w.next(w.rseq)
	}
	w.n += w.rcommit
	w.rcommit = 0
}

// Flush commits the pending bytes, delivering their packet if they were
// the last it waited for. The atomic add orders every store the writer
// made to those records before it, as [Ring.Commit] does for one.
func (w *Writer) Flush() { w.flush() }

// flush and next are out of line so that Commit inlines into the caller's
// loop: the per-record commit is then a compare and an add.
//
//go:noinline
func (w *Writer) flush() {
	if w.n != 0 {
		if v, done := w.c.commit(w.seq, w.n); !done {
			// Publish how far the open packet is committed, once per batch,
			// for a post-mortem reader (see [Observer.OpenPacket]).
			w.c.ctrl.raiseSlotCommit(w.seq&w.c.nMask, v)
		}
		w.n = 0
	}
}

//go:noinline
func (w *Writer) next(seq uint64) {
	w.flush()
	w.seq = seq
}

// commit adds n bytes to packet seq's commit counter and delivers the
// packet if they were the last. It returns the counter's new value and
// whether it delivered.
func (c *Ring) commit(seq, n uint64) (v uint64, delivered bool) {
	slot := seq & c.nMask
	lap := seq >> c.nShift
	// A slot on lap L is complete at (L+1) x (sbSize+1): all its bytes plus
	// the close token. Lap L+1 cannot start before lap L is delivered (in
	// discard mode it must be consumed; in overwrite mode claimSlot waits
	// for the delivery), so the counter never mixes laps.
	v = c.commits[slot].v.Add(n)
	if v == (lap+1)*(c.sbSize+1) {
		c.deliver(seq, slot, v)
		return v, true
	}
	return v, false
}

func (c *Ring) deliver(seq, slot, commit uint64) {
	c.delivered[slot].Store(seq + 1)
	c.publishLost()
	c.ctrl.publishSlot(slot, seq, commit)
	if c.cfg.Deliver != nil {
		c.cfg.Deliver(c.cpu, seq)
	}
}

// Flush closes the open packet, if any, without opening another, so a
// partial sub-buffer reaches the consumer. It never produces an empty
// packet. Unless final, it does nothing when the next slot is still held
// by the consumer: records dropped while no packet is open would have no
// packet to report them, and a periodic flush must not create that state.
// The final flush (trace stop, writers quiescent) always closes. It reports
// whether it closed a packet.
func (c *Ring) Flush(final bool) bool {
	for {
		o, last := c.head.load()
		ts := max(c.cfg.Clock(), last)
		if o&closedBit != 0 {
			return false
		}
		next := (o + c.sbMask) &^ c.sbMask
		if !final && !c.slotFree(next) && !(c.overwrite && c.reclaimable(next>>c.sbShift)) {
			return false
		}
		lost := c.lostTotal()
		if ok, _, _ := c.head.cas(o, last, next|closedBit, ts); !ok {
			continue
		}
		c.closePacket((next>>c.sbShift)-1, o, ts, lost)
		c.ctrl.publishWriteOffset(next)
		return true
	}
}

// reclaimable reports whether packet seq could be opened in overwrite mode
// now: its slot's previous packet is delivered and published, or the slot is
// already claimed for seq. It only ever turns from false to true while seq
// is not opened, so a periodic flush that sees true may close the packet
// before seq: the writer that opens seq will be able to claim the slot.
func (c *Ring) reclaimable(seq uint64) bool {
	if seq <= c.nMask {
		return true
	}
	v := c.ctrl.SlotDelivered(seq & c.nMask)
	return v == seq-c.nMask || v == slotClaimed|(seq+1)
}

func (c *Ring) packet(seq uint64) []byte {
	b := (seq << c.sbShift) & c.bufMask
	return c.buf[b : b+c.sbSize : b+c.sbSize]
}

// slotFree reports whether the packet starting at offset next may be
// written: the previous packet in its slot has been consumed.
func (c *Ring) slotFree(next uint64) bool {
	return next+c.sbSize-c.consumed() <= c.sbSize<<c.nShift
}

// consumed returns the consumer's offset after validation. The consumer
// owns the word and may write anything into it; a new value is accepted
// only if it is on a sub-buffer boundary, not behind the last accepted
// value, and releases only packets that were delivered. Otherwise it is
// counted (once per distinct bad value) and the last good value is used.
func (c *Ring) consumed() uint64 {
	last := c.consumedSeen.Load()
	v := c.cons.Load(int(c.cpu))
	if v == last {
		return last
	}
	if !c.validConsumed(last, v) {
		if c.lastBad.Swap(v) != v {
			c.ctrl.publishBadConsumed(c.badConsumed.Add(1))
		}
		return last
	}
	for !c.consumedSeen.CompareAndSwap(last, v) {
		// Another writer moved it; keep the larger (both were validated).
		last = c.consumedSeen.Load()
		if last >= v {
			return last
		}
	}
	return v
}

func (c *Ring) validConsumed(last, v uint64) bool {
	if v&c.sbMask != 0 || v < last || v-last > c.sbSize<<c.nShift {
		return false
	}
	// A slot's delivered sequence only grows, and a later lap's packet is
	// opened only after this lap's was delivered (discard mode: consumed;
	// overwrite mode: claimed after delivery), so a slot showing seq+1 or
	// more proves that packet seq was delivered.
	for seq := last >> c.sbShift; seq < v>>c.sbShift; seq++ {
		if c.delivered[seq&c.nMask].Load() < seq+1 {
			return false
		}
	}
	return true
}

func (c *Ring) lostTotal() uint64 { return c.lostFull.Load() + c.lostTooBig.Load() }

func (c *Ring) publishLost() { c.ctrl.publishLost(c.lostFull.Load(), c.lostTooBig.Load()) }

// Stats is a snapshot of a ring's counters.
type Stats struct {
	WriteOffset uint64 // bytes reserved so far (free-running)
	Delivered   uint64 // packets delivered
	Consumed    uint64 // packets released by the consumer (validated)
	LostFull    uint64 // records dropped: buffer full
	LostTooBig  uint64 // records dropped: larger than a sub-buffer
	BadConsumed uint64 // consumed-offset values rejected
	Overwritten uint64 // packets reclaimed before they were consumed (overwrite mode)
}

// Stats returns the ring's counters. Safe for concurrent use.
func (c *Ring) Stats() Stats {
	return Stats{
		WriteOffset: c.head.off() &^ closedBit,
		Delivered:   c.ctrl.Delivered(),
		Consumed:    c.consumed() >> c.sbShift,
		LostFull:    c.lostFull.Load(),
		LostTooBig:  c.lostTooBig.Load(),
		BadConsumed: c.badConsumed.Load(),
		Overwritten: c.overwritten.Load(),
	}
}

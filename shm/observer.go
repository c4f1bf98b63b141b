package shm

import (
	"cmp"
	"fmt"
	"slices"
	"sync/atomic"
)

// Observer reads a channel without consuming it: it copies the delivered
// packets of each ring out of a read-only mapping while writers may keep
// running (a flight-recorder snapshot). It writes nothing shared, so any
// number of observers may read a trace next to its one consumer.
//
// Copying is a seqlock over each slot's delivered word in the control
// region: load the word, copy the slot, load the word again, and keep the
// copy only if the word did not change. A writer claims a slot (changes
// the word) before the head CAS that lets anyone write into it (see
// [Ring.claimSlot]), so an unchanged word proves no byte of the copy came
// from a newer packet.
type Observer struct {
	ctrl *Control
	buf  []byte
	g    Geometry
}

// NewObserver validates ctrl (a control region) and checks that buf is
// the buffer it describes. Neither is written.
func NewObserver(ctrl, buf []byte) (*Observer, error) {
	c, err := OpenControl(ctrl)
	if err != nil {
		return nil, fmt.Errorf("control region: %w", err)
	}
	info := c.Info()
	if uint64(len(buf)) != uint64(info.CPUs)*info.Geometry.Total() {
		return nil, fmt.Errorf("%w: buffer is %d bytes, control region says %d pCPUs of %v", ErrTooSmall, len(buf), info.CPUs, info.Geometry)
	}
	return &Observer{ctrl: c, buf: buf, g: info.Geometry}, nil
}

// Control returns the control region view.
func (o *Observer) Control() *Control { return o.ctrl }

// CopiedPacket is one packet copied out of a ring.
type CopiedPacket struct {
	Seq  uint64 // the packet's sequence number in its ring
	Data []byte // the whole sub-buffer (a private copy)
}

// readFence orders the slot copy's loads before the re-check's load. On
// amd64 loads are not reordered with older loads, and the Go compiler does
// not move memory accesses across an atomic operation, so this is a
// compiler barrier only; on weaker CPUs (arm64) an acquire load alone lets
// an older plain load complete after it, and this read-modify-write (which
// Go implements with acquire-release semantics) keeps the copy before the
// re-check.
var readFence atomic.Uint64

// Copy copies every packet of pCPU cpu's ring that is delivered and stays
// intact while copied, in sequence order (oldest first). Packets that a
// writer reclaimed during the copy are left out: their sequence numbers are
// missing from the result, as they are from the ring. Copy allocates one
// sub-buffer per packet kept.
func (o *Observer) Copy(cpu int) []CopiedPacket {
	pkts, _ := o.CopyCounted(cpu)
	return pkts
}

// CopyCounted is Copy that also reports how many delivered packets it left
// out because a writer reclaimed their slot while they were copied.
func (o *Observer) CopyCounted(cpu int) (out []CopiedPacket, spoiled int) {
	cc := o.ctrl.CPU(cpu)
	n, sb := o.g.NumSubbuf, o.g.SubbufSize
	ring := o.buf[uint64(cpu)*o.g.Total() : uint64(cpu+1)*o.g.Total()]
	for i := range n {
		// Ordering: this atomic load happens before the copy's loads
		// (acquire). If it shows seq+1, the deliverer's stores of every byte
		// of packet seq happen before it (publishSlot stores it last).
		d := cc.SlotDelivered(i)
		if d == 0 || d&slotClaimed != 0 || (d-1)&(n-1) != i {
			continue
		}
		data := slices.Clone(ring[i*sb : (i+1)*sb])
		readFence.Add(0)
		// Ordering: a writer claims slot i (its word leaves seq+1) before
		// any byte of the next packet is written there; if one of the
		// copy's loads saw such a byte, this load sees the claim (or a
		// later delivery). Each slot is re-checked right after its own
		// copy, so the window in which a writer can spoil it is one
		// sub-buffer's copy, not the whole ring's.
		if cc.SlotDelivered(i) == d {
			out = append(out, CopiedPacket{Seq: d - 1, Data: data})
		} else {
			spoiled++
		}
	}
	slices.SortFunc(out, func(a, b CopiedPacket) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, spoiled
}

// OpenPacket returns pCPU cpu's open packet (a slice of the mapping, not a
// copy), its sequence number, and how many of its bytes (header included)
// batching writers had committed as of their last flush. ok is false when
// the ring has no open packet (never written, or closed by a flush).
//
// The open packet is being written while writers run: only a caller that
// knows the writers are gone (the producer died) may read it, and then
// only up to committed. With one writer per ring (a pCPU and its
// [Writer]) that is exactly the end of its last flushed record; a record
// written concurrently on the pCPU's behalf ([Ring.Commit]) can make the
// count cover a record of another writer that was not finished, so a
// reader must still check each record it takes.
func (o *Observer) OpenPacket(cpu int) (seq, committed uint64, pkt []byte, ok bool) {
	cc := o.ctrl.CPU(cpu)
	w := cc.WriteOffset()
	sb, n := o.g.SubbufSize, o.g.NumSubbuf
	if w&(sb-1) == 0 {
		return 0, 0, nil, false
	}
	seq = w / sb
	slot := seq & (n - 1)
	if cc.SlotDelivered(slot) == seq+1 {
		return 0, 0, nil, false // delivered: Copy has it
	}
	// The slot's counter is free-running: lap L's bytes start at
	// L x (sbSize+1). The close token is never in an open packet's count.
	base := (seq / n) * (sb + 1)
	if v := cc.SlotCommit(slot); v > base && v-base <= sb {
		committed = v - base
	}
	b := uint64(cpu)*o.g.Total() + slot*sb
	return seq, committed, o.buf[b : b+sb : b+sb], true
}

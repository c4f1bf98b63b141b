package shm

import "fmt"

// Consumer is the reader side of the ring: it hands out delivered packets
// in sequence order, in place (no copy), and releases them. It is used by
// one goroutine at a time.
type Consumer struct {
	ctrl    *Control
	buf     []byte
	sbSize  uint64
	sbShift uint
	nMask   uint64
	next    uint64 // sequence number of the next packet to read
}

// NewConsumer validates the control page and checks that buf matches its
// geometry. The consumer resumes at the consumed offset found in the
// control page (0 for a fresh trace).
func NewConsumer(ctrl, buf []byte) (*Consumer, error) {
	c, err := OpenControl(ctrl)
	if err != nil {
		return nil, fmt.Errorf("control page: %w", err)
	}
	g := c.Info().Geometry
	if uint64(len(buf)) != g.Total() {
		return nil, fmt.Errorf("%w: buffer is %d bytes, control page says %v (%d bytes)", ErrTooSmall, len(buf), g, g.Total())
	}
	if !checkAligned(buf) {
		return nil, ErrAlignment
	}
	return &Consumer{
		ctrl: c, buf: buf,
		sbSize: g.SubbufSize, sbShift: log2(g.SubbufSize), nMask: g.NumSubbuf - 1,
		next: c.Consumed() / g.SubbufSize,
	}, nil
}

// Control returns the control page view.
func (c *Consumer) Control() *Control { return c.ctrl }

// NextSeq is the sequence number of the next packet Next will return.
func (c *Consumer) NextSeq() uint64 { return c.next }

// Next returns the next delivered packet (the whole sub-buffer, a slice of
// the mapping) and its sequence number, or ok == false if it has not been
// delivered yet. The packet stays valid until Release.
//
// Ordering: the load of the slot's delivered sequence is atomic and the
// producer stored it after the last commit to the packet, so every byte of
// the packet is visible once it reads seq+1.
func (c *Consumer) Next() (pkt []byte, seq uint64, ok bool) {
	seq = c.next
	slot := seq & c.nMask
	if c.ctrl.SlotDelivered(slot) != seq+1 {
		return nil, seq, false
	}
	b := slot << c.sbShift
	return c.buf[b : b+c.sbSize : b+c.sbSize], seq, true
}

// Ready reports how many packets, from the next one on, are delivered and
// readable now (at most the sub-buffer count).
func (c *Consumer) Ready() int {
	n := 0
	for seq := c.next; n <= int(c.nMask); seq++ {
		if c.ctrl.SlotDelivered(seq&c.nMask) != seq+1 {
			break
		}
		n++
	}
	return n
}

// Packet returns delivered packet seq (which must be among the Ready ones)
// without releasing anything; with Ready and ReleaseN it lets a consumer
// write several packets in one system call.
func (c *Consumer) Packet(seq uint64) []byte {
	b := (seq & c.nMask) << c.sbShift
	return c.buf[b : b+c.sbSize : b+c.sbSize]
}

// Release gives the packet returned by Next back to the producer.
func (c *Consumer) Release() { c.ReleaseN(1) }

// ReleaseN releases the next n packets. The caller must have finished
// reading them: the store publishes the new consumed offset, after which
// the producer may overwrite them.
func (c *Consumer) ReleaseN(n int) {
	c.next += uint64(n)
	c.ctrl.StoreConsumed(c.next << c.sbShift)
}

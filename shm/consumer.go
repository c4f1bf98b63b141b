package shm

import "fmt"

// Consumer is the reader side of a channel: for each pCPU's ring it hands
// out delivered packets in sequence order, in place (no copy), and
// releases them. It is used by one goroutine at a time.
type Consumer struct {
	ctrl    *Control
	streams []*Stream
}

// Stream is the reader side of one pCPU's ring.
type Stream struct {
	cpu     int
	ctrl    CPUControl
	cons    Consumed
	buf     []byte
	sbSize  uint64
	sbShift uint
	nMask   uint64
	next    uint64 // sequence number of the next packet to read
}

// NewConsumer validates the control region (read-only to the consumer),
// takes cons as the consumer region it writes its consumed offsets to, and
// checks that buf matches the geometry. Each stream resumes at the consumed
// offset found in cons (0 for a fresh trace).
func NewConsumer(ctrl, cons, buf []byte) (*Consumer, error) {
	c, err := OpenControl(ctrl)
	if err != nil {
		return nil, fmt.Errorf("control region: %w", err)
	}
	info := c.Info()
	g := info.Geometry
	if uint64(len(buf)) != uint64(info.CPUs)*g.Total() {
		return nil, fmt.Errorf("%w: buffer is %d bytes, control region says %d pCPUs of %v (%d bytes)", ErrTooSmall, len(buf), info.CPUs, g, uint64(info.CPUs)*g.Total())
	}
	if !checkAligned(buf) {
		return nil, ErrAlignment
	}
	cv, err := OpenConsumed(cons, int(info.CPUs))
	if err != nil {
		return nil, fmt.Errorf("consumer region: %w", err)
	}
	r := &Consumer{ctrl: c}
	for cpu := range int(info.CPUs) {
		off := uint64(cpu) * g.Total()
		r.streams = append(r.streams, &Stream{
			cpu: cpu, ctrl: c.CPU(cpu), cons: cv, buf: buf[off : off+g.Total() : off+g.Total()],
			sbSize: g.SubbufSize, sbShift: log2(g.SubbufSize), nMask: g.NumSubbuf - 1,
			next: cv.Load(cpu) / g.SubbufSize,
		})
	}
	return r, nil
}

// Control returns the control region view.
func (c *Consumer) Control() *Control { return c.ctrl }

// Streams is the number of streams (pCPU rings).
func (c *Consumer) Streams() int { return len(c.streams) }

// Stream returns pCPU cpu's stream.
func (c *Consumer) Stream(cpu int) *Stream { return c.streams[cpu] }

// CPU is the pCPU whose ring the stream reads.
func (s *Stream) CPU() int { return s.cpu }

// Control returns the ring's area of the control region.
func (s *Stream) Control() CPUControl { return s.ctrl }

// NextSeq is the sequence number of the next packet Next will return.
func (s *Stream) NextSeq() uint64 { return s.next }

// Next returns the next delivered packet (the whole sub-buffer, a slice of
// the mapping) and its sequence number, or ok == false if it has not been
// delivered yet. The packet stays valid until Release.
//
// Ordering: the load of the slot's delivered sequence is atomic and the
// producer stored it after the last commit to the packet, so every byte of
// the packet is visible once it reads seq+1.
func (s *Stream) Next() (pkt []byte, seq uint64, ok bool) {
	seq = s.next
	slot := seq & s.nMask
	if s.ctrl.SlotDelivered(slot) != seq+1 {
		return nil, seq, false
	}
	b := slot << s.sbShift
	return s.buf[b : b+s.sbSize : b+s.sbSize], seq, true
}

// Ready reports how many packets, from the next one on, are delivered and
// readable now (at most the sub-buffer count).
func (s *Stream) Ready() int {
	n := 0
	for seq := s.next; n <= int(s.nMask); seq++ {
		if s.ctrl.SlotDelivered(seq&s.nMask) != seq+1 {
			break
		}
		n++
	}
	return n
}

// Packet returns delivered packet seq (which must be among the Ready ones)
// without releasing anything; with Ready and ReleaseN it lets a consumer
// write several packets in one system call.
func (s *Stream) Packet(seq uint64) []byte {
	b := (seq & s.nMask) << s.sbShift
	return s.buf[b : b+s.sbSize : b+s.sbSize]
}

// Release gives the packet returned by Next back to the producer.
func (s *Stream) Release() { s.ReleaseN(1) }

// ReleaseN releases the next n packets. The caller must have finished
// reading them: the store publishes the new consumed offset, after which
// the producer may overwrite them.
func (s *Stream) ReleaseN(n int) {
	s.next += uint64(n)
	s.cons.Store(s.cpu, s.next<<s.sbShift)
}

// Consumed is the consumed offset the stream last published.
func (s *Stream) Consumed() uint64 { return s.cons.Load(s.cpu) }

// Reset sets the stream's position to packet seq and publishes it (used by
// a consumer taking over after another died, with the position the
// producer last accepted).
func (s *Stream) Reset(seq uint64) {
	s.next = seq
	s.cons.Store(s.cpu, seq<<s.sbShift)
}
